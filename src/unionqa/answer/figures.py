"""Figures as values: 7090宗, 1.2万人次, 一万二千宗, 三成, 41.5% → numbers, so a check compares whole values, never substrings."""

from __future__ import annotations

import re

from unionqa.measures import CN_NUMERALS, FIGURE_MEASURES
from unionqa.text import normalize_for_match

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "亿": 100_000_000}
_CN = CN_NUMERALS
# an Arabic number (with a 万/亿 multiplier), or a run of Chinese numerals of at least two characters or
# one followed by a measure word or 成 (so that 一起, 三方 in ordinary words are not figures)
_FIGURE = re.compile(rf"(\d+(?:[.,]\d+)*)\s*([万亿]*)(%|成)?|([{_CN}]{{2,}}|[{_CN}](?=[{FIGURE_MEASURES}万亿]))(成)?")


def chinese_number(s: str) -> float | None:
    """一万二千 → 12000, 两千 → 2000, 十五 → 15, 三百零五 → 305; None when ``s`` is not a well-formed numeral."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _DIGITS:
            if digit is not None and digit != 0 and _DIGITS[ch] != 0:
                return None  # two digits in a row: 二三 is not a numeral here
            digit = _DIGITS[ch]
        elif ch in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[ch]
            digit = None
        elif ch in _LARGE:
            section += digit or 0
            total = (total + section) * _LARGE[ch] if ch == "亿" else total + section * _LARGE[ch]
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))


def figures(text: str) -> set[float]:
    """Every figure in ``text`` as a value: percentages and 成 as percent (三成 → 30), 万/亿 multiplied out."""
    return {value for _, value in figure_items(text)}


def figure_items(text: str) -> list[tuple[str, float]]:
    """(figure as written, its value) for every figure in ``text``."""
    out: list[tuple[str, float]] = []
    for m in _FIGURE.finditer(normalize_for_match(text)):
        if m.group(1):
            value = float(m.group(1).replace(",", ""))
            for mult in m.group(2):
                value *= _LARGE[mult]
            if m.group(3) == "成":
                value *= 10
        else:
            parsed = chinese_number(m.group(4))
            if parsed is None:
                continue
            value = parsed * 10 if m.group(5) else parsed
        out.append((m.group(0), round(value, 4)))
    return out
