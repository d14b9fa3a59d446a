"""Index build / load / search with the fake embedder: persistence, checks, API contract."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from unionqa import Index
from unionqa.errors import BuildLockedError, DocumentError, EmptyCorpusError, IndexFormatError, QueryError
from unionqa.store.generations import build_lock, current_generation


def _gen(ix: Index) -> Path:
    return current_generation(ix.index_dir)  # type: ignore[return-value]


def test_save_load_round_trip(tiny_index: Index, fake_embedder: FakeEmbedder) -> None:
    again = Index.load(tiny_index.index_dir, embedder=fake_embedder)
    assert [asdict(c) for c in again.chunks] == [asdict(c) for c in tiny_index.chunks]
    q = "调处了多少宗劳资纠纷"
    assert again.search(q) == tiny_index.search(q)
    info = again.info()
    assert info["documents"] == 3 and info["chunks"] == len(again.chunks) and info["model"] == "fake-bigram-64"


def test_chunks_public_records(tiny_index: Index) -> None:
    c = next(c for c in tiny_index.chunks if "7090宗" in c.text)
    assert c.doc_id == "a.md" and c.breadcrumb == ("惠州市总工会工作报告", "维权服务")
    src = tiny_index.document_text("a.md")
    assert src[c.span[0]:c.span[1]].startswith("五年来")


def test_hit_fields_and_channel_ranks(tiny_index: Index) -> None:
    hits = tiny_index.search("调处了多少宗劳资纠纷", top_k=3)
    h = hits[0]
    assert "7090宗" in h.text and h.rank == 1 and h.lexical_rank == 1 and h.lexical_score > 0
    assert h.dense_rank is not None and h.score > 0
    assert "劳资纠纷" in h.matched_terms
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        h.score = 0  # type: ignore[misc]


def test_modes_and_filters(tiny_index: Index) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        assert tiny_index.search("荔枝", mode=mode)
    hits = tiny_index.search("工会", top_k=10, doc_ids=["c.md"])
    assert hits and {h.doc_id for h in hits} == {"c.md"}
    with pytest.raises(QueryError, match="unknown"):
        tiny_index.search("工会", doc_ids=["nope.md"])
    with pytest.raises(QueryError, match="mode"):
        tiny_index.search("工会", mode="fuzzy")


def test_top_k_edge_cases(tiny_index: Index) -> None:
    n = len(tiny_index.chunks)
    for bad in (0, -1):
        with pytest.raises(QueryError):
            tiny_index.search("工会", top_k=bad)
    for bad in (2.5, "3", True):
        with pytest.raises(QueryError):
            tiny_index.search("工会", top_k=bad)  # type: ignore[arg-type]
    hits = tiny_index.search("工会", top_k=10_000, mode="dense")
    assert len(hits) == n  # never padded with FAISS -1 rows
    assert len({h.chunk_id for h in hits}) == n
    assert all(0 <= tiny_index.chunks.index(tiny_index.chunk(h.chunk_id)) < n for h in hits)


def test_empty_and_punctuation_queries(tiny_index: Index) -> None:
    with pytest.raises(QueryError, match="empty"):
        tiny_index.search("   ")
    assert tiny_index.search("？？！！，。") == []
    assert tiny_index.search("的了吗") == []


def test_traditional_query_equals_simplified(tiny_index: Index) -> None:
    simp = tiny_index.search("调处劳资纠纷多少宗")
    trad = tiny_index.search("調處勞資糾紛多少宗")
    assert [h.chunk_id for h in trad] == [h.chunk_id for h in simp]


def test_long_query_is_capped(tiny_index: Index) -> None:
    hits = tiny_index.search("劳资纠纷" * 25_000, top_k=3)
    assert hits and "7090宗" in hits[0].text


def test_concurrent_searches_match_serial(tiny_index: Index) -> None:
    queries = ["劳资纠纷", "荔枝", "工会林", "劳动模范", "疗休养"] * 8
    serial = [tiny_index.search(q, top_k=3) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: tiny_index.search(q, top_k=3), queries))
    assert parallel == serial


def test_manifest_newer_format_refused(tiny_index: Index) -> None:
    m = _gen(tiny_index) / "manifest.json"
    data = json.loads(m.read_text(encoding="utf-8"))
    data["format_version"] = 99
    m.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="newer"):
        Index.load(tiny_index.index_dir)


def test_model_mismatch_refused(tiny_index: Index) -> None:
    class Other(FakeEmbedder):
        name = "other-model"

    with pytest.raises(IndexFormatError, match="rebuild"):
        Index.load(tiny_index.index_dir, embedder=Other())


def test_tokenizer_mismatch_refused(tiny_index: Index) -> None:
    gen = _gen(tiny_index)
    data = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    data["tokenizer"]["dictionary_sha256"] = "0" * 64
    (gen / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="tokenizer"):
        Index.load(tiny_index.index_dir)


@pytest.mark.parametrize("name", ["chunks.jsonl", "documents.jsonl", "lexical.json", "lexical_weights.npy",
                                  "lexical_rows.npy", "lexical_colptr.npy", "lexical_doc_len.npy", "vectors.faiss",
                                  "vector_owners.npy"])
@pytest.mark.parametrize("damage", ["delete", "truncate", "zero", "flip"])
def test_corrupted_files_are_named(tiny_index: Index, name: str, damage: str) -> None:
    f = _gen(tiny_index) / name
    data = bytearray(f.read_bytes())
    if damage == "delete":
        f.unlink()
    elif damage == "truncate":
        f.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "zero":
        f.write_bytes(bytes(len(data)))
    else:
        data[len(data) // 2] ^= 0x01
        f.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match=name.replace(".", r"\.")):
        Index.load(tiny_index.index_dir)


def test_no_pickle_in_index(tiny_index: Index) -> None:
    for f in _gen(tiny_index).iterdir():
        assert f.suffix != ".pkl"
        if f.suffix == ".npy" or f.suffix == ".npz":
            import numpy as np

            np.load(f, allow_pickle=False)  # raises if any array needs pickle


def test_missing_index_dir_is_clear(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="no such index"):
        Index.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexFormatError, match="build"):
        Index.load(tmp_path / "empty")


def test_failed_build_leaves_previous_index(tiny_index: Index, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> None:
    before = [asdict(c) for c in Index.load(tiny_index.index_dir).chunks]
    (tiny_corpus / "bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    with pytest.raises(Exception, match="bad.txt"):
        Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)

    def boom(stage: str) -> None:
        if stage == "wrote lexical":
            raise OSError(28, "No space left on device")

    (tiny_corpus / "bad.txt").unlink()
    (tiny_corpus / "d.md").write_text("# 新文档\n\n新的内容。\n", encoding="utf-8")
    with pytest.raises(OSError):
        Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder, _hook=boom)
    assert [asdict(c) for c in Index.load(tiny_index.index_dir).chunks] == before


def test_build_lock(tiny_index: Index, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> None:
    with build_lock(tiny_index.index_dir):
        with pytest.raises(BuildLockedError, match="another build"):
            Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)


def test_empty_corpus_is_a_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_text("  \n\n \t\n", encoding="utf-8")
    (d / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(EmptyCorpusError):
        Index.build([d], tmp_path / "ix", embedder=fake_embedder)


def test_duplicate_content_indexed_once(tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    (tiny_corpus / "copy.md").write_text((tiny_corpus / "a.md").read_text(encoding="utf-8"), encoding="utf-8")
    warnings: list[str] = []
    ix = Index.build([tiny_corpus], tmp_path / "ix", embedder=fake_embedder, warn=warnings.append)
    assert "copy.md" not in ix.documents and any("same content" in w for w in warnings)


def test_incremental_rebuild_reembeds_only_changed(tiny_corpus: Path, tmp_path: Path) -> None:
    emb = FakeEmbedder()
    full = Index.build([tiny_corpus], tmp_path / "ix", embedder=emb)
    first = emb.calls
    (tiny_corpus / "b.txt").write_text((tiny_corpus / "b.txt").read_text(encoding="utf-8") + "\n新增一段话。\n",
                                       encoding="utf-8")
    emb.calls = 0
    inc = Index.build([tiny_corpus], tmp_path / "ix", embedder=emb)
    assert 0 < emb.calls < first
    fresh = Index.build([tiny_corpus], tmp_path / "fresh", embedder=FakeEmbedder())
    assert [asdict(c) for c in inc.chunks] == [asdict(c) for c in fresh.chunks]
    import numpy as np

    np.testing.assert_allclose(inc.vector.vectors(), fresh.vector.vectors(), atol=1e-6)
    assert full.manifest["counts"]["chunks"] <= inc.manifest["counts"]["chunks"]


def test_readers_see_whole_generations(tiny_index: Index, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                Index.load(tiny_index.index_dir, embedder=fake_embedder).search("工会", top_k=2)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(4):
            (tiny_corpus / f"n{i}.md").write_text(f"# 文档{i}\n\n工会第{i}次更新。\n", encoding="utf-8")
            Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)
    finally:
        stop.set()
        t.join()
    assert errors == []


def test_one_line_megabyte_file_is_indexed(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "big.txt").write_text("职工疗休养活动在河源举行，工会送出大礼包。" * 50_000, encoding="utf-8")  # ~1 MB, no newline
    ix = Index.build([d], tmp_path / "ix", embedder=fake_embedder)
    assert len(ix.chunks) > 2000 and all(len(c.text) <= 400 for c in ix.chunks)
    assert ix.search("河源大礼包", top_k=3)


def test_file_over_the_size_limit_is_refused_with_the_limit(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                            monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from unionqa.ingest import documents

    monkeypatch.setattr(documents, "MAX_FILE_BYTES", 1024 * 1024)
    d = tmp_path / "d"
    d.mkdir()
    (d / "huge.txt").write_bytes("工会".encode() * 400_000)
    with pytest.raises(DocumentError, match=r"huge\.txt.*1 MiB limit"):
        Index.build([d], tmp_path / "ix", embedder=fake_embedder)


def test_weighted_fusion_option(tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    from unionqa.config import RetrievalConfig

    Index.build([tiny_corpus], tmp_path / "ix", embedder=fake_embedder)
    ix = Index.load(tmp_path / "ix", embedder=fake_embedder, retrieval=RetrievalConfig(fusion="weighted"))
    hits = ix.search("调处了多少宗劳资纠纷", top_k=3)
    assert "7090宗" in hits[0].text and len({h.chunk_id for h in hits}) == len(hits)


def test_loaded_index_keeps_answering_after_its_generation_is_removed(
        tiny_index: Index, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> None:
    # a long-running UI holds an old generation; builds may delete it (vectors, BM25 and the
    # document text are memory-mapped or read lazily from files that are then unlinked)
    old = Index.load(tiny_index.index_dir, embedder=fake_embedder)
    gen = old.generation
    expected = [(h.chunk_id, round(h.score, 9)) for h in old.search("荔枝 12000斤", top_k=5)]
    cid = expected[0][0]
    context = old.context(cid)
    for i in range(3):
        (tiny_corpus / f"extra{i}.md").write_text(f"# 新文档{i}\n\n新的内容{i}。\n", encoding="utf-8")
        Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)
    assert not gen.exists()
    assert [(h.chunk_id, round(h.score, 9)) for h in old.search("荔枝 12000斤", top_k=5)] == expected
    assert old.context(cid) == context
    assert old.ask("荔枝送了多少斤？").citations


def test_search_settings_are_saved_with_the_index(tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder,
                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 26: fusion and the HNSW search depth were read from the environment at every query; now the build
    saves them in the manifest, a load searches with them, an add keeps them, and a damaged entry means defaults."""
    from unionqa.config import RetrievalConfig
    from unionqa.store.generations import read_manifest

    monkeypatch.setenv("UNIONQA_HNSW_EF_SEARCH", "64")
    built = Index.build([tiny_corpus], tmp_path / "ix", embedder=fake_embedder,
                        retrieval=RetrievalConfig(fusion="weighted", fetch_k=30))
    assert built.manifest["retrieval"]["fusion"] == "weighted" and built.manifest["ann"]["ef_search"] == 64
    monkeypatch.delenv("UNIONQA_HNSW_EF_SEARCH")
    loaded = Index.load(tmp_path / "ix", embedder=fake_embedder)
    assert loaded.retriever.config == RetrievalConfig(fusion="weighted", fetch_k=30)
    assert loaded.vector.ef_search == 64  # type: ignore[attr-defined]
    assert [h.chunk_id for h in loaded.search("劳资纠纷")] == [h.chunk_id for h in built.search("劳资纠纷")]
    (tiny_corpus / "more.md").write_text("# 新文档\n\n新增的工会驿站有二十家。\n", encoding="utf-8")
    added, _ = Index.add([tiny_corpus / "more.md"], tmp_path / "ix", embedder=fake_embedder)
    assert added.retriever.config.fusion == "weighted" and added.manifest["retrieval"]["fetch_k"] == 30
    # a caller's settings still win; an older or damaged manifest entry gives the defaults
    assert Index.load(tmp_path / "ix", embedder=fake_embedder, retrieval=RetrievalConfig()).retriever.config.fusion == "rrf"
    manifest = read_manifest(current_generation(tmp_path / "ix"))  # type: ignore[arg-type]
    assert RetrievalConfig.saved({**manifest, "retrieval": {"fusion": 5, "fetch_k": "x", "rrf_k": 10}}) == \
        RetrievalConfig(rrf_k=10.0)
    assert RetrievalConfig.saved({}) == RetrievalConfig()


