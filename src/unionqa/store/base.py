"""The ``Store`` protocol: what ``Index`` needs from the place an index lives — lock, read the live documents and
vectors for an incremental build, write and publish a generation, load the live one — so search, ask, add and
remove are the same code whichever store holds the index (``local.LocalStore``, ``milvus.store.MilvusStore``;
``locations.open_store`` picks one for a location). Also ``Loaded`` (a generation as ``Index`` holds it) and the
manifest checks every store makes on load.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from unionqa.config import ChunkingConfig, RetrievalConfig
from unionqa.errors import IndexFormatError
from unionqa.search.embedding import Embedder
from unionqa.search.lexical import LexicalIndex
from unionqa.search.retrieval import LexicalChannel, VectorChannel
from unionqa.search.tokenize import JiebaTokenizer, Tokenizer
from unionqa.store import build as stages
from unionqa.store.records import TextSource
from unionqa.types import Chunk, Document


@dataclass
class Loaded:
    """One generation as ``Index`` holds it."""

    manifest: dict[str, Any]
    chunks: list[Chunk]
    documents: dict[str, dict[str, Any]]
    lexical: LexicalChannel
    vector: VectorChannel
    generation: str  # the generation's name (a directory or a collection)
    path: Path | None = None  # the local generation directory
    texts: dict[str, TextSource] = field(default_factory=dict)


class Store(Protocol):
    """What ``Index`` needs from the place an index lives."""

    location: str

    def lock(self, wait: bool = False) -> contextlib.AbstractContextManager[None]: ...

    def live(self) -> str | None: ...

    def stored_documents(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Document]]: ...

    def previous_vectors(self, model_name: str) -> dict[str, np.ndarray]: ...

    def previous_records(self) -> dict[str, dict[str, Any]]: ...

    def write(self, docs: list[Document], skipped: list[str], chunks: list[Chunk],
              documents: dict[str, dict[str, Any]], lexical: LexicalIndex, embedded: stages.Embedded,
              tokenizer: JiebaTokenizer, emb: Embedder, chunking: ChunkingConfig, retrieval: RetrievalConfig,
              hook: Callable[[str], None], timings: dict[str, float]) -> Loaded: ...

    def load(self, embedder: Embedder | None, verify: bool = True) -> Loaded: ...

    def uploads_dir(self) -> Path: ...

    def feedback_file(self) -> Path: ...


def check_manifest(manifest: dict[str, Any], where: str, tokenizer: Tokenizer, embedder: Embedder | None) -> None:
    """The compatibility checks every store makes on load: the entries' shapes, tokenizer and dictionary, model name
    and dimension."""
    shapes = {"tokenizer": isinstance(manifest.get("tokenizer"), dict), "counts": isinstance(manifest.get("counts"), dict),
              "model": isinstance(manifest.get("model"), dict) and isinstance(manifest["model"].get("name"), str)
              and type(manifest["model"].get("dim")) is int}
    for entry, ok in shapes.items():
        if not ok:
            raise IndexFormatError(f"{where}: the manifest's {entry} entry is damaged; rebuild the index")
    tok = manifest.get("tokenizer", {})
    if tok.get("name") != tokenizer.name or tok.get("dictionary_sha256") != tokenizer.dictionary_hash:
        raise IndexFormatError(f"{where}: built with a different tokenizer or dictionary; rebuild the index")
    model = manifest.get("model", {})
    if embedder is not None and (embedder.name != model.get("name") or embedder.dim != model.get("dim")):
        raise IndexFormatError(
            f"{where}: built with model {model.get('name')} ({model.get('dim')}d), not {embedder.name} ({embedder.dim}d); "
            "rebuild the index with this model")
