"""The chunking grid behind README "Chunk size": chunk sizes, overlap, and keeping paragraphs whole.

Each setting is a ``ChunkingConfig``; the seed documents and the CMRC 2018 trial articles are built
with it (normal build, default model; each setting has its own folder under --work, so a re-run
reuses its vectors) and scored with hybrid search: dev hit@5 / MRR@10 over the 34 answerable
questions, CMRC hit@5 / MRR@10 over the calibration half (the report half stays held out).

    python benchmarks/grid_chunking.py [--work .cache/grid_chunking] [--only 400 …]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unionqa import Index
from unionqa.config import ChunkingConfig
from unionqa.evaluation import first_relevant_rank, load_gold, retrieval_metrics

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import cmrc_half, first_relevant, write_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRID: list[tuple[str, ChunkingConfig]] = (
    [(f"{n}, paragraphs cut", ChunkingConfig(max_chars=n, keep_paragraphs=False)) for n in (160, 220, 300, 400, 500, 600)]
    + [("400 + 1 sentence overlap", ChunkingConfig(max_chars=400, keep_paragraphs=False, overlap_sentences=1)),
       ("400, paragraphs ≤ 800 whole (default)", ChunkingConfig())])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=str(ROOT / ".cache" / "grid_chunking"))
    ap.add_argument("--data", default=str(ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"))
    ap.add_argument("--only", nargs="*", help="run only the settings whose name contains one of these words")
    args = ap.parse_args()
    work = Path(args.work)
    cmrc = [q for q in write_corpus(Path(args.data), work / "cmrc-docs") if cmrc_half(q["doc"]) == "calibration"]
    dev = [g for g in load_gold(ROOT / "eval" / "dev.jsonl") if g.get("evidence")]
    print(f"dev {len(dev)} answerable questions; CMRC calibration half {len(cmrc)} questions (hybrid, top 10)")
    print(f"{'chunking':40s} {'seed chunks':>11s} {'dev hit@5':>9s} {'dev MRR':>8s} {'CMRC hit@5':>10s} {'CMRC MRR':>9s}")
    for name, cfg in GRID:
        if args.only and not any(w in name for w in args.only):
            continue
        slug = "-".join(f"{k}{int(v)}" for k, v in cfg.as_dict().items())
        seed_ix = Index.build([ROOT / "seeds"], work / slug / "seed", chunking=cfg)
        cmrc_ix = Index.build([work / "cmrc-docs"], work / slug / "cmrc", chunking=cfg)
        d = retrieval_metrics([first_relevant_rank(seed_ix.search(g["question"], top_k=10), g["evidence"]) for g in dev])
        c = retrieval_metrics([first_relevant(cmrc_ix.search(q["question"], top_k=10), q) for q in cmrc])
        print(f"{name:40s} {len(seed_ix.chunks):11d} {d['hit@5']:9.3f} {d['mrr@10']:8.3f} {c['hit@5']:10.3f} "
              f"{c['mrr@10']:9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
