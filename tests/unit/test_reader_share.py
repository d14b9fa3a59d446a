"""How the reader's logits rerank candidates: each sentence's own P, or its share of one softmax with the null; and
the margin beyond P's saturation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from unionqa.answer.evidence import Candidate, _read, softmax_share
from unionqa.config import AnswerConfig

pytestmark = pytest.mark.unit


def test_shares_and_the_null_sum_to_one() -> None:
    logits = np.array([3.0, 1.0, -2.0])
    share = softmax_share(logits)
    null = 1.0 / (1.0 + np.exp(logits).sum())
    assert share.sum() + null == pytest.approx(1.0)
    assert list(np.argsort(-share)) == [0, 1, 2]
    # huge logits stay finite; a lone logit far below the null leaves almost everything to the null
    assert np.isfinite(softmax_share(np.array([800.0, 790.0]))).all()
    assert softmax_share(np.array([-30.0]))[0] < 1e-12


def _cands() -> list[Candidate]:
    # the rules rank A first by a little; the reader is sure of B and C (two sentences saying the same thing)
    return [Candidate(0, 0, 1, t, s, 0.5, None) for t, s in (("A", 1.00), ("B", 0.80), ("C", 0.79))]


def test_several_confident_sentences_share_the_answer() -> None:
    logits = {"A": 0.0, "B": 6.0, "C": 6.0}

    def reader(q: str, texts: list[str]) -> np.ndarray:
        return np.array([logits[t] for t in texts])

    cfg = AnswerConfig(reader_weight=1.0, reader_margin_weight=0.0)
    alone, shared = _cands(), _cands()
    _read(reader, "q", alone, cfg)
    _read(reader, "q", shared, replace(cfg, reader_share=True))
    # each sentence's own P: B and C gain ~1 and pass A; as shares they split one answer (~0.5 each), A gains ~0
    assert [c.text for c in alone][:1] == ["B"]
    gains = {c.text: c.score - s for c, s in zip(sorted(shared, key=lambda c: c.text), (1.00, 0.80, 0.79))}
    assert gains["B"] == pytest.approx(gains["C"]) and 0.45 < gains["B"] < 0.5 and gains["A"] < 0.01
    # the reader's P stays each sentence's own (answerability reads it)
    assert {c.text: round(c.reader, 3) for c in shared} == {"A": 0.5, "B": 0.998, "C": 0.998}


def test_the_margin_orders_sentences_the_reader_is_sure_of_where_p_ties() -> None:
    """Two sentences at P ≈ 1 gain the same from P; the margin (the logit above 0) still puts the surer one first —
    and a sentence the value gate holds gains nothing from it."""
    logits = {"A": 0.0, "B": 5.0, "C": 9.0}

    def reader(q: str, texts: list[str]) -> np.ndarray:
        return np.array([logits[t] for t in texts])

    def cands() -> list[Candidate]:  # the rules put B before C by 0.11
        return [Candidate(0, 0, 1, t, s, 0.5, None) for t, s in (("A", 1.00), ("B", 0.90), ("C", 0.79))]

    tied, ordered = cands(), cands()
    _read(reader, "q", tied, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.0))
    _read(reader, "q", ordered, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.25))
    assert [c.text for c in tied][:2] == ["B", "C"]  # P ties (0.993 / 0.9999): the rules' order stands
    assert [c.text for c in ordered][:2] == ["C", "B"]
    held = cands()  # a 多少 question: no sentence holds a figure, so none gains beyond the floor
    _read(reader, "q", held, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.25), "number")
    assert [c.text for c in held] == ["A", "B", "C"]
