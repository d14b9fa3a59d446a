"""What answering needs from an index, handed in by the caller (``Index.ask``): answering never calls back into it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

# how much of a document's opening is evidence (mastheads and date lines sit there)
DOC_HEAD = 300


#: the passage reader: (question, each passage's sentences in order) → one logit per sentence, per passage
PassageScorer = Callable[[str, Sequence[Sequence[str]]], list[np.ndarray]]


@dataclass(frozen=True)
class AnswerContext:
    """Read-only access to one index's vocabulary, texts and stored vectors.

    ``tokenize``: the index's tokenizer; ``vocab``/``idf``: BM25 vocabulary (term → column) and
    IDF per column; ``document_text``: doc_id → decoded source text (spans index into it);
    ``document_title``: doc_id → title; ``unit_vectors``: chunk_id → the stored embedding units of
    that chunk (``chunking.embedding_units`` order), or None when vectors are not available; ``reader``: the
    trained reader's scorer (``answer.reader.Reader.score``), or None; ``passage_reader``: a reader trained to read
    whole passages (``Reader.score_passages`` of ``reader.PASSAGE_WEIGHTS``), or None (none ships).
    """

    tokenize: Callable[[str], list[str]]
    vocab: Mapping[str, int]
    idf: np.ndarray
    stopwords: frozenset[str]
    document_text: Callable[[str], str]
    document_title: Callable[[str], str]
    unit_vectors: Callable[[str], np.ndarray] | None = None
    reader: Callable[[str, Sequence[str]], np.ndarray] | None = None  # (question, sentences) → logits (answer.reader)
    passage_reader: PassageScorer | None = None  # (question, passages' sentences) → logits (Reader.score_passages)
    max_idf: float = field(init=False)
    median_idf: float = field(init=False)
    _heads: dict[str, str] = field(init=False, default_factory=dict, repr=False)  # shared by request threads
    _heads_lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_idf", float(self.idf.max()) if len(self.idf) else 1.0)
        object.__setattr__(self, "median_idf", float(np.median(self.idf)) if len(self.idf) else 1.0)

    def head(self, doc_id: str) -> str:
        """The document's opening (masthead, date line, issue number): its first DOC_HEAD characters, read once."""
        with self._heads_lock:
            text = self._heads.get(doc_id)
        if text is None:
            text = self.document_text(doc_id)[:DOC_HEAD]
            with self._heads_lock:
                self._heads[doc_id] = text
        return text

    def term_idf(self, term: str) -> float | None:
        col = self.vocab.get(term)
        return None if col is None else float(self.idf[col])
