"""Where an index lives: the ``Store`` protocol and ``LocalStore``, a local directory of generations (the default);
``milvus.store.MilvusStore`` is the other store, ``locations.open_store`` picks one for a location.

``Index`` talks to a store through one small interface — lock, read the live documents and vectors for an
incremental build, write and publish a generation, load the live one — so search, ask, add and remove are
the same code whichever store holds the index.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import build as stages
from .config import ChunkingConfig
from .embedding import Embedder
from .errors import IndexFormatError
from .lexical import LexicalIndex
from .records import DATA_FILES, TextSource, read_chunks, read_documents
from .retrieval import LexicalChannel, VectorChannel
from .storage import build_lock, cleanup, current_generation, read_manifest
from .tokenize import JiebaTokenizer, Tokenizer
from .types import Chunk, Document
from .vector import VectorIndex


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
              tokenizer: JiebaTokenizer, emb: Embedder, chunking: ChunkingConfig,
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


class LocalStore:
    """An index directory of generations (``storage``): the default store."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.location = str(index_dir)

    @contextlib.contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        with build_lock(self.index_dir, wait=wait):
            yield

    def live(self) -> str | None:
        gen = current_generation(self.index_dir, missing_ok=True)
        return gen.name if gen is not None else None

    def stored_documents(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Document]]:
        return stages.stored_documents(self.index_dir)

    def previous_vectors(self, model_name: str) -> dict[str, np.ndarray]:
        return stages.previous_vectors(self.index_dir, model_name)

    def previous_records(self) -> dict[str, dict[str, Any]]:
        return stages.previous_records(self.index_dir)

    def uploads_dir(self) -> Path:
        return self.index_dir / "uploads"

    def feedback_file(self) -> Path:
        """Users' 👍/👎 next to the index directory, not in it (a rebuild or a copy of the index never carries it)."""
        return self.index_dir.parent / f"{self.index_dir.name}.feedback.jsonl"

    def write(self, docs: list[Document], skipped: list[str], chunks: list[Chunk],
              documents: dict[str, dict[str, Any]], lexical: LexicalIndex, embedded: stages.Embedded,
              tokenizer: JiebaTokenizer, emb: Embedder, chunking: ChunkingConfig,
              hook: Callable[[str], None], timings: dict[str, float]) -> Loaded:
        t = time.perf_counter()
        vector = VectorIndex.build(embedded.vectors, embedded.owners)
        timings["index"] = time.perf_counter() - t
        manifest, final = stages.write_generation(self.index_dir, docs, skipped, chunks, documents, lexical, vector,
                                                 tokenizer, emb, embedded.embedded, chunking, hook)
        cleanup(self.index_dir)
        return Loaded(manifest, chunks, documents, lexical, vector, final.name, final)

    def load(self, embedder: Embedder | None, verify: bool = True) -> Loaded:
        if not self.index_dir.exists():
            raise IndexFormatError(f"{self.index_dir}: no such index directory (build one with `unionqa build`)")
        for attempt in range(3):
            gen = current_generation(self.index_dir)
            assert gen is not None
            try:
                return self._load_generation(gen, embedder, verify)
            except IndexFormatError:
                # a build may have switched CURRENT and removed this generation while we read it
                if attempt == 2 or gen.exists() and current_generation(self.index_dir) == gen:
                    raise
        raise AssertionError("unreachable")

    def _load_generation(self, gen: Path, embedder: Embedder | None, verify: bool) -> Loaded:
        manifest = read_manifest(gen, verify=verify, required=DATA_FILES)
        check_manifest(manifest, str(gen), JiebaTokenizer(), embedder)
        model = manifest.get("model", {})
        try:
            chunks = read_chunks(gen / "chunks.jsonl")
            documents, texts = read_documents(gen / "documents.jsonl")
            lexical = LexicalIndex.load(gen)
            vector = VectorIndex.load(gen)
        except (ValueError, KeyError, OSError, RuntimeError) as e:
            raise IndexFormatError(f"{gen}: damaged ({type(e).__name__}); rebuild the index") from None
        counts = manifest.get("counts")
        if not (isinstance(counts, dict) and len(chunks) == lexical.n_docs == len(vector) == counts.get("chunks")):
            raise IndexFormatError(f"{gen}: chunk, BM25 and vector counts disagree; rebuild the index")
        if vector.dim != model.get("dim"):
            raise IndexFormatError(f"{gen}: vectors are {vector.dim}d but the manifest says {model.get('dim')}d; rebuild")
        return Loaded(manifest, chunks, documents, lexical, vector, gen.name, gen, dict(texts))
