"""The document jobs behind the web UI's 文档管理 tab (issue 13 item 3), without a browser."""

from __future__ import annotations

import threading
from pathlib import Path

from unionqa import Index
from unionqa.web.manage import Manager

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"


def test_uploads_are_checked_by_content(tmp_path: Path, tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    m = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    fake = tmp_path / "report.pdf"
    fake.write_text("这不是PDF", encoding="utf-8")
    assert "不支持这种文件" in (m.check_upload(fake) or "")
    assert "另存为”.docx" in (m.check_upload(FORMATS / "legacy.doc") or "")
    assert m.check_upload(FORMATS / "report.pdf") is None and m.check_upload(FORMATS / "article.html") is None
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "空文件" in (m.check_upload(tmp_path / "empty.txt") or "")
    assert "不支持" in m.add([fake]) and not m.state.running  # refused before any job starts


def test_jobs_run_one_at_a_time_and_a_failure_keeps_the_index(tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    published: list[int] = []
    m = Manager(tiny_index.index_dir, on_published=lambda: published.append(1), embedder=fake_embedder)
    slow_embed = fake_embedder.embed_documents

    def held(texts, progress=None):  # type: ignore[no-untyped-def]
        gate.wait(30)
        return slow_embed(texts, progress)

    fake_embedder.embed_documents = held
    assert m.add([FORMATS / "article.html"]) == "添加任务已开始（1 个文件）"
    assert "正在进行" in m.remove(["a.md"])  # one job at a time
    gate.set()
    st = m.wait()
    assert st.ok and "article.html" in st.message and published == [1] and m.finished == 1
    stored = list((m.uploads).glob("*/article.html"))
    assert len(stored) == 1 and Index.load(tiny_index.index_dir, embedder=fake_embedder).documents["article.html"]["path"] == str(stored[0])
    # a failing job: reported in one line, its upload removed, the served index unchanged
    m.add([FORMATS / "broken.pdf"])
    st = m.wait()
    assert st.ok is False and "broken.pdf：PDF 已损坏或无法读取" in st.message and published == [1]
    assert "not a readable" not in st.message  # the clerk reads Chinese (the CLI keeps the English line)
    assert not list(m.uploads.glob("*/broken.pdf"))
    # removing a document also removes its uploaded original
    m.remove(["article.html"])
    assert m.wait().ok and not list(m.uploads.glob("*/article.html"))
    assert set(Index.load(tiny_index.index_dir, embedder=fake_embedder).documents) == {"a.md", "b.txt", "c.md"}


def test_deleting_one_upload_keeps_the_originals_of_its_batch(tmp_path: Path, tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 27 item 1: one batch, one document deleted or replaced — every other original still opens."""
    from unionqa.web.originals import original_file

    notice = tmp_path / "notice.txt"
    notice.write_text("# 通知\n\n## 安排\n\n工会驿站新增20个。\n", encoding="utf-8")
    batch = [FORMATS / "report.pdf", FORMATS / "report.docx", FORMATS / "article.html", notice]
    m = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    m.add(batch)
    assert m.wait().ok, m.state.message

    def originals() -> dict[str, bytes]:
        ix = Index.load(tiny_index.index_dir, embedder=fake_embedder)
        found = {d: original_file(ix, d) for d in ("report.pdf", "report.docx", "article.html", "notice.txt")
                 if d in ix.documents}
        return {d: p.read_bytes() for d, p in found.items() if p is not None}

    assert originals() == {p.name: p.read_bytes() for p in batch}
    m.remove(["report.pdf"])
    assert m.wait().ok
    assert originals() == {p.name: p.read_bytes() for p in batch[1:]}
    # replacing one file of the batch by uploading it again touches no other original
    notice.write_text("# 通知\n\n## 安排\n\n工会驿站新增30个。\n", encoding="utf-8")
    m.add([notice])
    assert m.wait().ok
    assert originals() == {p.name: p.read_bytes() for p in batch[1:]}
    # the same file uploaded again, and a failed job, keep the original that is cited
    m.add([FORMATS / "article.html", FORMATS / "broken.pdf"])
    assert m.wait().ok is False
    assert originals() == {p.name: p.read_bytes() for p in batch[1:]}
    assert not list(m.uploads.glob("*/broken.pdf")) and not list(m.uploads.glob("*/report.pdf"))


def test_start_up_names_documents_whose_original_is_gone(tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    m = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    assert m.state.ok is None  # every original is there
    m.add([FORMATS / "article.html"])
    assert m.wait().ok
    Index.load(tiny_index.index_dir, embedder=fake_embedder)
    next(m.uploads.glob("*/article.html")).unlink()
    again = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    assert again.state.ok is False and "启动检查" in again.state.message and "article.html" in again.state.message


def test_added_time_is_each_documents_own(tiny_corpus: Path) -> None:
    """Issue 27 item 2: the seeds (indexed before records kept a time) showed the time of the first upload."""
    from unionqa.store.build import document_records, read_sources

    docs = read_sources([tiny_corpus], skip_bad=False, warn=lambda m: None, progress=None)[0]
    first = document_records(docs, now="2026-11-01T10:00:00+0000")
    legacy = {d: {k: v for k, v in r.items() if k != "indexed_at"} for d, r in first.items()}
    later = document_records(docs, legacy, now="2026-12-05T16:00:00+0000")
    assert all("indexed_at" not in r for r in later.values())  # unknown stays unknown
    again = document_records(docs, first, now="2026-12-05T16:00:00+0000")
    assert {r["indexed_at"] for r in again.values()} == {"2026-11-01T10:00:00+0000"}


def test_a_batch_with_a_bad_file_adds_the_good_ones_and_names_the_bad(tmp_path: Path, tiny_index: Index,  # type: ignore[no-untyped-def]
                                                                     fake_embedder) -> None:
    """Issue 27 item 2: one bad file refused the whole batch, naming only the bad file."""
    fake = tmp_path / "报告.pdf"
    fake.write_text("这不是PDF", encoding="utf-8")
    m = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    now = m.add([FORMATS / "article.html", FORMATS / "legacy.doc", fake, FORMATS / "report.docx"])
    assert now.startswith("添加任务已开始（2 个文件）") and "legacy.doc" in now and "报告.pdf" in now
    st = m.wait()
    assert st.ok and "已添加 2 篇" in st.message and "未添加" in st.message and "legacy.doc" in st.message
    assert {"article.html", "report.docx"} <= set(Index.load(tiny_index.index_dir, embedder=fake_embedder).documents)
    assert m.add([FORMATS / "legacy.doc"]).startswith("没有添加任何文件：legacy.doc")


def test_a_web_page_original_opens_as_its_text(tiny_corpus: Path, tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 27 item 6: 查看原文件 on a web page showed its raw HTML."""
    import shutil

    from starlette.testclient import TestClient

    from unionqa.web.originals import Originals

    shutil.copy(FORMATS / "article.html", tiny_corpus / "article.html")
    ix = Index.build([tiny_corpus], tmp_path / "index", embedder=fake_embedder)

    async def nothing(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("the original route answers itself")

    r = TestClient(Originals(nothing, index=lambda: ix)).get("/original/article.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "<" not in r.text and r.text.strip() == ix.document_text("article.html").strip()
    assert r.headers["content-security-policy"] == "sandbox"


def test_a_job_interrupted_by_a_restart_is_reported_and_its_files_removed(tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 27 item 2: a job killed together with the server was lost without a word and left its file behind."""
    import json

    m = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    m.add([FORMATS / "article.html"])
    assert m.wait().ok and not m._journal.exists()  # a finished job leaves no record
    # what a server killed in the middle of adding report.docx leaves: the record and the stored file
    m._journal.write_text(json.dumps({"action": "添加", "names": ["report.docx"]}), encoding="utf-8")
    left = m._store([FORMATS / "report.docx"])[0]
    again = Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder)
    assert again.state.ok is False and "中断" in again.state.message and "report.docx" in again.state.message
    assert not left.exists() and not again._journal.exists()
    assert next(again.uploads.glob("*/article.html")).is_file()  # a cited original stays
    assert Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder).state.ok is None


def test_a_text_original_opens_at_the_cited_passage(tiny_index: Index) -> None:
    """Issue 27 item 6: a text file's original opened at its top, not at the passage."""
    from starlette.testclient import TestClient

    from unionqa.web.originals import Originals
    from unionqa.web.render import render_sources

    async def nothing(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("the original route answers itself")

    ans = tiny_index.ask("惠州市总工会五年来调处了多少宗劳资纠纷？")
    hit = ans.citations[0]
    link = f"original/{hit.doc_id}?at={hit.span[0]}-{hit.span[1]}#passage"
    assert link in render_sources(tiny_index, ans)
    r = TestClient(Originals(nothing, index=lambda: tiny_index)).get("/" + link.split("#")[0])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == "sandbox" and "<script" not in r.text
    marked = r.text.split('<mark id="passage">')[1].split("</mark>")[0]
    assert marked == tiny_index.document_text(hit.doc_id)[hit.span[0]:hit.span[1]] and "7090" in marked
    plain = TestClient(Originals(nothing, index=lambda: tiny_index)).get(f"/original/{hit.doc_id}")
    assert plain.headers["content-type"].startswith("text/plain")  # without ?at= the file as it is
