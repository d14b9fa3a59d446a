"""Short-answer candidates (answer/candidates.py) read what the sentence says in its own words: counts written in
Chinese numerals, a month alone, place names cut at word boundaries, no count inside a model name (POWER5处理器); and a
哪些/哪几 question asks for a list, 在哪张/哪部 for a thing, not a place or a count (issue 25)."""

from __future__ import annotations

import pytest

from unionqa.answer.candidates import candidates, place_names
from unionqa.answer.question import asked_category, counted_phrase, question_type
from unionqa.measures import written_counts


@pytest.mark.parametrize("q", ["夜来香分布在哪些地区？", "其地理位置的重要性体现在哪些方面？", "该应用可以执行在哪些平台上？"])
def test_a_which_ones_question_asks_for_a_list_not_a_place(q: str) -> None:
    assert question_type(q) == "other"


@pytest.mark.parametrize("q", ["夏尔精通哪几门语言？", "这款列车被配属予哪几个铁道？", "达曼的卫星城有哪几座？"])
def test_a_which_few_question_asks_for_a_list_not_a_count(q: str) -> None:
    assert question_type(q) == "other"
    assert counted_phrase(q) == ("", "")  # nothing counted: no subject the evidence must name


def test_the_category_a_which_few_question_names_is_no_word_the_evidence_must_hold() -> None:
    from unionqa.search.tokenize import JiebaTokenizer

    assert asked_category(JiebaTokenizer().tokenize, "夏尔精通哪几门语言？") == {"语言"}
    assert asked_category(JiebaTokenizer().tokenize, "达曼的卫星城有哪几座？") == set()
    assert question_type("伊丽莎白港机场有几条跑道？") == "number"


@pytest.mark.parametrize("q", ["活动在哪里举行？", "东关街在哪？", "渠成是哪里人？", "比赛在哪个城市举办？"])
def test_a_where_question_still_asks_for_a_place(q: str) -> None:
    assert question_type(q) == "place"


@pytest.mark.parametrize("q", ["电视剧中的歌曲收录在哪张专辑？", "他在哪部电影中首度担当女主角？", "他是在哪所大学取得博士学位的？"])
def test_where_followed_by_a_measure_word_asks_for_a_thing_not_a_place(q: str) -> None:
    assert question_type(q) == "other"


def test_a_digit_after_a_latin_letter_is_a_model_name_not_a_count() -> None:
    assert candidates("POWER6处理器有多少个核心？", "number", "POWER5处理器有2个核心。", set()) == [(10, "2个")]
    assert [v for _, v in candidates("部署了多少枚？", "number", "A-135系统部署了68枚导弹。", set())] == ["68枚"]
    # a multiplication sign between digits is no model name: 4x200米 is a distance of 200米
    assert "200米" in [v for _, v in candidates("游了多少米？", "number", "她在4x200米自由式中夺冠。", set())]


def test_a_count_written_in_chinese_numerals_answers_a_how_many_question() -> None:
    got = candidates("伊丽莎白港机场有几条跑道？", "number", "机场共有三条跑道，其中一条长2000米。", set())
    assert [v for _, v in got] == ["三条"]
    assert [v for _, v in candidates("学校有几个校区？", "number", "学校是一个整体，现有两个校区。", set())] == ["两个"]


def test_digits_in_the_asked_measure_word_come_before_chinese_numerals() -> None:
    got = candidates("路口镇管辖下有几个村？", "number", "辖8个村，是两个乡合并而成。", set())
    assert [v for _, v in got] == ["8个"]


def test_a_lone_yi_is_an_article_not_a_count() -> None:
    assert written_counts("这是一个重要的会议，来了一条消息", "个") == []
    assert [v for _, v in written_counts("共十一个项目、一百二十名工人", "名")] == ["一百二十名"]
    assert [v for _, v in written_counts("共十一个项目", "个")] == ["十一个"]


def test_a_month_alone_answers_a_when_question() -> None:
    got = candidates("六耳铃的花期是什么时候？", "date", "花期从10月起至翌年5~6月。", set())
    assert [v for _, v in got] == ["10月", "6月"]


def test_a_full_date_is_read_whole_and_a_month_is_never_cut_from_a_number() -> None:
    assert [v for _, v in candidates("何时结束？", "date", "2017年3月5日结束，3个月后，13月", set())] == ["2017年3月5日"]


