"""Answers people can trust: constraint anchors, near-miss refusals, typed short answers, and answer() as a
function of its inputs (no Index involved)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT

from unionqa import AnswerConfig, Index
from unionqa.answer import AnswerContext, anchors_for, answer, candidates
from unionqa.answer.anchors import check, question_anchors, unstated
from unionqa.evaluation import wrong_entity
from unionqa.search.lexical import LexicalIndex
from unionqa.search.tokenize import JiebaTokenizer, load_stopwords
from unionqa.types import Hit

# ---- anchors ------------------------------------------------------------------------------


def _kinds(q: str) -> list[tuple[str, str]]:
    return [(a.kind, a.value) for a in question_anchors(q)]


def test_question_anchors() -> None:
    assert _kinds("潮州市总工会五年来调处了多少宗劳资纠纷？") == [("place", "潮州市"), ("period", "5")]
    assert _kinds("汕头市总工会2023年开展劳动纠纷调解多少件？") == [("place", "汕头市"), ("year", "2023")]
    assert _kinds("《广东工运》2024年第8期的印数是多少？") == [("place", "广东省"), ("year", "2024"), ("issue", "8")]
    # a year range is two years, never an "N年间" period
    assert _kinds("2011年至2015年间谁夺得冠军？") == [("year", "2011"), ("year", "2015")]
    assert _kinds("工会是怎样参与地方立法的？") == []
    # an English question's period is checked as a Chinese one's (五年来), so a one-year figure does not answer it
    assert ("period", "5") in [(a.kind, a.value) for a in anchors_for("How many unions did Heyuan set up in the past five years?")]
    assert ("period", "3") in _kinds("What changed over the last 3 years?")
    assert not [k for k in _kinds("What happened last year?") if k[0] == "period"]


def test_check_nearest_layer_decides() -> None:
    a = question_anchors("潮州市总工会五年来调处了多少宗劳资纠纷？")
    miss = check(a, ["五年来，调处各类劳资纠纷7090宗。", "", "惠州市总工会工作报告"])
    assert miss is not None and miss.anchor.value == "潮州市" and miss.found == ("惠州市",)
    assert check(question_anchors("惠州五年来调处了多少宗劳资纠纷？"), ["五年来，调处各类劳资纠纷7090宗。", "惠州市总工会"]) is None
    # a place inside the asked one satisfies it; the asked one inside a mentioned one does not
    assert check(question_anchors("河源举办了什么活动？"), ["活动在河源市源城区埔前镇举行。"]) is None
    assert check(question_anchors("佛冈县有多少人参保？"), ["清远市参保人数增长。"]) is not None
    # no place anywhere: nothing ties the figure to the asked place
    assert check(question_anchors("潮州建了多少驿站？"), ["建设工会驿站186家。"]) is not None


def test_check_years_periods_issues() -> None:
    assert check(question_anchors("2023年调解了多少件？"), ["2025年，调解劳动纠纷764件。"]) is not None
    assert check(question_anchors("2023年调解了多少件？"), ["2021—2025年调解劳动纠纷764件。"]) is None
    assert check(question_anchors("2023年调解了多少件？"), ["调解劳动纠纷764件。"]) is None  # unstated years pass…
    assert [a.value for a in unstated(question_anchors("2023年调解了多少件？"), ["调解劳动纠纷764件。"])] == ["2023"]
    assert check(question_anchors("十年来调处了多少宗纠纷？"), ["五年来，调处纠纷7090宗。"]) is not None
    assert check(question_anchors("近五年调处了多少宗纠纷？"), ["5年来，调处纠纷7090宗。"]) is None
    assert check(question_anchors("第10期的印数是多少？"), ["2024年第8期 印数2500本"]) is not None
    assert check(question_anchors("第8期的印数是多少？"), ["印数2500本"]) is not None  # an issue must be confirmed


def test_periods_in_everyday_words_and_one_year_figures() -> None:
    for q in ("这五年新成立了多少个基层工会？", "最近五年新成立了多少个基层工会？", "五年里新成立了多少个基层工会？"):
        assert ("period", "5") in _kinds(q), q
    assert _kinds("这一年新成立了多少个基层工会？") == []  # 这一年 is a year, not a period
    a = question_anchors("这五年新成立了多少个基层工会？")
    # the quoted sentence counts one year: not the five years asked
    miss = check(a, ["2025年新成立工会组织91家。", "河源市总工会"])
    assert miss is not None and miss.found == ("2025年",)
    assert check(a, ["去年新成立工会组织91家。"]) is not None
    # a year that starts a period, a range, or a sentence with the period itself, is not a one-year figure
    assert check(a, ["2021年以来，新建基层工会组织596个。"]) is None
    assert check(a, ["2021—2025年新建基层工会组织596个。"]) is None
    assert check(a, ["五年来，新建基层工会组织596个，2025年新成立91家。"]) is None
    # the sentence says no year at all: the heading's period decides, as before
    assert check(a, ["新建基层工会组织596个。", "五年来工作回顾"]) is None


def test_counted_subject_is_made_of_words(seed_index: Index) -> None:
    # search-mode segmentation of 工会会员 also yields 会会, which is no word of the question
    subject = [a for a in anchors_for("河源市去年新增了多少工会会员？", seed_index.answer_context) if a.kind == "subject"]
    assert subject and "会会" not in subject[0].value.split("|")


def test_a_placeholder_noun_is_no_counted_subject(seed_index: Index) -> None:
    # 地方 is rare in the seeds (a high IDF), yet "能歇脚的地方" names what is counted by its clause, not by 地方
    ctx = seed_index.answer_context
    q = "云浮的工会给在户外干活的人建了多少个能歇脚的地方？"
    assert not [a for a in anchors_for(q, ctx) if a.kind == "subject"]
    ans = seed_index.ask(q)
    assert not ans.abstained and "135" in ans.text.split("\n")[0]
    # a specific counted word still is one
    assert [a for a in anchors_for("云浮建了多少个户外劳动者驿站？", ctx) if a.kind == "subject"]


def test_english_place_names_are_anchors() -> None:
    kinds = [(a.kind, a.value) for a in anchors_for("How many labour disputes did the Chaozhou trade union settle in 2023?")]
    assert ("place", "潮州市") in kinds and ("year", "2023") in kinds


# ---- typed short answers ------------------------------------------------------------------


SENT = "为东莞职工会员免费派发2000只“东莞烧鹅”；免费送出12000斤“东莞荔枝”。"


@pytest.mark.parametrize("q, sent, expected", [
    ("东莞派发了多少只烧鹅？", SENT, ["2000只"]),  # the asked measure word must be the answer's unit
    ("东莞送出了多少斤荔枝？", SENT, ["12000斤"]),
    ("河源市吸收了多少名新就业形态会员？", "全市吸收新就业形态会员3752人。", ["3752人"]),  # 名 ≈ 人
    ("尤金袋鼠的体重大约是多少？", "1628年发现的尤金袋鼠约只有8公斤重。", ["8公斤"]),  # not the year 1628
])
def test_typed_candidates(q: str, sent: str, expected: list[str]) -> None:
    assert [v for _, v in candidates(q, "number", sent, set())] == expected


# ---- answer() alone: a hand-built context, no Index ---------------------------------------

DOCS = {
    "hz.md": ("惠州市总工会工作报告", "五年来，调处各类劳资纠纷7090宗，成功调解案件1092件。"),
    "dg.md": ("东莞市总工会", SENT),
    "yz.md": ("工会驿站", "工会驿站是由各级工会建设、为户外劳动者服务的场所。各地统一标识，免费开放，全年无休，"
                        "节假日照常开放。站内配备了饮水机、微波炉和休息座椅。"),
}


@pytest.fixture(scope="module")
def context() -> tuple[AnswerContext, dict[str, Hit]]:
    tok = JiebaTokenizer()
    # unrelated filler so BM25 IDFs are meaningful (with two documents every IDF is zero)
    filler = ["职工书屋建成305家。", "组织职工开展疗休养活动。", "举办职工集体婚礼。", "劳模工匠创新工作室19个。"]
    texts = [f"{title}\n{t}" for title, t in DOCS.values()] + filler  # headings are indexed with the text
    lex = LexicalIndex.build([tok.tokenize(t) for t in texts])
    hits = {doc: Hit(f"{doc}#0", doc, (title,), text, (0, len(text)), 1.0, 1) for doc, (title, text) in DOCS.items()}
    ctx = AnswerContext(tokenize=tok.tokenize, vocab=lex.vocab, idf=lex.idf, stopwords=load_stopwords(),
                        document_text=lambda d: DOCS[d][1], document_title=lambda d: DOCS[d][0], unit_vectors=None)
    return ctx, hits


LEXICAL = AnswerConfig(answerable_weights=None)  # no vectors in this context: the lexical answerability rule


def test_answer_is_a_function_of_its_inputs(context) -> None:  # type: ignore[no-untyped-def]
    ctx, hits = context
    ans = answer("惠州市总工会五年来调处了多少宗劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL)
    assert not ans.abstained and ans.short_answer == "7090宗" and ans.text.startswith("7090宗 [1]")
    assert ans.citations == (hits["hz.md"],)


def test_sibling_city_is_refused_with_the_near_miss(context) -> None:  # type: ignore[no-untyped-def]
    ctx, hits = context
    ans = answer("潮州市总工会五年来调处了多少宗劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL)
    assert ans.abstained and ans.short_answer is None and ans.citations == ()
    assert ans.text.startswith("文档中没有潮州市的这项数据") and "不是答案" in ans.text
    assert ans.mismatch == ("潮州市", "惠州市") and ans.closest[0] == hits["hz.md"]
    # the same question shape about another period is refused too
    assert answer("惠州市总工会十年来调处了多少宗劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL).abstained


def test_unit_picks_the_right_item_from_the_right_sentence(context) -> None:  # type: ignore[no-untyped-def]
    ctx, hits = context
    assert answer("东莞市总工会派发了多少只烧鹅？", [hits["dg.md"]], ctx, LEXICAL).short_answer == "2000只"


def test_a_count_in_another_measure_word_is_no_answer(context) -> None:  # type: ignore[no-untyped-def]
    """A question that names its measure word is answered only by evidence that states a count in it (or in one that
    counts the same things): the right sentence without such a figure is a refusal, not an answer."""
    ctx, hits = context
    asked = answer("惠州市总工会五年来调处了多少亩劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL)
    assert asked.abstained and "亩" in asked.notes[0]
    same = answer("惠州市总工会五年来调处了多少起劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL)  # 起 counts as 宗 does
    assert not same.abstained and same.short_answer in ("7090宗", "1092件")
    off = answer("惠州市总工会五年来调处了多少亩劳资纠纷？", [hits["hz.md"]], ctx,
                 replace(LEXICAL, require_asked_measure=False))
    assert not off.abstained and off.short_answer is None  # what it did before: the sentence, no figure in 亩
    # another place's passage is still named as the near miss: "no data for 潮州市" says more than "not found"
    other = answer("潮州市总工会五年来调处了多少亩劳资纠纷？", [hits["hz.md"]], ctx, LEXICAL)
    assert other.abstained and other.mismatch == ("潮州市", "惠州市")


def test_how_question_quotes_the_runner_up_sentence(context) -> None:  # type: ignore[no-untyped-def]
    ctx, hits = context
    q = "工会驿站是什么地方，里面有什么？"
    one = answer(q, [hits["yz.md"]], ctx, replace(LEXICAL, runner_up_ratio=0.0))
    two = answer(q, [hits["yz.md"]], ctx, replace(LEXICAL, runner_up_ratio=0.4))
    assert not one.abstained and one.short_answer is None and len(one.sentences) == 1
    # no short answer: the answer is its sentences, and the next best one that does not overlap is quoted too
    assert len(two.sentences) == 2 and two.sentences[0].text == one.sentences[0].text
    a, b = (s.offset for s in two.sentences)
    assert a[1] <= b[0] or b[1] <= a[0]
    assert len(two.text) <= LEXICAL.max_answer_chars + 10 and two.citations == (hits["yz.md"],)
    # a short answer stands alone: no runner-up for a 多少 question
    typed = answer("东莞市总工会派发了多少只烧鹅？", [hits["dg.md"]], ctx, replace(LEXICAL, runner_up_ratio=0.1))
    assert typed.short_answer == "2000只" and len(typed.sentences) == 1


def test_no_hits_abstains(context) -> None:  # type: ignore[no-untyped-def]
    ctx, _ = context
    assert answer("惠州调处了多少宗纠纷？", [], ctx).abstained


# ---- the real seed index ------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("q, asked", [
    ("潮州市总工会五年来调处了多少宗劳资纠纷？", "潮州"),
    ("肇庆市总工会五年来调处了多少宗劳资纠纷？", "肇庆"),
    ("汕头市总工会2019年单独或联合开展劳动纠纷调解多少件？", "2019年"),
    ("How many labour disputes did the Chaozhou trade union mediate in the past five years?", "潮州"),
])
def test_seed_index_refuses_swapped_constraints(seed_index: Index, q: str, asked: str) -> None:
    ans = seed_index.ask(q)
    assert ans.abstained and ans.short_answer is None and ans.citations == ()
    assert "7090" not in (ans.short_answer or "") and not ans.text.startswith(("7090", "764"))


@pytest.mark.model
def test_seed_index_near_miss_names_both_places(seed_index: Index) -> None:
    ans = seed_index.ask("潮州市总工会五年来调处了多少宗劳资纠纷？")
    assert ans.mismatch is not None and ans.mismatch[0] == "潮州市"
    assert ans.text.startswith("文档中没有潮州市的这项数据")


@pytest.mark.model
def test_seed_index_measure_word(seed_index: Index) -> None:
    ans = seed_index.ask("东莞市总工会春节活动为职工会员免费派发了多少只烧鹅？")
    assert ans.short_answer == "2000只"


@pytest.mark.model
def test_semantic_support_answers_everyday_words(seed_index: Index) -> None:
    # our own everyday wording (not a gold question): retrieved at rank 1, answered from the stored windows
    ans = seed_index.ask("清远挑了几家新业态企业试行工会代表制？")
    assert not ans.abstained and "新业态企业" in ans.citations[0].text


@pytest.mark.model
def test_wrong_entity_is_detected_in_evaluation(seed_index: Index) -> None:
    right = seed_index.ask("惠州市总工会五年来调处了多少宗劳资纠纷？")
    assert wrong_entity(seed_index, right) is None
    # the same evidence presented as the answer to another city's question is a wrong-entity answer
    from dataclasses import replace

    forged = replace(right, question="潮州市总工会五年来调处了多少宗劳资纠纷？")
    assert wrong_entity(seed_index, forged) is not None


def test_stored_window_similarity_is_used(seed_index: Index) -> None:
    """Semantic support reads the chunk's stored unit vectors (no extra model call)."""
    h = seed_index.search("惠州市总工会五年来调处了多少宗劳资纠纷？", top_k=1, mode="lexical")[0]
    units = seed_index.answer_context.unit_vectors(h.chunk_id)  # type: ignore[misc]
    assert units.ndim == 2 and units.shape[1] == seed_index.vector.dim
    assert np.allclose(np.linalg.norm(units, axis=1), 1.0, atol=1e-3)


