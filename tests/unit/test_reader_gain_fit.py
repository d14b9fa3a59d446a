"""How much the reader weighs against the rules (``benchmarks/bench_reader.py --fit``): what reading adds to each
candidate before the weights (``evidence.reader_terms``), and the conditional-logit fit of the two weights."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import ROOT

from unionqa.answer.evidence import Candidate, reader_terms
from unionqa.config import AnswerConfig

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_reader import Group, fit_reader_gains, group_nll, top_holds  # noqa: E402

pytestmark = pytest.mark.unit


def test_reader_terms_hold_sentences_without_the_asked_value_at_the_floor() -> None:
    top = [Candidate(0, 0, 1, t, 1.0, 0.5, short) for t, short in (("A", "3名"), ("B", None), ("C", "5名"))]
    logits = np.array([2.0, 6.0, -1.0])
    gains, margins, lowest = reader_terms(top, logits, AnswerConfig(), "other")
    assert gains == pytest.approx(1 / (1 + np.exp(-logits)))
    assert list(margins) == [2.0, 6.0, 0.0] and lowest == pytest.approx(1 / (1 + np.exp(1.0)))
    # a 多少 question: B states no figure, so it gains the floor and nothing from its margin
    gains, margins, lowest = reader_terms(top, logits, AnswerConfig(), "number")
    assert gains[1] == pytest.approx(lowest) and margins[1] == 0.0
    assert gains[0] == pytest.approx(1 / (1 + np.exp(-2.0))) and margins[0] == 2.0


def _groups(w: float, m: float, n: int = 600, k: int = 8, seed: int = 3) -> list[Group]:
    """Questions whose answering candidate is drawn from softmax(rules + w × gain + m × margin)."""
    rng = np.random.default_rng(seed)
    groups: list[Group] = []
    for _ in range(n):
        rules, gain, margin = rng.normal(size=k), rng.random(k), rng.random(k) * 3
        z = rules + w * gain + m * margin
        p = np.exp(z - z.max())
        holds = np.zeros(k)
        holds[rng.choice(k, p=p / p.sum())] = 1.0
        groups.append((rules, gain, margin, holds, holds))
    return groups


def test_the_fit_recovers_the_weights_that_drew_the_answers() -> None:
    groups = _groups(2.0, 1.0)
    w, m = fit_reader_gains(groups)
    assert abs(w - 2.0) <= 0.75 and abs(m - 1.0) <= 0.5
    assert group_nll(groups, w, m) < group_nll(groups, 0.0, 0.0)
    assert top_holds(groups, w, m) > top_holds(groups, 0.0, 0.0)
    # a question none of whose candidates holds the answer carries no information and is left out
    empty = (np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3))
    assert group_nll(groups + [empty], w, m) == pytest.approx(group_nll(groups, w, m))


def test_the_fit_follows_candidates_that_hold_the_answer_exactly() -> None:
    """A pair around the answering sentence holds the answer too; the fit follows the exact one: where the reader's
    margin favours the pair, that margin weighs less than where the pair would count as the answer."""
    rules, gain = np.array([1.0, 0.0, 0.0]), np.zeros(3)
    margin = np.array([0.0, 1.0, 2.0])  # the first wrong; the sentence; the pair around it, which the reader likes more
    holds, exact = np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0])
    groups = [(rules, gain, margin, holds, exact)] * 20
    assert top_holds(groups, 0.0, 1.0) == 1.0 and top_holds(groups, 0.0, 1.0, exactly=True) == 0.0
    loose = [(rules, gain, margin, holds, holds)] * 20
    assert fit_reader_gains(groups)[1] < fit_reader_gains(loose)[1]
