"""Frozen records that cross module boundaries: Document, Chunk, Hit, Answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of source lines under one header path, of one kind.

    ``pieces`` are (start, end) character spans of the source text, one per
    paragraph; ``kind`` is ``body``, ``caption``, ``byline`` or ``masthead``.
    """

    article: str
    headers: tuple[str, ...]
    kind: str
    pieces: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Document:
    """One decoded source file and the structure found in it."""

    doc_id: str
    title: str
    path: str
    text: str
    sha256: str
    sections: tuple[Section, ...] = ()
    encoding: str = "utf-8"

    @property
    def articles(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.sections:
            if s.article:
                seen.setdefault(s.article, None)
        return list(seen)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: never spans two sections, never cuts a sentence."""

    chunk_id: str
    doc_id: str
    breadcrumb: tuple[str, ...]
    text: str
    span: tuple[int, int]
    kind: str = "body"

    @property
    def heading(self) -> str:
        """Breadcrumb below the document title, used as context for indexing."""
        return " › ".join(self.breadcrumb[1:])


@dataclass(frozen=True)
class Hit:
    """One search result with each channel's evidence for its ranking."""

    chunk_id: str
    doc_id: str
    breadcrumb: tuple[str, ...]
    text: str
    span: tuple[int, int]
    score: float
    rank: int
    lexical_rank: int | None = None
    lexical_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None
    kind: str = "body"
    matched_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SupportSentence:
    """A sentence quoted in an answer, with where it lives."""

    marker: int
    chunk_id: str
    doc_id: str
    text: str
    span: tuple[int, int]
    offset: tuple[int, int]


@dataclass(frozen=True)
class Answer:
    """The reply to a question: short answer, markers, and what backs them."""

    question: str
    text: str
    short_answer: str | None
    citations: tuple[Hit, ...]
    sentences: tuple[SupportSentence, ...]
    abstained: bool
    closest: tuple[Hit, ...] = ()
    mode: str = "extractive"
    notes: tuple[str, ...] = field(default_factory=tuple)
    # when the documents hold a near miss for another place/year/period/issue than the one asked:
    # (what was asked, what the closest passage names instead), e.g. ("潮州", "惠州")
    mismatch: tuple[str, str] | None = None
    # things the question names that the cited evidence does not state (e.g. its year): shown beside the answer
    caveats: tuple[str, ...] = ()
    # where the citation markers are in ``text``: (start, end, n) — quoted document text may hold its own
    # footnote numbers such as [2], which are text, not markers
    markers: tuple[tuple[int, int, int], ...] = ()
