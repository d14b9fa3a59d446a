"""Search and ask latency p50/p95 by mode on an index (default: the seed index); ask with the reader and with the
rule path alone, in the same run.

    python benchmarks/bench_query.py [--index index] [--gold eval/dev.jsonl] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time

from unionqa import Index
from unionqa.evaluation import load_gold, percentile


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index")
    ap.add_argument("--gold", default="eval/dev.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    ix = Index.load(args.index)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    ix.embedder.embed_query("预热")
    model_s = time.perf_counter() - t
    qs = [g["question"] for g in load_gold(args.gold)]
    print(f"index load {load_s * 1000:.0f} ms, model load {model_s * 1000:.0f} ms, {len(qs)} questions × {args.repeat}")
    emb = []
    for q in qs * args.repeat:
        t = time.perf_counter()
        ix.embedder.embed_query(q)
        emb.append((time.perf_counter() - t) * 1000)
    print(f"query embedding         p50 {percentile(emb, 50):6.1f} ms  p95 {percentile(emb, 95):6.1f} ms")
    # overhead without the model: precompute query vectors
    cache = {q: ix.embedder.embed_query(q) for q in qs}
    real = ix.retriever.embed_query
    for label, fn in (("search", ix.search), ("ask", ix.ask)):
        for mode in ("hybrid", "dense", "lexical"):
            for cached in (False, True):
                ix.retriever.embed_query = real
                if cached:
                    # cached vectors are keyed by the raw question; the retriever sees the prepared one
                    from unionqa.search.query import prepare_query

                    prepared = {prepare_query(q): v for q, v in cache.items()}
                    ix.retriever.embed_query = prepared.__getitem__  # search and ask both embed through it
                times = []
                for q in qs * args.repeat:
                    t = time.perf_counter()
                    fn(q, mode=mode)
                    times.append((time.perf_counter() - t) * 1000)
                what = "excl. query embedding" if cached else "end to end"
                print(f"{label:6s} {mode:8s} {what:22s} p50 {percentile(times, 50):6.1f} ms  "
                      f"p95 {percentile(times, 95):6.1f} ms")
        ix.retriever.embed_query = real
    # the answer step with the trained reader and the rule path alone, back to back; the reader's score cache is
    # emptied before every question, so each ask reads its sentences as a new question would
    from dataclasses import replace

    from unionqa import AnswerConfig
    from unionqa.answer.reader import WEIGHTS, load_reader

    reader = load_reader() if WEIGHTS.is_file() else None
    for label, cfg in (("rule path (reader off)", replace(AnswerConfig(), reader=False)), ("with the reader", AnswerConfig())):
        if cfg.reader and reader is None:
            continue
        times = []
        for q in qs * args.repeat:
            if reader is not None:
                reader.clear_cache()
            t = time.perf_counter()
            ix.ask(q, config=cfg)
            times.append((time.perf_counter() - t) * 1000)
        print(f"ask    hybrid   {label:22s} p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
