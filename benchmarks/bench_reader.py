"""Sentence choice with the gold passage given: does the chosen sentence hold the answer?

For every CMRC 2018 trial question (or a training hold-out file from ``scripts/train_reader.py``), the passage
that holds the gold answer is the only hit; each method picks one sentence of it:

- ``rules``: the answering step's top candidate with the reader off (``AnswerConfig(reader=False)``);
- ``reader``: the sentence the reader scores highest, alone;
- ``answer``: the answering step's top candidate as configured (rules + reader);
- ``quoted``: the whole answer as configured (its short answer and the sentences it quotes, widened to what they
  lean on and what the reader says answers too: ``AnswerConfig.widen_quote``) holds the answer, not refused.

    python benchmarks/bench_reader.py [--workdir .cache/cmrc2018] [--half all|calibration|report] [--limit N]
    python benchmarks/bench_reader.py --heldout /tmp/reader/run1/heldout.jsonl     # reader alone, training hold-out
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cmrc2018 import cmrc_half, write_corpus  # noqa: E402

from unionqa import Index  # noqa: E402
from unionqa.answer import answer, gather_evidence  # noqa: E402
from unionqa.answer import reader as reader_module  # noqa: E402
from unionqa.answer.evidence import _sentence_spans  # noqa: E402
from unionqa.answer.reader import load_reader  # noqa: E402
from unionqa.config import answer_settings  # noqa: E402
from unionqa.search.query import prepare_query  # noqa: E402
from unionqa.text import squash  # noqa: E402
from unionqa.types import MARKER_RE, Hit  # noqa: E402


def heldout(path: Path, limit: int) -> None:
    """The reader alone on the training hold-out: its top sentence is the answering one; no-answer groups."""
    reader = load_reader()
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    rows = rows[:limit] if limit else rows
    top_ok = answered = no_ok = no_n = 0
    for r in rows:
        s = reader.score(r["question"], r["sentences"])
        if r["positive"] >= 0:
            answered += 1
            top_ok += int(s.argmax()) == r["positive"]
        else:
            no_n += 1
            no_ok += float(s.max()) < 0
    print(f"training hold-out: {answered} answerable groups, top sentence right {top_ok / max(answered, 1):.3f}; "
          f"{no_n} without an answer, all scores < 0 for {no_ok / max(no_n, 1):.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="eval/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--workdir", default=".cache/cmrc2018")
    ap.add_argument("--half", choices=("all", "calibration", "report"), default="all")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--heldout", default=None, help="a hold-out file of train_reader.py: score the reader alone")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerConfig field")
    ap.add_argument("--precision", choices=("int8", "fp32"), default=None, help="run the reader in this precision")
    args = ap.parse_args(argv)
    if args.precision:
        reader_module.PRECISION = args.precision  # what answering's scorer loads too
    if args.heldout:
        heldout(Path(args.heldout), args.limit)
        return 0
    work = Path(args.workdir)
    questions = write_corpus(Path(args.data), work / "docs")
    if args.half != "all":
        questions = [q for q in questions if cmrc_half(q["doc"]) == args.half]
    questions = questions[:args.limit] if args.limit else questions
    ix = Index.build([work / "docs"], work / "index")
    cfg = answer_settings(args.set)
    rules = replace(cfg, reader=False)
    reader = load_reader()
    ctx = ix.answer_context
    by_doc: dict[str, list] = {}
    for c in ix.chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    counts = {"rules": 0, "reader": 0, "answer": 0, "quoted": 0}
    n = 0
    t0 = time.perf_counter()
    for q in questions:
        gold = [squash(a) for a in q["answers"]]
        chunk = next((c for c in by_doc.get(q["doc"], []) if any(a in squash(c.text) for a in gold)), None)
        if chunk is None:
            continue  # the answer straddles two chunks: no single gold passage
        n += 1
        hit = Hit(chunk.chunk_id, chunk.doc_id, chunk.breadcrumb, chunk.text, chunk.span, 1.0, 1, kind=chunk.kind)
        qp = prepare_query(q["question"])
        qvec = ix.embedder.embed_query(qp)
        holds = lambda text: any(a in squash(text) for a in gold)  # noqa: E731
        for name, conf in (("rules", rules), ("answer", cfg)):
            ev = gather_evidence(ctx, qp, [hit], conf, qvec)
            counts[name] += bool(ev.candidates) and holds(ev.candidates[0].text)
        whole = answer(qp, [hit], ctx, cfg, qvec)
        counts["quoted"] += not whole.abstained and holds(MARKER_RE.sub("", whole.text))
        sents = [chunk.text[a:b] for a, b in _sentence_spans(chunk.text)]
        scores = reader.score(qp, sents)
        counts["reader"] += bool(sents) and holds(sents[int(scores.argmax())])
    el = time.perf_counter() - t0
    print(f"CMRC 2018 trial ({args.half}), gold passage given: {n} questions ({el:.0f} s)")
    for name, k in counts.items():
        what = "the answer's text holds it" if name == "quoted" else "chosen sentence holds the answer"
        print(f"  {name:7s} {what}: {k / max(n, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
