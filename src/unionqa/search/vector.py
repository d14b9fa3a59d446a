"""Dense vectors in FAISS: exact inner product (normalized embeddings → cosine), HNSW at scale; memory-mapped on load."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import numpy as np

from unionqa.config import hnsw_ef_search


class VectorIndex:
    """A FAISS IndexFlatIP over L2-normalized float32 vectors of retrieval units.

    A chunk is embedded as a whole and, when it has several sentences, also as windows
    of two sentences (prefixed with the section title): a fact stated in one sentence is
    found by its window even when the rest of the chunk is about something else.
    ``owners[u]`` is the chunk row of unit ``u``; a chunk scores the max over its units.
    """

    FILES = ("vectors.faiss", "vector_owners.npy")

    def __init__(self, index, owners: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        self.index = index
        self.owners = np.asarray(owners, dtype=np.int64)
        self.n_chunks = int(self.owners.max()) + 1 if len(self.owners) else 0
        self._unit_starts: np.ndarray | None = None  # owners are in row order: row r owns units [starts[r], starts[r+1])
        self.ef_search = hnsw_ef_search()  # HNSW search depth: as set at build; a load sets the one saved with the index

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray | None = None, ann_threshold: int | None = None) -> VectorIndex:
        """Exact search up to ``ann_threshold`` vectors (default ``UNIONQA_ANN_THRESHOLD``, 200k), HNSW beyond."""
        import faiss

        from unionqa.config import HNSW_EF_CONSTRUCTION, HNSW_M
        from unionqa.config import ann_threshold as default_threshold

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        threshold = default_threshold() if ann_threshold is None else ann_threshold
        index: Any
        if len(vectors) > threshold:
            index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(vectors)
        if owners is None:
            owners = np.arange(len(vectors))
        return cls(index, owners)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        """Number of chunks (not units) the index covers."""
        return self.n_chunks

    @property
    def n_units(self) -> int:
        return int(self.index.ntotal)

    def top(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best ``k`` chunks as (row, score); ``rows`` restricts the search. FAISS's -1 padding is dropped."""
        import faiss

        n = self.n_units
        if n == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        units_per_chunk = max(1, n // max(1, self.n_chunks))
        fetch = min(n, k * (units_per_chunk + 2))
        selector: dict[str, object] = {}
        if rows is not None:
            if len(rows) == 0:
                return []
            unit_ids = np.flatnonzero(np.isin(self.owners, rows))
            fetch = min(fetch, len(unit_ids))
            selector["sel"] = faiss.IDSelectorBatch(np.ascontiguousarray(unit_ids, dtype=np.int64))
        if hasattr(self.index, "hnsw"):
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                efSearch=max(self.ef_search, fetch), **selector)
        else:
            params = faiss.SearchParameters(**selector) if selector else None
        scores, ids = self.index.search(q, fetch, params=params) if params else self.index.search(q, fetch)
        best: dict[int, float] = {}
        for i, s in zip(ids[0], scores[0]):
            if i < 0:
                continue
            row = int(self.owners[i])
            if row not in best:
                best[row] = float(s)
        ranked = sorted(best.items(), key=lambda x: (-x[1], x[0]))
        return ranked[:k]

    def unit_vectors(self, row: int) -> np.ndarray:
        """The vectors of one chunk's units, in the order they were embedded (``chunking.embedding_units``)."""
        if self._unit_starts is None:
            self._unit_starts = np.searchsorted(self.owners, np.arange(self.n_chunks + 1))
        a, b = int(self._unit_starts[row]), int(self._unit_starts[row + 1])
        return self.index.reconstruct_n(a, b - a) if b > a else np.zeros((0, self.dim), np.float32)

    def vectors(self) -> np.ndarray:
        """All unit vectors in unit order."""
        n = self.n_units
        return self.index.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)

    def save(self, directory: Path) -> list[str]:
        import faiss

        target = directory / "vectors.faiss"
        try:
            faiss.write_index(self.index, str(target))
        except RuntimeError as e:  # FAISS reports a short write (full disk, file-size limit) as RuntimeError
            raise OSError(errno.EIO, f"FAISS could not write the file ({str(e).strip().splitlines()[-1][:120]})",
                          str(target)) from None
        np.save(directory / "vector_owners.npy", self.owners.astype(np.int64), allow_pickle=False)
        return list(self.FILES)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> VectorIndex:
        """Open saved vectors; the vector data is memory-mapped (read-only) unless ``mmap`` is false."""
        import faiss

        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(directory / "vectors.faiss"), flags)
        owners = np.load(directory / "vector_owners.npy", allow_pickle=False)
        if len(owners) != index.ntotal:
            raise ValueError("vector_owners.npy does not match vectors.faiss")
        return cls(index, owners)
