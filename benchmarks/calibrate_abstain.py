"""Calibrate answerability without the gold answers: fit the model, print the trade-off table, pick the operating point.

Positives (the documents answer them):
  - CMRC 2018 questions of the *calibration half* of the articles, asked of the CMRC index;
  - the dev questions and eval/own.jsonl (our own everyday-words and English questions) asked of the seed index.
Negatives (they do not):
  (a) the same CMRC questions asked of the seed index;
  (b) constraint-swapped forms of every positive (benchmarks/negatives.py: another prefecture, year,
      issue, period) asked of the index that answers the original;
  (c) English forms: swapped English positives, and eval/own.jsonl's English "none" questions;
  (d) subject-swapped forms of every positive: its rarest corpus word replaced by a common noun the
      corpus never uses (benchmarks/negatives.py) — in-domain questions about things not covered.
With ``--xquad``, English questions are calibrated on more than the seeds' few: XQuAD's English questions of the
calibration half of its articles, asked of an index of its Chinese paragraphs (positives), and the same questions
asked of the seed index (negatives) — two more groups of the fit. ``--english`` fits only the model's English terms
(english, english×coverage, english×semantic) on the English questions, every other weight and the threshold kept:
Chinese questions are answered exactly as before.
The other half of the CMRC articles is kept for reporting (bench_cmrc2018.py --half report).

A logistic model over answerability.FEATURES is fitted on positives vs (a), (c), (d) and the
swapped negatives (b) that the constraint check lets through (their swapped value occurs in some
other passage); each of the six groups — CMRC positives, seed positives, CMRC negatives, English
negatives, subject swaps, constraint swaps that passed the check — weighs the same in total. The operating point is the
largest threshold at which at most 5 % of the positives are refused, counting refusals by the
constraint check too.

    python benchmarks/calibrate_abstain.py [--seed-index index] [--cmrc-work .cache/cmrc2018] [--xquad | --english]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from unionqa import AnswerConfig, Index
from unionqa.answer import anchors_for, choose, gather_evidence
from unionqa.answer.answerability import FEATURES, READER_FEATURES, abstain_reason, features, probability
from unionqa.config import answer_settings
from unionqa.evaluation import load_gold
from unionqa.search.query import prepare_query

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import cmrc_half, write_corpus  # noqa: E402
from negatives import subject_swap, swaps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class Item:
    """One question asked of one index: its evidence, chosen sentence and constraint verdict."""

    def __init__(self, ix: Index, question: str, group: str, cfg: AnswerConfig) -> None:
        q = prepare_query(question)
        qvec = ix.embed_query(q)
        hits = ix.retriever.search(q, top_k=cfg.passages, query_vector=qvec)
        self.group, self.question = group, question
        self.ev = gather_evidence(ix.answer_context, q, hits, cfg, qvec) if hits else None
        chosen, miss = choose(self.ev, anchors_for(q, ix.answer_context), cfg, hits) if self.ev else (None, None)
        self.constraint_refused = chosen is None and miss is not None
        self.cand = chosen if chosen is not None else (self.ev.candidates[0] if self.ev and self.ev.candidates else None)
        self.x = features(self.ev, self.cand, cfg) if self.ev else None

    def refused(self, cfg: AnswerConfig) -> bool:
        if self.ev is None or self.cand is None or self.constraint_refused:
            return True
        return abstain_reason(self.ev, self.cand, cfg) is not None


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-2, iters: int = 100,
                 offset: np.ndarray | None = None, start: np.ndarray | None = None) -> np.ndarray:
    """Weighted L2-regularised logistic regression by Newton's method (the bias column, the last, is not
    penalised); with ``offset`` — a fixed term added to every row's logit, the part of the model that is not
    fitted, bias included — every column is penalised. ``start``: the weights to start from (else zeros). A step
    that does not lower the loss is retried with the Hessian damped (Levenberg–Marquardt): from a start where every
    p(1 − p) ≈ 0 a plain Newton step overshoots."""
    beta = np.zeros(x.shape[1]) if start is None else np.asarray(start, dtype=np.float64).copy()
    pen = np.full(x.shape[1], l2)
    if offset is None:
        pen[-1] = 0.0
    off = np.zeros(len(x)) if offset is None else offset

    def loss(b: np.ndarray) -> float:
        z = x @ b + off
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(pen * b * b))

    damping, current = 0.0, loss(beta)
    for _ in range(iters):
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ beta + off)))
        grad = x.T @ (w * (p - y)) + pen * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(pen) + 1e-9 * np.eye(x.shape[1])
        scale = float(np.trace(hess)) / x.shape[1]
        while True:
            step = np.linalg.solve(hess + damping * scale * np.eye(x.shape[1]), grad)
            trial = loss(beta - step)
            if trial <= current:
                break
            if damping > 1e12:  # no step lowers the loss: at the optimum, up to rounding
                return beta
            damping = max(1e-3, damping * 10)
        beta, current = beta - step, trial
        damping = damping / 10 if damping > 1e-3 else 0.0
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _threshold_operating_point(items: list[Item], base: AnswerConfig, field: str, th_field: str,
                               weights: tuple[float, ...], max_refused: float) -> AnswerConfig | None:
    """Print each group's share refused at thresholds 0.05–0.80 with ``weights``; the largest threshold at which at
    most ``max_refused`` of the project's own positives (CMRC, seeds: XQuAD informs the fit only) are refused."""
    groups = sorted({it.group for it in items})
    counts = {g: sum(1 for it in items if it.group == g) for g in groups}

    def table(cfg: AnswerConfig) -> dict[str, float]:
        return {g: sum(it.refused(cfg) for it in items if it.group == g) / counts[g] for g in groups}

    positives = [it for it in items if it.group.startswith("pos") and it.group != "pos_xquad"]
    print("\nshare refused per group (positives should be low, negatives high)")
    print("rule                " + "".join(f"{g[:18]:>19s}" for g in groups))
    lexical = table(replace(base, answerable_weights=None, reader_answerable_weights=None))
    print(f"{'coverage>=0.50':20s}" + "".join(f"{lexical[g]:19.3f}" for g in groups))
    chosen = None
    for th in np.arange(0.05, 0.81, 0.05):
        cfg = replace(base, **{field: weights, th_field: round(float(th), 2)})
        row = table(cfg)
        pos_refused = sum(it.refused(cfg) for it in positives) / len(positives)
        if pos_refused <= max_refused:
            chosen = cfg
        print(f"{'P>=' + format(th, '.2f'):20s}" + "".join(f"{row[g]:19.3f}" for g in groups)
              + f"   positives refused {pos_refused:.3f}")
    return chosen


