"""Read source files: decode, find articles, headers, captions, bylines and mastheads.

The seeds are text extracted from newspaper pages and a magazine PDF, so
structure is inferred from line shapes. The rules, in the order they apply:

* Markdown ``#`` lines are article titles, ``##``/``###`` section headers.
* Continuation markers ``(下转第N页)`` / ``(上接第N页)`` suspend and resume articles.
* Photo credits (``单位供图``, ``/ 罗湖工供图``, ``摄``) and the short lines just above
  them, lines starting with ``①``…, and ``■`` lines are captions.
* Bylines (``全媒体记者``, ``通讯员``, ``□ 名字``, ``(名字)``, ``来源：``, ``作者单位：``) and datelines are metadata;
  ``来源``/``作者单位`` also end an article. A salutation (``各基层工会：``) is body text, never a title.
* A ``目录``/``CONTENTS`` line starts a masthead/table-of-contents block that ends at the
  first line after the contents entries.
* A header is a short line (<= 40 chars) that follows a completed sentence (or another
  structural line), has no sentence punctuation inside or at its end and does not end with
  a comma; in narrow hard-wrapped files it must also be visibly shorter than the wrap
  width or sit in a group of lines not separated by blank lines.
* A header group is an article title when it has an ``X：`` opener, is followed by a byline,
  names a union (``…总工会 …``), is the first in the file, or follows an article ending.
* Everything else is body text; wrapped lines are joined back into paragraphs, a
  paragraph ending at a line that ends a sentence.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unionqa.config import LayoutConfig, StructureConfig
from unionqa.errors import DocumentError
from unionqa.ingest.readers import SUPPORTED_SUFFIXES, UNSUPPORTED, read_source
from unionqa.text import clean_text, ends_sentence
from unionqa.types import Document, Section

MAX_FILE_BYTES = 64 * 1024 * 1024
# a folder's files that are read, and those that get a one-line "save it as …" error (--skip-bad skips them)
FOLDER_SUFFIXES = SUPPORTED_SUFFIXES + tuple(UNSUPPORTED)
DEFAULT_STRUCTURE = StructureConfig()

_MD_HEADER = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_CONT = re.compile(r"^[（(]\s*(下转|上接|转)第?\s*(\d+)\s*版?页?\s*[)）]$")
_CREDIT = re.compile(r"(供图|摄影?|图片来源\S*|图[/／]\S+)\s*$")
_CREDIT_ONLY = re.compile(r"^[/／]?\s*[\u4e00-\u9fffA-Za-z·\s]{0,12}(供图|摄影?)$")
_CAPTION_START = re.compile(r"^[①②③④⑤⑥⑦⑧⑨⑩▲△]")
_BYLINE = re.compile(
    r"^[■□◆●]?\s*(全媒体记者|本报记者|记者|通讯员|实习生|文[/／]|图[/／]|来源[:：]|作者单位[:：]|作者[:：]|责任编辑|编辑[:：])"
)
_BYLINE_NAMES = re.compile(r"^[■□]\s*[\u4e00-\u9fff]{2,4}(\s+[\u4e00-\u9fff]{2,4}){0,5}$")
_BYLINE_PAREN = re.compile(r"^[（(][\u4e00-\u9fff]{2,4}[)）]$")
# a date (and time) with at most a short source (2025-01-15 08:00 广东工人报), or a news agency line alone (…报讯（记者…）)
_DATELINE = re.compile(
    r"^(?:(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?(?:\s+\S{1,20})?"
    r"|[\u4e00-\u9fff]{0,12}讯\s*(?:[（(][^）)]{0,30}[)）])?)$")
# a salutation opening a letter or notice (各基层工会：, 尊敬的会员朋友们：): the first line of its body, not a title
_SALUTATION = re.compile(r"^(?:(?:各|尊敬的|亲爱的|致)[^，。,；;！？!?：:]{1,24}|[^，。,；;！？!?：:]{1,20}(?:们|同志|朋友|同事))[：:]$")
_ARTICLE_END = re.compile(r"^(来源|作者单位)[:：]")
_TOC_START = re.compile(r"^(目\s*录|contents)$", re.IGNORECASE)
_TOC_ENTRY = re.compile(r"^(-\s*)?\d{1,3}\s+\S")
_OPENER = re.compile(r"^[^，。,；;！？!?]{2,24}[：:]$")
_TITLED_OPENER = re.compile(r"^[^，。,；;！？!?：:]{2,20}[：:]\s*\S")
_UNION_TITLE = re.compile(r"^\S{2,16}(总工会|工会)\s+\S")
_NUMBERED = re.compile(r"^([一二三四五六七八九十]+[、.]|[（(][一二三四五六七八九十]+[)）])")
_SENTENCE_INSIDE = re.compile(r"[。！？!?]")


@dataclass
class _Line:
    start: int
    end: int
    text: str
    kind: str = "body"  # body | header | md | caption | byline | cont | masthead | list | blank
    level: int = 0
    group: int = 0


def read_document(path: str | Path, doc_id: str | None = None, ocr: bool = True,
                  layout: LayoutConfig | None = None, on_page: Callable[[int, int], None] | None = None) -> Document:
    """Read one file of any supported format (see :mod:`unionqa.ingest.readers`) and parse its structure.

    Raises DocumentError naming the file when it can't (unsupported format, damaged, encrypted, too big).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise DocumentError(f"{p}: cannot read ({e.strerror})", zh=f"{p.name}：无法读取文件") from None
    if size > MAX_FILE_BYTES:
        raise DocumentError(f"{p}: {size} bytes is over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit per file; split it",
                            zh=f"{p.name}：文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分后再上传")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DocumentError(f"{p}: cannot read ({e.strerror})", zh=f"{p.name}：无法读取文件") from None
    x = read_source(p, data, ocr=ocr, layout=layout, on_page=on_page)
    return parse_document(doc_id or p.name, x.text, path=str(p), encoding=x.encoding, pages=x.pages,
                          ocr_pages=x.ocr_pages, fmt=x.format, title=x.title, date=x.date)