def test_bm25_idf_method_is_a_build_setting_saved_with_the_index(tiny_corpus: Path, tmp_path: Path,
                                                                 fake_embedder: FakeEmbedder) -> None:
    from unionqa.config import RetrievalConfig

    ix = Index.build([tiny_corpus], tmp_path / "ix", embedder=fake_embedder, retrieval=RetrievalConfig(bm25_idf="lucene"))
    loaded = Index.load(tmp_path / "ix", embedder=fake_embedder)
    assert ix.manifest["retrieval"]["bm25_idf"] == "lucene" and loaded.lexical.idf_method == "lucene"  # type: ignore[attr-defined]
    assert (loaded.lexical.idf > 0).all()
    default = Index.build([tiny_corpus], tmp_path / "ix2", embedder=fake_embedder)
    assert default.lexical.idf_method == "okapi"  # type: ignore[attr-defined]


def test_one_ask_prepares_and_tokenizes_its_question_once(tiny_index: Index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 26: the question is prepared once per ask (PreparedQuestion) and handed to search and answering;
    jieba runs on the whole question once (parts of it, e.g. the words around 多少, are cut on their own)."""
    import unionqa.search.query as query

    seen: list[str] = []
    tokenize = tiny_index.tokenizer.tokenize
    monkeypatch.setattr(tiny_index.tokenizer, "tokenize", lambda text: seen.append(text) or tokenize(text))
    prepared: list[object] = []
    prepare = query.prepare_query
    monkeypatch.setattr(query, "prepare_query", lambda q: prepared.append(q) or prepare(q))
    ans = tiny_index.ask("惠州市总工會五年來調處了多少宗勞資糾紛？")  # Traditional: prepared to Simplified once
    assert ans.short_answer == "7090宗"
    assert prepared == ["惠州市总工會五年來調處了多少宗勞資糾紛？"]
    assert seen.count("惠州市总工会五年来调处了多少宗劳资纠纷?") == 1, seen
