"""The index's record files — chunks.jsonl and documents.jsonl — read with bounds and type checks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from unionqa.errors import IndexFormatError
from unionqa.ingest.documents import MAX_FILE_BYTES
from unionqa.search.lexical import LexicalIndex
from unionqa.search.vector import VectorIndex
from unionqa.types import Chunk

# the files of index format v2 (manifest "files" must list exactly these)
DATA_FILES = frozenset(("chunks.jsonl", "documents.jsonl", *LexicalIndex.FILES, *VectorIndex.FILES))
# a chunk is at most hard_max_chars (800) plus its headings: a record far past that is not one of ours, and
# one 100 MB chunk would make every question that touches it slow and huge (issue 12 item 11)
MAX_CHUNK_RECORD_BYTES = 64 * 1024
# documents.jsonl holds each decoded source (≤ 64 MiB a file) as JSON
MAX_DOCUMENT_RECORD_BYTES = 4 * MAX_FILE_BYTES


def bounded_lines(f: Any, limit: int, path: Path) -> Iterator[bytes]:
    """The lines of binary file ``f``; IndexFormatError for one over ``limit`` bytes, without reading past it."""
    while line := f.readline(limit + 1):
        if len(line) > limit:
            raise IndexFormatError(f"{path}: a record over {limit} bytes, not one this index wrote; rebuild the index")
        yield line


def read_chunks(path: Path) -> list[Chunk]:
    out = []
    shared: dict[str, str] = {}  # one string object per distinct doc_id / heading (saves ~200 B a chunk)
    with open(path, "rb") as f:
        for line in bounded_lines(f, MAX_CHUNK_RECORD_BYTES, path):
            out.append(chunk_from_record(json.loads(line), str(path), shared))
    return out


def chunk_from_record(d: Any, where: str, shared: dict[str, str]) -> Chunk:
    """A Chunk from one chunk record (``build.chunk_record``), type-checked; ``shared`` interns repeated strings."""
    if not isinstance(d, dict):
        raise IndexFormatError(f"{where}: a chunk record that is not an object; rebuild the index")
    crumb, span, kind = d["breadcrumb"], d["span"], d.get("kind", "body")
    if not (isinstance(d["chunk_id"], str) and isinstance(d["doc_id"], str) and isinstance(d["text"], str)
            and isinstance(kind, str) and isinstance(crumb, list) and all(isinstance(b, str) for b in crumb)
            and isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)):
        raise IndexFormatError(f"{where}: a record with fields of the wrong type; rebuild the index")
    page, page_end, ocr = d.get("page"), d.get("page_end"), d.get("ocr", False)
    if not (all(p is None or type(p) is int for p in (page, page_end)) and isinstance(ocr, bool)):
        raise IndexFormatError(f"{where}: a record with fields of the wrong type; rebuild the index")
    return Chunk(d["chunk_id"], shared.setdefault(d["doc_id"], d["doc_id"]),
                 tuple(shared.setdefault(b, b) for b in crumb), d["text"], (span[0], span[1]),
                 shared.setdefault(kind, kind), page, page_end, ocr)


class TextSource(Protocol):
    """A document's text kept outside memory until asked for (a file line, a Milvus row)."""

    def text(self) -> str: ...


class DocumentText:
    """A document's text left on disk: one line of documents.jsonl, read when needed.

    The file stays open, so the text remains readable after a later build removes the generation.
    """

    def __init__(self, file: Any, offset: int, length: int) -> None:
        self._file, self._offset, self._length = file, offset, length

    def text(self) -> str:
        raw = os.pread(self._file.fileno(), self._length, self._offset)
        return str(json.loads(raw)["text"])


def read_documents(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, DocumentText]]:
    """Document records without their text, and a reader of each text (see Index.document_text)."""
    documents: dict[str, dict[str, Any]] = {}
    texts: dict[str, DocumentText] = {}
    f = open(path, "rb")  # noqa: SIM115 - lives as long as the readers that use it
    offset = 0
    for line in bounded_lines(f, MAX_DOCUMENT_RECORD_BYTES, path):
        d = json.loads(line)
        text = d.pop("text", None) if isinstance(d, dict) else None
        if not isinstance(text, str) or not isinstance(d.get("doc_id"), str):
            raise IndexFormatError(f"{path}: a record with fields of the wrong type; rebuild the index")
        documents[d["doc_id"]] = d
        texts[d["doc_id"]] = DocumentText(f, offset, len(line))
        offset += len(line)
    return documents, texts