def _vis_len(s: str) -> float:
    """Printed width: ASCII counts half (wrapping in the sources is by visual width)."""
    return sum(0.5 if c.isascii() else 1.0 for c in s)


def _split_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    group = 0
    prev_blank = True
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        line = _Line(pos + lead, pos + lead + len(stripped), stripped)
        if not stripped:
            line.kind = "blank"
            prev_blank = True
        else:
            if prev_blank:
                group += 1
            prev_blank = False
        line.group = group
        out.append(line)
        pos += len(raw) + 1
    return out


def _classify(lines: list[_Line], cfg: StructureConfig = DEFAULT_STRUCTURE) -> None:
    content = [ln for ln in lines if ln.kind != "blank"]
    if not content:
        return
    lengths = [_vis_len(ln.text) for ln in content]
    width = statistics.median(lengths)
    narrow = width <= cfg.narrow_width and len(content) >= cfg.narrow_min_lines
    group_sizes: dict[int, int] = {}
    for ln in content:
        group_sizes[ln.group] = group_sizes.get(ln.group, 0) + 1
    followed_by_blank = 0
    for i, ln in enumerate(lines[:-1]):
        if ln.kind != "blank" and lines[i + 1].kind == "blank":
            followed_by_blank += 1
    interleaved = followed_by_blank >= cfg.interleaved_share * len(content)

    closed = True  # previous content line completed a sentence or was structural
    toc_mode = False
    toc_seen = False
    for ln in content:
        s = ln.text
        if toc_mode:
            is_entry = bool(_TOC_ENTRY.match(s))
            if (toc_seen and not is_entry) or _vis_len(s) > cfg.toc_entry_max_width:
                toc_mode = False
            else:
                toc_seen = toc_seen or is_entry
                ln.kind = "masthead"
                continue
        m = _MD_HEADER.match(s)
        if m:
            ln.kind, ln.level = "md", len(m.group(1))
            closed = True
            continue
        if _TOC_START.match(s):
            toc_mode, toc_seen = True, False
            ln.kind = "masthead"
            continue
        if _CONT.match(s):
            ln.kind = "cont"
            closed = True
            continue
        if _BYLINE.match(s) or _BYLINE_NAMES.match(s) or _BYLINE_PAREN.match(s) or _DATELINE.match(s):
            ln.kind = "byline"
            closed = True
            continue
        if _SALUTATION.match(s):  # a paragraph of its own that the body follows
            ln.kind, closed = "body", True
            continue
        cap = cfg.caption_max_chars
        if (_CREDIT.search(s) and len(s) <= cap) or _CAPTION_START.match(s) or (s.startswith("■") and len(s) <= cap):
            ln.kind = "caption"
            closed = True
            continue
        if s.startswith(("- ", "* ", "• ")):
            ln.kind = "list"
            closed = True
            continue
        short = _vis_len(s) <= (cfg.numbered_header_max_width if _NUMBERED.match(s) else cfg.header_max_width)
        looks_header = (
            closed
            and short
            and not ends_sentence(s)
            and not s.endswith(("，", ",", "、", "—"))
            and not _SENTENCE_INSIDE.search(s[:-1] if s[-1:] in "：:" else s)
        )
        if looks_header and narrow and not _NUMBERED.match(s):
            in_group = interleaved and group_sizes.get(ln.group, 1) > 1
            looks_header = in_group or _vis_len(s) <= cfg.narrow_header_share * width
        if looks_header:
            ln.kind = "header"
            closed = True
        else:
            ln.kind = "body"
            closed = ends_sentence(s) or s.endswith(("：", ":"))
    # A longer headline is still a title when a byline follows it directly.
    for a, b in zip(content, content[1:]):
        if a.kind == "body" and b.kind == "byline" and _vis_len(a.text) <= cfg.caption_max_chars and not ends_sentence(a.text):
            a.kind = "header"
    _mark_captions(lines, cfg)


