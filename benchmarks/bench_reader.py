"""Sentence choice with the gold passage given: does the chosen sentence hold the answer?

For every CMRC 2018 trial question (or a training hold-out file from ``scripts/train_reader.py``), the passage
that holds the gold answer is the only hit; each method picks one sentence of it:

- ``rules``: the answering step's top candidate with the reader off (``AnswerConfig(reader=False)``);
- ``reader``: the sentence the reader scores highest, alone;
- ``answer``: the answering step's top candidate as configured (rules + reader);
- ``quoted``: the whole answer as configured (its short answer and the sentences it quotes, widened to what they
  lean on and what the reader says answers too: ``AnswerConfig.widen_quote``) holds the answer, not refused.

``--fit`` instead fits how much the reader's two terms weigh against the rules' score (``reader_weight`` × P,
``reader_margin_weight`` × the logit above 0; ``evidence.reader_terms``): the weights under which the candidates
that hold the answer *exactly* are most likely — a sentence that holds it, or a pair of sentences only where neither
holds it alone (a pair around an answering sentence holds it too, but quotes a sentence more) — with one softmax over
each question's candidates (a conditional logit, the rules' score fixed at weight 1), on a grid of quarter steps.
Fitted on the calibration half, measured on the report half.

    python benchmarks/bench_reader.py [--workdir .cache/cmrc2018] [--half all|calibration|report] [--limit N]
    python benchmarks/bench_reader.py --fit --half calibration                     # prints the fitted weights
    python benchmarks/bench_reader.py --heldout /tmp/reader/run1/heldout.jsonl     # reader alone, training hold-out
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cmrc2018 import cmrc_half, write_corpus  # noqa: E402

from unionqa import Index  # noqa: E402
from unionqa.answer import answer, gather_evidence  # noqa: E402
from unionqa.answer import reader as reader_module  # noqa: E402
from unionqa.answer.evidence import _sentence_spans, read_candidates, reader_terms  # noqa: E402
from unionqa.answer.reader import load_reader  # noqa: E402
from unionqa.config import AnswerConfig, answer_settings  # noqa: E402
from unionqa.search.query import prepare_query  # noqa: E402
from unionqa.text import squash  # noqa: E402
from unionqa.types import MARKER_RE, Hit  # noqa: E402


def heldout(path: Path, limit: int) -> None:
    """The reader alone on the training hold-out: its top sentence is the answering one; no-answer groups (all < 0)."""
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    rows = rows[:limit] if limit else rows
    # passage groups (``train_reader.py data --passages``) are read whole by the passage reader, sentence groups one
    # by one by the shipped reader
    passages = bool(rows) and bool(rows[0].get("passage"))
    if passages and not reader_module.PASSAGE_WEIGHTS.is_file():
        raise SystemExit(f"bench_reader.py --heldout: passage groups need the passage reader's weights "
                         f"({reader_module.PASSAGE_WEIGHTS})")
    reader = load_reader(reader_module.PASSAGE_WEIGHTS) if passages else load_reader()
    top_ok = answered = no_ok = no_n = 0
    for r in rows:
        s = reader.score_passages(r["question"], [r["sentences"]])[0] if passages else \
            reader.score(r["question"], r["sentences"])
        if r["positive"] >= 0:
            answered += 1
            top_ok += int(s.argmax()) == r["positive"]
        else:
            no_n += 1
            no_ok += float(s.max()) < 0
    print(f"training hold-out: {answered} answerable groups, top sentence right {top_ok / max(answered, 1):.3f}; "
          f"{no_n} without an answer, all scores < 0 for {no_ok / max(no_n, 1):.3f}")


# each candidate's rules score, reader gain, reader margin; whether it holds the answer; whether it holds it exactly
Group = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def group_nll(groups: list[Group], w: float, m: float) -> float:
    """Mean negative log-likelihood that each question's chosen candidate holds the answer exactly, with candidate
    scores ``rules + w × gain + m × margin`` and one softmax over a question's candidates (questions none of whose
    candidates holds it are left out)."""
    total, n = 0.0, 0
    for rules, gain, margin, _, holds in groups:
        if not holds.any():
            continue
        z = rules + w * gain + m * margin
        top = z.max()
        log_all = top + np.log(np.exp(z - top).sum())
        log_pos = top + np.log(np.exp(z - top)[holds > 0].sum())
        total += log_all - log_pos
        n += 1
    return total / max(n, 1)


def fit_reader_gains(groups: list[Group], step: float = 0.25, w_max: float = 8.0,
                     m_max: float = 4.0) -> tuple[float, float]:
    """(reader_weight, reader_margin_weight) on a grid of ``step`` with the least ``group_nll``."""
    grid = [(w, m) for w in np.arange(0.0, w_max + step / 2, step) for m in np.arange(0.0, m_max + step / 2, step)]
    best = min(grid, key=lambda wm: group_nll(groups, float(wm[0]), float(wm[1])))
    return float(best[0]), float(best[1])


def top_holds(groups: list[Group], w: float, m: float, exactly: bool = False) -> float:
    """Share of questions whose best candidate under these weights holds the answer (``exactly``)."""
    k = 4 if exactly else 3
    return sum(float(g[k][int(np.argmax(g[0] + w * g[1] + m * g[2]))] > 0) for g in groups) / max(len(groups), 1)


def reader_groups(ix: Index, questions: list[dict[str, Any]], cfg: AnswerConfig) -> list[Group]:
    """For each question with a gold passage: every candidate's rules score (reader off), what reading adds before
    the weights (``evidence.reader_terms`` over ``read_candidates``; the lowest gain for those not read), whether it
    holds a gold answer, and whether exactly (a pair only where neither of its sentences holds it alone)."""
    ctx = ix.answer_context
    reader = ctx.reader
    if reader is None:
        raise SystemExit("bench_reader.py --fit: the reader's weights are not installed")
    rules = replace(cfg, reader=False)
    groups: list[Group] = []
    for q, hit in gold_hits(ix, questions):
        gold = [squash(a) for a in q["answers"]]
        qp = prepare_query(q["question"])
        ev = gather_evidence(ctx, qp, [hit], rules, ix.embedder.embed_query(qp))
        if not ev.candidates:
            continue
        top, logits = read_candidates(reader, qp, ev.candidates, cfg, {0: ctx.document_title(hit.doc_id)},
                                    ctx.passage_reader)
        gains, margins, lowest = reader_terms(top, logits, cfg, ev.qtype)
        read = {id(c): k for k, c in enumerate(top)}
        holds = [any(a in squash(c.text) for a in gold) for c in ev.candidates]
        alone = [(c.start, c.end) for c, h in zip(ev.candidates, holds) if h and not c.pair]
        exact = [h and not (c.pair and any(c.start <= a and b <= c.end for a, b in alone))
                 for c, h in zip(ev.candidates, holds)]
        groups.append((np.array([c.score for c in ev.candidates]),
                       np.array([gains[read[id(c)]] if id(c) in read else lowest for c in ev.candidates]),
                       np.array([margins[read[id(c)]] if id(c) in read else 0.0 for c in ev.candidates]),
                       np.array(holds, dtype=float), np.array(exact, dtype=float)))
    return groups


def gold_hits(ix: Index, questions: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], Hit]]:
    """(question, its gold passage as the only hit) for each question whose answer lies inside one chunk."""
    by_doc: dict[str, list[Any]] = {}
    for c in ix.chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    for q in questions:
        gold = [squash(a) for a in q["answers"]]
        chunk = next((c for c in by_doc.get(q["doc"], []) if any(a in squash(c.text) for a in gold)), None)
        if chunk is not None:  # else the answer straddles two chunks: no single gold passage
            yield q, Hit(chunk.chunk_id, chunk.doc_id, chunk.breadcrumb, chunk.text, chunk.span, 1.0, 1, kind=chunk.kind)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="eval/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--workdir", default=".cache/cmrc2018")
    ap.add_argument("--half", choices=("all", "calibration", "report"), default="all")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--heldout", default=None, help="a hold-out file of train_reader.py: score the reader alone")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerConfig field")
    ap.add_argument("--precision", choices=("int8", "fp32"), default=None, help="run the reader in this precision")
    ap.add_argument("--fit", action="store_true", help="fit reader_weight and reader_margin_weight on this half")
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
    if args.fit:
        t0 = time.perf_counter()
        groups = reader_groups(ix, questions, cfg)
        w, m = fit_reader_gains(groups)
        print(f"CMRC 2018 trial ({args.half}), gold passage given: {len(groups)} questions "
              f"({time.perf_counter() - t0:.0f} s); the best candidate holds the answer / holds it exactly:")
        for name, (cw, cm) in (("as configured", (cfg.reader_weight, cfg.reader_margin_weight)), ("fitted", (w, m))):
            print(f"  {name:13s} reader_weight {cw:g}, reader_margin_weight {cm:g}: {top_holds(groups, cw, cm):.3f} / "
                  f"{top_holds(groups, cw, cm, exactly=True):.3f} (negative log-likelihood "
                  f"{group_nll(groups, cw, cm):.3f})")
        return 0
    rules = replace(cfg, reader=False)
    reader = load_reader()
    ctx = ix.answer_context
    counts = {"rules": 0, "reader": 0, "answer": 0, "quoted": 0}
    n = 0
    t0 = time.perf_counter()
    for q, hit in gold_hits(ix, questions):
        gold = [squash(a) for a in q["answers"]]
        n += 1
        qp = prepare_query(q["question"])
        qvec = ix.embedder.embed_query(qp)
        holds = lambda text: any(a in squash(text) for a in gold)  # noqa: E731
        for name, conf in (("rules", rules), ("answer", cfg)):
            ev = gather_evidence(ctx, qp, [hit], conf, qvec)
            counts[name] += bool(ev.candidates) and holds(ev.candidates[0].text)
        whole = answer(qp, [hit], ctx, cfg, qvec)
        counts["quoted"] += not whole.abstained and holds(MARKER_RE.sub("", whole.text))
        sents = [hit.text[a:b] for a, b in _sentence_spans(hit.text)]
        # the reader alone reads as answering does: the passage whole by the passage reader (``reader_reads_passages``,
        # where installed) or sentence by sentence
        by_passage = cfg.reader_reads_passages and ctx.passage_reader is not None
        scores = ctx.passage_reader(qp, [sents])[0] if by_passage else reader.score(qp, sents)
        counts["reader"] += bool(sents) and holds(sents[int(scores.argmax())])
    el = time.perf_counter() - t0
    print(f"CMRC 2018 trial ({args.half}), gold passage given: {n} questions ({el:.0f} s)")
    for name, k in counts.items():
        what = "the answer's text holds it" if name == "quoted" else "chosen sentence holds the answer"
        print(f"  {name:7s} {what}: {k / max(n, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
