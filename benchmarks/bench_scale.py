"""Scale: BM25 (ours vs rank_bm25.BM25Okapi), flat vs HNSW vector search, a real index on disk: load time, RSS.

Synthetic corpora of N chunks, each made of 4 random seed sentences. Dense side (--vectors):
``mixed`` (default) gives each chunk the normalized mean of its 4 sentences' real embeddings
(default model, cached in --workdir) plus small noise, and queries are sentence embeddings --
neighbourhoods shaped like real ones; ``seeded`` is seed-index vectors plus isotropic noise;
``random`` is i.i.d. unit vectors (the worst case for any ANN index). Bounded: BM25Okapi is
only timed up to --okapi-max chunks.

With --disk N a complete index generation of N synthetic chunks (chunks.jsonl,
documents.jsonl, BM25, FAISS, manifest with checksums) is written through the normal
storage code, then loaded by ``Index.load`` in a fresh process that reports load time,
resident memory and hybrid search latency excluding the query embedding.

    python benchmarks/bench_scale.py [--sizes 10000 100000] [--queries 30] [--okapi-max 100000]
        [--dense-max 1000000] [--vectors mixed|seeded|random] [--disk 1000000 [--cap-gb 4]]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from unionqa.ingest.chunking import chunk_document
from unionqa.ingest.documents import read_document
from unionqa.search.lexical import LexicalIndex
from unionqa.search.query import prepare_query
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.search.vector import VectorIndex
from unionqa.store.build import write_files
from unionqa.store.generations import current_generation
from unionqa.text import split_sentences


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb(field: str = "VmRSS") -> float:
    """Resident MB now; ``RssAnon`` is private memory, ``RssFile`` memory-mapped file pages (reclaimable)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def seed_sentences(seeds: str) -> list[str]:
    texts = []
    for p in sorted(Path(seeds).iterdir()):
        for c in chunk_document(read_document(p)):
            for a, b in split_sentences(c.text):
                texts.append(c.text[a:b])
    return texts


def sentence_vectors(texts: list[str], workdir: Path) -> np.ndarray:
    """Real embeddings of the seed sentences with the default model (cached)."""
    from unionqa.config import DEFAULT_MODEL

    key = hashlib.sha1(("\n".join(texts) + DEFAULT_MODEL).encode()).hexdigest()[:12]
    path = workdir / f"sentence-vectors-{key}.npy"
    if not path.exists():
        from unionqa.search.embedding import load_embedder

        workdir.mkdir(parents=True, exist_ok=True)
        np.save(path, load_embedder(None).embed_documents(texts), allow_pickle=False)
    return np.load(path, allow_pickle=False)


