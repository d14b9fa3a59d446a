"""Constraint check: the places, years, periods and issue numbers a question names must hold in the answer's evidence.

A question's anchors are the things that pin down *which* fact it asks for — 潮州 in
"潮州市总工会五年来调处了多少宗劳资纠纷", 2023年, 五年来, 第8期. The evidence for an answer
is read in layers, nearest first: the quoted sentence(s), the passage, its headings, the
document title. For each anchor the nearest layer that names anything of the anchor's kind
decides: it must name the asked value (or, for places, a place inside the asked one). When
it names another value instead (惠州 where 潮州 is asked), the answer is refused and the
near miss is shown as what the documents do cover. Years and periods that no layer mentions
pass (reports rarely restate their year) with a caveat; a place or issue number that no layer
mentions fails. A quoted sentence that gives one year's figure (2025年, 去年) does not answer a
question about a period (五年来).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass

from unionqa.answer.figures import chinese_number
from unionqa.answer.question import counted_phrase
from unionqa.ingest.places import PlaceMention, gazetteer
from unionqa.search.translate import english_phrases
from unionqa.text import normalize_for_match

_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.%])")
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:-|—|–|~|～|至|到)\s*((?:19|20)\d{2})")
_NUM = "一二两三四五六七八九十"
# 五年来 / 近五年 / 过去五年 / 最近五年 / 这五年 / 五年里 / 五年间 (这一年 is a year, not a period: see periods_in)
PERIOD_PATTERN = rf"(?:近|过去|最近|这)([{_NUM}\d]{{1,2}})年|(?<![\d{_NUM}])([{_NUM}\d]{{1,2}})年(?:来|以来|间|里|中|内)"
_PERIOD = re.compile(PERIOD_PATTERN)
# a year that starts a period (2021年以来, 2023年10月以来, 自2020年起) is not a one-year figure
_SINCE = re.compile(r"\s*年?(?:\d{1,2}月(?:\d{1,2}日)?)?\s*(?:以来|来|起|至今|到|至|—|-|–|~|～)")
# a sentence that gives one year's figure: a year, or 今年/去年/上年/本年度
_ONE_YEAR = re.compile(r"今年|去年|上年|本年度|上一年")
_ISSUE = re.compile(r"第\s*([一二三四五六七八九十\d]{1,3})\s*期")
# an English question's period: in the past five years, over the last 3 years
_EN_NUMBERS = {w: i for i, w in enumerate("one two three four five six seven eight nine ten".split(), start=1)}
_EN_PERIOD = re.compile(r"\b(?:past|last|recent)\s+(\d{1,2}|" + "|".join(_EN_NUMBERS) + r")\s+years\b")


def _cn_int(s: str) -> int | None:
    """五 → 5, 十五 → 15, 12 → 12 (the one Chinese-numeral reader: ``figures.chinese_number``); None when malformed."""
    if s.isdigit():
        return int(s)
    value = chinese_number(s) if s else None
    return int(value) if value else None


@dataclass(frozen=True)
class Anchor:
    """One constraint a question names: ``kind`` place | year | period | issue | subject, ``value`` canonical,
    ``surface`` as asked. A subject anchor is what a 多少 question counts (多少名外卖骑手 → 外卖, 骑手): one of its
    words must stand in the quoted sentence itself."""

    kind: str
    value: str
    surface: str
    mention: PlaceMention | None = None


@dataclass(frozen=True)
class Mismatch:
    """An anchor the evidence does not satisfy, and what the evidence names in its place (may be empty)."""

    anchor: Anchor
    found: tuple[str, ...]

    def describe(self) -> str:
        """Chinese wording for a refusal: 文档中没有{describe()}的这项数据."""
        a = self.anchor
        if a.kind == "year":
            return f"{a.value}年"
        if a.kind == "period":
            return f"{a.surface}"
        if a.kind == "issue":
            return f"第{a.value}期"
        if a.kind == "subject":
            return f"“{a.surface}”"
        return a.surface


def years_in(text: str) -> tuple[set[int], list[tuple[int, int]]]:
    """Years named in ``text`` and year ranges (2021—2025年)."""
    years = {int(m.group(1)) for m in _YEAR.finditer(text)}
    ranges = [(int(m.group(1)), int(m.group(2))) for m in _YEAR_RANGE.finditer(text)]
    return years, ranges


def _periods(text: str) -> list[tuple[int, str]]:
    """(N, surface) of every "N年来"-style period named in ``text``."""
    out = []
    for m in _PERIOD.finditer(text):
        n = _cn_int(m.group(1) or m.group(2))
        if n and not (n == 1 and m.group(0).startswith("这")):
            out.append((n, m.group(0)))
    return out


def english_periods(q: str) -> list[Anchor]:
    """The periods an English question names (in the past five years → 五年来), as a Chinese one's would be."""
    out = []
    for m in _EN_PERIOD.finditer(q.lower()):
        n = int(m.group(1)) if m.group(1).isdigit() else _EN_NUMBERS[m.group(1)]
        out.append(Anchor("period", str(n), f"近{n}年"))  # the refusal names it as the documents would
    return out


def periods_in(text: str) -> set[int]:
    """The N of every "N年来"-style period named in ``text``."""
    return {n for n, _ in _periods(text)}


def one_year(text: str) -> tuple[str, ...]:
    """The single years ``text`` gives a figure for (2025年, 去年) — not a year that starts a period (2021年以来)
    or a range (2021—2025年)."""
    if _YEAR_RANGE.search(text):
        return ()
    found = [m.group(1) + "年" for m in _YEAR.finditer(text) if not _SINCE.match(text, m.end())]
    return tuple(dict.fromkeys(found + _ONE_YEAR.findall(text)))


