"""Measure words, defined once (unionqa.measures): the tokenizer, the question reader, short answers and figures all
derive their patterns from the same lists (issue 26 item 2)."""

from __future__ import annotations

import pytest

from unionqa.answer.candidates import candidates
from unionqa.answer.figures import figures
from unionqa.answer.question import asked_unit, counted_phrase, counted_text, figure_unit
from unionqa.measures import (
    ASKED_UNITS,
    COUNT_CHARS,
    LOOSE_MEASURES,
    MEASURE_CHARS,
    OTHER_UNITS,
    TIME_MEASURES,
    TOKEN_UNITS,
    same_count,
    states_count,
)
from unionqa.search.tokenize import NUMBER_RE


@pytest.mark.parametrize("unit", TOKEN_UNITS)
def test_the_tokenizer_keeps_every_token_unit_with_its_number(unit: str) -> None:
    m = NUMBER_RE.match(f"38{unit}以上")
    assert m is not None and m.group(0) == f"38{unit}"


def test_longer_units_are_tried_first() -> None:
    assert NUMBER_RE.match("5万人次").group(0) == "5万人次"  # type: ignore[union-attr]
    assert NUMBER_RE.match("30平方米").group(0) == "30平方米"  # type: ignore[union-attr]


@pytest.mark.parametrize("measure", sorted(COUNT_CHARS))
def test_a_counting_measure_word_is_not_part_of_what_is_counted(measure: str) -> None:
    q = f"东莞送出了多少{measure}烧鹅？"
    assert counted_phrase(q)[0] == "烧鹅"
    assert counted_text(q) == f"多少{measure}烧鹅"


@pytest.mark.parametrize("measure", sorted(TIME_MEASURES))
def test_time_words_are_not_counting_measures(measure: str) -> None:
    assert measure not in COUNT_CHARS


def test_the_lists_do_not_contradict_each_other() -> None:
    singles = {u for u in TOKEN_UNITS if len(u) == 1}
    assert not set(LOOSE_MEASURES) & singles  # loose: exactly those the tokenizer leaves apart
    assert MEASURE_CHARS == singles | set(LOOSE_MEASURES)
    assert not set(OTHER_UNITS) & set(TOKEN_UNITS)  # a unit is kept with its number or not, never both
    assert list(ASKED_UNITS) == sorted(ASKED_UNITS, key=lambda u: (-len(u), u))


@pytest.mark.parametrize("q, unit", [("多少只烧鹅", "只"), ("多少万人次", "万人次"), ("多少人次", "人次"), ("多少小时", "小时"),
                                     ("多少宗纠纷", "宗"), ("几首歌", "首"), ("多少钱", None)])
def test_the_asked_measure_word(q: str, unit: str | None) -> None:
    assert asked_unit(q) == unit


def test_short_answers_carry_units_the_tokenizer_leaves_apart() -> None:
    sent = "东莞市总工会派发烧鹅2000只，荔枝8公斤，费用120美元。"
    assert [v for _, v in candidates("派发了多少只烧鹅", "number", sent, set())] == ["2000只"]
    assert [v for _, v in candidates("荔枝有多重", "number", sent, set())] == ["2000只", "8公斤", "120美元"]


def test_a_figure_given_as_more_than_answers_a_question_that_names_its_measure_word() -> None:
    sent = "安置好了 600 余名员工，服务企业300余家、职工20多万人次，筹集10余万元。"
    assert [v for _, v in candidates("安置了多少名员工", "number", sent, set())] == ["600余名"]
    assert [v for _, v in candidates("服务了多少家企业", "number", sent, set())] == ["300余家"]
    assert [v for _, v in candidates("筹集了多少万元", "number", sent, set())] == ["10余万元"]
    # a question without a measure word keeps to the figures the text states exactly (no 余/多 competitors)
    assert [v for _, v in candidates("服务了多少职工", "number", sent, set())] == []
    assert not [v for _, v in candidates("有多少名", "number", "多名职工参加。", set())]


def test_measure_words_that_count_the_same_things() -> None:
    assert same_count("名", "3752人") and same_count("宗", "764件") and same_count("家", "12个")
    assert not same_count("名", "764件") and not same_count("万元", "3000元")


def test_a_single_numeral_is_a_figure_only_before_a_figure_measure() -> None:
    assert figures("建成五个驿站") == {5.0}
    assert figures("大家一起努力，一批项目") == set()


@pytest.mark.parametrize("text, asked, stated", [
    ("机场有三条跑道", "条", True), ("是他们的第20张原创专辑", "张", True), ("建设工会林近300亩", "亩", True),
    ("安置好了 600 余名员工", "名", True), ("建成20多家驿站", "家", True), ("建成12个驿站", "家", True),
    ("数十家企业参加", "家", True), ("接待职工超3万人次", "人次", True), ("会员3752人", "名", True),
    ("8月18日，2024年邀请赛圆满落幕", "亩", False), ("王家骑士团的大团长", "家", False), ("调处纠纷7090宗", "名", False),
])
def test_a_count_stated_in_the_asked_measure_word(text: str, asked: str, stated: bool) -> None:
    assert states_count(text, asked) is stated


@pytest.mark.parametrize("q, unit", [("工会林有多少亩？", "亩"), ("接待了多少万人次？", "万人次"), ("身兼几家骑士团的团长？", None),
                                     ("有多少人？", "人"), ("花了多少钱？", None)])
def test_the_figure_a_question_asks_for(q: str, unit: str | None) -> None:
    """多少 asks for a figure in its measure word; 几 for a small count, often answered by naming the things."""
    assert figure_unit(q) == unit
