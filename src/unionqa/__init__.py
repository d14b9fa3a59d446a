"""UnionQA: question answering over Chinese trade-union documents with cited passages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .config import MAX_QUERY_CHARS, AnswerConfig, ChunkingConfig, RetrievalConfig
from .errors import (
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
from .types import Answer, Chunk, Document, Hit, SupportSentence

if TYPE_CHECKING:
    from .index import Index
    from .places import place_spans


def __getattr__(name: str) -> Any:
    """``Index`` and ``place_spans`` load numpy/scipy/faiss on first use, so ``unionqa --help`` stays instant."""
    if name == "Index":
        from .index import Index

        return Index
    if name == "place_spans":
        from .places import place_spans

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
