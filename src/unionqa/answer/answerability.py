"""Answerability: does the chosen evidence answer the question? Lexical coverage, semantic similarity, unknown words.

Two rules, chosen by ``AnswerConfig.answerable_weights``: the lexical-only rule (abstain when
the best sentence covers less than ``min_coverage`` of the question's IDF mass), or a logistic
model over the features below, fitted and thresholded by benchmarks/calibrate_abstain.py on
questions that are not the gold questions (see README "Answers and abstention").
"""

from __future__ import annotations

import math

from unionqa.answer.evidence import Candidate, Evidence
from unionqa.config import AnswerConfig
from unionqa.measures import states_count

FEATURES = ("coverage", "semantic", "unknown_share", "typed_found", "rare_found", "english", "english×coverage",
            "english×semantic", "bias")
#: with the reader: its P(the chosen sentence answers) as one more feature (``reader_answerable_weights``)
READER_FEATURES = FEATURES[:-1] + ("reader", "bias")


def _coverage(ev: Evidence, c: Candidate | None, cfg: AnswerConfig) -> float:
    """Share of the question found: the sentence, or ``passage_coverage_factor`` × the best passage with its headings."""
    return max(c.coverage if c else 0.0, cfg.passage_coverage_factor * ev.passage_coverage)


def features(ev: Evidence, c: Candidate | None, cfg: AnswerConfig | None = None,
             with_reader: bool | None = None) -> list[float]:
    """The answerability features of a question and its chosen sentence: lexical coverage (sentence, or 0.9 ×
    passage), cosine to the sentence's stored windows, share of unknown words, whether a value of the
    asked type was found (1 for untyped questions), the share of the question's two rarest words in the
    passage, its headings or title, and English interactions (cross-lingual similarity
    and translated coverage sit on other scales)."""
    cov = _coverage(ev, c, cfg or AnswerConfig())
    sem = c.semantic if c else 0.0
    en = float(ev.english)
    x = [cov, sem, ev.unknown_share, float(bool(c and c.short)) if ev.typed else 1.0, c.rare_found if c else 0.0,
         en, en * cov, en * sem]
    if with_reader is None:
        with_reader = ev.read
    if with_reader:  # READER_FEATURES: the reader's P of the sentence (one it did not read: 0)
        x.append(c.reader if c and c.reader is not None else 0.0)
    return x + [1.0]


def _model(ev: Evidence, cfg: AnswerConfig) -> tuple[tuple[float, ...] | None, float, bool]:
    """The answerability weights and threshold for this evidence, and whether they take the reader's feature: the
    reader's model when the reader read it and that model is fitted, else the rule path's."""
    if ev.read and cfg.reader_answerable_weights is not None:
        return cfg.reader_answerable_weights, cfg.reader_answerable_threshold, True
    return cfg.answerable_weights, cfg.answerable_threshold, False


def probability(weights: tuple[float, ...], x: list[float]) -> float:
    z = sum(w * v for w, v in zip(weights, x))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def abstain_reason(ev: Evidence, c: Candidate | None, cfg: AnswerConfig, figure: bool = True) -> str | None:
    """Why the answer abstains, or None when ``c`` answers the question. ``figure=False`` leaves out the figure check
    (``require_asked_measure``): whether a near miss about another place would answer apart from its place."""
    if c is None:
        return "no sentences in the retrieved passages"
    if not ev.english and ev.unknown_share > cfg.max_unknown:
        return f"{ev.unknown_share:.0%} of the question's words never occur in the documents"
    if figure and cfg.require_asked_measure and ev.unit and not ev.english and not c.short and not states_count(c.text, ev.unit):
        return f"the evidence states no count in {ev.unit}, the measure word the question asks for"
    weights, threshold, with_reader = _model(ev, cfg)
    if weights is not None:
        p = probability(weights, features(ev, c, cfg, with_reader))
        if p < threshold:
            return f"the evidence does not answer the question (P(answerable) {p:.2f})"
        return None
    min_cov = cfg.min_coverage * (cfg.english_factor if ev.english else 1.0)
    cov = _coverage(ev, c, cfg)
    if cov < min_cov:
        return f"the best sentence covers only {cov:.0%} of the question"
    if cfg.require_typed_answer and ev.typed and not ev.english and not any(x.short for x in ev.candidates[:3]):
        return f"no {ev.qtype} of the kind asked appears near the question's words"
    return None
