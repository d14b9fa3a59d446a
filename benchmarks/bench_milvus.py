"""The Milvus store against the local store, in one run (issue 14).

parity   the dev set (seeds) and the CMRC 2018 trial built into both stores with the same vectors (the
         Milvus build takes the local build's vectors by text, so only the store differs): hybrid / dense /
         lexical hit@5 and MRR@10, answers equal (text and abstention), query p50.
lexical  the two lexical channels Milvus can serve, BM25 only, over the same chunks:
         (a) Milvus's BM25 function with its jieba analyzer, the project's domain dictionary and stop words;
         (b) the project's tokenizer and BM25 weights stored as sparse vectors (what the store uses).
scale    build and query p50 for N synthetic chunks (seed sentences, hashed 384-d vectors: the embedding
         model is not what is measured), Milvus Lite vs local.

    python benchmarks/bench_milvus.py [--parts parity lexical scale] [--sizes 10000 100000]
        [--workdir .cache/bench_milvus] [--cmrc eval/cmrc2018/cmrc2018_trial.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cmrc2018 import first_relevant, relevant, write_corpus  # noqa: E402

from unionqa import Index  # noqa: E402
from unionqa.evaluation import first_relevant_rank, load_gold, percentile, retrieval_metrics  # noqa: E402
from unionqa.ingest.chunking import embedding_units, index_text  # noqa: E402
from unionqa.search.embedding import load_embedder  # noqa: E402
from unionqa.search.query import prepare_query  # noqa: E402
from unionqa.store.build import text_key  # noqa: E402
from unionqa.store.milvus.store import close  # noqa: E402
from unionqa.text import normalize_for_match, split_sentences, squash  # noqa: E402


class ReuseEmbedder:
    """The local index's vectors by text (the Milvus build gets exactly the same ones); the model otherwise."""

    def __init__(self, local: Index, model) -> None:  # type: ignore[no-untyped-def]
        self.name, self.dim, self._model = model.name, model.dim, model
        vecs = {}
        for row, c in enumerate(local.chunks):
            for u, v in zip(embedding_units(c), local.vector.unit_vectors(row)):
                vecs[text_key(u)] = v
        self._vecs = vecs

    def embed_documents(self, texts, progress=None):  # type: ignore[no-untyped-def]
        missing = [t for t in texts if text_key(t) not in self._vecs]
        if missing:
            for t, v in zip(missing, self._model.embed_documents(missing)):
                self._vecs[text_key(t)] = v
        if progress:
            progress(len(texts))
        return np.stack([self._vecs[text_key(t)] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.embed_query(text)


class HashEmbedder:
    """Character-bigram hashing into 384 dimensions: deterministic and fast, for the scale runs."""

    name, dim = "hash-bigram-384", 384

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        v[0] += 1e-3
        return v / np.linalg.norm(v)

    def embed_documents(self, texts, progress=None):  # type: ignore[no-untyped-def]
        if progress:
            progress(len(texts))
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


def both(docs: Path, work: Path, name: str, prebuilt: Path | None = None) -> tuple[Index, Index, dict[str, float]]:
    """``prebuilt``: a local index of the same documents whose vectors the local build reuses (no re-embedding)."""
    model = load_embedder(None)
    if prebuilt is not None and prebuilt.is_dir() and not (work / f"{name}_local").exists():
        shutil.copytree(prebuilt, work / f"{name}_local")
    t = time.perf_counter()
    local = Index.build([docs], work / f"{name}_local", embedder=model)
    tl = time.perf_counter() - t
    loc = f"milvus:{work / f'{name}.db'}"
    t = time.perf_counter()
    Index.build([docs], loc, embedder=ReuseEmbedder(local, model))
    tm = time.perf_counter() - t
    return local, Index.load(loc, embedder=model), {"local_build_s": tl, "milvus_build_s": tm}


def compare(local: Index, milvus: Index, questions: list[dict], rank_of, answer_ok,  # type: ignore[no-untyped-def]
            asked: list[dict] | None = None) -> dict:
    """Retrieval per mode over ``questions``; answers over ``asked`` (default: the same questions)."""
    out: dict = {"n": len(questions)}
    for mode in ("hybrid", "dense", "lexical"):
        for label, ix in (("local", local), ("milvus", milvus)):
            ranks, times = [], []
            for q in questions:
                t = time.perf_counter()
                hits = ix.search(q["question"], top_k=10, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
                ranks.append(rank_of(hits, q))
            m = retrieval_metrics(ranks)
            out[f"{mode}/{label}"] = {"hit@5": m["hit@5"], "mrr@10": m["mrr@10"], "p50_ms": percentile(times, 50)}
    equal = ok_local = ok_milvus = 0
    times_l, times_m = [], []
    asked = questions if asked is None else asked
    for q in asked:
        t = time.perf_counter()
        a = local.ask(q["question"])
        times_l.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        b = milvus.ask(q["question"])
        times_m.append((time.perf_counter() - t) * 1000)
        equal += (a.text, a.abstained) == (b.text, b.abstained)
        ok_local += answer_ok(q, a)
        ok_milvus += answer_ok(q, b)
    out["answers"] = {"n": len(asked), "equal": equal, "accuracy_local": ok_local / len(asked),
                      "accuracy_milvus": ok_milvus / len(asked),
                      "ask_p50_ms_local": percentile(times_l, 50), "ask_p50_ms_milvus": percentile(times_m, 50)}
    return out


def print_compare(title: str, r: dict) -> None:
    print(f"\n{title}: {r['n']} questions")
    print("mode      store    hit@5  MRR@10  p50 ms")
    for mode in ("hybrid", "dense", "lexical"):
        for label in ("local", "milvus"):
            m = r[f"{mode}/{label}"]
            print(f"{mode:8s}  {label:7s}  {m['hit@5']:.3f}  {m['mrr@10']:.3f}  {m['p50_ms']:7.1f}")
    a = r["answers"]
    print(f"answers equal {a['equal']}/{a['n']}; accuracy local {a['accuracy_local']:.3f}, milvus "
          f"{a['accuracy_milvus']:.3f}; ask p50 local {a['ask_p50_ms_local']:.1f} ms, milvus {a['ask_p50_ms_milvus']:.1f} ms")


def dev_set(work: Path) -> tuple[Index, Index, list[dict], dict]:
    from unionqa.evaluation import answer_correct

    local, milvus, builds = both(Path("seeds"), work, "seeds", Path("index"))
    gold = load_gold("eval/dev.jsonl")
    # retrieval over the answerable questions, answers over all of them (the "none" kind included)
    r = compare(local, milvus, [g for g in gold if g.get("evidence")],
                lambda hits, g: first_relevant_rank(hits, g["evidence"]), lambda g, a: answer_correct(g, a)[0], gold)
    r["builds"] = builds
    return local, milvus, gold, r


def cmrc(work: Path, data: Path) -> tuple[Index, Index, list[dict], dict]:
    import re

    marker = re.compile(r"\[\d+\]")
    questions = write_corpus(data, work / "cmrc_docs")
    local, milvus, builds = both(work / "cmrc_docs", work, "cmrc", Path(".cache/cmrc2018/index"))

    def ok(q: dict, ans) -> bool:  # type: ignore[no-untyped-def]
        text = squash(marker.sub("", ans.text))
        return (not ans.abstained and any(squash(a) in text for a in q["answers"])
                and any(relevant(c, q) for c in ans.citations))

    r = compare(local, milvus, questions, first_relevant, ok)
    r["builds"] = builds
    return local, milvus, questions, r


def lexical_channels(local: Index, milvus: Index, questions: list[dict], rank_of, work: Path, name: str) -> dict:  # type: ignore[no-untyped-def]
    """BM25-only hit@5/MRR: local, (b) the store's sparse vectors, (a) Milvus's BM25 function + jieba analyzer."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from unionqa.search.tokenize import _data, load_stopwords

    client = milvus.lexical.client  # type: ignore[attr-defined]
    coll = f"bm25fn_{name}"
    if coll in client.list_collections():
        client.drop_collection(coll)
    words = [line.split()[0] for line in _data("userdict.txt").splitlines() if line.strip() and not line.startswith("#")]
    analyzer = {"tokenizer": {"type": "jieba", "mode": "search", "dict": ["_default_", *words]},
                "filter": [{"type": "stop", "stop_words": sorted(load_stopwords())}]}
    s = MilvusClient.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=analyzer)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                            output_field_names=["sparse"]))
    client.create_collection(coll, schema=s)
    rows = [{"id": i, "text": normalize_for_match(index_text(c))} for i, c in enumerate(milvus.chunks)]
    for a in range(0, len(rows), 2000):
        client.insert(coll, rows[a:a + 2000])
    client.flush(coll)
    p = client.prepare_index_params()
    p.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={})
    client.create_index(coll, p)
    client.load_collection(coll)

    out = {}
    for label in ("local", "(b) sparse", "(a) bm25 fn"):
        ranks, times = [], []
        for q in questions:
            t = time.perf_counter()
            if label == "(a) bm25 fn":
                res = client.search(coll, data=[normalize_for_match(prepare_query(q["question"]))], anns_field="sparse",
                                    limit=10, search_params={"metric_type": "BM25"})
                hits = [milvus.chunks[int(h["id"])] for h in res[0]]  # Chunks have the doc_id and text scored
            else:
                hits = (local if label == "local" else milvus).search(q["question"], top_k=10, mode="lexical")
            times.append((time.perf_counter() - t) * 1000)
            ranks.append(rank_of(hits, q))
        m = retrieval_metrics(ranks)
        out[label] = {"hit@5": m["hit@5"], "mrr@10": m["mrr@10"], "p50_ms": percentile(times, 50)}
    client.drop_collection(coll)
    return out


def synthetic_docs(folder: Path, chunks: int, seeds: str = "seeds") -> None:
    """Documents of seed sentences shuffled, ~200 chunks each, so chunking yields about ``chunks`` chunks."""
    from unionqa.ingest.documents import read_document

    sents = []
    for p in sorted(Path(seeds).iterdir()):
        text = read_document(p).text
        sents += [text[a:b].strip() for a, b in split_sentences(text) if 10 <= b - a <= 120]
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    per_doc = 200
    for d in range((chunks + per_doc - 1) // per_doc):
        lines = [f"# 合成文档{d}", ""]
        for s in range(per_doc):
            lines += [f"## 第{s + 1}节", "", "".join(rng.sample(sents, 4)), ""]
        (folder / f"syn{d:05d}.md").write_text("\n".join(lines), encoding="utf-8")


def scale(work: Path, sizes: list[int], queries: int) -> list[dict]:
    out = []
    qs = ["惠州市总工会调处了多少宗劳资纠纷", "工会驿站", "职工疗休养", "劳动模范 评选", "东莞荔枝", "产业工人队伍建设改革",
          "农民工 欠薪", "困难职工帮扶", "工会会员 新增", "职工书屋"]
    for n in sizes:
        docs = work / f"syn{n}"
        shutil.rmtree(docs, ignore_errors=True)
        synthetic_docs(docs, n)
        row: dict = {"target_chunks": n}
        for label in ("local", "milvus"):
            loc = str(work / f"syn{n}_local") if label == "local" else f"milvus:{work / f'syn{n}.db'}"
            shutil.rmtree(loc.removeprefix("milvus:"), ignore_errors=True)
            t = time.perf_counter()
            Index.build([docs], loc, embedder=HashEmbedder())
            row[f"{label}_build_s"] = time.perf_counter() - t
            if label == "milvus":
                close(loc)  # load as a fresh process would: reopen the file
            t = time.perf_counter()
            ix = Index.load(loc, embedder=HashEmbedder())
            row[f"{label}_load_s"] = time.perf_counter() - t
            row["chunks"], row["units"] = len(ix.chunks), ix.manifest["counts"]["vector_units"]
            for mode in ("hybrid", "dense", "lexical"):
                times = []
                for i in range(queries):
                    q = qs[i % len(qs)]
                    t = time.perf_counter()
                    ix.search(q, top_k=5, mode=mode)
                    times.append((time.perf_counter() - t) * 1000)
                row[f"{label}_{mode}_p50_ms"] = percentile(times[1:], 50)
            row[f"{label}_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if label == "milvus":
                close(loc)
            del ix
        out.append(row)
        print(f"{row['chunks']:>8d} chunks {row['units']:>8d} units | build local {row['local_build_s']:7.1f} s, "
              f"milvus {row['milvus_build_s']:7.1f} s | load local {row['local_load_s']:5.1f} s, milvus "
              f"{row['milvus_load_s']:5.1f} s | p50 ms hybrid {row['local_hybrid_p50_ms']:.1f} / "
              f"{row['milvus_hybrid_p50_ms']:.1f}, dense {row['local_dense_p50_ms']:.1f} / {row['milvus_dense_p50_ms']:.1f}, "
              f"lexical {row['local_lexical_p50_ms']:.1f} / {row['milvus_lexical_p50_ms']:.1f} (local / milvus) | "
              f"peak RSS {row['milvus_rss_mb']:.0f} MB", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", nargs="+", default=["parity", "lexical", "scale"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000, 100000])
    ap.add_argument("--queries", type=int, default=31)
    ap.add_argument("--workdir", default=".cache/bench_milvus")
    ap.add_argument("--cmrc", default="eval/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--json", default="", help="also write the figures to this file")
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    if "parity" in args.parts or "lexical" in args.parts:
        dl, dm, gold, dev_r = dev_set(work)
        cl, cm, cq, cmrc_r = cmrc(work, Path(args.cmrc))
        report["dev"], report["cmrc"] = dev_r, cmrc_r
        print_compare("dev set (seeds)", dev_r)
        print_compare("CMRC 2018 trial", cmrc_r)
        for title, r in (("dev", dev_r), ("CMRC", cmrc_r)):
            b = r["builds"]
            print(f"{title} builds: local {b['local_build_s']:.1f} s, milvus {b['milvus_build_s']:.1f} s (same vectors)")
        if "lexical" in args.parts:
            answerable = [g for g in gold if g.get("evidence")]
            report["lexical"] = {
                "dev": lexical_channels(dl, dm, answerable, lambda h, g: first_relevant_rank(h, g["evidence"]), work,
                                        "dev"),
                "cmrc": lexical_channels(cl, cm, cq, first_relevant, work, "cmrc")}
            print("\nlexical channel, BM25 only   hit@5  MRR@10  p50 ms")
            for title, rows in report["lexical"].items():
                for label, m in rows.items():
                    print(f"{title:5s} {label:14s}        {m['hit@5']:.3f}  {m['mrr@10']:.3f}  {m['p50_ms']:6.1f}")
        for loc in (f"milvus:{work / 'seeds.db'}", f"milvus:{work / 'cmrc.db'}"):
            close(loc)
    if "scale" in args.parts:
        print("\nscale (synthetic chunks, hashed 384-d vectors; Milvus Lite vs local)")
        report["scale"] = scale(work, args.sizes, args.queries)
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
