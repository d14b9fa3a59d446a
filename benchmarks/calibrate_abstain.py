"""Calibrate the abstention rule without the gold questions.

Negatives: CMRC 2018 questions (Wikipedia topics) asked of the seed index, which cannot
answer them. Positives: the same questions asked of the CMRC index built by
bench_cmrc2018.py. Prints the feature distributions and, for each threshold, the share
of negatives that would abstain and of positives that would wrongly abstain.

    python benchmarks/calibrate_abstain.py [--seed-index index] [--cmrc-work .cache/cmrc2018] [--n 300]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

from unionqa import Index
from unionqa.answer import AnswerConfig, gather_evidence, should_abstain
from unionqa.retrieval import prepare_query

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import write_corpus  # noqa: E402


def evidence(ix: Index, questions: list[str], cfg: AnswerConfig) -> list:
    out = []
    for q in questions:
        hits = ix.search(q, top_k=cfg.passages)
        out.append(gather_evidence(ix, prepare_query(q), hits, cfg))
    return out


def rate(evs: list, cfg: AnswerConfig) -> float:
    return sum(1 for ev in evs if should_abstain(ev, cfg)) / len(evs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-index", default="index")
    ap.add_argument("--cmrc-work", default=".cache/cmrc2018")
    ap.add_argument("--data", default="eval/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    qs = write_corpus(Path(args.data), Path(args.cmrc_work) / "docs")
    random.Random(0).shuffle(qs)
    qs = [q["question"] for q in qs[:args.n]]
    cfg = AnswerConfig()
    neg = evidence(Index.load(args.seed_index), qs, cfg)
    pos = evidence(Index.load(Path(args.cmrc_work) / "index"), qs, cfg)
    print(f"{len(qs)} questions. share that abstains: negatives (should be high) / positives (should be low)")
    print("min_cov  typed-rule   negatives  positives")
    for typed in (False, True):
        for th in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            c = replace(cfg, min_coverage=th, require_typed_answer=typed)
            print(f"{th:5.2f}    {str(typed):5s}        {rate(neg, c):6.3f}     {rate(pos, c):6.3f}")
    print(f"defaults: {cfg}")
    print(f"  negatives {rate(neg, cfg):.3f}  positives {rate(pos, cfg):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
