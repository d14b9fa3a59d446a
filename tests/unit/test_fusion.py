"""Fusion worked out by hand."""

from __future__ import annotations

import pytest

from unionqa.search.fusion import rrf, weighted_scores


def test_rrf_by_hand() -> None:
    lex = [(10, 9.0), (20, 5.0), (30, 1.0)]
    dense = [(20, 0.9), (40, 0.8)]
    fused = dict(rrf([lex, dense], [1.0, 1.0], k=60))
    assert fused[10] == pytest.approx(1 / 61)
    assert fused[20] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[30] == pytest.approx(1 / 63)
    assert fused[40] == pytest.approx(1 / 62)
    assert [r for r, _ in rrf([lex, dense], [1.0, 1.0], k=60)] == [20, 10, 40, 30]


def test_rrf_weights_and_constant() -> None:
    fused = rrf([[(1, 0.0)], [(2, 0.0)]], [2.0, 1.0], k=1)
    assert fused == [(1, pytest.approx(1.0)), (2, pytest.approx(0.5))]


def test_rrf_ties_break_by_row() -> None:
    assert [r for r, _ in rrf([[(5, 1.0)], [(3, 1.0)]], [1.0, 1.0])] == [3, 5]


def test_weighted_scores_by_hand() -> None:
    lex = [(1, 10.0), (2, 5.0), (3, 0.0)]
    dense = [(2, 0.8), (3, 0.6)]
    fused = dict(weighted_scores([lex, dense], [0.5, 0.5]))
    assert fused[1] == pytest.approx(0.5)
    assert fused[2] == pytest.approx(0.25 + 0.5)
    assert fused[3] == pytest.approx(0.0)