def issues_in(text: str) -> set[int]:
    return {n for m in _ISSUE.finditer(text) if (n := _cn_int(m.group(1)))}


def question_anchors(q: str, english_places: list[str] | None = None,
                     tokenize: Callable[[str], list[str]] | None = None,
                     specific: Callable[[str], bool] | None = None) -> list[Anchor]:
    """The anchors of a (Simplified) question; ``english_places``: Chinese names of places an English question names;
    with ``tokenize``, also the subject a 多少 question counts (only its words that ``specific`` accepts: a
    generic word such as 地方 identifies nothing)."""
    anchors: list[Anchor] = []
    g = gazetteer()
    seen: set[str] = set()
    for m in g.find(q):
        if m.key not in seen:
            seen.add(m.key)
            anchors.append(Anchor("place", m.key, m.surface, m))
    for name in english_places or []:
        for m in g.find(name):
            if m.key not in seen:
                seen.add(m.key)
                anchors.append(Anchor("place", m.key, m.surface, m))
    years, _ = years_in(q)
    anchors += [Anchor("year", str(y), str(y)) for y in sorted(years)]
    anchors += [Anchor("period", str(n), surface) for n, surface in _periods(q)] + english_periods(q)
    anchors += [Anchor("issue", str(n), f"第{n}期") for n in sorted(issues_in(q))]
    if tokenize is not None:
        counted, _ = counted_phrase(q)
        toks = [t for t in dict.fromkeys(tokenize(counted)) if len(t) >= 2 and not t[0].isdigit()]
        # search-mode segmentation also yields fragments across two words of a longer one (工会会员 → 会会): not words
        words = [t for t in toks if not any(t in o and not (o.startswith(t) or o.endswith(t)) for o in toks)][:2]
        words = [w for w in words if specific is None or specific(w)]
        if words:
            anchors.append(Anchor("subject", "|".join(words), "".join(words) if "".join(words) in counted else words[0]))
    return anchors


# what an English "how many" question counts: the words up to its verb (how many [reading rooms] has Yunfu built)
_EN_COUNTED = re.compile(r"\bhow (?:many|much)\s+(.+?)\s+(?:has|have|had|did|does|do|is|are|was|were|will|would|can|could"
                         r"|in|on|at|by|for|from|of|been)\b")


def english_subject(q: str, places: Container[str], vocab: Container[str], stopwords: Container[str],
                    specific: Callable[[str], bool]) -> Anchor | None:
    """The subject an English 多少 question counts, as Chinese words (how many reading rooms → 阅读): the Chinese
    renderings of its first two words that have a specific one (not 工会, 职工); one of them must stand in the
    quoted sentence, as for a Chinese question's subject. ``places``: the Chinese names of the places it names."""
    m = _EN_COUNTED.search(q.lower())
    if not m:
        return None
    words: list[str] = []
    named: list[str] = []
    for en, zhs in english_phrases(m.group(1), vocab, stopwords):
        if not zhs or any(z in places for z in zhs) or not any(specific(z) for z in zhs):
            continue
        words += [z for z in zhs if z not in words]
        named.append(en)
        if len(named) == 2:
            break
    return Anchor("subject", "|".join(words), " ".join(named)) if words else None


def _check_one(anchor: Anchor, layers: list[str]) -> Mismatch | None:
    if anchor.kind == "subject":
        sentence = normalize_for_match(layers[0]) if layers else ""
        return None if any(w in sentence for w in anchor.value.split("|")) else Mismatch(anchor, ())
    g = gazetteer()
    for depth, text in enumerate(layers):
        if anchor.kind == "place":
            assert anchor.mention is not None
            mentions = g.find(text)
            if not mentions:
                continue
            if any(g.covers(anchor.mention, m) for m in mentions):
                return None
            return Mismatch(anchor, tuple(dict.fromkeys(m.surface for m in mentions)))
        if anchor.kind == "year":
            years, ranges = years_in(text)
            if not years:
                continue
            y = int(anchor.value)
            if y in years or any(a <= y <= b for a, b in ranges):
                return None
            return Mismatch(anchor, tuple(f"{v}年" for v in sorted(years)))
        found = periods_in(text) if anchor.kind == "period" else issues_in(text)
        if not found and anchor.kind == "period" and depth == 0 and (single := one_year(text)):
            return Mismatch(anchor, single)  # the quoted sentence counts one year, the question N years
        if not found:
            continue
        if int(anchor.value) in found:
            return None
        unit = "年" if anchor.kind == "period" else "期"
        return Mismatch(anchor, tuple(f"{v}{unit}" for v in sorted(found)))
    if anchor.kind in ("place", "issue"):
        return Mismatch(anchor, ())  # nothing ties the figure to the asked place or magazine issue
    return None


def unstated(anchors: list[Anchor], layers: list[str]) -> list[Anchor]:
    """Year/period/issue anchors that no evidence layer states (they pass the check, but a reader should know)."""
    text = "\n".join(layers)
    out = []
    for a in anchors:
        if a.kind == "year" and not years_in(text)[0]:
            out.append(a)
        elif a.kind == "period" and not periods_in(text):
            out.append(a)
        elif a.kind == "issue" and not issues_in(text):
            out.append(a)
    return out


def check(anchors: list[Anchor], layers: list[str]) -> Mismatch | None:
    """The first anchor the evidence ``layers`` (nearest first, Simplified text) contradict, or None."""
    for a in anchors:
        miss = _check_one(a, layers)
        if miss is not None:
            return miss
    return None