def _mark_captions(lines: list[_Line], cfg: StructureConfig = DEFAULT_STRUCTURE) -> None:
    """A standalone photo credit also makes the short lines right above it captions."""
    idx = [i for i, ln in enumerate(lines) if ln.kind != "blank"]
    for pos, i in enumerate(idx):
        ln = lines[i]
        if ln.kind == "caption" and _CREDIT_ONLY.match(ln.text):
            back = pos - 1
            taken = 0
            while back >= 0 and taken < cfg.caption_lines_above:
                prev = lines[idx[back]]
                if prev.kind not in ("body", "caption") or len(prev.text) > cfg.caption_max_chars:
                    break
                if prev.kind == "body" and not ends_sentence(prev.text):
                    break
                prev.kind = "caption"
                taken += 1
                back -= 1


def parse_document(doc_id: str, text: str, path: str = "", encoding: str = "utf-8", pages: tuple[int, ...] = (),
                   ocr_pages: tuple[int, ...] = (), fmt: str = "text", title: str = "", date: str = "",
                   structure: StructureConfig | None = None) -> Document:
    """Find the structure of decoded ``text`` and return a Document with its sections.

    ``pages``/``ocr_pages``/``fmt``/``date`` are what a reader found (see ``readers.Extracted``); ``title``
    is used when the text has no heading to take it from.
    """
    given_title = title
    cfg = structure or DEFAULT_STRUCTURE
    text = clean_text(text)
    lines = _split_lines(text)
    _classify(lines, cfg)
    content = [ln for ln in lines if ln.kind != "blank"]
    title = ""
    for ln in content:
        if ln.kind in ("header", "md"):
            title = ln.text.lstrip("#").strip()
            break
        if ln.kind == "body":
            break
    if not title:
        title = given_title or Path(path or doc_id).stem
    sections = _build_sections(content, cfg)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(doc_id=doc_id, title=title[:80], path=path, text=text, sha256=sha,
                    sections=tuple(sections), encoding=encoding, pages=pages, ocr_pages=ocr_pages, format=fmt,
                    date=date)


