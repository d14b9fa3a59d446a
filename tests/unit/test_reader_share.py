"""How the reader's logits rerank candidates: each sentence's own P, or its share of one softmax with the null; the
margin beyond P's saturation; and what it reads (a sentence after its document's short title)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from unionqa.answer.evidence import Candidate, _read, reader_text, softmax_share
from unionqa.config import AnswerConfig

pytestmark = pytest.mark.unit


def test_shares_and_the_null_sum_to_one() -> None:
    logits = np.array([3.0, 1.0, -2.0])
    share = softmax_share(logits)
    null = 1.0 / (1.0 + np.exp(logits).sum())
    assert share.sum() + null == pytest.approx(1.0)
    assert list(np.argsort(-share)) == [0, 1, 2]
    # huge logits stay finite; a lone logit far below the null leaves almost everything to the null
    assert np.isfinite(softmax_share(np.array([800.0, 790.0]))).all()
    assert softmax_share(np.array([-30.0]))[0] < 1e-12


def _cands() -> list[Candidate]:
    # the rules rank A first by a little; the reader is sure of B and C (two sentences saying the same thing)
    return [Candidate(0, 0, 1, t, s, 0.5, None) for t, s in (("A", 1.00), ("B", 0.80), ("C", 0.79))]


def test_several_confident_sentences_share_the_answer() -> None:
    logits = {"A": 0.0, "B": 6.0, "C": 6.0}

    def reader(q: str, texts: list[str]) -> np.ndarray:
        return np.array([logits[t] for t in texts])

    cfg = AnswerConfig(reader_weight=1.0, reader_margin_weight=0.0)
    alone, shared = _cands(), _cands()
    _read(reader, "q", alone, cfg)
    _read(reader, "q", shared, replace(cfg, reader_share=True))
    # each sentence's own P: B and C gain ~1 and pass A; as shares they split one answer (~0.5 each), A gains ~0
    assert [c.text for c in alone][:1] == ["B"]
    gains = {c.text: c.score - s for c, s in zip(sorted(shared, key=lambda c: c.text), (1.00, 0.80, 0.79))}
    assert gains["B"] == pytest.approx(gains["C"]) and 0.45 < gains["B"] < 0.5 and gains["A"] < 0.01
    # the reader's P stays each sentence's own (answerability reads it)
    assert {c.text: round(c.reader, 3) for c in shared} == {"A": 0.5, "B": 0.998, "C": 0.998}


def test_the_margin_orders_sentences_the_reader_is_sure_of_where_p_ties() -> None:
    """Two sentences at P ≈ 1 gain the same from P; the margin (the logit above 0) still puts the surer one first —
    and a sentence the value gate holds gains nothing from it."""
    logits = {"A": 0.0, "B": 5.0, "C": 9.0}

    def reader(q: str, texts: list[str]) -> np.ndarray:
        return np.array([logits[t] for t in texts])

    def cands() -> list[Candidate]:  # the rules put B before C by 0.11
        return [Candidate(0, 0, 1, t, s, 0.5, None) for t, s in (("A", 1.00), ("B", 0.90), ("C", 0.79))]

    tied, ordered = cands(), cands()
    _read(reader, "q", tied, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.0))
    _read(reader, "q", ordered, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.25))
    assert [c.text for c in tied][:2] == ["B", "C"]  # P ties (0.993 / 0.9999): the rules' order stands
    assert [c.text for c in ordered][:2] == ["C", "B"]
    held = cands()  # a 多少 question: no sentence holds a figure, so none gains beyond the floor
    _read(reader, "q", held, AnswerConfig(reader_weight=4.0, reader_margin_weight=0.25), "number")
    assert [c.text for c in held] == ["A", "B", "C"]


def test_a_sentence_is_read_after_its_documents_short_title() -> None:
    """"它的名字源自于…" read alone answers any 名字的由来 question; read after its document's title, only its own
    subject's. A long title (a headline stating facts) or one the sentence already names is not prefixed."""
    cfg = AnswerConfig()
    assert reader_text("它的名字源自于几个天然温泉。", "四加亭", cfg) == "四加亭：它的名字源自于几个天然温泉。"
    assert reader_text("四加亭位于柔佛州。", "四加亭", cfg) == "四加亭位于柔佛州。"
    headline = "一年新增工会会员近万人,发展产业工人党员295名"
    assert reader_text("惠及产业工人350名。", headline, cfg) == "惠及产业工人350名。"
    assert reader_text("它的名字源自于温泉。", "四加亭", replace(cfg, reader_title_chars=0)) == "它的名字源自于温泉。"

    read: list[str] = []

    def reader(q: str, texts: list[str]) -> np.ndarray:  # answers only a sentence it can tell is about 四加亭
        read.extend(texts)
        return np.array([4.0 if t.startswith("四加亭") else -1.0 for t in texts])

    cands = [Candidate(0, 0, 1, "它的名字源自于几个天然温泉。", 1.0, 0.3, None),
             Candidate(1, 0, 1, "它的名字源自于一头巨象。", 0.9, 0.3, None)]
    _read(reader, "四加亭名字的由来是什么？", cands, cfg, titles={0: "阿若憍陈如", 1: "四加亭"})
    assert read == ["阿若憍陈如：它的名字源自于几个天然温泉。", "四加亭：它的名字源自于一头巨象。"]
    assert [c.text for c in cands][0] == "它的名字源自于一头巨象。"


