"""Users' verdicts on answers (👍/👎 with an optional comment), one JSON line each, next to the index.

The raw material for the next evaluation set: ``unionqa feedback`` prints the questions marked
wrong. Each click is appended; reading keeps one verdict per answer (``answer_id``: question, answer text and
index generation), the last. A record holds the question as answered and as typed, the answer, its citations and the
index generation — nothing about who sent it. ``UNIONQA_FEEDBACK`` names another file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from unionqa.errors import QueryError
from unionqa.types import Answer

VOTES = ("up", "down")
MAX_COMMENT_CHARS = 2000
_lock = threading.Lock()


def feedback_path(index_location: str | Path) -> Path:
    """Where feedback on the index at ``index_location`` is kept (``UNIONQA_FEEDBACK`` overrides)."""
    override = os.environ.get("UNIONQA_FEEDBACK")
    if override:
        return Path(override)
    from unionqa.store.locations import open_store

    return open_store(index_location).feedback_file()


def feedback_record(ans: Answer | dict[str, Any], vote: str, comment: str = "", generation: str = "") -> dict[str, Any]:
    """The line written for a verdict on ``ans`` (an Answer, or the same fields as a dict, as the UI keeps them)."""
    if vote not in VOTES:
        raise QueryError(f"vote must be one of {', '.join(VOTES)}, not {vote!r}")
    a: dict[str, Any] = ans if isinstance(ans, dict) else {
        "question": ans.question, "asked": ans.asked, "text": ans.text, "short_answer": ans.short_answer,
        "abstained": ans.abstained,
        "citations": [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "breadcrumb": list(c.breadcrumb)}
                      for c in ans.citations]}
    question = str(a.get("question") or "").strip()
    if not question:
        raise QueryError("there is no answer to give feedback on")
    text = str(a.get("text") or "")
    answer_id = hashlib.sha256("\n".join((question, text, generation)).encode()).hexdigest()[:16]
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "vote": vote, "answer_id": answer_id,
            "question": question, "asked": str(a.get("asked") or ""), "answer": str(a.get("text") or ""),
            "short_answer": a.get("short_answer"), "abstained": bool(a.get("abstained")),
            "citations": list(a.get("citations") or [])[:20], "comment": " ".join(str(comment or "").split())[:MAX_COMMENT_CHARS],
            "generation": generation}


def record_feedback(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line (one write under a lock: concurrent requests never interleave lines)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line)


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """One verdict per answer, oldest first: the last click on an answer wins (the file keeps every click); a
    damaged line is skipped; [] when there is none."""
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict) and r.get("vote") in VOTES and r.get("question"):
            out.append(r)
    last = {r["answer_id"]: i for i, r in enumerate(out) if isinstance(r.get("answer_id"), str)}
    return [r for i, r in enumerate(out) if last.get(r.get("answer_id"), i) == i]


__all__ = ["MAX_COMMENT_CHARS", "VOTES", "feedback_path", "feedback_record", "read_feedback", "record_feedback"]
