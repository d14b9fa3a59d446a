"""Where each gold answer is lost: retrieval, the rules' sentence choice, the reader, or the embedder itself.

For every answerable question of a gold file (``eval/dev.jsonl`` format), the steps of ``ask`` are replayed and,
at each, the rank of the best *gold sentence* — a candidate (sentence or adjacent pair) of a retrieved passage that
holds the evidence phrase, whose own text holds a gold answer or the evidence phrase — is printed:

- ``passage``: the hybrid rank of the first passage holding the evidence (answering reads the first
  ``AnswerConfig.passages``);
- ``rules``: the gold sentence's rank among all candidates by the rules' score (the reader off);
- ``answer``: its rank once the reader's terms are added (as configured: what ``ask`` chooses from);
- ``reader``: its rank among the candidates the reader read, by the reader's logit alone (``unread``: the rules
  did not put it among those read), and its logit (English questions too, which answering does not read:
  ``AnswerConfig.reader_english``);
- ``all``: its rank by the reader's logit among *every* distinct sentence of the passages read (each read with its
  document's title, as answering reads): whether reading more than the rules' best would find it;
- ``e5``: the rank of the best gold sentence among the distinct sentences of the passages read, by the bundled
  embedder's own cosine (question as ``query:``, sentence as ``passage:``) — what the model the reader starts from
  knows before any training.

A summary per kind counts, of the answerable questions: answered right, evidence passage read, and the gold
sentence first by each scorer. Where neither the reader nor the embedder ranks the gold sentence first, the
knowledge the answer needs is not in the model (issue 25: everyday words for the documents' terms).

    python benchmarks/where_lost.py eval/dev.jsonl [--index index] [--kind semantic] [--set FIELD=VALUE]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from unionqa import Index
from unionqa.answer import gather_evidence
from unionqa.answer.evidence import Candidate, read_candidates, reader_text
from unionqa.config import AnswerConfig, answer_settings
from unionqa.evaluation import answer_correct, first_relevant_rank, load_gold
from unionqa.search.query import prepare_question
from unionqa.text import split_sentences, squash
from unionqa.types import Hit


@dataclass
class Trace:
    """One question's path: the outcome and the gold sentence's rank at each step (None: not there)."""

    qid: str
    kind: str
    outcome: str  # right / wrong / refused
    passage: int | None
    rules: int | None
    answer: int | None
    reader: int | None
    reader_logit: float | None  # None with reader None: the gold sentence was not among those read
    reader_all: int | None
    e5: int | None


def is_gold(text: str, passage: str, golds: list[str], evidence: str) -> bool:
    """A sentence of a passage holding the evidence phrase, itself holding a gold answer or the phrase."""
    t = squash(text)
    return evidence in squash(passage) and (evidence in t or any(g in t for g in golds))


def first_rank(flags: list[bool]) -> int | None:
    """1-based position of the first true flag, or None."""
    return next((i + 1 for i, f in enumerate(flags) if f), None)


def rank_by(scores: np.ndarray, flags: list[bool]) -> int | None:
    """1-based rank (highest score first) of the best-scored flagged item, or None when none is flagged."""
    order = np.argsort(-scores, kind="stable")
    return first_rank([flags[i] for i in order])


def trace(ix: Index, item: dict[str, Any], cfg: AnswerConfig) -> Trace:
    """Replay ``ask`` for one gold question and find its gold sentence at each step."""
    ctx = ix.answer_context
    ans, hits = ix.ask_with_passages(item["question"], top_k=max(10, cfg.passages), config=cfg)
    ok, _ = answer_correct(item, ans)
    outcome = "right" if ok else "refused" if ans.abstained else "wrong"
    golds, evidence = [squash(a) for a in item["answers"]], squash(item["evidence"])
    prepared = prepare_question(item["question"], ctx.tokenize)
    qvec = ix.embed_query(prepared.text)
    read_hits: list[Hit] = hits[:cfg.passages]

    def gold(c: Candidate) -> bool:
        return is_gold(c.text, read_hits[c.hit_index].text, golds, evidence)

    rules = gather_evidence(ctx, prepared, read_hits, replace(cfg, reader=False), qvec)
    final = gather_evidence(ctx, prepared, read_hits, cfg, qvec)
    reader_rank = logit = None
    if ctx.reader is not None and rules.candidates:
        titles = {i: ctx.document_title(h.doc_id) for i, h in enumerate(read_hits)}
        top, logits = read_candidates(ctx.reader, prepared.text, rules.candidates, cfg, titles, ctx.passage_reader)
        flags = [gold(c) for c in top]
        reader_rank = rank_by(logits, flags)
        logit = max((float(v) for v, f in zip(logits, flags) if f), default=None)
    owners: dict[str, list[Hit]] = {}  # each distinct sentence of the passages read → the passages holding it
    for h in read_hits:
        for a, b in split_sentences(h.text):
            if h.text[a:b].strip():
                owners.setdefault(h.text[a:b].strip(), []).append(h)
    sents = list(owners)
    flags = [any(is_gold(s, h.text, golds, evidence) for h in owners[s]) for s in sents]
    e5 = reader_all = None
    if sents:
        e5 = rank_by(np.asarray(ix.embedder.embed_documents(sents) @ qvec), flags)
    if sents and ctx.reader is not None:
        texts = [reader_text(s, ctx.document_title(owners[s][0].doc_id), cfg) for s in sents]
        reader_all = rank_by(np.asarray(ctx.reader(prepared.text, texts)), flags)
    return Trace(item["id"], item["kind"], outcome, first_relevant_rank(hits, item["evidence"]),
                 first_rank([gold(c) for c in rules.candidates]), first_rank([gold(c) for c in final.candidates]),
                 reader_rank, logit, reader_all, e5)


def show(x: int | None) -> str:
    return "—" if x is None else str(x)


def summary(traces: list[Trace], passages: int) -> dict[str, dict[str, int]]:
    """Per kind (and ``all``): questions, answered right, evidence passage read, gold sentence first by each step."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for t in traces:
        for k in (t.kind, "all"):
            row = out[k]
            row["n"] += 1
            row["right"] += t.outcome == "right"
            row["passage read"] += t.passage is not None and t.passage <= passages
            row["rules first"] += t.rules == 1
            row["answer first"] += t.answer == 1
            row["reader first"] += t.reader == 1
            row["reader all first"] += t.reader_all == 1
            row["e5 first"] += t.e5 == 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", help="a gold question file (eval/dev.jsonl format)")
    ap.add_argument("--index", default="index")
    ap.add_argument("--kind", default=None, help="only questions of this kind")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerConfig field")
    args = ap.parse_args(argv)
    cfg = answer_settings(args.set)
    ix = Index.load(args.index)
    items = [g for g in load_gold(args.gold) if g.get("evidence") and g.get("answers")
             and (args.kind is None or g["kind"] == args.kind)]
    traces = [trace(ix, g, cfg) for g in items]
    print("| question | kind | outcome | passage | rules | answer | reader (logit) | all | e5 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for t in traces:
        reading = "unread" if t.reader is None else f"{t.reader} ({t.reader_logit:+.2f})"
        print(f"| {t.qid} | {t.kind} | {t.outcome} | {show(t.passage)} | {show(t.rules)} | {show(t.answer)} | "
              f"{reading} | {show(t.reader_all)} | {show(t.e5)} |")
    print(f"\nthe gold sentence first, per kind (evidence passage read: hybrid rank ≤ {cfg.passages}):")
    for kind, row in sorted(summary(traces, cfg.passages).items()):
        print(f"  {kind:12s} n {row['n']:3d}  right {row['right']:3d}  passage read {row['passage read']:3d}  "
              f"rules {row['rules first']:3d}  answer {row['answer first']:3d}  reader {row['reader first']:3d}  "
              f"all {row['reader all first']:3d}  e5 {row['e5 first']:3d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