def test_the_reader_also_reads_the_best_sentences_of_the_top_passages() -> None:
    """A question asked in other words than its passage uses: the rules' best candidates all come from other passages,
    so the quota reads the top passages' best single sentences as well (not pairs; those already read count)."""
    from unionqa.answer.evidence import reading_list

    cands = [Candidate(2, 0, 1, f"x{i}", 9.0 - i, 0.5, None) for i in range(3)]  # passage 2, best by the rules
    cands += [Candidate(0, 0, 1, "a0", 3.0, 0.1, None), Candidate(0, 0, 2, "a0a1", 2.9, 0.1, None, pair=True),
              Candidate(0, 1, 2, "a1", 2.8, 0.1, None), Candidate(0, 2, 3, "a2", 2.7, 0.1, None),
              Candidate(1, 0, 1, "b0", 2.6, 0.1, None), Candidate(3, 0, 1, "d0", 2.5, 0.1, None)]
    plain = AnswerConfig(reader_candidates=2)
    assert [c.text for c in reading_list(cands, plain)] == ["x0", "x1"]
    quota = replace(plain, reader_passages=2, reader_passage_sentences=2)
    assert [c.text for c in reading_list(cands, quota)] == ["x0", "x1", "a0", "a1", "b0"]
    # sentences already read count towards their passage's quota (a pair does not)
    assert [c.text for c in reading_list(cands, replace(quota, reader_candidates=5))] == ["x0", "x1", "x2", "a0", "a0a1",
                                                                                          "a1", "b0"]

    read: list[str] = []

    def reader(q: str, texts: list[str]) -> np.ndarray:  # sure of a1 only
        read.extend(texts)
        return np.array([5.0 if t == "a1" else -3.0 for t in texts])

    _read(reader, "q", cands, replace(quota, reader_weight=8.0))
    assert sorted(read) == ["a0", "a1", "b0", "x0", "x1"] and cands[0].text == "a1"
    assert all(c.reader is None for c in cands if c.text not in read)


def test_candidates_are_read_in_batches_of_similar_length() -> None:
    from unionqa.answer.reader import length_batches

    lengths = [60, 20, 22, 130, 70, 21, 64]
    batches = length_batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [[lengths[i] for i in b] for b in batches] == [[20, 21, 22], [60, 64, 70], [130]]
    assert all(len(b) <= 2 for b in length_batches([10] * 5, size=2))


def test_a_pair_is_scored_by_its_better_sentence() -> None:
    """With ``reader_reads_pairs`` off the reader reads the distinct sentences of the best candidates (it was trained
    on single sentences), up to ``reader_candidates``, and a pair gains what its better sentence gains — read as one
    text, a pair around the answering sentence scores higher than the sentence alone and is quoted instead."""
    from unionqa.answer.evidence import read_candidates

    cands = [Candidate(0, 0, 2, "s0s1", 3.0, 0.5, None, pair=True), Candidate(0, 0, 1, "s0", 2.0, 0.5, None),
             Candidate(0, 1, 2, "s1", 1.9, 0.5, None), Candidate(0, 1, 3, "s1s2", 1.8, 0.5, None, pair=True),
             Candidate(0, 2, 3, "s2", 1.0, 0.5, None)]
    read: list[str] = []

    def reader(q: str, texts: list[str]) -> np.ndarray:
        read.extend(texts)
        return np.array([{"s0": -2.0, "s1": 4.0, "s2": 1.0}.get(t, 6.0) for t in texts])

    sentences = AnswerConfig(reader_candidates=2, reader_reads_pairs=False)
    top, logits = read_candidates(reader, "q", cands, sentences, {})
    assert read == ["s0", "s1"]  # the best candidate is a pair: its two sentences fill the two places
    assert [c.text for c in top] == ["s0s1", "s0", "s1"] and list(logits) == [4.0, -2.0, 4.0]
    read.clear()
    top, logits = read_candidates(reader, "q", cands, AnswerConfig(reader_candidates=2), {})
    assert read == ["s0s1", "s0"] and list(logits) == [6.0, -2.0]  # the default: the pair read as one text


