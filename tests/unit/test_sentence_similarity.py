"""A sentence's similarity to the question is its best stored two-sentence window (``chunking.sentence_units``) —
and, when the stored windows follow another sentence split (an index built by an older unionqa), the whole chunk's."""

from __future__ import annotations

import numpy as np

from unionqa.answer.context import AnswerContext
from unionqa.answer.evidence import _semantic
from unionqa.types import Hit


def context(units: np.ndarray) -> AnswerContext:
    return AnswerContext(tokenize=list, vocab={}, idf=np.zeros(1), stopwords=frozenset(), document_text=str,
                         document_title=str, unit_vectors=lambda _chunk_id: units)


HIT = Hit("c1", "d1", ("d",), "甲。乙。丙。", (0, 6), 1.0, 1)
Q = np.array([1.0, 0.0], dtype=np.float32)


def test_each_sentence_takes_its_best_window() -> None:
    # units: the chunk, window(甲乙), window(乙丙)
    units = np.array([[0.5, 0.0], [0.9, 0.0], [0.2, 0.0]], dtype=np.float32)
    assert np.allclose(_semantic(context(units), HIT, 3, Q), [0.9, 0.9, 0.2])


def test_windows_of_another_sentence_split_are_not_used() -> None:
    # four stored units for three sentences: built when the chunk split into four sentences
    units = np.array([[0.5, 0.0], [0.9, 0.0], [0.2, 0.0], [0.1, 0.0]], dtype=np.float32)
    assert np.allclose(_semantic(context(units), HIT, 3, Q), [0.5, 0.5, 0.5])
    only_chunk = np.array([[0.4, 0.0]], dtype=np.float32)  # a store that keeps the chunk's vector alone
    assert np.allclose(_semantic(context(only_chunk), HIT, 3, Q), [0.4, 0.4, 0.4])
