"""UnionQA: question answering over Chinese trade-union documents with cited passages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unionqa.config import MAX_QUERY_CHARS, AnswerConfig, ChunkingConfig, RetrievalConfig
from unionqa.config import VERSION as __version__
from unionqa.errors import (
    BuildLockedError,
    DocumentError,
    EmptyCorpusError,
    IndexFormatError,
    IndexWriteError,
    ModelUnavailableError,
    QueryError,
    StoreUnavailableError,
    UnionQAError,
)
from unionqa.types import Answer, Chunk, Document, Hit, SupportSentence

if TYPE_CHECKING:
    from unionqa.index import Index
    from unionqa.ingest.places import place_spans


def __getattr__(name: str) -> Any:
    """``Index`` and ``place_spans`` load numpy/scipy/faiss on first use, so ``unionqa --help`` stays instant."""
    if name == "Index":
        from unionqa.index import Index

        return Index
    if name == "place_spans":
        from unionqa.ingest.places import place_spans

        return place_spans
    raise AttributeError(f"module 'unionqa' has no attribute {name!r}")

__all__ = [
    "MAX_QUERY_CHARS",
    "Answer",
    "AnswerConfig",
    "BuildLockedError",
    "Chunk",
    "ChunkingConfig",
    "Document",
    "DocumentError",
    "EmptyCorpusError",
    "Hit",
    "Index",
    "IndexFormatError",
    "IndexWriteError",
    "ModelUnavailableError",
    "QueryError",
    "RetrievalConfig",
    "StoreUnavailableError",
    "SupportSentence",
    "UnionQAError",
    "__version__",
    "place_spans",
]
