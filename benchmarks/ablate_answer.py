"""Each answer rule's effect, one at a time, on the dev set and the CMRC 2018 calibration half.

A rule is kept only if it holds on CMRC as well as on dev. Prints, per setting: dev answerable
accuracy, dev fact answers with the gold answer in the first 40 characters, CMRC answer accuracy and
abstentions (calibration half: the report half stays held out), how many constraint-swapped dev
questions are refused, own answerable accuracy, and the CMRC answers' median and 90th-percentile length in
characters (markers removed; answered questions only).

    python benchmarks/ablate_answer.py [--seed-index index] [--cmrc-work .cache/cmrc2018]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import replace
from pathlib import Path

from unionqa import AnswerConfig, Index
from unionqa.evaluation import answer_correct, load_gold, percentile
from unionqa.text import squash

sys.path.insert(0, str(Path(__file__).parent))
from bench_cmrc2018 import cmrc_half, relevant, write_corpus  # noqa: E402
from negatives import swaps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
_MARKER = re.compile(r"\[\d+\]")

BASE = AnswerConfig()
SETTINGS: list[tuple[str, AnswerConfig]] = [
    ("defaults", BASE),
    ("no constraint check", replace(BASE, check_constraints=False)),
    ("lexical answerability rule (coverage >= 0.5)", replace(BASE, answerable_weights=None)),
    ("no semantic term in sentence choice", replace(BASE, semantic_weight=0.0)),
    ("no rare-word term", replace(BASE, rare_weight=0.0)),
    ("no heading/title words in sentence choice", replace(BASE, context_words=False)),
    ("counted-noun bonus 0.4", replace(BASE, counted_noun_bonus=0.4)),
    ("no typed-value bonus", replace(BASE, typed_bonus=0.0)),
    ("quotes cut at 120 characters", replace(BASE, max_quote_chars=120)),
    ("rare-word term for English questions too", replace(BASE, english_rare_weight=0.5)),
    ("heading/title words full credit", replace(BASE, context_share=1.0)),
    ("heading/title words 0.75 credit", replace(BASE, context_share=0.75)),
    ("no runner-up sentence for answers without a short answer", replace(BASE, runner_up_ratio=0.0)),
    ("runner-up sentence at 0.8 of the best", replace(BASE, runner_up_ratio=0.8)),
    ("runner-up sentence at 0.95 of the best", replace(BASE, runner_up_ratio=0.95)),
    ("asked category (哪个地方 → 地方) required", replace(BASE, drop_asked_category=False)),
    ("no English counted subject", replace(BASE, english_subject=False)),
    ("rank prior 0.3", replace(BASE, rank_prior=0.3)),
    ("rank prior 0.6", replace(BASE, rank_prior=0.6)),
    ("rule path: no reader", replace(BASE, reader=False)),
    ("reader weight 0.5", replace(BASE, reader_weight=0.5)),
    ("reader weight 2", replace(BASE, reader_weight=2.0)),
    ("reader weight 4", replace(BASE, reader_weight=4.0)),
    ("reader reads 6 candidates", replace(BASE, reader_candidates=6)),
    ("reader reads 20 candidates", replace(BASE, reader_candidates=20)),
    ("reader raises typed questions' sentences without a value too", replace(BASE, reader_typed_needs_value=False)),
    ("reader weight 4, typed questions' sentences without a value too",
     replace(BASE, reader_weight=4.0, reader_typed_needs_value=False)),
    ("reader weight 8", replace(BASE, reader_weight=8.0)),
    ("reader weight 4, 20 candidates", replace(BASE, reader_weight=4.0, reader_candidates=20)),
    ("quote the chosen sentence alone", replace(BASE, widen_quote="")),
    ("quote widened to back-references only", replace(BASE, widen_quote="leaning")),
    ("quote widened while the reader scores >= -1.5", replace(BASE, widen_reader_logit=-1.5)),
    ("quote widened to every next sentence that fits", replace(BASE, widen_quote="next")),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed-index", default=str(ROOT / "index"))
    ap.add_argument("--cmrc-work", default=str(ROOT / ".cache" / "cmrc2018"))
    ap.add_argument("--data", default=str(ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"))
    ap.add_argument("--only", nargs="*", help="run only the settings whose name contains one of these words")
    args = ap.parse_args()
    work = Path(args.cmrc_work)
    cmrc = [q for q in write_corpus(Path(args.data), work / "docs") if cmrc_half(q["doc"]) == "calibration"]
    seed_ix = Index.load(args.seed_index)
    cmrc_ix = Index.build([work / "docs"], work / "index")
    gold = load_gold(ROOT / "eval" / "dev.jsonl")
    own = [g for g in load_gold(ROOT / "eval" / "own.jsonl") if g["kind"] != "none"]
    rng = random.Random(0)
    swapped = [s for g in gold if g.get("doc") for _, s in swaps(g["question"], seed_ix.document_text(g["doc"]), rng)]
    print(f"dev {len(gold)} questions, {len(swapped)} constraint-swapped; CMRC calibration half {len(cmrc)} questions")
    print(f"{'setting':46s} {'dev answerable':>15s} {'dev lead40':>11s} {'CMRC answers':>13s} "
          f"{'CMRC abstained':>15s} {'swaps refused':>14s} {'own answerable':>15s} {'CMRC chars p50/p90':>19s}")
    for name, cfg in SETTINGS:
        if args.only and not any(w in name for w in args.only):
            continue
        ok, leads, n_ans, n_fact = 0, 0, 0, 0
        for g in gold:
            a = seed_ix.ask(g["question"], config=cfg)
            good, lead = answer_correct(g, a)
            if g["kind"] != "none":
                n_ans += 1
                ok += good
            if g["kind"] == "fact":
                n_fact += 1
                leads += lead
        c_ok, c_abs, lengths = 0, 0, []
        for q in cmrc:
            a = cmrc_ix.ask(q["question"], config=cfg)
            text = squash(_MARKER.sub("", a.text))
            c_abs += a.abstained
            if not a.abstained:
                lengths.append(len(_MARKER.sub("", a.text)))
            c_ok += (not a.abstained and any(squash(x) in text for x in q["answers"])
                     and any(relevant(c, q) for c in a.citations))
        refused = sum(seed_ix.ask(s, config=cfg).abstained for s in swapped)
        own_ok = sum(answer_correct(g, seed_ix.ask(g["question"], config=cfg))[0] for g in own)
        print(f"{name:46s} {ok / n_ans:15.3f} {leads / n_fact:11.3f} {c_ok / len(cmrc):13.3f} "
              f"{c_abs / len(cmrc):15.3f} {refused / max(1, len(swapped)):14.3f} {own_ok / max(1, len(own)):15.3f} "
              f"{percentile(lengths, 50):>11.0f} / {percentile(lengths, 90):<5.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
