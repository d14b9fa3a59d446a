"""The dev set over the seeds in other formats (issue 13 bars): the same five documents as web pages
(.html), Word files (.docx, real heading styles) and PDFs printed by headless Chromium from the web pages
(A4, two columns, a running header and page numbers), each built with the default model and scored
like the .txt index — hybrid hit@5 / MRR@10 on the answerable questions, answer accuracy on all.

    python benchmarks/bench_formats.py [--work .cache/bench_formats] [--only pdf docx html]

Needs Debian's chromium and a CJK font (./run.sh test installs both) for the PDFs.
"""

from __future__ import annotations

import argparse
import html
import re
import resource
import sys
import time
from pathlib import Path

from unionqa import Index
from unionqa.evaluation import evaluate, load_gold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_format_fixtures import add_sections  # noqa: E402
from make_format_fixtures import seed_articles as structure  # noqa: E402  (a seed's articles and sections)

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
CSS = """body{font-family:'WenQuanYi Micro Hei',sans-serif;font-size:10.5pt;line-height:1.55}
h1{font-size:20pt;text-align:center;column-span:all}h2{font-size:14pt}
.cols{column-count:2;column-gap:8mm}p{text-indent:2em;margin:.2em 0}nav,footer{font-size:9pt;color:#555}"""


def _inline(text: str) -> str:
    """The seeds' Markdown bold as <b>, everything else escaped."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def _block(para: str) -> str:
    """A paragraph as a web page writes it: list items (the seeds' "- …") as <ul><li>."""
    if para.startswith(("- ", "-")) and len(para) > 2:
        return f"<ul><li>{_inline(para.lstrip('- '))}</li></ul>"
    return f"<p>{_inline(para)}</p>"


def to_html(arts: list[tuple[str, list[tuple[str, list[str]]]]], nav: bool = True) -> str:
    body = []
    for title, secs in arts:
        body.append(f"<h1>{html.escape(title)}</h1><div class='cols'>")
        for head, paras in secs:
            if head:
                body.append(f"<h2>{html.escape(head)}</h2>")
            body += [_block(p) for p in paras]
        body.append("</div>")
    menu = "<nav>首页 | 工会动态 | 政策法规 | 职工服务 | 联系我们</nav>" if nav else ""
    foot = "<footer>版权所有 © 广东省总工会 | 网站地图 | 联系我们</footer>" if nav else ""
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(arts[0][0])}</title>"
            f"<style>{CSS}</style></head><body>{menu}<article>{''.join(body)}</article>{foot}</body></html>")


def to_docx(arts: list[tuple[str, list[tuple[str, list[str]]]]], path: Path) -> None:
    import docx

    d = docx.Document()
    for title, secs in arts:
        d.add_heading(title, level=0)
        add_sections(d, secs, 1)
    d.save(str(path))


def to_pdfs(pages: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        for stem, text in pages.items():
            page.set_content(text.replace("<nav>", "<nav hidden>").replace("<footer>", "<footer hidden>"))
            page.pdf(path=str(out / f"{stem}.pdf"), format="A4", display_header_footer=True,
                     header_template="<div style='font-size:8px;width:100%;text-align:center'>广东工人报 · 专题</div>",
                     footer_template="<div style='font-size:8px;width:100%;text-align:center'>"
                                     "— <span class='pageNumber'></span> —</div>",
                     margin={"top": "18mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
        browser.close()


def write_formats(work: Path, formats: list[str]) -> dict[str, Path]:
    folders = {}
    pages = {}
    for seed in SEEDS:
        arts = structure(seed)
        pages[seed.stem] = to_html(arts)
        for fmt in formats:
            folder = work / "docs" / fmt
            folder.mkdir(parents=True, exist_ok=True)
            folders[fmt] = folder
            if fmt == "html":
                (folder / f"{seed.stem}.html").write_text(pages[seed.stem], encoding="utf-8")
            elif fmt == "docx":
                to_docx(arts, folder / f"{seed.stem}.docx")
    if "pdf" in formats:
        to_pdfs(pages, folders["pdf"])
    return folders


def scores(ix: Index, gold: list[dict]) -> tuple[float, float, float]:
    r = evaluate(ix, gold, modes=["hybrid"], answers=True)
    m = r["retrieval"]["hybrid"]["all"]
    answers = [v["answer_ok"] for v in r["per_question"].values()]
    return m["hit@5"], m["mrr@10"], sum(answers) / len(answers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=str(ROOT / ".cache" / "bench_formats"))
    ap.add_argument("--only", nargs="*", default=["pdf", "docx", "html"])
    args = ap.parse_args()
    work = Path(args.work)
    gold = load_gold(ROOT / "eval" / "dev.jsonl")
    t = time.perf_counter()
    folders = write_formats(work, args.only)
    print(f"wrote {', '.join(args.only)} versions of {len(SEEDS)} seeds in {time.perf_counter() - t:.1f}s")
    base = scores(Index.load(ROOT / "index"), gold)
    print(f"{'source':8s} {'chunks':>6s} {'hit@5':>6s} {'MRR@10':>7s} {'answers':>8s} {'Δhit@5':>7s} {'ΔMRR':>6s} {'Δans':>6s}  build")
    print(f"{'.txt':8s} {len(Index.load(ROOT / 'index').chunks):6d} {base[0]:6.3f} {base[1]:7.3f} {base[2]:8.3f}")
    for fmt in args.only:
        t = time.perf_counter()
        ix = Index.build([folders[fmt]], work / f"index-{fmt}")
        built = time.perf_counter() - t
        s = scores(ix, gold)
        print(f"{'.' + fmt:8s} {len(ix.chunks):6d} {s[0]:6.3f} {s[1]:7.3f} {s[2]:8.3f} {s[0] - base[0]:+7.3f} "
              f"{s[1] - base[1]:+6.3f} {s[2] - base[2]:+6.3f}  {built:.0f}s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
