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
from pathlib import Path

from unionqa import Index
from unionqa.answer import AnswerConfig, gather_evidence
from unionqa.retrieval import prepare_query

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import write_corpus  # noqa: E402


def features(ix: Index, questions: list[str], cfg: AnswerConfig) -> list[tuple[float, float]]:
    out = []
    for q in questions:
        hits = ix.search(q, top_k=cfg.passages)
        ev = gather_evidence(ix, prepare_query(q), hits, cfg)
        out.append((ev.coverage, ev.unknown_share))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-index", default="index")
    ap.add_argument("--cmrc-work", default=".cache/cmrc2018")
    ap.add_argument("--data", default="../shared/bench/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    qs = write_corpus(Path(args.data), Path(args.cmrc_work) / "docs")
    random.Random(0).shuffle(qs)
    qs = [q["question"] for q in qs[:args.n]]
    cfg = AnswerConfig()
    neg = features(Index.load(args.seed_index), qs, cfg)
    pos = features(Index.load(Path(args.cmrc_work) / "index"), qs, cfg)
    print(f"{len(qs)} questions; coverage threshold sweep (unknown-share rule at {cfg.max_unknown}):")
    print("min_cov  negatives_abstain  positives_abstain")
    for th in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        n_ab = sum(1 for c, u in neg if c < th or u > cfg.max_unknown) / len(neg)
        p_ab = sum(1 for c, u in pos if c < th or u > cfg.max_unknown) / len(pos)
        print(f"{th:5.2f}    {n_ab:6.3f}             {p_ab:6.3f}")
    print("unknown-share threshold sweep (coverage rule at", cfg.min_coverage, ")")
    for th in (0.2, 0.3, 0.4, 0.5, 0.6):
        n_ab = sum(1 for c, u in neg if c < cfg.min_coverage or u > th) / len(neg)
        p_ab = sum(1 for c, u in pos if c < cfg.min_coverage or u > th) / len(pos)
        print(f"{th:5.2f}    {n_ab:6.3f}             {p_ab:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
