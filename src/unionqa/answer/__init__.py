"""Answers from retrieved passages: pick supporting sentences, check the question's constraints, cite, or refuse.

``answer`` is a function of its inputs: the question, the hits the caller retrieved, an
``AnswerContext`` (vocabulary, texts, stored vectors), the question's embedding and the
settings. It never calls back into the index. Steps, one module each:

- ``question``: what is asked (type, measure word, focus words);
- ``evidence``: every sentence of the top passages scored (lexical coverage, semantic similarity,
  typed value present), with ``candidates`` giving the typed short answer;
- ``anchors``: the places, years, periods and issue numbers the question names must hold in the
  evidence (sentence → passage → headings → document title);
- ``answerability``: whether the chosen evidence answers the question (calibrated);
- ``compose``: the answer text, refusals, the citation integrity check;
- ``llm``: an optional generator that phrases an answer the evidence supports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from unionqa.answer.anchors import (
    PERIOD_PATTERN,
    Anchor,
    Mismatch,
    check,
    english_subject,
    periods_in,
    question_anchors,
    unstated,
    years_in,
)
from unionqa.answer.answerability import abstain_reason
from unionqa.answer.candidates import candidates
from unionqa.answer.compose import ABSTAIN_TEXT, abstain, compose, refuse_mismatch, verify_answer
from unionqa.answer.context import AnswerContext
from unionqa.answer.evidence import (
    Candidate,
    Evidence,
    evidence_layers,
    gather_evidence,
    hit_layers,
    widen,
    widening_reader,
)
from unionqa.answer.llm import Generator, OpenAICompatibleGenerator, llm_answer
from unionqa.answer.question import PLACEHOLDER_NOUNS, counted_text, question_type
from unionqa.config import MAX_QUERY_CHARS, AnswerConfig
from unionqa.search.query import PreparedQuestion, is_english, prepare_query, prepare_question
from unionqa.search.translate import english_names
from unionqa.text import normalize_for_match
from unionqa.types import Answer, Hit


def _specific(ctx: AnswerContext, cfg: AnswerConfig) -> Callable[[str], bool]:
    """A word identifies what is counted when the corpus never uses it or uses it in few passages (not 工作), and it
    is not a placeholder noun (地方, 东西: ``question.PLACEHOLDER_NOUNS``), however rare in a small corpus."""
    def specific(word: str) -> bool:
        if word in PLACEHOLDER_NOUNS:
            return False
        idf = ctx.term_idf(word)
        return idf is None or idf >= cfg.specific_idf
    return specific


def _anchors(q: str, ctx: AnswerContext | None, cfg: AnswerConfig) -> list[Anchor]:
    """The anchors of a prepared question: English place names for an English one; with ``ctx`` its counted subject."""
    if not is_english(q):
        return question_anchors(q, None, ctx.tokenize if ctx else None, _specific(ctx, cfg) if ctx else None)
    places = english_names(q)
    anchors = question_anchors(q, places)
    subject = (english_subject(q, set(places), ctx.vocab, ctx.stopwords, _specific(ctx, cfg))
               if ctx and cfg.english_subject else None)
    return anchors + ([subject] if subject else [])


def anchors_for(question: str, ctx: AnswerContext | None = None, config: AnswerConfig | None = None) -> list[Anchor]:
    """The constraint anchors of a question (prepared or raw), as ``answer`` finds them; with ``ctx`` also its
    counted subject."""
    return _anchors(prepare_query(question), ctx, config or AnswerConfig())


def _prefer_article(ev: Evidence, hits: Sequence[Hit], c: Candidate, cfg: AnswerConfig) -> Candidate:
    """A photo caption stating the answer is weaker evidence than the article saying the same: cite the article
    sentence with the same short answer when one scores close."""
    if hits[c.hit_index].kind != "caption" or not c.short:
        return c
    for o in ev.candidates[1:cfg.constraint_depth]:
        same = o.short and (o.short == c.short or c.short in o.short or o.short in c.short)  # 阳江 / 阳江市
        if hits[o.hit_index].kind == "body" and same and o.score >= cfg.article_over_caption_ratio * c.score:
            return o
    return c


def _prefer_stated(ev: Evidence, anchors: list[Anchor], best: Candidate, cfg: AnswerConfig | None = None) -> Candidate:
    """Evidence that confirms the question's year or period beats evidence that merely leaves it unstated."""
    cfg = cfg or AnswerConfig()
    if not unstated(anchors, evidence_layers(ev, best)):
        return best
    for c in ev.candidates[1:cfg.constraint_depth]:
        if c.score < cfg.stated_ratio * best.score:
            break
        layers = evidence_layers(ev, c)
        if check(anchors, layers) is None and not unstated(anchors, layers) and (c.short or not best.short):
            return c
    return best


def choose(ev: Evidence, anchors: list[Anchor], cfg: AnswerConfig,
           hits: Sequence[Hit] = ()) -> tuple[Candidate | None, Mismatch | None]:
    """The best candidate that satisfies the question's anchors, and the mismatch of the best one if it does not."""
    if not ev.candidates:
        return None, None
    best = _prefer_article(ev, hits, ev.candidates[0], cfg) if hits else ev.candidates[0]
    if not cfg.check_constraints or not anchors:
        return best, None
    first_miss = check(anchors, evidence_layers(ev, best))
    if first_miss is None:
        return _prefer_stated(ev, anchors, best, cfg), None
    for c in ev.candidates[1:cfg.constraint_depth]:
        if check(anchors, evidence_layers(ev, c)) is None and abstain_reason(ev, c, cfg) is None:
            return c, first_miss
    return None, first_miss


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.hit_index == b.hit_index and a.start < b.end and b.start < a.end


