"""The measured comparisons behind the readers' library choices (README "Document formats").

    pip install pdfplumber readability-lxml    # the candidates not chosen (not dependencies)
    python benchmarks/compare_readers.py [--repeat 20]

PDF: characters with box and font size from tests/data/formats/report.pdf (4 two-column pages),
pypdfium2 (chosen) vs pdfplumber/pdfminer.six — ms per page and whether both read the same text.
HTML: tests/data/formats/article.html, trafilatura (chosen) vs readability-lxml — fixture
paragraphs kept, section headings kept, boilerplate phrases leaked, publish date found.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_format_fixtures import articles  # noqa: E402

from unionqa.config import LayoutConfig  # noqa: E402
from unionqa.ingest.readers.pdf import read_pdf  # noqa: E402
from unionqa.ingest.readers.web import read_html  # noqa: E402
from unionqa.text import squash  # noqa: E402

FORMATS = ROOT / "tests" / "data" / "formats"
BOILERPLATE = ("版权所有", "阅读原文", "网站地图", "站内搜索", "政策法规", "点赞")


def pdf(repeat: int) -> None:
    path = FORMATS / "report.pdf"
    data = path.read_bytes()
    t = time.perf_counter()
    for _ in range(repeat):
        pages = read_pdf(path, data, ocr=False, cfg=LayoutConfig())
    ours = (time.perf_counter() - t) / repeat / len(pages) * 1000
    ours_text = squash("".join(s.text for p in pages for s in p.segments))
    try:
        import pdfplumber
    except ImportError:
        print("pdfplumber not installed: pip install pdfplumber")
        return
    t = time.perf_counter()
    for _ in range(repeat):
        with pdfplumber.open(str(path)) as doc:
            chars = [(c["text"], c["x0"], c["top"], c["size"], c["fontname"]) for p in doc.pages for c in p.chars]
    theirs = (time.perf_counter() - t) / repeat / len(pages) * 1000
    theirs_text = squash("".join(c[0] for c in chars))
    print("PDF characters with boxes and sizes, report.pdf")
    print(f"{'library':28s} {'ms/page':>8s} {'chars':>7s}")
    print(f"{'pypdfium2 (chosen)':28s} {ours:8.1f} {len(ours_text):7d}")
    print(f"{'pdfplumber / pdfminer.six':28s} {theirs:8.1f} {len(theirs_text):7d}")
    print(f"same characters (as multisets): {sorted(ours_text) == sorted(theirs_text)}; speed ×{theirs / ours:.1f}")


def html() -> None:
    page = (FORMATS / "article.html").read_text(encoding="utf-8")
    title, sections = articles()[1]
    paras = [squash(p) for _, ps in sections for p in ps]
    heads = [h for h, _ in sections if h]
    rows = []
    text, _, date = read_html(FORMATS / "article.html", page)
    rows.append(("trafilatura (chosen)", text, date))
    try:
        from readability import Document
    except ImportError:
        print("readability-lxml not installed: pip install readability-lxml")
        return
    summary = Document(page).summary()
    plain = re.sub(r"<(h\d)[^>]*>(.*?)</\1>", r"\n## \2\n", summary)
    plain = re.sub(r"<[^>]+>", "\n", plain)
    rows.append(("readability-lxml", plain, ""))
    print("\nHTML article page, article.html")
    print(f"{'library':22s} {'paragraphs':>10s} {'headings':>9s} {'boilerplate':>11s} {'date':>11s}")
    for name, body, found_date in rows:
        flat = squash(body)
        kept = sum(p in flat for p in paras)
        headed = sum(bool(re.search(r"^#+\s*" + re.escape(h), body, re.M)) for h in heads)
        leaked = sum(b in body for b in BOILERPLATE)
        print(f"{name:22s} {kept:>4d} / {len(paras):<3d} {headed:>4d} / {len(heads):<2d} {leaked:>7d} / {len(BOILERPLATE):<2d}"
              f" {found_date or '—':>11s}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    pdf(args.repeat)
    html()


if __name__ == "__main__":
    main()
