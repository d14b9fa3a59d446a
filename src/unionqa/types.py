"""Frozen records that cross module boundaries: Document, Chunk, Hit, Answer."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field


def page_label(page: int | None, page_end: int | None = None) -> str:
    """How a page reference is shown: 第3页, 第3–4页, or "" when there is none."""
    if page is None:
        return ""
    return f"第{page}页" if not page_end or page_end == page else f"第{page}–{page_end}页"


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
    # paged sources (PDF, images): where pages 1, 2, … start in ``text``; () for unpaged formats
    pages: tuple[int, ...] = ()
    ocr_pages: tuple[int, ...] = ()  # pages whose text OCR recognised
    format: str = "text"  # text | pdf | image | docx | html
    date: str = ""  # publish date a web page states

    def pages_of(self, span: tuple[int, int]) -> tuple[int, int] | None:
        """The first and last page (1-based) a span of ``text`` lies on, or None for unpaged sources."""
        if not self.pages:
            return None
        first = bisect.bisect_right(self.pages, span[0])
        last = bisect.bisect_right(self.pages, max(span[0], span[1] - 1))
        return max(1, first), max(1, last)

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
    page: int | None = None  # first page of a paged source (PDF, image), 1-based
    page_end: int | None = None  # last page when the chunk runs onto later pages
    ocr: bool = False  # its text was recognised by OCR

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
    page: int | None = None  # first page of a paged source, 1-based (see Chunk)
    page_end: int | None = None
    ocr: bool = False

    @property
    def page_label(self) -> str:
        """"第3页" / "第3–4页" for a paged source, "" otherwise."""
        return page_label(self.page, self.page_end)


@dataclass(frozen=True)
class SupportSentence:
    """A sentence quoted in an answer, with where it lives."""

    marker: int
    chunk_id: str
    doc_id: str
    text: str
    span: tuple[int, int]
    offset: tuple[int, int]


#: a citation marker in an answer's text, ``[1]`` (its number is the citation's position, 1-based)
MARKER_RE = re.compile(r"\[(\d+)\]")


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
    # a follow-up in a conversation: ``question`` is what was answered (惠州市总工会五年来成功调解了多少件？),
    # ``asked`` what was typed (成功调解了多少件？; "" when the question stood alone), ``inherited`` what came
    # from the earlier turn (惠州市总工会, 五年来)
    asked: str = ""
    inherited: tuple[str, ...] = ()
