"""Search and ask latency p50/p95 by mode on an index (default: the seed index); ask with the reader and with the
rule path alone, in the same run.

    python benchmarks/bench_query.py [--index index] [--gold eval/dev.jsonl] [--repeat 3] [--kind english]
        [--retrieval FIELD=VALUE]

``--kind``: only the gold questions of that kind (English questions embed their Chinese rendering too);
``--retrieval``: a ``RetrievalConfig`` field for this run (``english_rendering_weight=0`` measures without it).
"""

from __future__ import annotations

import argparse
import sys
import time

from unionqa import Index
from unionqa.config import with_settings
from unionqa.evaluation import load_gold, percentile


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default="index")
    ap.add_argument("--gold", default="eval/dev.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kind", default=None, help="only the gold questions of this kind")
    ap.add_argument("--retrieval", action="append", default=[], metavar="FIELD=VALUE", help="a RetrievalConfig field")
    args = ap.parse_args()
    t = time.perf_counter()
    ix = Index.load(args.index)
    load_s = time.perf_counter() - t
    ix.retriever.config = with_settings(ix.retriever.config, args.retrieval)
    t = time.perf_counter()
    ix.embedder.embed_query("预热")
    model_s = time.perf_counter() - t
    qs = [g["question"] for g in load_gold(args.gold) if args.kind is None or g["kind"] == args.kind]
    print(f"index load {load_s * 1000:.0f} ms, model load {model_s * 1000:.0f} ms, {len(qs)} questions × {args.repeat}")
    emb = []
    for q in qs * args.repeat:
        t = time.perf_counter()
        ix.embedder.embed_query(q)
        emb.append((time.perf_counter() - t) * 1000)
    print(f"query embedding         p50 {percentile(emb, 50):6.1f} ms  p95 {percentile(emb, 95):6.1f} ms")
    # overhead without the model: every text the retriever embeds (the prepared question, an English question's
    # Chinese rendering) is embedded once before the timed runs and then looked up
    real = ix.retriever.embed_query
    memo: dict = {}

    def cached_embed(text: str):  # noqa: ANN202
        if text not in memo:
            memo[text] = real(text)
        return memo[text]

    for label, fn in (("search", ix.search), ("ask", ix.ask)):
        for mode in ("hybrid", "dense", "lexical"):
            for cached in (False, True):
                ix.retriever.embed_query = real
                if cached:
                    ix.retriever.embed_query = cached_embed  # search and ask both embed through it
                    for q in qs:
                        fn(q, mode=mode)
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
