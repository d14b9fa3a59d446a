"""The fusion grid behind README "Fusion": RRF constant, channel weights, proximity re-rank, fusion method.

Each setting is a ``RetrievalConfig`` applied at load time (no rebuild). Scored on the dev set
(hybrid hit@5 / MRR@10 over its 34 answerable questions) and on the CMRC 2018 calibration half
(the half that picks settings; the report half stays held out). Prints one row per setting.

    python benchmarks/grid_fusion.py [--seed-index index] [--cmrc-work .cache/cmrc2018]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from unionqa import Index
from unionqa.config import RetrievalConfig
from unionqa.evaluation import first_relevant_rank, load_gold, retrieval_metrics

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import cmrc_half, first_relevant, write_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE = RetrievalConfig()
GRID: list[tuple[str, RetrievalConfig]] = (
    [(f"rrf k={k}", replace(BASE, rrf_k=k)) for k in (5.0, 10.0, 20.0, 40.0, 60.0)]
    + [(f"lexical weight {w}", replace(BASE, lexical_weight=w)) for w in (0.5, 0.75, 1.5, 2.0)]
    + [(f"proximity {p}" + (" (no re-rank)" if p == 0 else ""), replace(BASE, proximity_weight=p))
       for p in (0.0, 0.5, 2.0)]
    + [("weighted (min-max) fusion", replace(BASE, fusion="weighted"))])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed-index", default=str(ROOT / "index"))
    ap.add_argument("--cmrc-work", default=str(ROOT / ".cache" / "cmrc2018"))
    ap.add_argument("--data", default=str(ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"))
    args = ap.parse_args()
    work = Path(args.cmrc_work)
    cmrc = [q for q in write_corpus(Path(args.data), work / "docs") if cmrc_half(q["doc"]) == "calibration"]
    Index.build([work / "docs"], work / "index")  # reuses the vectors of an earlier run
    dev = [g for g in load_gold(ROOT / "eval" / "dev.jsonl") if g.get("evidence")]
    print(f"dev {len(dev)} answerable questions; CMRC calibration half {len(cmrc)} questions (hybrid, top 10)")
    print(f"{'setting':28s} {'dev hit@5':>9s} {'dev MRR':>8s} {'CMRC hit@5':>10s} {'CMRC MRR':>9s}")
    for name, cfg in [("defaults", BASE)] + GRID:
        seed_ix = Index.load(args.seed_index, retrieval=cfg)
        cmrc_ix = Index.load(work / "index", retrieval=cfg)
        d = retrieval_metrics([first_relevant_rank(seed_ix.search(g["question"], top_k=10), g["evidence"])
                               for g in dev])
        c = retrieval_metrics([first_relevant(cmrc_ix.search(q["question"], top_k=10), q) for q in cmrc])
        print(f"{name:28s} {d['hit@5']:9.3f} {d['mrr@10']:8.3f} {c['hit@5']:10.3f} {c['mrr@10']:9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
