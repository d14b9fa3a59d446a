"""What an answer without a short answer quotes (issue 25): the chosen sentence, the one it leans on, and the next
ones that lean on it or that the reader says answer too — never past the quote's length limit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from unionqa.answer.evidence import LEANS_BACK_RE, Candidate, widen

PASSAGE = ("去年一家工厂倒闭，三百名职工失去工作。但工会很快联系了十家企业招聘。"
           "招聘会上两百人当场签约。此外工会还开办了电工培训班。这家工厂的旧址后来改成了公园。")


def chosen(sentence: str) -> Candidate:
    start = PASSAGE.index(sentence)
    return Candidate(0, start, start + len(sentence), sentence, 1.0, 1.0, None)


def logits(answers: Callable[[str], bool]) -> Callable[[list[str]], np.ndarray]:
    """A stand-in reader: logit 1 for the sentences ``answers`` accepts, −5 for the others."""
    return lambda sents: np.array([1.0 if answers(s) else -5.0 for s in sents])


def test_a_sentence_that_leans_back_takes_the_one_before() -> None:
    c = widen(chosen("但工会很快联系了十家企业招聘。"), PASSAGE, 200, "leaning")
    assert c.text == "去年一家工厂倒闭，三百名职工失去工作。但工会很快联系了十家企业招聘。"
    assert PASSAGE[c.start:c.end] == c.text


def test_the_next_sentence_is_added_only_when_it_leans_back_or_the_reader_says_it_answers() -> None:
    first = chosen("招聘会上两百人当场签约。")
    leaning = widen(first, PASSAGE, 200, "leaning")
    # 此外… leans on it, and 这家工厂… on that
    assert leaning.text == "招聘会上两百人当场签约。此外工会还开办了电工培训班。这家工厂的旧址后来改成了公园。"
    read = widen(chosen("去年一家工厂倒闭，三百名职工失去工作。"), PASSAGE, 200, "read",
                 logits(lambda s: "招聘" in s))
    # 但… leans back; 招聘会… answers; 此外… leans back; the last sentence (这家…) leans back as well
    assert read.text.startswith("去年一家工厂倒闭") and "招聘会上两百人当场签约" in read.text
    none = widen(chosen("去年一家工厂倒闭，三百名职工失去工作。"), PASSAGE, 200, "read", logits(lambda s: False))
    assert none.text == "去年一家工厂倒闭，三百名职工失去工作。但工会很快联系了十家企业招聘。"


def test_widening_never_passes_the_limit_and_returns_the_candidate_when_nothing_fits() -> None:
    c = chosen("招聘会上两百人当场签约。")
    assert widen(c, PASSAGE, len(c.text), "next") is c
    wide = widen(chosen("去年一家工厂倒闭，三百名职工失去工作。"), PASSAGE, 40, "next")
    assert len(wide.text) <= 40 and wide.text.endswith("招聘。")
    assert widen(c, PASSAGE, 200, "next").text == PASSAGE[PASSAGE.index("招聘会上"):]


def test_back_references_are_openings_only() -> None:
    assert LEANS_BACK_RE.match("但工会很快联系了企业。") and LEANS_BACK_RE.match("他们随后签约。")
    assert not LEANS_BACK_RE.match("工会但凡遇到困难都会帮忙。") and not LEANS_BACK_RE.match("去年工会成立。")



def test_the_reader_is_asked_once_and_only_in_read_mode() -> None:
    calls: list[list[str]] = []

    def read(sents: list[str]) -> np.ndarray:
        calls.append(sents)
        return np.ones(len(sents))
    c = chosen("去年一家工厂倒闭，三百名职工失去工作。")
    assert widen(c, PASSAGE, 200, "leaning", read).text == PASSAGE[:PASSAGE.index("招聘会上")] and not calls
    assert widen(c, PASSAGE, 200, "read", read).text == PASSAGE and len(calls) == 1
    assert calls[0][0] == "但工会很快联系了十家企业招聘。" and len(calls[0]) == 4
