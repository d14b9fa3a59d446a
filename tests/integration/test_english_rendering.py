"""English questions: the dense channel also embeds the question's Chinese dictionary rendering (README "English
questions"). The embedder here reads only Chinese characters (as a model that never learnt the English words of a
domain), so an English question alone matches nothing and only its rendering can find the passage."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
from conftest import FakeEmbedder

from unionqa import Index
from unionqa.config import RetrievalConfig

QUESTION = "How many model workers were selected?"  # rendered 劳动模范 劳模: the 劳模引领 section


class ChineseOnlyEmbedder(FakeEmbedder):
    name = "fake-chinese-only"

    def _vec(self, text: str) -> np.ndarray:
        return super()._vec("".join(re.findall(r"[\u4e00-\u9fff]+", text)))


def _index(tiny_corpus: Path, tmp_path: Path, weight: float) -> Index:
    cfg = replace(RetrievalConfig(), english_rendering_weight=weight)
    return Index.build([tiny_corpus], tmp_path / f"ix{weight}", embedder=ChineseOnlyEmbedder(), retrieval=cfg)


def _score(ix: Index) -> float:
    return next(h.score for h in ix.search(QUESTION, top_k=10, mode="dense") if "劳动模范" in h.text)


def test_rendering_finds_the_chinese_passage(tiny_corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rendered = _index(tiny_corpus, tmp_path, 1.0)
    hits = rendered.search(QUESTION, top_k=2, mode="dense")
    assert "劳动模范" in hits[0].text and hits[0].score > hits[1].score + 0.1
    assert _score(rendered) > _score(_index(tiny_corpus, tmp_path, 0.0)) + 0.2


def test_query_vector_is_the_normalized_sum_for_english_only(tiny_corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ix, alone = _index(tiny_corpus, tmp_path, 1.0), _index(tiny_corpus, tmp_path, 0.0)
    e = ChineseOnlyEmbedder()
    v = ix.retriever.query_vector(QUESTION)
    both = e.embed_query(QUESTION) + e.embed_query("劳动模范劳模")
    assert np.allclose(v, both / np.linalg.norm(both))
    assert np.allclose(alone.retriever.query_vector(QUESTION), e.embed_query(QUESTION))
    chinese = "惠州选树了多少名劳动模范？"  # a Chinese question is embedded as asked
    assert np.allclose(ix.retriever.query_vector(chinese), e.embed_query(chinese))
