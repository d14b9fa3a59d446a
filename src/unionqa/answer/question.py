"""What a question asks for: its type (number, date, place, percent, person, other), measure word, focus words."""

from __future__ import annotations

import re
from collections.abc import Callable

from unionqa.measures import ASKED_UNITS, COUNT_CHARS, MEASURE_CHARS

_NUMBER_Q = re.compile(r"多少|(?<!哪)几|how many|how much|what (?:number|percentage|share)")
_PERCENT_Q = re.compile(r"率|比例|百分之|percentage|rate")
_YEAR_Q = re.compile(r"哪一年|哪年|何年|什么时候|何时|哪一天|哪天|什么时间|日期|\bwhen\b|what year|which year")
#: a place question; 在哪 followed by a measure word (在哪张专辑, 在哪部剧, 在哪所大学) asks for a thing, not a place
_PLACE_Q = re.compile(
    r"哪里|哪儿|在哪(?![些张部本首篇场届次位家所份期集])|何地|什么地方|哪个地方|哪个城市|哪个市|哪座城市|哪个县|哪个区"
    r"|where|which (?:city|place|county|district|town)")
_PERSON_Q = re.compile(r"谁|哪位|什么人|\bwho\b")
_UNIT_AFTER = re.compile(r"(?:多少|(?<!哪)几)([万亿千百]*[\u4e00-\u9fff%]{1,2})")
CITY_Q = re.compile(r"哪个(?:地方|城市|市)|哪座城市|哪个地区|which city|what city")
WH_RE = re.compile(r"多少|几|哪一年|哪年|何时|什么时候|哪里|哪儿|在哪|哪个|哪些|哪位|谁|什么|怎样|怎么|如何")


def question_type(q: str) -> str:
    ql = q.lower()
    if _YEAR_Q.search(ql):
        return "date"
    if _PLACE_Q.search(ql):
        return "place"
    if _NUMBER_Q.search(ql):
        return "percent" if _PERCENT_Q.search(ql) and "多少" in ql and not _UNIT_AFTER.search(ql) else "number"
    if _PERCENT_Q.search(ql) and ("多少" in ql or "是" in ql):
        return "percent"
    if _PERSON_Q.search(ql):
        return "person"
    return "other"


def asked_unit(q: str) -> str | None:
    """The measure word right after 多少/几 (多少名产业工人 → 名, 多少万元 → 万元, 多少只 → 只), if it is one."""
    m = _UNIT_AFTER.search(q)
    if not m:
        return None
    unit = m.group(1)
    for u in ASKED_UNITS:
        if unit.startswith(u):
            return u
    return unit[0] if unit[0] in MEASURE_CHARS else None


#: a 多少/几 question's counted phrase: the question word, an optional measure word, then what it counts (group 1,
#: up to the clause's end) — read by answering (``counted_phrase``) and by follow-ups (``conversation``)
COUNTED_RE = re.compile(rf"(?:多少|(?<!哪)几)(?:[万亿千百]*[{COUNT_CHARS}]次?)?([^，。？！,?!；;]{{0,16}})")


#: nouns that stand for any thing, place or matter (能歇脚的地方, 哪些东西): what a question counts with one of them is
#: named by the rest of the question, never by the noun, so the evidence need not repeat it
PLACEHOLDER_NOUNS = frozenset("地方 地点 场所 去处 东西 事情 事儿 情况 方面".split())


def counted_text(q: str) -> str:
    """The question's counted phrase as written, up to its first 的 and at most 10 characters after the measure word
    (多少斤荔枝 in 东莞市总工会送出了多少斤荔枝？): what a follow-up that counts another thing replaces."""
    m = COUNTED_RE.search(q)
    return q[m.start():m.start(1) + len(m.group(1).split("的")[0][:10])] if m else ""


def figure_unit(q: str) -> str | None:
    """The measure word of a figure the question asks for (多少亩 → 亩); None for 几, which asks for a small count that
    is often answered by naming the things counted (几家骑士团 → four names), and for a question without one."""
    unit = asked_unit(q)
    return unit if unit and re.search("多少[万亿千百]*" + re.escape(unit), q) else None


def counted_phrase(q: str) -> tuple[str, str]:
    """(what a 多少/几 question counts, the predicate just before it): 为多少名新就业形态劳动者 → ("新就业形态劳动者", "为"),
    提升到了多少 → ("", "提升到")."""
    m = COUNTED_RE.search(q)
    if not m:
        return "", ""
    counted = m.group(1).split("的")[-1]  # modifiers end in 的: 多少家市一级的行业工会 counts 行业工会
    before = re.sub(r"(?:了|共|总共|一共|大约|约|达到?)+$", "", q[max(0, m.start() - 6):m.start()])
    return counted[:12], before[-3:]


def focus_terms(tokenize: Callable[[str], list[str]], q: str) -> list[str]:
    """Question words right around the question word (…的访问量达到多少 → 访问量): the answer sits next to them."""
    m = WH_RE.search(q)
    if not m:
        return []
    window = q[max(0, m.start() - 8):m.end() + 8]
    return [t for t in tokenize(window) if len(t) >= 2 and not t[0].isdigit()]


_CATEGORY_AFTER = re.compile(rf"(?:哪(?:几[{COUNT_CHARS}门]?|一?[个些座家位种类项]?)|什么|何种)(?!几)([\u4e00-\u9fff]{{2,4}})")


def asked_category(tokenize: Callable[[str], list[str]], q: str) -> set[str]:
    """The category a which/what question asks for (哪个地方 → 地方, 什么奖项 → 奖项, 哪座城市 → 城市): the answer's
    evidence names a member of it, rarely the category word itself, so it is no word the evidence must hold."""
    out: set[str] = set()
    for m in _CATEGORY_AFTER.finditer(q):
        words = [t for t in tokenize(m.group(1)) if len(t) >= 2]
        if words and m.group(1).startswith(words[0]):
            out.add(words[0])
    return out


def counted_noun(tokenize: Callable[[str], list[str]], q: str) -> str | None:
    """The thing a 多少/几 question counts (多少名产业工人党员 → 党员): the last word of its counted phrase."""
    words = [t for t in tokenize(counted_phrase(q)[0]) if len(t) >= 2 and not t[0].isdigit()]
    return words[-1] if words else None
