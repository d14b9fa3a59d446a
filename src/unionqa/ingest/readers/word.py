"""``.docx`` → text for the structure parser: Word's heading styles and outline levels become
``#``/``##``/``###`` lines (exact breadcrumbs, no guessing), tables become one line per row
("列名：值；列名：值。") so a figure in a table is findable and citable with its row and column names.

python-docx (MIT) reads the body in document order; paragraphs and tables are interleaved as written.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from unionqa.errors import DocumentError

_HEADING_STYLE = re.compile(r"^(heading|标题)\s*(\d)$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _outline_level(paragraph: Any) -> int | None:
    """Word's outline level (0 = level 1) of a paragraph, from its own properties or its style chain."""
    el = paragraph._p.pPr
    if el is not None and el.find(f"{_W}outlineLvl") is not None:
        return int(el.find(f"{_W}outlineLvl").get(f"{_W}val"))
    style = paragraph.style
    while style is not None:
        ppr = style.element.pPr
        if ppr is not None and ppr.find(f"{_W}outlineLvl") is not None:
            return int(ppr.find(f"{_W}outlineLvl").get(f"{_W}val"))
        style = style.base_style
    return None


def _heading_level(paragraph: Any) -> int:
    """0 for body text; 1 for the Title style, 2 for heading 1, 3 for heading 2 and below."""
    name = (paragraph.style.name or "") if paragraph.style is not None else ""
    if name.lower() in ("title", "标题"):
        return 1
    m = _HEADING_STYLE.match(name)
    if m:
        return min(3, int(m.group(2)) + 1)
    lvl = _outline_level(paragraph)
    if lvl is not None and lvl < 9:  # 9 is "body text"
        return min(3, lvl + 2)
    return 0


def _cell_texts(row: Any) -> list[str]:
    out: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is returned once per grid column it covers
            continue
        seen.add(id(cell._tc))
        out.append(re.sub(r"\s+", " ", cell.text).strip())
    return out


def _table_lines(table: Any) -> list[str]:
    rows = [_cell_texts(r) for r in table.rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    head = rows[0]
    has_head = len(rows) > 1 and all(h and not re.fullmatch(r"[\d.,%％\s-]+", h) for h in head)
    lines = []
    for r in rows[1:] if has_head else rows:
        if has_head and len(r) == len(head):
            parts = [f"{h}：{v}" for h, v in zip(head, r) if v]
        else:
            parts = [v for v in r if v]
        if parts:
            lines.append("；".join(parts) + "。")
    return lines


def read_docx(path: Path, data: bytes) -> tuple[str, str]:
    """(text, title) of a Word file."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as e:  # the formats extra is not installed
        raise DocumentError(f"{path}: reading Word files needs python-docx ({e}); pip install 'unionqa[formats]'",
                            zh=f"{path.name}：读取 Word 文件的组件没有安装，请联系管理员") from None
    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - zip/xml errors of a damaged file: one line naming it
        raise DocumentError(f"{path}: not a readable .docx ({type(e).__name__}); open and save it again in Word or WPS",
                            zh=f"{path.name}：Word 文件已损坏或无法读取，请在 Word 或 WPS 中打开后重新保存") from None
    lines: list[str] = []
    for block in d.element.body.iterchildren():
        if block.tag == f"{_W}p":
            p = Paragraph(block, d)
            text = re.sub(r"[ \t\u3000]+", " ", p.text).strip()
            if not text:
                continue
            level = _heading_level(p)
            lines.append(("#" * level + " " + text.replace("\n", " ")) if level else text)
        elif block.tag == f"{_W}tbl":
            lines.extend(_table_lines(Table(block, d)))
    title = (d.core_properties.title or "").strip()
    return "\n\n".join(lines), title