def _second_quote(ev: Evidence, chosen: Candidate, anchors: list[Anchor], cfg: AnswerConfig) -> list[Candidate]:
    """A second sentence to quote, if any: for a figure, another passage's sentence that states the same figure, and
    never one that states another; else from another passage when it covers the question at least as fully;
    for a question answered by its sentences alone (no short answer: how, why, what), also the runner-up sentence
    when it scores close to the best — the answer is often in the sentence next to the best-matching one."""
    def fits(c: Candidate) -> bool:
        return not cfg.check_constraints or check(anchors, evidence_layers(ev, c)) is None

    figure = normalize_for_match(chosen.short) if chosen.short and ev.qtype in ("number", "percent") else None
    if figure:
        # another passage that states the same figure confirms it: the best second citation there is
        for c in ev.candidates[:cfg.constraint_depth]:
            if c.hit_index != chosen.hit_index and figure in normalize_for_match(c.text) and fits(c):
                return [c]
    min_cov = cfg.min_coverage * (cfg.english_factor if ev.english else 1.0)
    for c in ev.candidates:
        if (c.hit_index != chosen.hit_index and c.score >= cfg.second_sentence_ratio * chosen.score
                and c.coverage >= max(min_cov, chosen.coverage) and fits(c)
                and not (figure and c.short)):  # a sentence stating another figure does not support this one
            return [c]
    if chosen.short is None and cfg.runner_up_ratio:
        for c in ev.candidates[:cfg.constraint_depth]:
            if c.score < cfg.runner_up_ratio * chosen.score:
                break
            if c is not chosen and not _overlaps(c, chosen) and fits(c):
                return [c]
    return []


def answer(question: str | PreparedQuestion, hits: Sequence[Hit], ctx: AnswerContext,
           config: AnswerConfig | None = None, query_vector: np.ndarray | None = None,
           generator: Generator | None = None) -> Answer:
    """Answer ``question`` (text, or as ``ask`` prepared it once) from ``hits`` (best first), or refuse; see the
    module docstring."""
    prepared = prepare_question(question, ctx.tokenize)
    return _noting_cut(prepared, _answer(prepared, hits, ctx, config or AnswerConfig(), query_vector, generator))


def _answer(prepared: PreparedQuestion, hits: Sequence[Hit], ctx: AnswerContext, cfg: AnswerConfig,
            query_vector: np.ndarray | None, generator: Generator | None) -> Answer:
    hits = list(hits)
    question, q = prepared.asked, prepared.text
    if not hits:
        return Answer(question, ABSTAIN_TEXT, None, (), (), True, (), notes=("no passage matches the question",))
    ev = gather_evidence(ctx, prepared, hits, cfg, query_vector)
    anchors = _anchors(q, ctx, cfg)
    chosen, miss = choose(ev, anchors, cfg, hits)
    if chosen is None:
        best = ev.candidates[0] if ev.candidates else None
        # another place's passage is shown as the near miss even when it states no figure in the asked measure word:
        # "no data for 惠州市" says more than "not found"
        why = abstain_reason(ev, best, cfg, figure=miss is None)
        if miss is not None and best is not None and why is None:
            return refuse_mismatch(question, hits, best, miss, cfg, ev.idf)
        return abstain(question, hits, why or "no evidence satisfies the question")
    why = abstain_reason(ev, chosen, cfg)
    if why:
        return abstain(question, hits, why)
    picked = [chosen, *_second_quote(ev, chosen, anchors, cfg)]
    if chosen.short is None and cfg.widen_quote:
        # the answer is the sentence(s) themselves: quote what the chosen one leans on and what leans on it
        passage = hits[chosen.hit_index].text
        read = widening_reader(ctx, q, passage, ctx.document_title(hits[chosen.hit_index].doc_id), cfg) \
            if ev.read else None
        picked[0] = widen(chosen, passage, cfg.max_quote_chars, cfg.widen_quote, read, cfg.widen_reader_logit)
        picked = picked[:1] + [c for c in picked[1:] if not _overlaps(c, picked[0])]
    extractive = compose(question, hits, picked, chosen.short, cfg, ev.idf, ctx.document_text)
    caveats = tuple(f"出处没有写明{a.surface if a.kind != 'year' else a.value + '年'}，请核对原文"
                    for a in unstated(anchors, evidence_layers(ev, chosen)))
    if caveats:
        extractive = replace(extractive, caveats=caveats)
    if generator is not None:
        # the refusal decision stays with the checks above: the LLM only phrases a supported answer
        # the LLM sees the question as the index saw it: normalized and capped like every other use
        return replace(llm_answer(generator, q, hits[:cfg.passages], extractive), question=question)
    return extractive


def _noting_cut(prepared: PreparedQuestion, ans: Answer) -> Answer:
    """Say so when only the first MAX_QUERY_CHARS characters of the question were answered."""
    if not prepared.truncated:
        return ans
    return replace(ans, notes=ans.notes + (f"only the first {MAX_QUERY_CHARS} characters of the question were used",))


__all__ = ["ABSTAIN_TEXT", "PERIOD_PATTERN", "Anchor", "AnswerConfig", "AnswerContext", "Candidate", "Evidence",
           "Generator", "Mismatch", "OpenAICompatibleGenerator", "anchors_for", "answer", "candidates", "check",
           "counted_text", "gather_evidence", "hit_layers", "periods_in", "question_type", "verify_answer",
           "years_in"]
