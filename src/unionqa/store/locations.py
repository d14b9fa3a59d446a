"""An index location → its store: ``milvus:…`` is a Milvus store, anything else a local index directory."""

from __future__ import annotations

from pathlib import Path

from unionqa.store.base import Store
from unionqa.store.local import LocalStore


def open_store(location: str | Path) -> Store:
    """The store ``location`` names (Milvus's client is imported only for a ``milvus:`` location)."""
    from unionqa.store.milvus.location import is_milvus

    if is_milvus(location):
        from unionqa.store.milvus.store import MilvusStore

        return MilvusStore(str(location))
    return LocalStore(Path(location))
