"""Write the format fixtures under tests/data/formats/ from the seed documents (issue 13).

    python scripts/make_format_fixtures.py

The files are what unions hold: a two-column A5 magazine PDF with running header and page numbers
(``report.pdf``), the same first page scanned (``scanned.pdf``, an image only, no text layer), a
photographed notice (``notice.png``), a Word report with heading styles and a table (``report.docx``)
and a WeChat-style article page with navigation and share buttons (``article.html``); plus files the
build must refuse with one line (``legacy.doc``, ``encrypted.pdf``, ``broken.pdf``). Every sentence
comes from ``seeds/`` (same licence); the fonts are the system's WenQuanYi Micro Hei. The outputs are
committed, so tests need neither this script nor the font.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from unionqa.ingest.documents import read_document  # noqa: E402

OUT = ROOT / "tests" / "data" / "formats"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FIXED_DATE = "2025-01-15T08:00:00+08:00"


def seed_articles(path: Path, body_only: bool = False) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """A seed's articles as the .txt parser found them: (title, [(heading, [paragraph…])…]); with
    ``body_only``, without captions, bylines and mastheads."""
    doc = read_document(path)
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for s in doc.sections:
        if body_only and s.kind != "body":
            continue
        paras = [doc.text[a:b].replace("\n", "") for a, b in s.pieces]
        head = " ".join(s.headers)
        secs = out.setdefault(s.article or doc.title, [])
        if secs and secs[-1][0] == head:
            secs[-1][1].extend(paras)
        else:
            secs.append((head, paras))
    return list(out.items())


def articles() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """The first two articles of seed 000, body text only: what the fixtures hold."""
    return seed_articles(ROOT / "seeds" / "000_aab834ac4fc42f74.txt", body_only=True)[:2]


def make_pdf(path: Path) -> None:
    from datetime import datetime

    from fpdf import FPDF

    class Paper(FPDF):
        def header(self) -> None:
            self.set_font("wqy", size=8)
            self.cell(0, 6, "广东工人报 · 2025年1月15日 · 第3版 · 专题", align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("wqy", size=8)
            self.cell(0, 6, f"— {self.page_no()} —", align="C")

    pdf = Paper(format="A5")
    pdf.set_creation_date(datetime.fromisoformat(FIXED_DATE))
    pdf.add_font("wqy", fname=FONT, collection_font_number=0)
    pdf.set_auto_page_break(True, margin=16)
    for n, (title, sections) in enumerate(articles()):
        pdf.add_page()
        pdf.set_font("wqy", size=20)
        pdf.multi_cell(0, 11, title.rstrip("：:") if n else title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        with pdf.text_columns(ncols=2, gutter=8, text_align="J") as cols:
            for head, paras in sections:
                if head:
                    pdf.set_font("wqy", size=14)
                    with cols.paragraph(top_margin=3, bottom_margin=2) as p:
                        p.write(head)
                pdf.set_font("wqy", size=10.5)
                for para in paras:
                    with cols.paragraph(first_line_indent=7, bottom_margin=1.5) as p:
                        p.write(para)
    path.write_bytes(bytes(pdf.output()))


def render(pdf_path: Path, page: int, scale: float):  # -> PIL.Image
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf_path))
    img = doc[page].render(scale=scale, grayscale=True).to_pil()
    doc.close()
    return img


def make_scanned(src: Path, path: Path) -> None:
    from datetime import datetime

    from fpdf import FPDF

    img = render(src, 0, 170 / 72)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=55)
    pdf = FPDF(format="A5")
    pdf.set_creation_date(datetime.fromisoformat(FIXED_DATE))
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=0, y=0, w=148, h=210)
    path.write_bytes(bytes(pdf.output()))


def make_notice(path: Path) -> None:
    from fpdf import FPDF

    lines = ["通知", "五年来，新建工会驿站183个、货车司机之家12个。", "调处各类劳资纠纷7090宗，成功调解案件1092件。"]
    pdf = FPDF(format=(150, 60))
    pdf.add_font("wqy", fname=FONT, collection_font_number=0)
    pdf.add_page()
    pdf.set_font("wqy", size=16)
    pdf.cell(0, 10, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("wqy", size=11)
    for ln in lines[1:]:
        pdf.cell(0, 8, ln, new_x="LMARGIN", new_y="NEXT")
    tmp = path.with_suffix(".tmp.pdf")
    tmp.write_bytes(bytes(pdf.output()))
    render(tmp, 0, 150 / 72).save(path, optimize=True)
    tmp.unlink()


def add_sections(d, sections: list[tuple[str, list[str]]], level: int) -> None:  # type: ignore[no-untyped-def]
    """Sections into a python-docx Document: each heading at ``level``, then its paragraphs."""
    for head, paras in sections:
        if head:
            d.add_heading(head, level=level)
        for p in paras:
            d.add_paragraph(p)


def make_docx(path: Path) -> None:
    import docx

    (title, sections), (title2, sections2) = articles()
    d = docx.Document()
    d.core_properties.title = title
    d.add_heading(title, level=0)
    add_sections(d, sections, 1)
    d.add_heading("五年工作数据", level=1)
    d.add_heading("劳动关系与服务阵地", level=2)
    table = d.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("项目", "数量", "单位")):
        cell.text = text
    for row in (("调处劳资纠纷", "7090", "宗"), ("成功调解案件", "1092", "件"), ("新建工会驿站", "183", "个"),
                ("货车司机之家", "12", "个"), ("爱心妈妈小屋", "274", "间")):
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    d.add_heading(title2.rstrip("：:"), level=1)
    add_sections(d, sections2[:2], 2)
    d.core_properties.created = d.core_properties.modified = __import__("datetime").datetime(2025, 1, 15)
    d.save(str(path))


def make_html(path: Path) -> None:
    import html

    title, sections = articles()[1]
    body = []
    for head, paras in sections:
        if head:
            body.append(f"<h2>{html.escape(head)}</h2>")
        body += [f"<p>{html.escape(p)}</p>" for p in paras]
    nav = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(["首页", "工会动态", "政策法规", "职工服务", "联系我们"]))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(title.rstrip("：:"))}</title>
<meta property="og:title" content="{html.escape(title.rstrip("：:"))}">
<meta name="author" content="广东工人报">
<meta property="article:published_time" content="2025-01-15">
</head><body>
<header><nav><ul>{nav}</ul></nav><div class="search">搜索 站内搜索</div></header>
<div id="js_content" class="rich_media_content">
<h1 class="rich_media_title" id="activity-name">{html.escape(title.rstrip("：:"))}</h1>
<div class="rich_media_meta_list"><span id="publish_time">2025-01-15 08:00</span> <span>广东工人报</span></div>
{"".join(body)}
</div>
<div class="share">阅读原文 分享 收藏 点赞 在看</div>
<footer><p>版权所有 © 广东省总工会 粤ICP备00000000号</p><p>网站地图 | 隐私声明 | 联系我们</p></footer>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def make_encrypted(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("wqy", fname=FONT, collection_font_number=0)
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("wqy", size=12)
    pdf.cell(0, 10, "需要密码才能打开的文件")
    path.write_bytes(bytes(pdf.output()))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    make_pdf(OUT / "report.pdf")
    make_scanned(OUT / "report.pdf", OUT / "scanned.pdf")
    make_notice(OUT / "notice.png")
    make_docx(OUT / "report.docx")
    make_html(OUT / "article.html")
    make_encrypted(OUT / "encrypted.pdf")
    (OUT / "broken.pdf").write_bytes((OUT / "report.pdf").read_bytes()[:3000])
    # an old binary Word file: the OLE2 signature, as .doc files start
    (OUT / "legacy.doc").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    for p in sorted(OUT.iterdir()):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
