"""CMRC 2018 (trial split) as an open-domain retrieval + QA benchmark through the normal build.

Cui et al., A Span-Extraction Dataset for Chinese Machine Reading Comprehension, EMNLP 2019
(CC BY-SA 4.0). Every article becomes one Markdown document (title as ``#``, paragraphs as
sections); every question searches the whole index. A passage is relevant when it comes
from the question's article and contains a gold answer span (NFKC, whitespace removed).

    python benchmarks/bench_cmrc2018.py [--data eval/cmrc2018/cmrc2018_trial.json]
        [--workdir .cache/cmrc2018] [--limit N] [--half all|calibration|report] [--model NAME] [--set FIELD=VALUE] [--json]
        [--questions FILE]

Any SQuAD-format file serves: ``--data eval/xquad/xquad.zh.json --questions eval/xquad/xquad.en.json
--workdir .cache/xquad`` asks XQuAD's English questions over its Chinese paragraphs (``eval/xquad/README.md``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

from unionqa import Index
from unionqa.config import answer_settings
from unionqa.evaluation import percentile, retrieval_metrics, squad_reworded
from unionqa.text import squash

_MARKER = re.compile(r"\[\d+\]")


def cmrc_half(doc: str) -> str:
    """Articles split once, deterministically: "calibration" (fits fusion/abstention) or "report" (figures only)."""
    return "calibration" if zlib.crc32(doc.encode()) % 2 == 0 else "report"


def write_corpus(data_path: Path, folder: Path, asked: Path | None = None) -> list[dict]:
    """One Markdown document per article; the questions with their article and gold answers. ``asked``: another
    SQuAD file whose same-id questions are asked instead (XQuAD's English wording of its Chinese questions)."""
    data = json.loads(data_path.read_text(encoding="utf-8"))["data"]
    if asked:
        data = squad_reworded(data, json.loads(asked.read_text(encoding="utf-8"))["data"])
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for n, art in enumerate(data):
        name = f"{art.get('id') or f'article{n:03d}'}.md"  # XQuAD's articles have a title only
        body = [f"# {art['title']}", ""]
        for p in art["paragraphs"]:
            body += [p["context"].strip(), ""]
            for qa in p["qas"]:
                if not qa["question"].strip():
                    continue  # the trial split has a few empty questions
                questions.append({"doc": name, "question": qa["question"],
                                  "answers": sorted({a["text"] for a in qa["answers"]})})
        target = folder / name
        text = "\n".join(body)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return questions


def relevant(hit, q: dict) -> bool:
    if hit.doc_id != q["doc"]:
        return False
    t = squash(hit.text)
    return any(squash(a) in t for a in q["answers"])


def first_relevant(hits, q: dict) -> int | None:
    """Rank (1-based) of the first hit from the question's article that holds a gold answer, or None."""
    return next((i for i, h in enumerate(hits, 1) if relevant(h, q)), None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="eval/cmrc2018/cmrc2018_trial.json")
    ap.add_argument("--workdir", default=".cache/cmrc2018")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions")
    ap.add_argument("--half", choices=("all", "calibration", "report"), default="all",
                    help="questions of one half of the articles (calibration fits settings; report is held out)")
    ap.add_argument("--questions", default=None, help="ask the same-id questions of this SQuAD file instead")
    ap.add_argument("--no-answers", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--model", default=None, help="embedding model (default: the bundled default)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="an AnswerConfig field")
    args = ap.parse_args(argv)
    cfg = answer_settings(args.set)
    work = Path(args.workdir)
    questions = write_corpus(Path(args.data), work / "docs", Path(args.questions) if args.questions else None)
    if args.half != "all":
        questions = [q for q in questions if cmrc_half(q["doc"]) == args.half]
    if args.limit:
        questions = questions[:args.limit]
    t = time.perf_counter()
    ix = Index.build([work / "docs"], work / "index", model=args.model)  # reuses vectors of unchanged chunks
    build_s = time.perf_counter() - t
    report: dict = {"questions": len(questions), "chunks": len(ix.chunks), "build_seconds": round(build_s, 1),
                    "retrieval": {}, "latency_ms": {}}
    for mode in ("hybrid", "dense", "lexical"):
        ranks = []
        times = []
        for q in questions:
            t = time.perf_counter()
            hits = ix.search(q["question"], top_k=10, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
            ranks.append(first_relevant(hits, q))
        report["retrieval"][mode] = retrieval_metrics(ranks)
        report["latency_ms"][mode] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
    if not args.no_answers:
        ok = 0
        abstained = 0
        by_type: dict[str, list[bool]] = defaultdict(list)
        from unionqa.answer import question_type

        for q in questions:
            ans = ix.ask(q["question"], config=cfg)
            text = squash(_MARKER.sub("", ans.text))
            good = (not ans.abstained and any(squash(a) in text for a in q["answers"])
                    and any(relevant(c, q) for c in ans.citations))
            ok += good
            abstained += ans.abstained
            by_type[question_type(q["question"])].append(good)
        report["answers"] = {"accuracy": ok / len(questions), "abstained": abstained,
                             "by_question_type": {k: {"n": len(v), "accuracy": sum(v) / len(v)} for k, v in by_type.items()}}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"CMRC 2018 trial ({args.half} articles): {report['questions']} questions, {report['chunks']} chunks, build {build_s:.0f}s")
    print("mode      hit@1  hit@5  hit@10 MRR@10  p50ms")
    for mode, m in report["retrieval"].items():
        print(f"{mode:8s}  {m['hit@1']:.3f}  {m['hit@5']:.3f}  {m['hit@10']:.3f}  {m['mrr@10']:.3f}  "
              f"{report['latency_ms'][mode]['p50']:.1f}")
    if "answers" in report:
        a = report["answers"]
        print(f"answers: accuracy {a['accuracy']:.3f}, abstained {a['abstained']}")
        for k, v in sorted(a["by_question_type"].items()):
            print(f"  {k:8s} {v['accuracy']:.3f} (n={v['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
