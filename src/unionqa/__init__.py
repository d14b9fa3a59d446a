"""UnionQA: question answering over Chinese trade-union documents with cited passages."""

from __future__ import annotations

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
    UnionQAError,
)
from .index import Index
from .places import place_spans
from .types import Answer, Chunk, Document, Hit, SupportSentence

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
    "SupportSentence",
    "UnionQAError",
    "__version__",
    "place_spans",
]
