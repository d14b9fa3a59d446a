"""Sections → chunks: sentence-aligned, size-capped, carrying breadcrumb and source span; what each chunk indexes."""

from __future__ import annotations

import hashlib
import re

from unionqa.config import ChunkingConfig
from unionqa.text import OffsetMap, join_lines, split_sentences
from unionqa.types import Chunk, Document

KIND_LABELS = {"caption": "图片说明", "byline": "署名与来源", "masthead": "刊物信息与目录"}
_CLAUSE_RE = re.compile(r"[，,、：:]")


def _units(doc: Document, start: int, end: int, cfg: ChunkingConfig) -> list[tuple[str, int, int]]:
    """Sentences of one paragraph as (text, src_start, src_end); over-long ones cut at clauses."""
    raw = doc.text[start:end]
    para = join_lines(raw.split("\n"))
    out: list[tuple[str, int, int]] = []
    offsets = OffsetMap(doc.text, start, end, para)
    for a, b in split_sentences(para):
        pieces = [(a, b)]
        if b - a > cfg.hard_max_chars:
            pieces = _split_long(para, a, b, cfg.max_chars)
        for pa, pb in pieces:
            s, e = offsets.span(pa, pb)
            out.append((para[pa:pb].strip(), s, e))
    return [u for u in out if u[0]]


def _split_long(text: str, a: int, b: int, size: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than the hard cap at clause marks (then blindly) into <= size pieces."""
    cuts = [m.end() for m in _CLAUSE_RE.finditer(text, a, b)]
    spans: list[tuple[int, int]] = []
    start = a
    last_ok = None
    for c in cuts + [b]:
        if c - start > size and last_ok is not None:
            spans.append((start, last_ok))
            start = last_ok
        last_ok = c
    spans.append((start, b))
    final: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > 2 * size:
            final.append((s, s + size))
            s += size
        final.append((s, e))
    return final


def breadcrumb_for(doc: Document, article: str, headers: tuple[str, ...], kind: str) -> tuple[str, ...]:
    path: list[str] = []
    for part in (doc.title, article, *headers, KIND_LABELS.get(kind, "")):
        part = part.strip()
        if part and (not path or path[-1] != part):
            path.append(part)
    return tuple(path)


def chunk_document(doc: Document, cfg: ChunkingConfig | None = None) -> list[Chunk]:
    """Cut every section of ``doc`` into chunks of at most ``cfg.max_chars`` characters.

    Chunks never span sections and end at sentence ends (a sentence longer than
    ``hard_max_chars`` is the only thing ever cut, at clause marks). Paragraphs inside a
    chunk are separated by a newline.
    """
    cfg = cfg or ChunkingConfig()
    chunks: list[Chunk] = []
    seen_ids: dict[str, int] = {}
    stem = doc.doc_id.rsplit(".", 1)[0]
    for sec in doc.sections:
        crumb = breadcrumb_for(doc, sec.article, sec.headers, sec.kind)
        buf: list[tuple[str, int, int, int]] = []  # text, s, e, paragraph no

        def flush() -> None:
            if not buf:
                return
            parts: list[str] = []
            for i, (t, _, _, p) in enumerate(buf):
                if i and p != buf[i - 1][3]:
                    parts.append("\n")
                parts.append(t)
            text = "".join(parts)
            digest = hashlib.sha1(("\x1f".join(crumb) + "\x1e" + text).encode("utf-8")).hexdigest()[:12]
            cid = f"{stem}#{digest}"
            n = seen_ids.get(cid, 0)
            seen_ids[cid] = n + 1
            if n:
                cid = f"{cid}-{n}"
            span = (buf[0][1], buf[-1][2])
            page, page_end, ocr = None, None, False
            pages = doc.pages_of(span)
            if pages is not None:
                first, last = pages
                page, page_end = first, (last if last != first else None)
                ocr = any(first <= n <= last for n in doc.ocr_pages)
            chunks.append(Chunk(cid, doc.doc_id, crumb, text, span, sec.kind, page, page_end, ocr))
            buf.clear()

        size = 0
        for pno, (start, end) in enumerate(sec.pieces):
            units = _units(doc, start, end, cfg)
            para_len = sum(len(u[0]) for u in units)
            if cfg.keep_paragraphs and cfg.max_chars < para_len <= cfg.hard_max_chars:
                # a whole paragraph that fits the hard cap: its own chunk, never split
                flush()
                buf.extend((t, s, e, pno) for t, s, e in units)
                flush()
                size = 0
                continue
            for t, s, e in units:
                add = len(t) + (1 if buf and buf[-1][3] != pno else 0)
                if buf and size + add > cfg.max_chars:
                    carry = buf[-cfg.overlap_sentences:] if cfg.overlap_sentences else []
                    flush()
                    carry = [u for u in carry if sum(len(x[0]) for x in carry) + len(t) <= cfg.max_chars]
                    buf.extend(carry)
                    size = sum(len(u[0]) for u in carry)
                    add = len(t) + (1 if buf and buf[-1][3] != pno else 0)
                buf.append((t, s, e, pno))
                size += add
        flush()
    return chunks


def index_text(chunk: Chunk) -> str:
    """What gets tokenized and embedded: the headings below the document title, then the text."""
    if chunk.kind != "body":
        # captions, bylines and mastheads are indexed on their own words: inheriting the
        # article's headings would let these short chunks outrank the article's paragraphs
        return chunk.text
    head = chunk.heading
    return f"{head}\n{chunk.text}" if head else chunk.text


def embedding_units(chunk: Chunk) -> list[str]:
    """Texts embedded for a chunk: the whole chunk, plus two-sentence windows when it has more
    than two sentences (each prefixed with the section title so it keeps its context)."""
    units = [index_text(chunk)]
    if chunk.kind != "body":
        return units
    sents = [chunk.text[a:b].strip() for a, b in split_sentences(chunk.text)]
    if len(sents) <= 2:
        return units
    section = chunk.breadcrumb[-1] if len(chunk.breadcrumb) > 1 else ""
    for j in range(len(sents) - 1):
        window = "".join(sents[j:j + 2])
        units.append(f"{section}：{window}" if section else window)
    return units


def sentence_units(kind: str, n_sentences: int) -> list[list[int]]:
    """For each of the ``n_sentences`` sentences (``split_sentences`` of its text) of a chunk of ``kind``, the
    indices of the embedding units that contain it: unit 0 is the whole chunk, unit j+1 the window of
    sentences j and j+1 (only body chunks have windows; see embedding_units)."""
    if kind != "body" or n_sentences <= 2:
        return [[0] for _ in range(n_sentences)]
    return [[j + 1 for j in (i - 1, i) if 0 <= j < n_sentences - 1] for i in range(n_sentences)]

