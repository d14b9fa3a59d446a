"""Questions as the index sees them: validated, cleaned, capped and converted to Simplified Chinese."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unionqa.config import MAX_QUERY_CHARS
from unionqa.errors import QueryError
from unionqa.text import cjk_ratio, clean_text

_t2s = None
_t2s_lock = threading.Lock()


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese with OpenCC (t2s); Simplified text passes unchanged."""
    global _t2s
    if _t2s is None:
        with _t2s_lock:
            if _t2s is None:
                import opencc

                _t2s = opencc.OpenCC("t2s")
    return _t2s.convert(text)


def _normalized(query: object) -> str:
    if not isinstance(query, str):
        raise QueryError("the question must be text")
    # NFKC before the cap: a character such as ㌚ expands to five, and the model sees the expanded form
    q = " ".join(unicodedata.normalize("NFKC", clean_text(query)).split())
    if not q:
        raise QueryError("empty question: type a question about the documents")
    return q


def prepare_query(query: object) -> str:
    """Clean, NFKC-normalize, cap (MAX_QUERY_CHARS) and convert a query to Simplified; empty → QueryError."""
    return to_simplified(_normalized(query)[:MAX_QUERY_CHARS])


def is_truncated(query: object) -> bool:
    """True when :func:`prepare_query` cuts the question to MAX_QUERY_CHARS."""
    return len(_normalized(query)) > MAX_QUERY_CHARS


def is_english(query: str) -> bool:
    """A question with under 30 % CJK characters is treated as English (translated for BM25)."""
    return cjk_ratio(query) < 0.3


@dataclass(frozen=True)
class PreparedQuestion:
    """A question prepared once per ``ask`` and handed down to search and answering: ``asked`` as typed, ``text``
    as the index sees it (:func:`prepare_query`), its index terms (``tokens``), whether it is English and whether
    it was cut to MAX_QUERY_CHARS."""

    asked: str
    text: str
    tokens: tuple[str, ...]
    english: bool
    truncated: bool


def prepare_question(question: object, tokenize: Callable[[str], list[str]]) -> PreparedQuestion:
    """The question prepared once (tokenized with the index's ``tokenize``); a PreparedQuestion passes unchanged.
    Raises QueryError for what :func:`prepare_query` refuses."""
    if isinstance(question, PreparedQuestion):
        return question
    text = prepare_query(question)
    assert isinstance(question, str)  # prepare_query refused anything else
    return PreparedQuestion(question, text, tuple(tokenize(text)), is_english(text), is_truncated(question))


def check_top_k(top_k: object, limit: int) -> int:
    """top_k must be a positive integer; values above the index size are clamped to it."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)):
        raise QueryError(f"top_k must be a positive integer, not {top_k!r}")
    if top_k < 1:
        raise QueryError(f"top_k must be at least 1, not {top_k}")
    return int(min(top_k, max(limit, 0)))
