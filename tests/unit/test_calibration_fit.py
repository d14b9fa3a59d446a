"""The answerability fit (``benchmarks/calibrate_abstain.py``): logistic regression, whole or with a fixed part."""

from __future__ import annotations

import sys

import numpy as np
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from calibrate_abstain import fit_logistic  # noqa: E402


def _data(n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = np.c_[rng.normal(size=(n, 2)), np.ones(n)]
    z = 2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5
    return x, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)


def test_the_whole_fit_recovers_the_weights() -> None:
    x, y = _data()
    beta = fit_logistic(x, y, np.ones(len(y)), l2=1e-6)
    assert np.allclose(beta, [2.0, -1.0, 0.5], atol=0.25)


def test_a_fixed_part_is_kept_and_the_rest_fitted() -> None:
    # the English refit: some weights fixed (an offset), the others fitted from a start far from the optimum — a
    # plain Newton step from where p(1 − p) ≈ 0 overshoots; the damped one lands where the whole fit does
    x, y = _data()
    part = fit_logistic(x[:, 1:], y, np.ones(len(y)), l2=1e-6, offset=2.0 * x[:, 0], start=np.array([40.0, -40.0]))
    assert np.allclose(part, [-1.0, 0.5], atol=0.25)
    whole = fit_logistic(x, y, np.ones(len(y)), l2=1e-6)
    assert np.allclose(part, whole[1:], atol=0.1)
