"""BM25 IDF method (issue 26): the Okapi floor (rank_bm25's, the default) against Lucene's positive IDF, on the dev
and own seed questions and CMRC 2018 trial (calibration half: settings are chosen there; report half: held out).

The IDF is recomputed from each loaded index's document frequencies (``lexical.idf_values``), so both methods are
measured on the same chunks and vectors; it feeds retrieval (BM25, the re-ranker) and the answer step's coverage.

    python benchmarks/compare_idf.py [--workdir .cache/cmrc2018] [--half calibration|report|all]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cmrc2018 import cmrc_half, first_relevant, relevant, write_corpus  # noqa: E402

from unionqa import Index  # noqa: E402
from unionqa.evaluation import evaluate, load_gold, retrieval_metrics  # noqa: E402
from unionqa.search.lexical import IDF_METHODS, idf_values  # noqa: E402
from unionqa.text import squash  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"\[\d+\]")


def use_idf(ix: Index, method: str) -> None:
    """Replace the loaded index's IDF in place (retrieval and answering read the same array)."""
    lex = ix.lexical
    lex.idf[:] = idf_values(np.diff(lex.colptr), lex.n_docs, method, lex.epsilon)  # type: ignore[attr-defined]


def seed_rows(ix: Index) -> list[str]:
    out = []
    for name in ("dev", "own"):
        r = evaluate(ix, load_gold(ROOT / "eval" / f"{name}.jsonl"), modes=("hybrid", "lexical"))
        h, lx, a = r["retrieval"]["hybrid"]["all"], r["retrieval"]["lexical"]["all"], r["answers"]["answerable"]
        out.append(f"{name}: hybrid hit@5 {h['hit@5']:.3f} MRR {h['mrr@10']:.3f} | lexical hit@5 {lx['hit@5']:.3f} "
                   f"MRR {lx['mrr@10']:.3f} | answerable {a['accuracy']:.3f} (wrong {a['answered_wrong']})")
    return out


def cmrc_row(ix: Index, questions: list[dict]) -> str:
    ranks = {m: [first_relevant(ix.search(q["question"], top_k=10, mode=m), q) for q in questions]
             for m in ("hybrid", "lexical")}
    ok = abstained = 0
    for q in questions:
        ans = ix.ask(q["question"])
        text = squash(_MARKER.sub("", ans.text))
        ok += (not ans.abstained and any(squash(a) in text for a in q["answers"])
               and any(relevant(c, q) for c in ans.citations))
        abstained += ans.abstained
    h, lx = retrieval_metrics(ranks["hybrid"]), retrieval_metrics(ranks["lexical"])
    return (f"CMRC ({len(questions)} q): hybrid hit@5 {h['hit@5']:.3f} MRR {h['mrr@10']:.3f} | lexical hit@5 "
            f"{lx['hit@5']:.3f} MRR {lx['mrr@10']:.3f} | answers {ok / len(questions):.3f} (abstained {abstained})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default=str(ROOT / ".cache" / "cmrc2018"))
    ap.add_argument("--data", default=str(ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"))
    ap.add_argument("--half", choices=("all", "calibration", "report"), default="calibration")
    args = ap.parse_args()
    work = Path(args.workdir)
    questions = write_corpus(Path(args.data), work / "docs")
    questions = [q for q in questions if args.half == "all" or cmrc_half(q["doc"]) == args.half]
    Index.build([work / "docs"], work / "index")  # reuses every vector when nothing changed
    for method in IDF_METHODS:
        seed, cmrc = Index.load(ROOT / "index"), Index.load(work / "index")
        use_idf(seed, method)
        use_idf(cmrc, method)
        print(f"== {method}", flush=True)
        for row in [*seed_rows(seed), cmrc_row(cmrc, questions)]:
            print("  " + row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
