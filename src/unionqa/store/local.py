"""``LocalStore``: an index as a local directory of generations (``generations``) — the default store."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from unionqa.config import ChunkingConfig, RetrievalConfig, saved_ef_search
from unionqa.errors import IndexFormatError
from unionqa.search.embedding import Embedder
from unionqa.search.lexical import LexicalIndex
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.search.vector import VectorIndex
from unionqa.store import build as stages
from unionqa.store.base import Loaded, check_manifest
from unionqa.store.generations import build_lock, cleanup, current_generation, read_manifest
from unionqa.store.records import DATA_FILES, read_chunks, read_documents
from unionqa.types import Chunk, Document


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
              tokenizer: JiebaTokenizer, emb: Embedder, chunking: ChunkingConfig, retrieval: RetrievalConfig,
              hook: Callable[[str], None], timings: dict[str, float]) -> Loaded:
        t = time.perf_counter()
        vector = VectorIndex.build(embedded.vectors, embedded.owners)
        timings["index"] = time.perf_counter() - t
        manifest, final = stages.write_generation(self.index_dir, docs, skipped, chunks, documents, lexical, vector,
                                                 tokenizer, emb, embedded.embedded, chunking, retrieval, hook)
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
        vector.ef_search = saved_ef_search(manifest)  # searched as built
        return Loaded(manifest, chunks, documents, lexical, vector, gen.name, gen, dict(texts))
