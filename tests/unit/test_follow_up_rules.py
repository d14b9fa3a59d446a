"""Follow-up questions (issue 15): rules that rewrite a follow-up into a question that stands alone, and an LLM's
rewrite checked the same way (the written pairs answered over the seeds: ``quality/test_follow_ups.py``)."""

from __future__ import annotations

import pytest

from unionqa.conversation import Turn, resolve, resolve_followup

HZ = "惠州市总工会五年来调处了多少宗劳资纠纷？"


@pytest.mark.parametrize(("before", "follow_up", "expected"), [
    # ellipsis: the subject and the time come from the previous question
    (HZ, "成功调解了多少件？", "惠州市总工会五年来成功调解了多少件？"),
    (HZ, "那成功调解了多少件？", "惠州市总工会五年来成功调解了多少件？"),
    ("河源市2025年新成立工会组织多少家？", "新增会员数是多少？", "河源市2025年新增会员数是多少？"),
    # X呢: a place, a year, a thing to count replaces its counterpart
    ("惠州市总工会五年来成功调解了多少件？", "河源呢？", "河源市总工会五年来成功调解了多少件？"),
    ("河源市建成了多少家工会爱心驿站？", "云浮呢？", "云浮市建成了多少家工会爱心驿站？"),
    (HZ, "那2023年呢？", "惠州市总工会2023年调处了多少宗劳资纠纷？"),
    ("东莞市总工会免费送出了多少斤荔枝？", "烧鹅呢？", "东莞市总工会免费送出了多少烧鹅？"),
    ("江门鹤山市总工会一年多来共处理劳动争议案件多少宗？", "河源呢？", "河源市总工会一年多来共处理劳动争议案件多少宗？"),
    # pronouns: the previous subject, or its place for 当地/那里
    ("江门鹤山市总工会一年多来共处理劳动争议案件多少宗？", "他们的调解成功率是多少？", "江门鹤山市总工会的调解成功率是多少？"),
    ("佛岡縣總工會如何宣傳工會二次醫保？", "當地有多少職工參保？", "佛冈县有多少职工参保？"),
    ("汕尾市总工会建设了多少家工会驿站？", "那里有多少职工书屋？", "汕尾市有多少职工书屋？"),
])
def test_follow_up_rules(before: str, follow_up: str, expected: str) -> None:
    r = resolve(follow_up, [Turn(before)])
    assert (r.question, r.asked, r.how) == (expected, follow_up, "rule")


@pytest.mark.parametrize("follow_up", [
    "工会二次医保怎么申请？",  # a topic of its own
    "哪个市建成工会驿站186家？",  # asks for the place itself
    "东莞市总工会免费送出了多少斤荔枝？",  # names its own place
    "How many lychees did Dongguan give away?",  # English follow-ups are not rewritten
])
def test_questions_that_stand_alone_are_left_alone(follow_up: str) -> None:
    r = resolve(follow_up, [Turn(HZ)])
    assert (r.question, r.changed, r.inherited) == (follow_up, False, ())


def test_no_history_and_no_subject_change_nothing() -> None:
    assert not resolve("成功调解了多少件？", []).changed
    assert not resolve("成功调解了多少件？", [Turn("工会驿站是什么？")]).changed


def test_place_from_the_previous_answers_evidence() -> None:
    """哪个市…? names no place; the answer's evidence does, and a follow-up leans on that."""
    turn = Turn("哪个市建成工会驿站186家？", ("近年来,汕尾市总工会坚持“党建引领”的思路,建设工会驿站186家。",))
    r = resolve("他们还打造了什么？", [turn])
    assert r.question == "汕尾市总工会还打造了什么？" and r.inherited == ("汕尾市总工会",)


class _FakeLLM:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.seen: list[list[dict[str, str]]] = []

    def generate(self, messages: list[dict[str, str]]) -> str:
        self.seen.append(messages)
        if self.reply == "error":
            raise RuntimeError("down")
        return self.reply


def test_llm_rewrite_is_kept_when_it_adds_nothing_new() -> None:
    llm = _FakeLLM("惠州市总工会五年来成功调解了多少件劳资纠纷？")
    r = resolve_followup("成功调解了多少件？", [Turn(HZ)], llm)
    assert (r.question, r.how) == ("惠州市总工会五年来成功调解了多少件劳资纠纷？", "llm")
    assert set(r.inherited) == {"惠州市", "5年来"}
    assert "上一个问题：" + HZ in llm.seen[0][1]["content"]


@pytest.mark.parametrize("reply", [
    "潮州市总工会五年来成功调解了多少件？",  # a place nobody named
    "惠州市总工会2023年成功调解了多少件？",  # a year nobody named
    "五年来成功调解了多少件？",  # drops the place the rules carry over
    "error",  # the LLM is down
    "",
])
def test_llm_rewrite_that_fails_the_check_falls_back_to_the_rules(reply: str) -> None:
    r = resolve_followup("成功调解了多少件？", [Turn(HZ)], _FakeLLM(reply))
    assert (r.question, r.how) == ("惠州市总工会五年来成功调解了多少件？", "rule")


def test_llm_rewrite_must_keep_the_follow_ups_own_place() -> None:
    r = resolve_followup("河源呢？", [Turn(HZ)], _FakeLLM("惠州市总工会五年来调处了多少宗劳资纠纷？"))
    assert (r.question, r.how) == ("河源市总工会五年来调处了多少宗劳资纠纷？", "rule")
