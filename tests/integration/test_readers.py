"""Issue 13: PDF (text layer and scanned), images, Word and web pages read into the same documents;
pages cited; documents added and removed. Fixtures: tests/data/formats (scripts/make_format_fixtures.py)."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from unionqa import Index
from unionqa.errors import DocumentError, EmptyCorpusError, QueryError
from unionqa.ingest.documents import read_document
from unionqa.text import squash

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ROOT / "tests" / "data" / "formats"
sys.path.insert(0, str(ROOT / "scripts"))
from make_format_fixtures import articles  # noqa: E402  (the fixtures' paragraphs, read from seeds/)


def _paragraphs(which: slice = slice(None)) -> list[str]:
    return [squash(p) for _, secs in articles()[which] for _, paras in secs for p in paras]


def test_pdf_text_layer_reads_columns_in_order_without_running_lines() -> None:
    doc = read_document(FORMATS / "report.pdf")
    assert doc.format == "pdf" and len(doc.pages) == 4 and doc.ocr_pages == ()
    flat = squash(doc.text)
    # every paragraph of both articles, whole (wrapped lines joined, left column before right) and in order
    positions = [flat.find(p) for p in _paragraphs()]
    assert -1 not in positions and positions == sorted(positions)
    # running header and page numbers gone
    assert "广东工人报" not in doc.text and "—1—" not in flat and "—3—" not in flat
    # headings from font size: two articles; a section heading broken across the page turn is one heading
    assert doc.articles == ["深化产改，在发展新质生产力中展现工会作为 惠州市总工会：", "河源市总工会"]
    headers = {s.headers for s in doc.sections}
    assert ("竭诚服务 以需求为导向提升职工生活品质",) in headers and ("思想领航 “工”字特色思政课进基层",) in headers


def test_pdf_chunks_know_their_pages(fake_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ix = Index.build([FORMATS / "report.pdf"], tmp_path / "ix", embedder=fake_embedder)
    by_text = {c.text: c for c in ix.chunks}
    station = next(c for t, c in by_text.items() if "新建工会驿站183个" in t)
    heyuan = next(c for t, c in by_text.items() if "组织5689名职工" in t)
    assert station.page == 2 and heyuan.page == 3 and not station.ocr
    assert all(c.page is not None and 1 <= c.page <= 4 for c in ix.chunks)
    hit = ix.search("工会驿站 货车司机之家", top_k=1)[0]
    assert hit.page == 2 and hit.page_label == "第2页"
    # pages survive a reload from disk
    assert Index.load(tmp_path / "ix", embedder=fake_embedder).search("工会驿站 货车司机之家", top_k=1)[0].page == 2


@pytest.mark.slow
def test_scanned_pdf_and_image_are_read_by_ocr(fake_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scanned = read_document(FORMATS / "scanned.pdf")
    assert scanned.ocr_pages == (1,)
    # the same page's text layer is the reference: OCR recovers nearly all of it, in reading order
    reference = read_document(FORMATS / "report.pdf")
    page1 = squash(reference.text[: reference.pages[1]])
    ratio = difflib.SequenceMatcher(None, squash(scanned.text), page1, autojunk=False).ratio()
    assert ratio >= 0.9, ratio
    assert "调处各类劳资纠纷7090宗" in squash(read_document(FORMATS / "notice.png").text)
    ix = Index.build([FORMATS / "notice.png"], tmp_path / "ix", embedder=fake_embedder)
    assert ix.chunks and all(c.ocr and c.page == 1 for c in ix.chunks)


def test_docx_headings_and_table_rows() -> None:
    doc = read_document(FORMATS / "report.docx")
    assert doc.format == "docx" and doc.title.startswith("深化产改")
    headers = {s.headers for s in doc.sections}
    assert ("五年工作数据", "劳动关系与服务阵地") in headers and ("思想领航 “工”字特色思政课进基层",) in headers
    # a table row is one sentence naming its columns: the figure is findable with its row and unit
    assert "项目：爱心妈妈小屋；数量：274；单位：间。" in doc.text
    assert all(p in squash(doc.text) for p in _paragraphs(slice(0, 1)))


def test_html_article_body_title_and_date_without_boilerplate() -> None:
    doc = read_document(FORMATS / "article.html")
    assert (doc.format, doc.title, doc.date) == ("html", "河源市总工会", "2025-01-15")
    assert all(p in squash(doc.text) for p in _paragraphs(slice(1, 2)))
    for boilerplate in ("版权所有", "阅读原文", "网站地图", "站内搜索", "政策法规"):
        assert boilerplate not in doc.text
    assert ("扛牢政治责任 加强职工思想政治引领",) in {s.headers for s in doc.sections}


FORMAT_NAMES = {"Word", "WPS", "PDF", "docx", "OCR", "PNG", "JPEG", "UTF"}  # names, not English sentences


@pytest.mark.parametrize(("name", "says", "says_zh"), [
    ("legacy.doc", "save it as .docx", "另存为"),
    ("encrypted.pdf", "password-protected", "密码保护"),
    ("broken.pdf", "not a readable PDF", "PDF 已损坏"),
    ("notice.png", "OCR is off", "OCR 已关闭"),
    ("scanned.pdf", "OCR is off", "OCR 已关闭"),
])
def test_unreadable_files_are_one_line_naming_the_file(name: str, says: str, says_zh: str) -> None:
    """One line naming the file, in English for the CLI and in Chinese for the web UI (issue 27: no English
    reaches the clerk): the Chinese names the file by its name and has no English words."""
    import re

    with pytest.raises(DocumentError) as e:
        read_document(FORMATS / name, ocr=False)
    assert str(FORMATS / name) in str(e.value) and says in str(e.value) and "\n" not in str(e.value)
    zh = e.value.chinese
    assert zh.startswith(name + "：") and says_zh in zh and "\n" not in zh
    assert set(re.findall(r"[A-Za-z]{3,}", zh.removeprefix(name))) <= FORMAT_NAMES, zh


def test_content_decides_the_format(tmp_path: Path) -> None:
    fake = tmp_path / "report.pdf"
    fake.write_text("这不是PDF。", encoding="utf-8")
    with pytest.raises(DocumentError, match="the content is not .pdf"):
        read_document(fake)


def test_skip_bad_builds_the_rest(fake_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    warnings: list[str] = []
    ix = Index.build([FORMATS], tmp_path / "ix", embedder=fake_embedder, skip_bad=True, ocr=False, warn=warnings.append)
    assert set(ix.documents) == {"report.pdf", "report.docx", "article.html"}
    skipped = ix.manifest["skipped"]
    assert len(skipped) == 5 and any("legacy.doc" in s for s in skipped) and any("OCR is off" in s for s in skipped)


def test_add_and_remove_publish_atomically(fake_embedder, tiny_index: Index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index_dir = tiny_index.index_dir
    before = {c.chunk_id for c in tiny_index.chunks}
    fake_embedder.calls = 0
    ix, added = Index.add([FORMATS / "article.html"], index_dir, embedder=fake_embedder)
    assert added == ["article.html"] and set(ix.documents) == {"a.md", "b.txt", "c.md", "article.html"}
    new_chunks = [c for c in ix.chunks if c.doc_id == "article.html"]
    assert before <= {c.chunk_id for c in ix.chunks}  # the others' chunks are the same
    assert 0 < fake_embedder.calls == ix.manifest["counts"]["embedded"] and ix.manifest["counts"]["reused_vectors"] > 0
    assert ix.search("工会林", top_k=1, doc_ids=["article.html"])[0].doc_id == "article.html" and new_chunks
    # a failed add leaves the served index as it was
    def boom(stage: str) -> None:
        if stage == "embedded":
            raise RuntimeError("killed")
    with pytest.raises(RuntimeError):
        Index.add([FORMATS / "report.docx"], index_dir, embedder=fake_embedder, _hook=boom)
    assert set(Index.load(index_dir, embedder=fake_embedder).documents) == set(ix.documents)
    # remove: nothing re-embedded, the document gone, unknown ids and emptying the index refused
    fake_embedder.calls = 0
    ix = Index.remove(["article.html"], index_dir, embedder=fake_embedder)
    assert fake_embedder.calls == 0 and {c.chunk_id for c in ix.chunks} == before
    with pytest.raises(QueryError, match="no document 'nope.md'"):
        Index.remove(["nope.md"], index_dir, embedder=fake_embedder)
    with pytest.raises(EmptyCorpusError):
        Index.remove(["a.md", "b.txt", "c.md"], index_dir, embedder=fake_embedder)


@pytest.mark.model
def test_cli_cites_the_page_with_the_real_model(tmp_path: Path) -> None:
    env_run = [sys.executable, "-m", "unionqa"]
    ix = tmp_path / "ix"
    out = subprocess.run(env_run + ["build", str(FORMATS / "report.pdf"), "--index", str(ix), "--quiet"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(env_run + ["add", str(FORMATS / "article.html"), "--index", str(ix), "--quiet"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "added or replaced: article.html" in out.stdout, out.stderr
    out = subprocess.run(env_run + ["ask", "惠州市总工会五年来新建了多少个工会驿站？", "--index", str(ix)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "183个" in out.stdout and "第2页" in out.stdout, out.stdout + out.stderr
    out = subprocess.run(env_run + ["search", "工会驿站 货车司机之家", "--index", str(ix), "--json", "--top-k", "1"],
                         capture_output=True, text=True, timeout=600)
    hit = json.loads(out.stdout)[0]
    assert (hit["doc_id"], hit["page"], hit["ocr"]) == ("report.pdf", 2, False)


def test_docx_breadcrumbs_equal_the_heading_path() -> None:
    """Issue 13 bar: the breadcrumb of every chunk is exactly the Word heading path above its text
    (computed here independently from python-docx's styles)."""
    import docx

    from unionqa.ingest.chunking import chunk_document

    d = docx.Document(str(FORMATS / "report.docx"))
    path: list[str] = []
    expected: dict[str, tuple[str, ...]] = {}
    for p in d.paragraphs:
        name = p.style.name if p.style is not None else ""
        level = 0 if name == "Title" else int(name.split()[-1]) if name.startswith("Heading") else None
        if level is not None:
            path = path[:level] + [p.text.strip()]
        elif p.text.strip():
            expected[squash(p.text)[:30]] = tuple(path)
    chunks = chunk_document(read_document(FORMATS / "report.docx"))
    checked = 0
    for c in chunks:
        first = squash(c.text)[:30]
        if first in expected:
            assert c.breadcrumb == expected[first], (c.breadcrumb, expected[first])
            checked += 1
    assert checked >= 5


@pytest.mark.browser
def test_seed_printed_by_chromium_reads_back(tmp_path: Path) -> None:
    """Issue 13 item 4: a seed as a web page, printed to PDF by headless Chromium (A4, two columns, running
    header, page numbers) and as .docx with heading styles, reads back with every paragraph in order."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_formats import structure, to_docx, to_html, to_pdfs

    seed = ROOT / "seeds" / "004_d12b36c59bcc273d.txt"
    arts = structure(seed)
    page = to_html(arts)
    (tmp_path / "seed.html").write_text(page, encoding="utf-8")
    to_pdfs({"seed": page}, tmp_path)
    to_docx(arts, tmp_path / "seed.docx")
    paras = [squash(p).replace("*", "") for _, secs in arts for _, ps in secs for p in ps]
    for name in ("seed.pdf", "seed.docx", "seed.html"):
        doc = read_document(tmp_path / name)
        flat = squash(doc.text).replace("*", "")
        positions = [flat.find(p) for p in paras]
        assert -1 not in positions and positions == sorted(positions), name
        assert "广东工人报" not in doc.text and "—1—" not in flat, name
    pdf = read_document(tmp_path / "seed.pdf")
    assert len(pdf.pages) >= 2 and pdf.articles == [a for a, _ in arts]
