"""Scale: BM25 (ours vs rank_bm25.BM25Okapi), flat vs HNSW vector search, load time, peak RSS.

Synthetic corpora of N chunks made by recombining seed sentences; random unit vectors for the
dense side. Bounded: BM25Okapi is only timed up to --okapi-max chunks.

    python benchmarks/bench_scale.py [--sizes 10000 100000] [--queries 30] [--okapi-max 100000] [--dense-max 1000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

from unionqa.chunking import chunk_document
from unionqa.documents import read_document
from unionqa.lexical import LexicalIndex
from unionqa.storage import current_generation
from unionqa.text import split_sentences
from unionqa.tokenize import JiebaTokenizer
from unionqa.vector import VectorIndex


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--okapi-max", type=int, default=100_000)
    ap.add_argument("--dense-max", type=int, default=1_000_000)
    ap.add_argument("--seeds", default="seeds")
    ap.add_argument("--index", default="index", help="real vectors to build structured synthetic ones from")
    ap.add_argument("--vectors", choices=("seeded", "random"), default="seeded",
                    help="seeded: seed-index vectors + noise (realistic neighbourhoods); random: i.i.d. unit vectors")
    args = ap.parse_args()
    tok = JiebaTokenizer()
    sents: list[list[str]] = []
    texts: list[str] = []
    for p in sorted(Path(args.seeds).iterdir()):
        for c in chunk_document(read_document(p)):
            for a, b in split_sentences(c.text):
                texts.append(c.text[a:b])
    t = time.perf_counter()
    sents = [tok.tokenize(s) for s in texts]
    n_chars = sum(len(s) for s in texts)
    tok_s = time.perf_counter() - t
    print(f"jieba tokenizer: {n_chars / tok_s:,.0f} characters/s ({len(texts)} seed sentences)")
    rng = random.Random(0)
    queries = [tok.tokenize(q) for q in ["惠州市总工会五年来调处了多少宗劳资纠纷", "东莞免费送出荔枝", "工会二次医保理赔",
                                         "职工疗休养基地认定", "产业工人队伍建设改革", "工会驿站户外劳动者"]]
    queries = (queries * (args.queries // len(queries) + 1))[:args.queries]
    print()
    print("BM25           chunks    build s   ours p50 ms   okapi p50 ms   speed-up   same top-10   RSS MB")
    for n in args.sizes:
        corpus = [sum((sents[rng.randrange(len(sents))] for _ in range(4)), []) for _ in range(n)]
        t = time.perf_counter()
        lex = LexicalIndex.build(corpus)
        build_s = time.perf_counter() - t
        ours = []
        for q in queries:
            t = time.perf_counter()
            lex.top(q, 10)
            ours.append((time.perf_counter() - t) * 1000)
        okapi_txt, same = "-", "-"
        speed = "-"
        if n <= args.okapi_max:
            from rank_bm25 import BM25Okapi

            ref = BM25Okapi(corpus)
            times = []
            agree = 0
            for q in queries[:10]:
                t = time.perf_counter()
                s = ref.get_scores(q)
                times.append((time.perf_counter() - t) * 1000)
                top_ref = [int(i) for i in np.argsort(-s, kind="stable")[:10] if s[i] > 0]
                agree += top_ref == [r for r, _ in lex.top(q, 10)]
                np.testing.assert_allclose(lex.get_scores(q), s, rtol=1e-9, atol=1e-12)
            okapi_txt = f"{np.median(times):12.1f}"
            speed = f"{np.median(times) / np.median(ours):7.0f}x"
            same = f"{agree}/10"
            del ref
        print(f"{'':14s} {n:8d}   {build_s:7.1f}   {np.median(ours):11.2f}   {okapi_txt:>12s}   {speed:>8s}   "
              f"{same:>11s}   {rss_mb():6.0f}")
        del corpus, lex
    print()
    base = VectorIndex.load(current_generation(Path(args.index))).vectors()  # type: ignore[arg-type]
    print(f"vectors: {args.vectors}")
    print("vectors (384-d)  n         build s   flat p50 ms   hnsw p50 ms   recall@10   RSS MB")
    for n in [s for s in args.sizes if s <= args.dense_max]:
        rng_v = np.random.default_rng(0)
        if args.vectors == "random":
            x = rng_v.standard_normal((n, 384), dtype=np.float32)
        else:  # structured like real embeddings: seed vectors plus noise
            x = base[rng_v.integers(0, len(base), n)] + 0.04 * rng_v.standard_normal((n, 384), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        qs = x[rng_v.integers(0, n, args.queries)] + 0.02 * rng_v.standard_normal((args.queries, 384), dtype=np.float32)
        flat = VectorIndex.build(x, ann_threshold=n + 1)
        t = time.perf_counter()
        hnsw = VectorIndex.build(x, ann_threshold=0)
        build_s = time.perf_counter() - t
        ft, ht, rec = [], [], []
        for q in qs:
            t = time.perf_counter()
            exact = [r for r, _ in flat.top(q, 10)]
            ft.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            approx = [r for r, _ in hnsw.top(q, 10)]
            ht.append((time.perf_counter() - t) * 1000)
            rec.append(len(set(exact) & set(approx)) / 10)
        print(f"{'':16s} {n:8d}   {build_s:7.1f}   {np.median(ft):11.2f}   {np.median(ht):11.2f}   "
              f"{np.mean(rec):9.3f}   {rss_mb():6.0f}")
        del x, flat, hnsw
    return 0


if __name__ == "__main__":
    sys.exit(main())