@pytest.mark.parametrize(("sentence", "dates"), [
    ("莫斯科公国在1303年控制了这座城镇", ["1303年"]),  # a year before 1900 is a date too
    ("兴建于1889年，当时是底特律第一长老会教堂", ["1889年"]),
    ("秦朝建于公元前221年", ["公元前221年"]),
    ("并于一九六一年九月十日互换批准书", ["一九六一年九月十日"]),  # written in Chinese digits
    ("二〇〇八年十二月二十日上映", ["二〇〇八年十二月二十日"]),
    ("工程持续了30年，耗资100亿元", []),  # a span of years is no date
])
def test_a_when_question_reads_dates_of_any_century_and_in_chinese_digits(sentence: str, dates: list[str]) -> None:
    assert [v for _, v in candidates("是哪一年？", "date", sentence, set())] == dates


@pytest.mark.parametrize(("sentence", "names"), [
    ("1990年9月，他初中三年级进入南京市第一中学学习。", ["南京市"]),
    ("伊丽莎白港机场位于南非东开普省伊丽莎白港", ["南非东开普省"]),
    ("夏尔生于法国瓦尔省圣拉斐尔", ["法国瓦尔省"]),
    ("当中有一半的捕获量来自英国的专属经济区。", ["专属经济区"]),
    ("黑龙江省博物馆是中国省级综合性博物馆", ["黑龙江省"]),
    ("分布于海拔500米的地区", []),
    ("达曼港是沙特第三大的城市", []),
    ("广东省广州市天河区的工会", ["广东省广州市天河区"]),
    ("在广州市和深圳市", ["广州市", "深圳市"]),
])
def test_a_place_name_starts_at_a_word_and_never_spans_a_verb_or_particle(sentence: str, names: list[str]) -> None:
    found = place_names(sentence)
    assert [n for _, n in found] == names
    assert all(sentence[pos:pos + len(n)] == n for pos, n in found)


def test_the_place_the_question_names_is_cut_off_the_answer() -> None:
    got = candidates("黑龙江省博物馆在哪？", "place", "黑龙江省博物馆是中国省级综合性博物馆，位于黑龙江省哈尔滨市红军街50号。",
                     {"黑龙江省"})
    assert [v for _, v in got] == ["哈尔滨市"]


def test_a_time_in_minutes_and_seconds_is_one_value() -> None:
    got = candidates("创造的新世界纪录是多少？", "number", "时间为3分33秒62。于4x200米自由式中", set())
    assert [v for _, v in got][0] == "3分33秒62"
    assert [v for _, v in candidates("用了多少时间？", "number", "用时2小时5分钟", set())] == ["2小时5分钟"]
    assert [v for _, v in candidates("多少分？", "number", "得分95分，排名第3", set())] == ["95分"]


def test_a_currency_after_wan_or_yi_stays_with_the_figure() -> None:
    got = candidates("共斥资多少钱收购？", "number", "每股63美元现金，斥资77亿美元收购希尔夏品牌", set())
    assert [v for _, v in got] == ["63美元", "77亿美元"]


def _short(q: str, sentence: str) -> str | None:
    from unionqa.answer.candidates import nearest
    from unionqa.text import normalize_for_match

    norm = normalize_for_match(sentence)
    return nearest(candidates(q, question_type(q), sentence, set()), [], counted_phrase(q), norm)


def test_the_figure_of_the_thing_counted_wins_in_a_same_count_measure_word() -> None:
    # 多少名会员: 3752人 counts the members (人 counts what 名 counts); 295名 is the party members before the comma
    s = "一年内,新发展产业工人党员295名,吸收新就业形态会员3752人,举办各类劳动技能大赛52场。"
    assert _short("河源市吸收了多少名新就业形态会员？", s) == "3752人"
    assert _short("河源市新发展了多少名产业工人党员？", s) == "295名"
    # with no counted subject beside it, a same-count figure stays behind the asked measure word
    assert _short("河源市一共有多少名会员？", "会员总数1200名,其中新入会职工300人。") == "1200名"


def test_what_a_figure_counts_is_read_within_its_list_item() -> None:
    s = "全市累计建成户外劳动者工会爱心驿站135家、职工书屋305家、爱心妈妈小屋113家。"
    assert _short("云浮市建成了多少家职工书屋？", s) == "305家"
    assert _short("云浮市建成了多少家爱心妈妈小屋？", s) == "113家"
    # the subject after a figure counts only up to the comma (230名新就业形态劳动者, not the next clause's)
    assert _short("为多少名新就业形态劳动者提供服务？", "培训骨干80名,为230名新就业形态劳动者提供服务。") == "230名"