def mixed_vectors(sv: np.ndarray, picks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per chunk: normalized mean of its sentences' vectors plus noise (built in blocks to bound memory)."""
    out = np.empty((len(picks), sv.shape[1]), dtype=np.float32)
    for a in range(0, len(picks), 100_000):
        x = sv[picks[a:a + 100_000]].mean(axis=1) + 0.01 * rng.standard_normal(
            (len(picks[a:a + 100_000]), sv.shape[1]), dtype=np.float32)
        out[a:a + len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


class SentenceEmbedder:
    """Query embedder for the synthetic index: a seed sentence's stored vector (no model run)."""

    name = "bench:mixed-seed-sentences"
    dim = 384

    def __init__(self, texts: list[str], sv: np.ndarray) -> None:
        # keyed by the prepared query (NFKC, Simplified, cleaned): the index embeds the query as prepared, so a raw
        # sentence key missed (KeyError) for every sentence that preparation changes
        self._by_text = {prepare_query(t): v for t, v in zip(texts, sv)}

    def embed_documents(self, texts, progress=None):  # type: ignore[no-untyped-def]
        return np.stack([self.embed_query(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._by_text[prepare_query(text)]


def write_disk_index(n: int, texts: list[str], sents: list[list[str]], sv: np.ndarray, folder: Path) -> float:
    """A full index generation of n synthetic chunks through the normal storage code; returns seconds."""
    from unionqa import __version__
    from unionqa.config import FORMAT_VERSION, ChunkingConfig
    from unionqa.store.generations import new_generation, publish, write_manifest
    from unionqa.types import Chunk

    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(texts), (n, 4))
    chunks, tokens, documents = [], [], {}
    per_doc = 100
    for d in range(0, n, per_doc):
        doc_id = f"doc{d // per_doc:06d}.md"
        parts, pos = [], 0
        for i in range(d, min(n, d + per_doc)):
            text = "".join(texts[j] for j in picks[i])
            chunks.append(Chunk(f"{doc_id}#{i:012x}", doc_id, (f"文档 {d // per_doc}", f"第 {i - d + 1} 节"), text,
                                (pos, pos + len(text))))
            tokens.append([w for j in picks[i] for w in sents[j]])
            parts.append(text)
            pos += len(text)
        documents[doc_id] = {"doc_id": doc_id, "title": f"文档 {d // per_doc}", "path": doc_id, "sha256": "",
                             "encoding": "utf-8", "articles": [], "text": "".join(parts)}
    lexical = LexicalIndex.build(tokens)
    del tokens
    vector = VectorIndex.build(mixed_vectors(sv, picks, rng))
    folder.mkdir(parents=True, exist_ok=True)
    gen = new_generation(folder)
    files = write_files(gen, chunks, documents, lexical, vector, lambda stage: None)
    tok = JiebaTokenizer()
    manifest = {"format_version": FORMAT_VERSION, "writer": f"unionqa {__version__} bench_scale",
                "model": {"name": SentenceEmbedder.name, "dim": 384},
                "tokenizer": {"name": tok.name, "dictionary_sha256": tok.dictionary_hash},
                "chunking": ChunkingConfig().as_dict(),
                "counts": {"documents": len(documents), "articles": 0, "chunks": n, "vocabulary": len(lexical.vocab),
                           "vector_units": n, "embedded": n, "reused_vectors": 0},
                "corpus_sha256": "", "skipped": []}
    write_manifest(gen, manifest, files)
    publish(folder, gen)
    return time.perf_counter() - t0


def in_memory_cgroup(cmd: list[str], gb: float) -> list[str]:
    """Wrap ``cmd`` to run in a cgroup-v1 memory group limited to ``gb`` (RSS + page cache)."""
    group = Path("/sys/fs/cgroup/memory/unionqa-bench")
    group.mkdir(exist_ok=True)
    (group / "memory.limit_in_bytes").write_text(str(int(gb * 2**30)))
    return ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh", *cmd]


def measure_load(folder: Path, seeds: str, workdir: Path, queries: int) -> None:
    """Runs in a fresh process: Index.load time, resident memory, hybrid latency without embedding."""
    from unionqa import Index

    texts = seed_sentences(seeds)
    stub = SentenceEmbedder(texts, sentence_vectors(texts, workdir))
    base = current_rss_mb()
    t = time.perf_counter()
    ix = Index.load(folder, embedder=stub)  # verifies every file's SHA-256 too
    load_s = time.perf_counter() - t
    after_load = current_rss_mb()
    rng = random.Random(2)
    picked = rng.sample(range(len(texts)), min(len(texts), 2 * queries))
    warm, qs = [texts[i] for i in picked[:queries]], [texts[i] for i in picked[queries:]]
    for q in warm:  # other queries first: the first touches of mapped pages read from disk
        ix.search(q, top_k=10)
    lat: dict[str, list[float]] = {"hybrid": [], "dense": [], "lexical": []}
    for mode in lat:
        for q in qs:
            t = time.perf_counter()
            ix.search(q, top_k=10, mode=mode)
            lat[mode].append((time.perf_counter() - t) * 1000)
    rss = (current_rss_mb(), current_rss_mb("RssAnon"), current_rss_mb("RssFile"), rss_mb())
    n = len(ix.chunks)
    del ix
    gc.collect()
    t = time.perf_counter()
    Index.load(folder, embedder=stub, verify=False)
    load_nv = time.perf_counter() - t
    print(f"{n:9d}   {load_s:7.1f}   {load_nv:11.1f}   {after_load - base:8.0f}   "
          f"{rss[0]:6.0f}   {rss[1]:7.0f}   {rss[2]:7.0f}   {rss[3]:7.0f}   "
          + "   ".join(f"{np.median(v):9.1f}" for v in lat.values()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--okapi-max", type=int, default=100_000)
    ap.add_argument("--dense-max", type=int, default=1_000_000)
    ap.add_argument("--seeds", default="seeds")
    ap.add_argument("--index", default="index", help="real vectors to build structured synthetic ones from")
    ap.add_argument("--vectors", choices=("mixed", "seeded", "random"), default="mixed")
    ap.add_argument("--disk", type=int, nargs="*", default=[], help="write and load a full index of N chunks")
    ap.add_argument("--workdir", default=".cache/bench_scale")
    ap.add_argument("--cap-gb", type=float, default=0,
                    help="also run the load measurement in a memory cgroup of this size (needs root, cgroup v1)")
    ap.add_argument("--measure-load", help=argparse.SUPPRESS)  # internal: the fresh-process half of --disk
    args = ap.parse_args()
    workdir = Path(args.workdir)
    if args.measure_load:
        measure_load(Path(args.measure_load), args.seeds, workdir, args.queries)
        return 0
    tok = JiebaTokenizer()
    texts = seed_sentences(args.seeds)
    t = time.perf_counter()
    sents = [tok.tokenize(s) for s in texts]
    n_chars = sum(len(s) for s in texts)
    tok_s = time.perf_counter() - t
    print(f"jieba tokenizer: {n_chars / tok_s:,.0f} characters/s ({len(texts)} seed sentences)")
    rng = random.Random(0)
    # --queries distinct question-length queries: the first 10–20 characters of random seed sentences
    qrng = random.Random(1)
    picked = sorted({t[:qrng.randint(10, 20)] for t in qrng.sample(texts, 3 * args.queries) if len(t) >= 10})
    queries = [tok.tokenize(q) for q in qrng.sample(picked, args.queries)]
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
            for q in queries:
                t = time.perf_counter()
                s = ref.get_scores(q)
                times.append((time.perf_counter() - t) * 1000)
                top_ref = [int(i) for i in np.argsort(-s, kind="stable")[:10] if s[i] > 0]
                agree += top_ref == [r for r, _ in lex.top(q, 10)]
                np.testing.assert_allclose(lex.get_scores(q), s, rtol=1e-9, atol=1e-12)
            okapi_txt = f"{np.median(times):12.1f}"
            speed = f"{np.median(times) / np.median(ours):7.0f}x"
            same = f"{agree}/{len(queries)}"
            del ref
        print(f"{'':14s} {n:8d}   {build_s:7.1f}   {np.median(ours):11.2f}   {okapi_txt:>12s}   {speed:>8s}   "
              f"{same:>11s}   {rss_mb():6.0f}")
        del corpus, lex
    print()
    base = VectorIndex.load(current_generation(Path(args.index))).vectors()  # type: ignore[arg-type]
    sv = sentence_vectors(texts, workdir)
    print(f"vectors: {args.vectors}")
    print("vectors (384-d)  n         build s   flat p50 ms   hnsw p50 ms   recall@10   RSS MB")
    for n in [s for s in args.sizes if s <= args.dense_max]:
        rng_v = np.random.default_rng(0)
        if args.vectors == "mixed":
            x = mixed_vectors(sv, rng_v.integers(0, len(sv), (n, 4)), rng_v)
            qs = sv[rng_v.integers(0, len(sv), args.queries)]
        else:
            if args.vectors == "random":
                x = rng_v.standard_normal((n, 384), dtype=np.float32)
            else:  # seed vectors plus isotropic noise
                x = base[rng_v.integers(0, len(base), n)] + 0.04 * rng_v.standard_normal((n, 384), dtype=np.float32)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            qs = x[rng_v.integers(0, n, args.queries)] + 0.02 * rng_v.standard_normal((args.queries, 384),
                                                                                      dtype=np.float32)
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
    if args.disk:
        print()
        print("index on disk: write, then Index.load in a fresh process (mixed vectors; HNSW past the ANN threshold)")
        print("   chunks   write s   MB on disk")
        for n in args.disk:
            folder = workdir / f"index-{n}"
            write_s = write_disk_index(n, texts, sents, sv, folder)
            gen = current_generation(folder)
            size = sum(f.stat().st_size for f in gen.iterdir()) / 2**20  # type: ignore[union-attr]
            print(f"{n:9d}   {write_s:7.1f}   {size:10.0f}")
        print("   chunks    load s   no-verify s   load +MB   RSS MB   anon MB   file MB   peak MB   hybrid p50   "
              "dense p50   lexical p50 (ms, query embedding excluded; RSS after warm-up + searches)")
        for n in args.disk:
            cmd = [sys.executable, __file__, "--measure-load", str(workdir / f"index-{n}"), "--seeds", args.seeds,
                   "--workdir", str(workdir), "--queries", str(args.queries)]
            subprocess.run(cmd, check=True)
            if args.cap_gb:
                print(f"   (same, inside a memory cgroup capped at {args.cap_gb} GB incl. page cache:)")
                subprocess.run(in_memory_cgroup(cmd, args.cap_gb), check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
