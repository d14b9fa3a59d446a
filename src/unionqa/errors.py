"""Exceptions raised by unionqa; every message is one line a user can act on."""

from __future__ import annotations


class UnionQAError(Exception):
    """Base class: anything the CLI and UI report as a one-line error."""


class DocumentError(UnionQAError):
    """A source document cannot be read or decoded."""


class EmptyCorpusError(UnionQAError):
    """Nothing indexable was found in the sources."""


class IndexFormatError(UnionQAError):
    """An index directory is missing, damaged, or written by an incompatible build."""


class ModelUnavailableError(UnionQAError):
    """The embedding model cannot be loaded (offline, missing, or broken)."""


class QueryError(UnionQAError):
    """A query or its parameters are not acceptable."""


class BuildLockedError(UnionQAError):
    """Another build holds the lock on this index directory."""


class IndexWriteError(UnionQAError, OSError):
    """The index could not be written (disk full, not a directory, no permission); the previous one still serves.

    Also an OSError, so callers that catch file-system errors keep working."""


class StoreUnavailableError(UnionQAError):
    """The store holding an index cannot be reached or opened (a Milvus server down, a Milvus Lite file in use)."""
