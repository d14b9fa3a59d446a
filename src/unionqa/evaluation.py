"""Scoring on gold question files, exactly as shared/eval/README.md describes."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unionqa.config import MODES
from unionqa.errors import DocumentError
from unionqa.text import squash
from unionqa.types import MARKER_RE


def load_gold(path: str | Path) -> list[dict[str, Any]]:
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                items.append(json.loads(line))
            except ValueError:
                raise DocumentError(f"{path}:{n}: not a JSON object") from None
    return items


def squad_reworded(articles: list[dict[str, Any]], wording: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQuAD-format ``articles`` with every question in the wording of the same-id question of ``wording`` (another
    file's articles: XQuAD's English questions over its Chinese paragraphs); a question ``wording`` lacks is left out."""
    asked = {qa["id"]: qa["question"] for a in wording for p in a["paragraphs"] for qa in p["qas"]}
    return [{**a, "paragraphs": [{**p, "qas": [{**qa, "question": asked[qa["id"]]} for qa in p["qas"] if qa["id"] in asked]}
                                 for p in a["paragraphs"]]} for a in articles]


def first_relevant_rank(hits: Sequence[Any], evidence: str) -> int | None:
    ev = squash(evidence)
    for i, h in enumerate(hits, start=1):
        if ev in squash(h.text):
            return i
    return None


def retrieval_metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "hit@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "hit@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "hit@10": sum(1 for r in ranks if r is not None and r <= 10) / n,
        "mrr@10": sum(1.0 / r for r in ranks if r is not None and r <= 10) / n,
    }


def answer_correct(item: dict[str, Any], ans: Any) -> tuple[bool, bool]:
    """(correct, gold answer within the first 40 characters)."""
    if item.get("kind") == "none" or not item.get("answers"):
        return bool(ans.abstained), False
    if ans.abstained:
        return False, False
    text = squash(MARKER_RE.sub("", ans.text))
    golds = [squash(a) for a in item["answers"]]
    contains = any(g in text for g in golds)
    ev = squash(item["evidence"]) if item.get("evidence") else None
    cited = ev is None or any(ev in squash(c.text) for c in ans.citations)
    short = len(MARKER_RE.sub("", ans.text)) <= 300
    lead = any(g in text[:40] for g in golds)
    return contains and cited and short, lead


def wrong_entity(index: Any, ans: Any) -> str | None:
    """For an answer (not a refusal): the place/year/period/issue the question names that its cited evidence
    contradicts — the evidence names another value (惠州 where 潮州 was asked) — or None."""
    if ans.abstained or not ans.citations:
        return None
    from unionqa.answer import anchors_for, check, hit_layers
    from unionqa.search.query import to_simplified

    anchors = anchors_for(ans.question)
    if not anchors:
        return None
    c = ans.citations[0]
    sentences = to_simplified(" ".join(s.text for s in ans.sentences if s.marker == 1))
    title = str(index.documents.get(c.doc_id, {}).get("title") or "")
    miss = check(anchors, [sentences] + hit_layers(c, title))
    return None if miss is None else f"{miss.describe()} asked, evidence names {'、'.join(miss.found) or 'none'}"


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def evaluate(index: Any, gold: list[dict[str, Any]], modes: Sequence[str] = MODES, answers: bool = True,
             top_k: int = 10, config: Any = None) -> dict[str, Any]:
    """Retrieval table per mode and kind, latency, and answer accuracy per kind (answers with ``config``,
    an ``AnswerConfig``, when given)."""
    report: dict[str, Any] = {"questions": len(gold), "retrieval": {}, "latency_ms": {}, "answers": {}}
    answerable = [g for g in gold if g.get("evidence")]
    per_question: dict[str, dict[str, Any]] = defaultdict(dict)
    for mode in modes:
        ranks_by_kind: dict[str, list[int | None]] = defaultdict(list)
        times = []
        for g in answerable:
            t = time.perf_counter()
            hits = index.search(g["question"], top_k=top_k, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
            r = first_relevant_rank(hits, g["evidence"])
            ranks_by_kind[g["kind"]].append(r)
            ranks_by_kind["all"].append(r)
            per_question[g["id"]][mode] = r
        report["retrieval"][mode] = {k: retrieval_metrics(v) for k, v in sorted(ranks_by_kind.items())}
        report["latency_ms"][mode] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
    if answers:
        by_kind: dict[str, list[bool]] = defaultdict(list)
        abstained_by_kind: dict[str, int] = defaultdict(int)
        wrong_by_kind: dict[str, int] = defaultdict(int)
        answered_wrong: dict[str, int] = defaultdict(int)  # answered (not abstained) and not correct
        leads: list[bool] = []
        abstained_answerable = 0
        times = []
        for g in gold:
            t = time.perf_counter()
            ans = index.ask(g["question"], config=config)
            times.append((time.perf_counter() - t) * 1000)
            ok, lead = answer_correct(g, ans)
            wrong = wrong_entity(index, ans)
            per_question[g["id"]]["answer_ok"] = ok
            per_question[g["id"]]["answer"] = ans.text[:120]
            per_question[g["id"]]["wrong_entity"] = wrong
            kinds = [g["kind"]] + (["answerable"] if g["kind"] != "none" else [])
            for k in kinds:
                by_kind[k].append(ok)
                abstained_by_kind[k] += int(ans.abstained)
                wrong_by_kind[k] += int(wrong is not None)
                answered_wrong[k] += int(not ok and not ans.abstained)
            if g["kind"] != "none":
                abstained_answerable += int(ans.abstained)
            if g["kind"] == "fact":
                leads.append(lead)
        report["answers"] = {k: {"n": len(v), "accuracy": sum(v) / len(v), "abstained": abstained_by_kind[k],
                                 "wrong_entity": wrong_by_kind[k], "answered_wrong": answered_wrong[k]}
                              for k, v in sorted(by_kind.items())}
        report["answers_fact_lead40"] = sum(leads) / len(leads) if leads else None
        report["answers_abstained_answerable"] = abstained_answerable
        report["latency_ms"]["ask"] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
    report["per_question"] = dict(per_question)
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [f"questions: {report['questions']}", "", "retrieval (hit@1 / hit@5 / hit@10 / MRR@10, n)"]
    for mode, kinds in report["retrieval"].items():
        for kind, m in kinds.items():
            lines.append(f"  {mode:8s} {kind:12s} {m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['hit@10']:.3f} / "
                         f"{m['mrr@10']:.3f}  (n={m['n']})")
    lines.append("")
    lines.append("latency ms (p50 / p95)")
    for mode, lat in report["latency_ms"].items():
        lines.append(f"  {mode:8s} {lat['p50']:.1f} / {lat['p95']:.1f}")
    if report.get("answers"):
        lines.append("")
        lines.append("answers (accuracy, abstained, answered but wrong, wrong-entity answers, n)")
        for kind, a in report["answers"].items():
            lines.append(f"  {kind:12s} {a['accuracy']:.3f}  abstained {a['abstained']:3d}  "
                         f"wrong {a['answered_wrong']:3d}  wrong-entity {a['wrong_entity']:3d}  (n={a['n']})")
        if report.get("answers_fact_lead40") is not None:
            lines.append(f"  fact answer within first 40 chars: {report['answers_fact_lead40']:.3f}")
        lines.append(f"  answerable questions abstained: {report['answers_abstained_answerable']}")
    return "\n".join(lines)
