"""Short-answer candidates: the values of the asked type (number with the asked measure word, date, place) in a sentence."""

from __future__ import annotations

import re

from unionqa.answer.question import CITY_Q, asked_unit
from unionqa.ingest.places import gazetteer
from unionqa.measures import APPROX_UNIT_RE, MORE_UNIT_RE, same_count
from unionqa.search.tokenize import NUMBER_RE
from unionqa.text import normalize_for_match

YEAR_RE = re.compile(r"(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月\d{1,2}日")
PLACE_RE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|市|县|区|镇|街道|小镇|园区|公园)")
_AT_PLACE_RE = re.compile(r"在([\u4e00-\u9fff·]{2,24}?)(?:举行|举办|召开|开展|启动|成立|进行)")


def candidates(q: str, qtype: str, sent: str, exclude: set[str]) -> list[tuple[int, str]]:
    """(position, answer text) of things of the asked type in a sentence; ``exclude``: values the question itself names."""
    out: list[tuple[int, str]] = []
    if qtype in ("number", "percent"):
        unit = asked_unit(q)
        norm = normalize_for_match(sent)
        with_unit: list[tuple[int, str]] = []
        similar_unit: list[tuple[int, str]] = []  # 人 for 名, 件 for 宗: only when no value has the asked unit
        for m in NUMBER_RE.finditer(norm):
            val = m.group(0)
            if val in exclude or YEAR_RE.fullmatch(val) or re.fullmatch(r"\d{1,2}[月日号期]", val):
                continue
            if re.fullmatch(r"\d{3,4}年", val) and unit != "年":
                continue  # a year (1628年), not a count of years
            if qtype == "percent" and not val.endswith("%"):
                continue
            bare = re.fullmatch(r"\d+(?:[.,]\d+)*", val) is not None
            approx = APPROX_UNIT_RE.match(norm, m.end()) if bare and unit else None
            if approx:  # 多少名 → 600余名: a figure in the asked measure word, as the text gives it
                val, bare = val + approx.group(0), False
            prefix = norm[max(0, m.start() - 1):m.start()]
            shown = prefix + val if prefix and prefix in "近约超逾" else val
            more = MORE_UNIT_RE.match(norm, m.end()) if bare else None
            if more and not unit:
                out.append((m.start(), shown + more.group(0)))
            elif more and unit and same_count(unit, more.group(0)):
                (with_unit if more.group(0).endswith(unit) else similar_unit).append((m.start(), shown + more.group(0)))
            elif unit and bare and norm[m.end():m.end() + len(unit)] == unit:
                with_unit.append((m.start(), shown + unit))  # a measure word the tokenizer does not keep (2000只)
            elif unit and not bare and same_count(unit, val):
                (with_unit if val.endswith(unit) else similar_unit).append((m.start(), shown))
            elif not bare or qtype == "percent":
                out.append((m.start(), shown))
        # a question that names its measure word (多少只) is answered only by a number in it
        return (with_unit or similar_unit) if unit else out
    if qtype == "date":
        for m in YEAR_RE.finditer(normalize_for_match(sent)):
            if m.group(0) not in exclude:
                out.append((m.start(), m.group(0)))
    elif qtype == "place":
        for m in _AT_PLACE_RE.finditer(sent):
            out.append((m.start(1), m.group(1)))
        if not out and CITY_Q.search(q.lower()):
            out = city_mentions(sent, q)
        if not out:
            for m in PLACE_RE.finditer(sent):
                if m.group(0) not in exclude and not any(m.group(0) in e or e in m.group(0) for e in exclude):
                    out.append((m.start(), m.group(0)))
    return out


def city_mentions(text: str, q: str) -> list[tuple[int, str]]:
    """Prefecture-level place names (provinces when the question asks 哪个省) in ``text`` that the question
    does not name itself."""
    level = "province" if re.search(r"哪个省|哪一个省|which province", q.lower()) else "city"
    return [(m.start, m.surface) for m in gazetteer().find(text)
            if any(p.level == level for p in m.places) and m.surface not in q]


def nearest(cands: list[tuple[int, str]], anchors: list[int], pointer: tuple[str, str] = ("", ""),
            norm: str = "") -> str | None:
    """The candidate the question points at: next to the thing it counts (为多少名新就业形态劳动者 → 230名新就业形态
    劳动者) or right after its predicate (提升到41.5%), else closest to the matched question words.
    ``pointer`` is ``question.counted_phrase`` of the question; ``norm`` the normalized sentence."""
    if not cands:
        return None
    counted, predicate = pointer

    def tied(c: tuple[int, str]) -> int:
        pos, val = c
        end = pos + len(val)
        score = 0
        if counted and len(counted) >= 2 and (counted[:2] in norm[end:end + 8] or counted[-2:] in norm[max(0, pos - 10):pos]):
            score -= 2
        if predicate and len(predicate) >= 2 and predicate[-2:] in norm[max(0, pos - 5):pos]:
            score -= 1
        return score

    if not anchors:
        return min(cands, key=lambda c: (tied(c), c[0]))[1]
    return min(cands, key=lambda c: (tied(c), min(abs(c[0] - a) for a in anchors)))[1]