class _SectionBuilder:
    """Walks classified lines once, keeping the current article, headers and paragraph; ``sections`` is the result."""

    def __init__(self, content: list[_Line], cfg: StructureConfig) -> None:
        self.content, self.cfg = content, cfg
        self.sections: list[Section] = []
        self.article = ""
        self.headers: list[str] = []
        self.kind = "body"
        self.pieces: list[tuple[int, int]] = []
        self.para: list[_Line] = []
        self.new_article_next = True
        self.suspended: list[tuple[str, list[str]]] = []  # articles left at "下转", taken up again at "上接"

    def flush_para(self) -> None:
        if self.para:
            self.pieces.append((self.para[0].start, self.para[-1].end))
            self.para.clear()

    def flush(self) -> None:
        self.flush_para()
        if self.pieces:
            self.sections.append(Section(self.article, tuple(self.headers), self.kind, tuple(self.pieces)))
            self.pieces.clear()

    def header_group(self, i: int) -> int:
        """Lines from ``i`` that head what follows (a new article or a section); returns the next line's index."""
        content, ln = self.content, self.content[i]
        group = [ln]
        j = i + 1
        # a Markdown header closes its group: "## a" then "## b" are two sections
        while ln.kind != "md" and j < len(content) and content[j].kind in ("header", "md"):
            group.append(content[j])
            j += 1
            if content[j - 1].kind == "md":
                break
        after = content[j].kind if j < len(content) else ""
        texts = [g.text.lstrip("#").strip() for g in group]
        md_levels = [g.level for g in group if g.kind == "md"]
        is_article = (
            self.new_article_next
            or after == "byline"
            or any(_OPENER.match(t) or _TITLED_OPENER.match(t) or _UNION_TITLE.match(t) for t in texts)
            or (md_levels and min(md_levels) == 1)
        )
        self.flush()
        self.kind = "body"
        if is_article and len(texts) > self.cfg.collage_lines:
            # a cover or collage of display lines: first line names it, last line heads it
            self.article, self.headers = texts[0], [texts[-1]]
        elif is_article:
            self.article, self.headers = " ".join(texts), []
        elif md_levels and min(md_levels) >= 3 and self.headers:
            self.headers = self.headers[:1] + [" ".join(texts)]
        else:
            self.headers = [" ".join(texts)]
        self.new_article_next = False
        return j

    def continuation(self, ln: _Line) -> None:
        """"下转第N版" leaves the article (the next header starts another); "上接" takes the oldest one up again."""
        self.flush()
        if "上接" in ln.text:
            if self.suspended:
                self.article, self.headers = self.suspended.pop(0)
            self.new_article_next = False
        else:
            self.suspended.append((self.article, list(self.headers)))
            self.new_article_next = True

    def display_run(self, i: int) -> int:
        """A run of captions, bylines or masthead lines from ``i``: sections of their own kind; returns the next index."""
        content = self.content
        self.flush()
        run = self.kind = content[i].kind
        while i < len(content) and content[i].kind == run:
            self.para.append(content[i])
            if run != "caption" or ends_sentence(content[i].text) or _CREDIT.search(content[i].text):
                self.flush_para()
            if run == "byline" and _ARTICLE_END.match(content[i].text):
                self.new_article_next = True
            i += 1
        self.flush()
        self.kind = "body"
        return i

    def body_line(self, ln: _Line) -> None:
        """A list item is a paragraph of its own; body lines join until one ends a sentence."""
        if ln.kind == "list":
            self.flush_para()
            self.para.append(ln)
            self.flush_para()
        else:
            self.para.append(ln)
            if ends_sentence(ln.text):
                self.flush_para()

    def build(self) -> list[Section]:
        i = 0
        while i < len(self.content):
            ln = self.content[i]
            if ln.kind in ("header", "md"):
                i = self.header_group(i)
            elif ln.kind in ("caption", "byline", "masthead"):
                i = self.display_run(i)
            else:
                if ln.kind == "cont":
                    self.continuation(ln)
                else:
                    self.body_line(ln)
                i += 1
        self.flush()
        return self.sections


def _build_sections(content: list[_Line], cfg: StructureConfig = DEFAULT_STRUCTURE) -> list[Section]:
    return _SectionBuilder(content, cfg).build()


def iter_source_files(sources: list[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of supported files; errors name the path."""
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in FOLDER_SUFFIXES
                           and not any(part.startswith(".") for part in q.relative_to(p).parts))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise DocumentError(f"{p}: no such file or folder", zh=f"{p.name}：文件不存在")
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique
