"""An index location → its store: ``milvus:…`` is a Milvus store, anything else a local index directory."""

from __future__ import annotations

from pathlib import Path

from .stores import LocalStore, Store


def open_store(location: str | Path) -> Store:
    """The store ``location`` names (Milvus's client is imported only for a ``milvus:`` location)."""
    from .milvus.location import is_milvus

    if is_milvus(location):
        from .milvus.store import MilvusStore

        return MilvusStore(str(location))
    return LocalStore(Path(location))