def test_the_passage_reader_reads_whole_passages_in_order() -> None:
    """With ``reader_reads_passages`` each passage holding one of the best candidates is read whole, its sentences in
    order (the reader scores each in its passage's context), and every candidate of those passages is scored — a pair
    by its sentences' logits weighted by length; passages none of the best candidates come from are not read."""
    from unionqa.answer.evidence import read_candidates

    cands = [Candidate(0, 4, 9, "s1 s1", 3.0, 0.5, None), Candidate(0, 0, 9, "s0s1 s1", 2.9, 0.5, None, pair=True),
             Candidate(0, 0, 4, "s0", 2.0, 0.5, None), Candidate(1, 0, 2, "t0", 1.0, 0.5, None),
             Candidate(0, 9, 12, "s2", 0.5, 0.5, None)]
    asked: list[list[list[str]]] = []

    def sentences(q: str, texts: list[str]) -> np.ndarray:  # never called in this mode
        raise AssertionError("the sentence reader was called")

    def passages(q: str, runs: list[list[str]]) -> list[np.ndarray]:
        asked.append(runs)
        logit = {"s0": -2.0, "s1 s1": 4.0, "s2": 1.0, "t0": 0.0}
        return [np.array([logit[s] for s in run]) for run in runs]

    cfg = AnswerConfig(reader_candidates=2, reader_reads_passages=True)
    top, logits = read_candidates(sentences, "q", cands, cfg, {}, passages)
    assert asked == [[["s0", "s1 s1", "s2"]]]  # passage 0 only, in the passage's order
    assert [c.text for c in top] == ["s1 s1", "s0s1 s1", "s0", "s2"]
    assert list(logits) == [4.0, (-2.0 * 2 + 4.0 * 5) / 7, -2.0, 1.0]
    # without a passage reader the setting falls back to the sentence reader
    with pytest.raises(AssertionError, match="sentence reader"):
        read_candidates(sentences, "q", cands, cfg, {})


def test_both_readings_add_the_passage_logit_to_each_candidate_read() -> None:
    """``reader_passage_weight``: the candidates read as before (a pair as one text) each get that × their logit read
    in their passage (a pair: its sentences' weighted by length) added."""
    from unionqa.answer.evidence import read_candidates

    cands = [Candidate(0, 0, 4, "s0", 3.0, 0.5, None), Candidate(0, 0, 9, "s0s1 s1", 2.9, 0.5, None, pair=True),
             Candidate(0, 4, 9, "s1 s1", 2.0, 0.5, None)]

    def sentences(q: str, texts: list[str]) -> np.ndarray:
        return np.array([{"s0": 1.0, "s0s1 s1": 2.0}.get(t, 0.0) for t in texts])

    def passages(q: str, runs: list[list[str]]) -> list[np.ndarray]:
        return [np.array([{"s0": -2.0, "s1 s1": 4.0}[s] for s in run]) for run in runs]

    cfg = AnswerConfig(reader_candidates=2, reader_passage_weight=0.5)
    top, logits = read_candidates(sentences, "q", cands, cfg, {}, passages)
    assert [c.text for c in top] == ["s0", "s0s1 s1"]
    assert list(logits) == pytest.approx([1.0 + 0.5 * -2.0, 2.0 + 0.5 * (-2.0 * 2 + 4.0 * 5) / 7])
    _, alone = read_candidates(sentences, "q", cands, replace(cfg, reader_passage_weight=0.0), {}, passages)
    assert list(alone) == [1.0, 2.0]
