"""Measure words, defined once: what follows a number in a count (7090宗, 38.8万人次, 2000只, 8公斤) and what
follows 多少/几 in a question.

Every pattern that needs measure words derives it from the lists here, each with its role:

- ``TOKEN_UNITS``: kept with their number by the tokenizer (7090宗 is one index term). These are index terms:
  changing the list changes every index built with it.
- ``LOOSE_MEASURES``: classifiers the tokenizer leaves apart from the number that still say what is counted
  (多少只烧鹅 → 2000只).
- ``OTHER_UNITS``: units of measure and currencies the tokenizer leaves apart (8公斤, 3个月, 120美元).
- ``TIME_MEASURES``: measure words of time and calendar: they say when or how long, not what is counted.
- ``SAME_COUNT``: measure words that count the same things (多少名会员 is answered by 3752人).
- ``FIGURE_MEASURES``: the few measure words after which a single Chinese numeral is a figure (一万, 三成, 五个);
  narrow on purpose, so that 一起, 一批, 一部分 in ordinary words are not read as figures.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

TOKEN_UNITS: tuple[str, ...] = (
    "平方米", "公里", "千米", "人次", "批次", "小时", "万元", "亿元", "元", "人", "名", "宗", "件", "个", "家", "亩",
    "本", "字", "斤", "年", "月", "日", "号", "期", "场", "项", "批", "对", "棵", "份", "所", "座", "间", "条", "位",
    "次", "届", "支", "吨", "米", "天", "周", "岁", "户", "台", "辆", "套", "篇", "册", "部", "种", "类", "起", "例",
    "倍", "成", "层", "节", "课", "班", "处", "站", "室", "点", "里", "强", "分",
)
LOOSE_MEASURES = "只头张块把双包盒瓶箱颗枚盏床架艘匹口集首"
OTHER_UNITS: tuple[str, ...] = (
    "平方公里", "公斤", "千克", "克", "毫米", "厘米", "公顷", "毫升", "升", "摄氏度", "度", "秒", "分钟", "个月",
    "英里", "英尺", "美元", "港元", "欧元", "英镑", "日元", "卢布", "层楼",
)
TIME_MEASURES = "年月日号天周岁时分秒"
SAME_COUNT: tuple[frozenset[str], ...] = (frozenset("名人位"), frozenset("个家所座间处"), frozenset("宗件起例"))
FIGURE_MEASURES = "成个名家人次件宗项"
#: the characters Chinese numerals are written with (一万二千, 两千, 三百零五)
CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿"

#: single-character measure words of either kind (what 多少/几 may be followed by)
MEASURE_CHARS = frozenset(u for u in TOKEN_UNITS if len(u) == 1) | frozenset(LOOSE_MEASURES)
#: measure words that count things, people or events: what a 多少/几 question puts before what it counts
COUNT_CHARS = "".join(sorted(MEASURE_CHARS - frozenset(TIME_MEASURES)))
#: measure words of more than one character a question may ask for (多少万人次, 多少小时), longest first
ASKED_UNITS: tuple[str, ...] = tuple(sorted(
    {u for u in TOKEN_UNITS if len(u) > 1} | {"万" + u for u in TOKEN_UNITS if len(u) > 1 and u[0] not in "万亿"},
    key=lambda u: (-len(u), u)))


def alternation(units: Iterable[str]) -> str:
    """A regex alternation of ``units``, longest first (so 平方公里 is tried before 公里)."""
    return "|".join(re.escape(u) for u in sorted(units, key=lambda u: (-len(u), u)))


#: a number's unit the tokenizer keeps with it, for ``tokenize.NUMBER_RE``
TOKEN_UNIT_RE = alternation(TOKEN_UNITS)
#: a unit after a bare number that the tokenizer does not keep (8公斤, 2000只), for short answers
MORE_UNIT_RE = re.compile(rf"(?:[万亿千百]*)({alternation(OTHER_UNITS + tuple(LOOSE_MEASURES))})")
#: "more than", written between a number and its measure word (600余名, 20多家)
MORE_THAN = "余多"
#: "more than" between a bare number and its measure word (600余名, 20多家, 10余万元): the figure as the text gives it
APPROX_UNIT_RE = re.compile(rf"[{MORE_THAN}](?:[万亿千百]*(?:{TOKEN_UNIT_RE})|{MORE_UNIT_RE.pattern})")


_NUMERAL = rf"(?:\d+(?:[.,]\d+)*|[数几上]?[{CN_NUMERALS}]+)\s*[{MORE_THAN}几]?[万亿千百]*\s*"


def _alike(asked: str) -> frozenset[str]:
    """The measure words that count what ``asked`` counts (名 → 名人位); none for a word of several characters."""
    return next((g for g in SAME_COUNT if asked in g), frozenset()) if len(asked) == 1 else frozenset()


@functools.lru_cache(maxsize=256)
def _count_re(asked: str) -> re.Pattern[str]:
    return re.compile(rf"{_NUMERAL}(?:{alternation(_alike(asked) | {asked})})")


def states_count(text: str, asked: str) -> bool:
    """True when ``text`` states a count in the asked measure word or one that counts the same things, in digits or
    Chinese numerals (多少亩 → 近300亩, 几条 → 三条, 几家 → 20多家, 多少名 → 600 余名, 第几张 → 第20张)."""
    return _count_re(asked).search(text) is not None


@functools.lru_cache(maxsize=256)
def _written_count_re(asked: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![{CN_NUMERALS}])[{CN_NUMERALS}]+[{MORE_THAN}]?(?:{alternation(_alike(asked) | {asked})})")


def written_counts(text: str, asked: str) -> list[tuple[int, str]]:
    """(position, count) of the counts written in Chinese numerals in the asked measure word or one that counts the
    same things (几条 → 三条, 几个 → 两个, 多少名 → 二十余名); a lone 一 (一个, 一条: mostly an article) is not one."""
    return [(m.start(), m.group(0)) for m in _written_count_re(asked).finditer(text)
            if not m.group(0).startswith("一") or len(m.group(0)) > 1 + len(asked) or m.group(0)[1] in CN_NUMERALS]


def same_count(asked: str, found: str) -> bool:
    """True when a value with measure word ``found`` answers a question asking for ``asked`` (名 ~ 人, 宗 ~ 件)."""
    return found.endswith(asked) or found[-1:] in _alike(asked)