def _english_operating_point(items: list[Item], base: AnswerConfig, field: str, weights: tuple[float, ...],
                             en: int) -> AnswerConfig:
    """The fitted English terms with their intercept (the ``english`` weight) moved to the most answering value at
    which the English questions the documents do not answer are refused at least as often as with the current
    weights — the threshold is shared with Chinese questions and stays."""
    english = [it for it in items if it.x is not None and it.x[en] == 1.0]
    negatives = [it for it in english if it.group.startswith("neg")]
    positives = [it for it in english if it.group.startswith("pos")]

    def refused(cfg: AnswerConfig, its: list[Item]) -> float:
        return sum(it.refused(cfg) for it in its) / max(1, len(its))

    floor = refused(base, negatives)
    print(f"\nEnglish questions ({len(positives)} answerable, {len(negatives)} not): refused with the current weights "
          f"{refused(base, positives):.3f} / {floor:.3f}")
    chosen = replace(base, **{field: weights})
    for shift in np.arange(-6.0, 6.01, 0.5):
        w = list(weights)
        w[en] = round(w[en] + float(shift), 3)
        cfg = replace(base, **{field: tuple(w)})
        pos, neg = refused(cfg, positives), refused(cfg, negatives)
        print(f"  english {w[en]:+8.3f}: answerable refused {pos:.3f}, not answerable refused {neg:.3f}")
        if neg >= floor:
            chosen = cfg
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-index", default=str(ROOT / "index"))
    ap.add_argument("--cmrc-work", default=str(ROOT / ".cache" / "cmrc2018"))
    ap.add_argument("--data", default=str(ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"))
    ap.add_argument("--max-refused", type=float, default=0.05, help="largest share of positives refused at the operating point")
    ap.add_argument("--reader", action="store_true",
                    help="fit the reader's model (reader_answerable_weights: the features plus the reader's P(answers)) "
                         "on the questions the reader reads; without it, the rule path's model with the reader off")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="an AnswerConfig field for the settings scored or fitted (e.g. reader_weight=2)")
    ap.add_argument("--score", choices=("calibration", "report"), default=None,
                    help="no fitting: score the settings on this half (--report: on the held-out half)")
    ap.add_argument("--xquad", action="store_true",
                    help="add XQuAD's English questions (eval/xquad: the half scored) as positives over its Chinese "
                         "paragraphs and as negatives asked of the seed index")
    ap.add_argument("--xquad-work", default=str(ROOT / ".cache" / "xquad"))
    ap.add_argument("--english", action="store_true",
                    help="fit only the English terms (english, english×coverage, english×semantic) on the English "
                         "questions, the other weights and the threshold kept as they are (implies --xquad): "
                         "Chinese questions are answered exactly as before")
    ap.add_argument("--report", action="store_true",
                    help="no fitting: score the current AnswerConfig on the held-out (report) half of the CMRC articles")
    args = ap.parse_args()
    rng = random.Random(0)
    # --report scores the settings as they are (the reader on); fitting fits the path it names
    if args.report:
        args.score = "report"
    if args.english:
        if args.reader:
            ap.error("--english refits the rule path's English terms: without --reader")
        args.xquad = True
    base = answer_settings(args.set)
    if not args.score:
        base = replace(base, reader=args.reader)
    field, th_field = (("reader_answerable_weights", "reader_answerable_threshold") if args.reader
                       else ("answerable_weights", "answerable_threshold"))
    names = READER_FEATURES if args.reader else FEATURES
    work = Path(args.cmrc_work)
    half = args.score or "calibration"
    cmrc = [q for q in write_corpus(Path(args.data), work / "docs") if cmrc_half(q["doc"]) == half]
    seed_ix = Index.load(args.seed_index)
    cmrc_ix = Index.build([work / "docs"], work / "index")  # reuses every vector when nothing changed
    seed_docs = {d: seed_ix.document_text(d) for d in seed_ix.documents}
    gold = [g for g in load_gold(ROOT / "eval" / "dev.jsonl") + load_gold(ROOT / "eval" / "own.jsonl")]

    items: list[Item] = []
    swapped_from: set[str] = set()
    for q in cmrc:
        items.append(Item(cmrc_ix, q["question"], "pos_cmrc", base))
        items.append(Item(seed_ix, q["question"], "neg_cmrc_on_seed", base))
        doc = (work / "docs" / q["doc"]).read_text(encoding="utf-8")
        for kind, s in swaps(q["question"], doc, rng):
            items.append(Item(cmrc_ix, s, f"swap_cmrc_{kind}", base))
            swapped_from.add(q["question"])
        s = subject_swap(q["question"], cmrc_ix.tokenizer.tokenize, cmrc_ix.lexical.vocab, cmrc_ix.lexical.idf, rng)
        if s:
            items.append(Item(cmrc_ix, s, "subject_cmrc", base))
    if args.xquad:
        xq_work = Path(args.xquad_work)
        xquad = [q for q in write_corpus(ROOT / "eval" / "xquad" / "xquad.zh.json", xq_work / "docs",
                                         ROOT / "eval" / "xquad" / "xquad.en.json") if cmrc_half(q["doc"]) == half]
        xq_ix = Index.build([xq_work / "docs"], xq_work / "index")
        for q in xquad:
            items.append(Item(xq_ix, q["question"], "pos_xquad", base))
            items.append(Item(seed_ix, q["question"], "neg_xquad_on_seed", base))
    for g in gold:
        if not g.get("doc"):
            items.append(Item(seed_ix, g["question"], "neg_english" if g["kind"] == "english" or
                              g["question"].isascii() else "neg_seed_none", base))
            continue
        items.append(Item(seed_ix, g["question"], "pos_seed", base))
        for kind, s in swaps(g["question"], seed_docs[g["doc"]], rng):
            items.append(Item(seed_ix, s, "neg_english" if kind == "english" else f"swap_seed_{kind}", base))
            swapped_from.add(g["question"])
        s = subject_swap(g["question"], seed_ix.tokenizer.tokenize, seed_ix.lexical.vocab, seed_ix.lexical.idf, rng)
        if s and not g["question"].isascii():
            items.append(Item(seed_ix, s, "subject_seed", base))

    groups = sorted({it.group for it in items})
    counts = {gname: sum(1 for it in items if it.group == gname) for gname in groups}
    print(f"CMRC {half} half; questions per group:", ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.score:
        positives = [it for it in items if it.group.startswith("pos")]
        swapped = [it for it in items if it.group.startswith("swap")]
        originals = [it for it in positives if it.question in {o for o in swapped_from}]
        print("share refused with the current settings:")
        for gname in groups:
            print(f"  {gname:20s} {sum(it.refused(base) for it in items if it.group == gname) / counts[gname]:.3f}  (n={counts[gname]})")
        print(f"  all swapped          {sum(it.refused(base) for it in swapped) / max(1, len(swapped)):.3f}  (n={len(swapped)})")
        print(f"  their originals      {sum(it.refused(base) for it in originals) / max(1, len(originals)):.3f}  (n={len(originals)})")
        print(f"  all positives        {sum(it.refused(base) for it in positives) / len(positives):.3f}  (n={len(positives)})")
        return 0
    def fit_group(it: Item) -> str | None:
        if it.group in ("pos_cmrc", "pos_seed", "pos_xquad", "neg_cmrc_on_seed", "neg_english", "neg_xquad_on_seed"):
            return it.group
        if it.group.startswith("subject"):
            return "subject"
        # swapped questions the constraint check lets through (their swapped value occurs elsewhere)
        return "swap_passed" if it.group.startswith("swap") and not it.constraint_refused else None

    fit = [it for it in items if fit_group(it) and it.x is not None and len(it.x) == len(names)]
    fit_n = {k: sum(1 for it in fit if fit_group(it) == k) for k in {fit_group(it) for it in fit}}
    print("fitted:", ", ".join(f"{k} {v}" for k, v in sorted(fit_n.items())))
    x = np.asarray([it.x for it in fit], dtype=np.float64)
    y = np.asarray([1.0 if it.group.startswith("pos") else 0.0 for it in fit], dtype=np.float64)
    w = np.asarray([1.0 / fit_n[fit_group(it) or ""] for it in fit])
    if args.english:  # English rows only, each weighing the same (XQuAD's outnumber the seeds' ~60 to 1), positives
        # and negatives in equal total; every other weight fixed at the current model's
        current = np.asarray(getattr(base, field), dtype=np.float64)
        free = np.asarray([n.startswith("english") for n in names])
        rows = x[:, names.index("english")] == 1.0
        print("English rows fitted:", ", ".join(f"{k} {v}" for k, v in sorted(collections.Counter(
            fit_group(it) for it, r in zip(fit, rows) if r).items())))
        ye = y[rows]
        we = np.where(ye == 1.0, len(ye) / (2 * ye.sum()), len(ye) / (2 * (len(ye) - ye.sum())))
        part = fit_logistic(x[rows][:, free], ye, we, offset=x[rows][:, ~free] @ current[~free], start=current[free])
        beta = current.copy()
        beta[free] = part
    else:
        beta = fit_logistic(x, y, w * len(fit) / len(fit_n))
    print("weights:", ", ".join(f"{n} {b:+.3f}" for n, b in zip(names, beta)))

    weights = tuple(round(float(b), 3) for b in beta)
    if args.english:  # the threshold stays: only English questions may change
        chosen = _english_operating_point(items, base, field, weights, names.index("english"))
        print(f"\nEnglish terms fitted, {th_field} kept at {getattr(base, th_field)}:")
    else:
        point = _threshold_operating_point(items, base, field, th_field, weights, args.max_refused)
        if point is None:
            print("no threshold keeps positives refused under the limit")
            return 1
        chosen = point
        print(f"\noperating point (largest threshold with positives refused <= {args.max_refused:.0%}):")
    print(f"  {field}={getattr(chosen, field)}, {th_field}={getattr(chosen, th_field)}")
    for it in items:
        if it.group == "pos_seed" and it.refused(chosen):
            p = probability(getattr(chosen, field) or (), it.x or [])
            print(f"  refused positive: {it.question} (P {p:.2f}{', constraint' if it.constraint_refused else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
