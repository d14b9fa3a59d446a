"""The Milvus store (issue 14) against Milvus Lite from PyPI: same results as the local store, atomic alias
publishing (killed and failed builds), incremental builds, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import ROOT, FakeEmbedder
from test_build_interrupt import kill_build_at

from unionqa import (
    BuildLockedError,
    Index,
    IndexFormatError,
    IndexWriteError,
    StoreUnavailableError,
)
from unionqa.ingest.chunking import embedding_units
from unionqa.store.milvus.store import MilvusStore, close, connect

QUESTIONS = ["劳资纠纷", "荔枝 12000斤", "工会林植树", "疗休养接待了多少人次", "河源", "律师 法律顾问"]


def _hits(ix: Index, q: str, **kw) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [_hit(h) for h in ix.search(q, **kw)]


def _hit(h) -> tuple:  # type: ignore[no-untyped-def]
    """A hit with its scores to 5 places (Milvus stores float32; the local BM25 sums in float64)."""
    r5 = lambda x: None if x is None else round(x, 5)  # noqa: E731
    return (h.chunk_id, r5(h.score), h.rank, h.lexical_rank, r5(h.lexical_score), h.dense_rank, r5(h.dense_score),
            h.matched_terms, h.breadcrumb, h.span, h.page)


@pytest.fixture
def lite(tmp_path: Path) -> str:  # type: ignore[misc]
    loc = f"milvus:{tmp_path / 'milvus' / 'unionqa.db'}"
    yield loc
    close(loc)


@pytest.fixture
def pair(tiny_corpus: Path, tmp_path: Path, lite: str, fake_embedder: FakeEmbedder) -> tuple[Index, Index]:
    local = Index.build([tiny_corpus], tmp_path / "local", embedder=fake_embedder)
    Index.build([tiny_corpus], lite, embedder=fake_embedder)
    return local, Index.load(lite, embedder=fake_embedder)


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_same_hits_as_the_local_store(pair: tuple[Index, Index], mode: str) -> None:
    local, milvus = pair
    for q in QUESTIONS:
        assert _hits(milvus, q, top_k=5, mode=mode) == _hits(local, q, top_k=5, mode=mode), q
        assert (_hits(milvus, q, top_k=3, mode=mode, doc_ids=["b.txt", "c.md"])
                == _hits(local, q, top_k=3, mode=mode, doc_ids=["b.txt", "c.md"])), q


def test_same_answers_context_and_records(pair: tuple[Index, Index]) -> None:
    local, milvus = pair
    assert [asdict(c) for c in milvus.chunks] == [asdict(c) for c in local.chunks]
    for q in ("惠州调处了多少宗劳资纠纷？", "东莞送出了多少斤荔枝？", "潮州市总工会调处了多少宗劳资纠纷？"):
        a, b = local.ask(q), milvus.ask(q)
        assert (b.text, b.abstained, [_hit(c) for c in b.citations]) == (a.text, a.abstained,
                                                                          [_hit(c) for c in a.citations]), q
    cid = local.chunks[1].chunk_id
    assert milvus.context(cid) == local.context(cid)
    assert milvus.document_text("a.md") == local.document_text("a.md")
    info = milvus.info()
    assert info["index_dir"].startswith("milvus:") and info["generation"].startswith("unionqa_g")
    assert {k: info[k] for k in ("documents", "chunks", "vocabulary", "model", "dim")} == \
        {k: local.info()[k] for k in ("documents", "chunks", "vocabulary", "model", "dim")}


def test_rebuild_switches_the_alias_and_keeps_one_previous_collection(
        tiny_corpus: Path, lite: str, fake_embedder: FakeEmbedder) -> None:
    first = Index.build([tiny_corpus], lite, embedder=fake_embedder)
    names = [first.generation_name]
    for i in range(3):
        (tiny_corpus / f"n{i}.md").write_text(f"# 新文档{i}\n\n工会驿站第{i}次更新。\n", encoding="utf-8")
        names.append(Index.build([tiny_corpus], lite, embedder=fake_embedder).generation_name)
        assert Index.live_generation(lite) == names[-1]
    client = connect(MilvusStore(lite).loc)
    assert sorted(client.list_collections()) == sorted(names[-2:])  # the live one and the one before it
    assert "n2.md" in Index.load(lite, embedder=fake_embedder).documents


def test_a_loaded_index_keeps_answering_after_the_next_build(tiny_corpus: Path, lite: str,
                                                             fake_embedder: FakeEmbedder) -> None:
    Index.build([tiny_corpus], lite, embedder=fake_embedder)
    old = Index.load(lite, embedder=fake_embedder)
    before = _hits(old, "荔枝 12000斤", top_k=3)
    (tiny_corpus / "x.md").write_text("# 新文档\n\n荔枝的新内容。\n", encoding="utf-8")
    Index.build([tiny_corpus], lite, embedder=fake_embedder)
    assert _hits(old, "荔枝 12000斤", top_k=3) == before  # its collection is the kept previous one


def test_incremental_build_add_and_remove_reembed_only_new_chunks(tiny_corpus: Path, tmp_path: Path,
                                                                  lite: str) -> None:
    emb = FakeEmbedder()
    Index.build([tiny_corpus], lite, embedder=emb)
    first = emb.calls
    (tiny_corpus / "b.txt").write_text((tiny_corpus / "b.txt").read_text(encoding="utf-8") + "\n新增一段话。\n",
                                       encoding="utf-8")
    emb.calls = 0
    inc = Index.build([tiny_corpus], lite, embedder=emb)
    assert 0 < emb.calls < first and inc.manifest["counts"]["reused_vectors"] > 0
    new = tmp_path / "new.md"
    new.write_text("# 汕尾市总工会\n\n## 驿站\n\n建成工会驿站120个。\n", encoding="utf-8")
    emb.calls = 0
    added, names = Index.add([new], lite, embedder=emb)
    assert names == ["new.md"]
    assert emb.calls == sum(len(embedding_units(c)) for c in added.chunks if c.doc_id == "new.md") > 0
    assert added.search("工会驿站", top_k=1)[0].doc_id == "new.md"
    emb.calls = 0
    removed = Index.remove(["c.md"], lite, embedder=emb)
    assert emb.calls == 0 and "c.md" not in removed.documents
    fresh_docs = tmp_path / "fresh"
    fresh_docs.mkdir()
    for name in ("a.md", "b.txt"):
        (fresh_docs / name).write_bytes((tiny_corpus / name).read_bytes())
    (fresh_docs / "new.md").write_bytes(new.read_bytes())
    fresh = Index.build([fresh_docs], tmp_path / "fresh_local", embedder=FakeEmbedder())
    again = Index.load(lite, embedder=FakeEmbedder())
    assert sorted(asdict(c)["chunk_id"] for c in again.chunks) == sorted(c.chunk_id for c in fresh.chunks)
    for q in QUESTIONS:
        assert {h.chunk_id for h in again.search(q, top_k=3)} == {h.chunk_id for h in fresh.search(q, top_k=3)}, q


def test_failed_build_keeps_the_alias_and_drops_its_collection(tiny_corpus: Path, lite: str,
                                                               fake_embedder: FakeEmbedder) -> None:
    ix = Index.build([tiny_corpus], lite, embedder=fake_embedder)
    before = _hits(ix, "劳资纠纷", top_k=3)

    def boom(stage: str) -> None:
        if stage == "wrote documents":
            raise OSError(28, "No space left on device")

    (tiny_corpus / "d.md").write_text("# 新文档\n\n新的内容。\n", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="previous index is still served"):
        Index.build([tiny_corpus], lite, embedder=fake_embedder, _hook=boom)
    assert Index.live_generation(lite) == ix.generation_name
    assert connect(MilvusStore(lite).loc).list_collections() == [ix.generation_name]
    assert _hits(Index.load(lite, embedder=fake_embedder), "劳资纠纷", top_k=3) == before


@pytest.mark.parametrize("stage", ["chunked", "embedded", "wrote units", "wrote documents", "wrote lexical", "written"])
def test_kill_mid_build_leaves_the_alias_on_the_old_collection(tiny_corpus: Path, tmp_path: Path, lite: str,
                                                               fake_embedder: FakeEmbedder, stage: str) -> None:
    ix = Index.build([tiny_corpus], lite, embedder=fake_embedder)
    before_chunks = [asdict(c) for c in ix.chunks]
    before_hits = _hits(ix, "劳资纠纷", top_k=3)
    close(lite)  # Milvus Lite serves one process per file: let the builder open it
    (tiny_corpus / "new.md").write_text("# 新增\n\n新的一篇关于工会驿站的文章。\n", encoding="utf-8")
    seen = kill_build_at(stage, tiny_corpus, lite, tmp_path)
    assert stage in seen, seen
    again = Index.load(lite, embedder=fake_embedder)
    assert again.generation_name == ix.generation_name
    assert [asdict(c) for c in again.chunks] == before_chunks
    assert _hits(again, "劳资纠纷", top_k=3) == before_hits
    # the next build succeeds and drops the abandoned collection
    new = Index.build([tiny_corpus], lite, embedder=fake_embedder)
    assert "new.md" in new.documents
    assert sorted(connect(MilvusStore(lite).loc).list_collections()) == sorted([ix.generation_name,
                                                                                 new.generation_name])


def test_wrong_model_or_dimension_is_refused(pair: tuple[Index, Index], lite: str) -> None:
    class OtherName(FakeEmbedder):
        name = "other-model"

    class OtherDim(FakeEmbedder):
        dim = 32

    for other in (OtherName(), OtherDim()):
        with pytest.raises(IndexFormatError, match="rebuild the index with this model"):
            Index.load(lite, embedder=other)


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    t = time.perf_counter()
    with pytest.raises(StoreUnavailableError, match=r"cannot reach Milvus at http://127\.0\.0\.1:1\b"):
        Index.load("milvus://127.0.0.1:1/unionqa")
    assert time.perf_counter() - t < 30
    out = subprocess.run([sys.executable, "-m", "unionqa", "search", "工会", "--index", "milvus://127.0.0.1:1/uq"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "cannot reach Milvus" in out.stderr


@pytest.mark.parametrize("location", ["milvus:", "milvus:./index", "milvus://", "milvus://host:19530/bad-name"])
def test_bad_locations_say_the_accepted_forms(location: str) -> None:
    with pytest.raises(IndexFormatError, match="milvus"):
        Index.load(location)


def test_missing_lite_file_and_busy_builds(tmp_path: Path, lite: str, tiny_corpus: Path,
                                           fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(IndexFormatError, match="no index here"):
        Index.load(f"milvus:{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()
    with MilvusStore(lite).lock(), pytest.raises(BuildLockedError):
        Index.build([tiny_corpus], lite, embedder=fake_embedder)


def test_a_lite_file_open_in_another_process_is_named(tiny_corpus: Path, lite: str,
                                                      fake_embedder: FakeEmbedder) -> None:
    Index.build([tiny_corpus], lite, embedder=fake_embedder)
    code = f"from unionqa import Index\nIndex.load({lite!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode != 0 and "another process has this Milvus Lite file open" in out.stderr


@pytest.mark.model
@pytest.mark.slow
def test_seeds_through_milvus_with_the_real_model_cli_and_ui(tmp_path: Path, seed_index: Index) -> None:
    """`unionqa build seeds --index milvus:…` with the bundled model, then the CLI, the web UI (ui.py) and the
    Python API answer the dev questions as the committed local index does."""
    import json

    loc = f"milvus:{tmp_path / 'seeds.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "unionqa", "build", str(ROOT / "seeds"), "--index", loc],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    q = "惠州市总工会五年来调处了多少宗劳资纠纷？"
    r = subprocess.run([sys.executable, "-m", "unionqa", "ask", q, "--index", loc, "--json"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["short_answer"] == seed_index.ask(q).short_answer == "7090宗"

    from servers import _start, _stop

    proc, url = _start(loc)  # type: ignore[arg-type]
    try:
        from gradio_client import Client

        got = Client(url, verbose=False).predict(q, 5, "hybrid", api_name="/ask")
        want = seed_index.ask(q)
        assert got["text"] == want.text and [c["chunk_id"] for c in got["citations"]] == \
            [c.chunk_id for c in want.citations]
    finally:
        _stop(proc)

    milvus = Index.load(loc)
    try:
        assert [c.chunk_id for c in milvus.chunks] == [c.chunk_id for c in seed_index.chunks]
        for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["question"]
            # re-embedding the seeds moves vectors by ~1e-3 from the committed index's, enough to swap two
            # near-tied passages; the store itself changes nothing (benchmarks/bench_milvus.py: same vectors,
            # same ranks)
            mine = {h.chunk_id for h in milvus.search(question, top_k=5)}
            assert len(mine & {h.chunk_id for h in seed_index.search(question, top_k=5)}) >= 4, question
            a, b = seed_index.ask(question), milvus.ask(question)
            assert (b.text, b.abstained) == (a.text, a.abstained), question
    finally:
        close(loc)