def test_counted_phrase_skips_modifiers() -> None:
    from unionqa.answer.question import counted_phrase

    assert counted_phrase("广州建成了多少家市一级的行业工会？")[0] == "行业工会"
    assert counted_phrase("东莞派发了多少只烧鹅？")[0] == "烧鹅"
    assert counted_phrase("广东省社会化工会工作者持证比率提升到了多少？") == ("", "提升到")


def test_counted_subject_must_be_in_the_quoted_sentence(context) -> None:  # type: ignore[no-untyped-def]
    ctx, hits = context
    # the passage is about 东莞 and holds numbers, but nothing about delivery riders
    ans = answer("东莞市总工会为多少名外卖骑手办理了意外险？", [hits["dg.md"]], ctx, LEXICAL)
    assert ans.abstained and ans.short_answer is None


@pytest.mark.model
def test_seed_index_refuses_an_uncovered_counted_subject(seed_index: Index) -> None:
    ans = seed_index.ask("深圳市总工会去年为多少名外卖骑手办理了意外险？")
    assert ans.abstained and ans.short_answer is None and ans.citations == ()


def test_words_the_heading_supplies_do_not_pick_the_sentence(context) -> None:  # type: ignore[no-untyped-def]
    """The article's subject (its title) is in the first sentence only; the asked detail is in the second."""
    ctx, hits = context
    ans = answer("工会驿站里配备了什么设施？", [hits["yz.md"]], ctx, LEXICAL)
    assert not ans.abstained and "饮水机" in ans.sentences[0].text
    from dataclasses import replace

    off = answer("工会驿站里配备了什么设施？", [hits["yz.md"]], ctx, replace(LEXICAL, context_words=False))
    assert off.abstained or "饮水机" not in off.sentences[0].text  # the rule makes the difference


