"""Constraint-swapped questions: an answerable question with one anchor replaced by a value its document never pairs with it.

Used by calibrate_abstain.py and eval_constraints.py as negatives that look exactly like answerable
questions: another prefecture (a Guangdong one for a Guangdong place, any Chinese one otherwise),
another year (±1–3, absent from the document), another issue number, another "N年来" period.
English questions swap capitalised place names by their pinyin spelling.
"""

from __future__ import annotations

import random
import re

from unionqa.ingest.places import gazetteer
from unionqa.search.translate import _load as cedict_table
from unionqa.search.translate import english_names

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_ISSUE = re.compile(r"第(\d{1,2})期")
_PERIOD = re.compile(r"(?<![\d一二两三四五六七八九十])([一二两三四五六七八九十]|\d{1,2})年(来|以来|间)")
_CN = "一二三四五六七八九十"


def _place_swap(q: str, doc: str, rng: random.Random) -> str | None:
    g = gazetteer()
    for m in g.find(q):
        p = m.places[0]
        if p.level == "county":
            continue
        pool = [x for x in g.by_name.values() if x.level == p.level and x.name not in doc and x.short not in doc
                and x.name not in q and x.short not in q]
        same_parent = [x for x in pool if x.parent == p.parent] if p.parent else []
        pool = same_parent or pool
        if not pool:
            continue
        new = rng.choice(sorted(pool, key=lambda x: x.name))
        surface = new.name if m.surface == p.name else new.short
        return q[:m.start] + surface + q[m.end:]
    return None


def _year_swap(q: str, doc: str, rng: random.Random) -> str | None:
    m = _YEAR.search(q)
    if not m:
        return None
    y = int(m.group(1))
    options = [y + d for d in (-3, -2, -1, 1, 2, 3) if str(y + d) not in doc]
    if not options:
        return None
    return q[:m.start(1)] + str(rng.choice(options)) + q[m.end(1):]


def _issue_swap(q: str, doc: str, rng: random.Random) -> str | None:
    m = _ISSUE.search(q)
    if not m:
        return None
    n = int(m.group(1))
    options = [k for k in range(1, 13) if k != n and f"第{k}期" not in doc]
    return q[:m.start(1)] + str(rng.choice(options)) + q[m.end(1):] if options else None


def _period_swap(q: str, doc: str, rng: random.Random) -> str | None:
    m = _PERIOD.search(q)
    if not m:
        return None
    old = m.group(1)
    options = [c for c in ("三", "十", "二十") if c != old and f"{c}年{m.group(2)}" not in doc]
    return q[:m.start(1)] + rng.choice(options) + q[m.end(1):] if options else None


_pinyin_of: dict[str, str] | None = None


def _english_names() -> dict[str, str]:
    """Capitalised pinyin spelling → Chinese prefecture short name (Huizhou → 惠州)."""
    global _pinyin_of
    if _pinyin_of is None:
        g = gazetteer()
        cities = {p.short for p in g.by_name.values() if p.level in ("city", "province")}
        _pinyin_of = {}
        for key, zhs in cedict_table().items():
            if key.isalpha() and " " not in key:
                for zh in zhs:
                    if zh in cities:
                        _pinyin_of.setdefault(key.capitalize(), zh)
    return _pinyin_of


def _english_swap(q: str, doc: str, rng: random.Random) -> str | None:
    names = _english_names()
    for m in re.finditer(r"\b[A-Z][a-z]+\b", q):
        zh = names.get(m.group(0))
        if not zh:
            continue
        pool = sorted(k for k, v in names.items() if v not in doc and v != zh and len(v) == 2 and len(k) >= 4
                      and v in english_names(k))
        if pool:
            return q[:m.start()] + rng.choice(pool) + q[m.end():]
    m = _YEAR.search(q)
    return _year_swap(q, doc, rng) if m else None


def swaps(question: str, doc_text: str, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, swapped question) for each kind of anchor the question has (at most one of each)."""
    if sum(ch.isascii() for ch in question) > 0.7 * len(question):
        s = _english_swap(question, doc_text, rng)
        return [("english", s)] if s else []
    out = []
    for kind, fn in (("place", _place_swap), ("year", _year_swap), ("issue", _issue_swap), ("period", _period_swap)):
        s = fn(question, doc_text, rng)
        if s and s != question:
            out.append((kind, s))
    return out


_nouns: list[str] | None = None


def _common_nouns() -> list[str]:
    """Frequent two/three-character nouns of jieba's general dictionary (tag n), in a fixed order."""
    global _nouns
    if _nouns is None:
        import os

        import jieba

        path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
        with open(path, encoding="utf-8") as f:
            rows = [line.split() for line in f]
        _nouns = sorted(w for w, freq, *tag in (r for r in rows if len(r) >= 3)
                        if tag and tag[0] == "n" and 2 <= len(w) <= 3 and int(freq) >= 2000)
    return _nouns


def subject_swap(question: str, tokenize, vocab, idf, rng: random.Random) -> str | None:  # type: ignore[no-untyped-def]
    """The question with its rarest corpus word (not a place or number) replaced by a common noun the corpus
    never uses: same shape, same domain words, about something the documents do not cover."""
    g = gazetteer()
    words = [t for t in dict.fromkeys(tokenize(question)) if len(t) >= 2 and t in vocab and not t[0].isdigit()
             and not g.find(t) and t in question]
    if not words:
        return None
    target = max(words, key=lambda t: float(idf[vocab[t]]))
    pool = [n for n in _common_nouns() if n not in vocab]
    return question.replace(target, rng.choice(pool), 1) if pool else None
