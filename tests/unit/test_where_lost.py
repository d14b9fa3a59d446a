"""Where a gold answer is lost (``benchmarks/where_lost.py``): what counts as the gold sentence, and the ranks."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from where_lost import Trace, first_rank, is_gold, rank_by, summary  # noqa: E402

pytestmark = pytest.mark.unit

PASSAGE = "阳江市总工会把两者相结合，一次活动实现了两个目的。打造“职工乡村疗休养+交友联谊”模式。"


def test_a_gold_sentence_lies_in_an_evidence_passage_and_states_an_answer_or_the_evidence() -> None:
    golds, evidence = ["阳江"], "疗休养+交友联谊"
    assert is_gold("阳江市总工会把两者相结合", PASSAGE, golds, evidence)
    assert is_gold("打造“职工乡村疗休养+交友联谊”模式。", PASSAGE, golds, evidence)  # the evidence itself
    assert not is_gold("一次活动实现了两个目的。", PASSAGE, golds, evidence)  # neither
    # the same words in a passage that does not hold the evidence are another passage's, not the gold one
    assert not is_gold("阳江市总工会把两者相结合", "阳江市总工会把两者相结合。", golds, evidence)
    # compared as scoring compares: NFKC, whitespace removed (hard-wrapped seed files)
    assert is_gold("阳江 市总工会", PASSAGE.replace("疗休养", "疗休\n养"), golds, evidence)


def test_ranks_count_from_one_and_take_the_best_scored_gold_item() -> None:
    assert first_rank([False, False, True, True]) == 3
    assert first_rank([False]) is None
    scores = np.array([0.1, 0.9, 0.5, 0.7])
    assert rank_by(scores, [False, False, True, True]) == 2  # 0.7 is second after 0.9
    assert rank_by(scores, [False, True, False, False]) == 1
    assert rank_by(scores, [False] * 4) is None
    assert rank_by(np.array([1.0, 1.0]), [False, True]) == 2  # a tie keeps the given order


def test_the_summary_counts_each_kind_and_all() -> None:
    def t(kind: str, outcome: str, passage: int | None, first: bool) -> Trace:
        r = 1 if first else 4
        return Trace("q", kind, outcome, passage, r, r, r if first else None, 1.0 if first else None, r, r)

    rows = summary([t("fact", "right", 1, True), t("semantic", "refused", 1, False),
                    t("semantic", "wrong", 7, False)], passages=5)
    assert rows["all"]["n"] == 3 and rows["all"]["right"] == 1 and rows["all"]["passage read"] == 2
    assert rows["semantic"]["n"] == 2 and rows["semantic"]["rules first"] == 0 and rows["semantic"]["e5 first"] == 0
    assert rows["fact"]["reader first"] == 1 and rows["fact"]["reader all first"] == 1