def test_evidence_that_states_the_year_is_preferred() -> None:
    from unionqa.answer import _prefer_stated
    from unionqa.answer.evidence import Candidate, Evidence

    unstated_c = Candidate(0, 0, 10, "调解劳动纠纷764件。", 2.0, 0.6, "764件")
    stated_c = Candidate(1, 0, 16, "2023年调解劳动纠纷764件。", 1.9, 0.7, "764件")
    ev = Evidence("number", [unstated_c, stated_c], 0.0, False, {}, 0.0, True,
                  {0: ["汕头市总工会"], 1: ["汕头市总工会"]})
    anchors = question_anchors("汕头市总工会2023年调解了多少件？")
    assert _prefer_stated(ev, anchors, unstated_c) is stated_c
    far = Candidate(1, 0, 16, "2023年调解劳动纠纷764件。", 1.0, 0.7, "764件")  # too far below the best
    ev.candidates[1] = far
    assert _prefer_stated(ev, anchors, unstated_c) is unstated_c


def test_document_footnote_numbers_are_text_not_markers(tmp_path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """A source with its own bracketed footnotes ([2], [12]) answers, and its footnotes stay as they are."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.md").write_text("# 某市总工会工作报告\n\n## 服务阵地\n\n全市建成职工服务站点356个[2]，覆盖全市各区县[12]。\n\n"
                            "## 其他\n\n组织职工疗休养活动。\n", encoding="utf-8")
    (d / "b.md").write_text("# 另一份报告\n\n## 劳模\n\n评选劳动模范81名。\n", encoding="utf-8")
    ix = Index.build([d], tmp_path / "ix", embedder=fake_embedder)
    ans = ix.ask("全市建成了多少个职工服务站点？")
    assert not ans.abstained and ans.short_answer == "356个"
    assert "[2]" in ans.text and "[12]" in ans.text  # the document's footnotes, shown as they are
    assert [n for _, _, n in ans.markers] == [1, 1] and len(ans.citations) == 1
    import sys

    sys.path.insert(0, str(ROOT))
    from unionqa.web import render as ui

    html = ui.render_answer(ans)
    assert html.count('class="uq-marker"') == 2 and 'href="#src-2"' not in html and 'href="#src-12"' not in html


@pytest.mark.parametrize("top_k", [0, -1, 2.5, True, "3", None])
def test_ask_validates_top_k_like_search(tiny_index, top_k) -> None:  # type: ignore[no-untyped-def]
    from unionqa import QueryError

    with pytest.raises(QueryError, match="top_k"):
        tiny_index.search("调处了多少宗劳资纠纷", top_k=top_k)
    with pytest.raises(QueryError, match="top_k"):
        tiny_index.ask("调处了多少宗劳资纠纷", top_k=top_k)


def test_question_cap_applies_after_nfkc_and_is_reported(tiny_index) -> None:  # type: ignore[no-untyped-def]
    from unionqa.config import MAX_QUERY_CHARS
    from unionqa.search.query import is_truncated, prepare_query

    assert len(prepare_query("㌚" * MAX_QUERY_CHARS)) <= MAX_QUERY_CHARS  # ㌚ is five characters under NFKC
    assert is_truncated("㌚" * 200) and not is_truncated("惠州" * 100)
    ans = tiny_index.ask("调处了多少宗劳资纠纷" + "？" * 600)
    assert any(f"first {MAX_QUERY_CHARS} characters" in n for n in ans.notes)
    assert not any("characters" in n for n in tiny_index.ask("调处了多少宗劳资纠纷？").notes)


def test_english_counted_subject(seed_index: Index) -> None:
    ctx = seed_index.answer_context
    q = "How many workers' reading rooms has Yunfu built?"
    subject = [a for a in anchors_for(q, ctx) if a.kind == "subject"]
    # the glossary's rendering (CC-CEDICT alone gave 阅读 + 地方/空间)
    assert subject and "职工书屋" in subject[0].value.split("|") and "云浮" not in subject[0].value
    # a figure for something else in the same city's report does not answer it
    assert check(subject, ["建设劳模工匠人才创新工作室19个、职工创新示范基地8个。"]) is not None
    assert check(subject, ["全市累计建成职工书屋305家。"]) is None
    # words every passage uses (trade union → 工会) pin down nothing
    assert not [a for a in anchors_for("How many trade unions has Yunfu built?", ctx) if a.kind == "subject"]


def test_asked_category_is_not_required_evidence() -> None:
    from unionqa.answer.question import asked_category

    tk = JiebaTokenizer().tokenize
    assert asked_category(tk, "哪个地方的工会把单身职工相亲交友和疗养活动结合在一起？") == {"地方"}
    assert asked_category(tk, "哪座城市举办了比赛？") == {"城市"}
    assert asked_category(tk, "有哪些措施？") == {"措施"}
    assert asked_category(tk, "什么是工会二次医保？") == set()
    assert asked_category(tk, "惠州市总工会五年来调处了多少宗劳资纠纷？") == set()


def test_a_figure_is_confirmed_by_a_passage_stating_it_and_never_by_one_stating_another() -> None:
    tok = JiebaTokenizer()
    docs = {"a.md": ("惠州市总工会工作报告", "五年来，惠州市总工会调处各类劳资纠纷7090宗，成功调解案件1092件。"),
            "b.md": ("惠州年鉴", "全市工会组织调处劳资纠纷7090宗。"),
            "c.md": ("惠州市总工会简报", "五年来，惠州市总工会调处各类劳资纠纷和信访案件共8000宗。")}
    filler = ["职工书屋建成305家。", "组织职工开展疗休养活动。", "举办职工集体婚礼。", "劳模工匠创新工作室19个。"]
    lex = LexicalIndex.build([tok.tokenize(f"{title}\n{t}") for title, t in docs.values()] + [tok.tokenize(f) for f in filler])
    hits = {d: Hit(f"{d}#0", d, (title,), t, (0, len(t)), 1.0, 1) for d, (title, t) in docs.items()}
    ctx = AnswerContext(tokenize=tok.tokenize, vocab=lex.vocab, idf=lex.idf, stopwords=load_stopwords(),
                        document_text=lambda d: docs[d][1], document_title=lambda d: docs[d][0], unit_vectors=None)
    q = "惠州市总工会五年来调处了多少宗劳资纠纷？"
    both = answer(q, [hits["a.md"], hits["c.md"], hits["b.md"]], ctx, LEXICAL)
    assert both.short_answer == "7090宗" and [c.doc_id for c in both.citations] == ["a.md", "b.md"]
    # the passage that states 8000宗 covers the question as fully, but does not support 7090宗: it is not quoted
    alone = answer(q, [hits["a.md"], hits["c.md"]], ctx, LEXICAL)
    assert alone.short_answer == "7090宗" and [c.doc_id for c in alone.citations] == ["a.md"]
    assert "8000" not in alone.text
