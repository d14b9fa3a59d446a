"""Search channels served by a Milvus collection: BM25 as sparse inner product, dense vectors by inner product.

They answer ``retrieval.LexicalChannel`` / ``VectorChannel`` exactly as the local ``LexicalIndex`` and
``VectorIndex`` do — (row, score) best first, ties by row — so fusion, re-ranking and answering are the
project's own code on either store.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from unionqa.ingest.chunking import index_text
from unionqa.search.tokenize import Tokenizer
from unionqa.store.milvus.collection import MAX_TOPK, doc_filter, guarded
from unionqa.types import Chunk


def _doc_ids(chunks: Sequence[Chunk], rows: np.ndarray | None) -> list[str] | None:
    """The documents of the rows a search is restricted to (retrieval restricts by document)."""
    if rows is None:
        return None
    return sorted({chunks[int(r)].doc_id for r in rows})


def _ranked(hits: list[dict[str, Any]], k: int) -> list[tuple[int, float]]:
    """(chunk row, score), best first, ties by row (as the local channels). Each search returns a row once: the
    sparse search reads only unit 0 of each chunk, the dense one groups by chunk."""
    return sorted(((int(h["entity"]["chunk_row"]), float(h["distance"])) for h in hits), key=lambda x: (-x[1], x[0]))[:k]


class MilvusLexical:
    """BM25 over the collection's sparse field: query = the question's term counts, stored = idf × saturated tf.

    ``vocab`` and ``idf`` (loaded with the index) serve the re-ranker and the answer step, as the local index's.
    """

    def __init__(self, client: Any, collection: str, vocab: dict[str, int], idf: np.ndarray, chunks: Sequence[Chunk],
                 tokenizer: Tokenizer) -> None:
        self.client, self.collection = client, collection
        self.vocab = vocab
        self.idf = idf
        self.n_docs = len(chunks)
        self._chunks = chunks
        self._tokenizer = tokenizer
        self._terms: dict[int, frozenset[str]] = {}
        self._lock = threading.Lock()

    def query_vector(self, tokens: Sequence[str]) -> dict[int, float]:
        return {self.vocab[t] + 1: float(n) for t, n in Counter(t for t in tokens if t in self.vocab).items()}

    def top(self, tokens: Sequence[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        q = self.query_vector(tokens)
        if not q or k <= 0:
            return []
        docs = _doc_ids(self._chunks, None if mask is None else np.flatnonzero(mask))
        if docs == []:
            return []
        res = guarded(self.collection, self.client.search, self.collection, data=[q], anns_field="sparse",
                      limit=min(k, MAX_TOPK), filter="unit == 0 and chunk_row >= 0" + doc_filter(docs),
                      output_fields=["chunk_row"], search_params={"metric_type": "IP"})
        return [(r, s) for r, s in _ranked(list(res[0]), k) if s > 0]

    def terms_in(self, row: int, tokens: Sequence[str]) -> list[str]:
        """Which of ``tokens`` occur in chunk ``row``: the chunk's indexed text tokenized as at build time."""
        with self._lock:
            terms = self._terms.get(row)
        if terms is None:
            terms = frozenset(self._tokenizer.tokenize(index_text(self._chunks[row])))
            with self._lock:
                if len(self._terms) > 50_000:
                    self._terms.clear()
                self._terms[row] = terms
        return [t for t in dict.fromkeys(tokens) if t in terms]


class MilvusVector:
    """Dense search over the collection's unit vectors; a chunk scores the best of its units (as ``VectorIndex``)."""

    CACHE_ROWS = 4096

    def __init__(self, client: Any, collection: str, dim: int, n_units: int, chunks: Sequence[Chunk], hnsw: bool,
                 ef_search: int) -> None:
        self.client, self.collection = client, collection
        self._dim, self._n_units, self.n_chunks, self.hnsw = dim, n_units, len(chunks), hnsw
        self.ef_search = ef_search  # the HNSW search depth saved with the index
        self._chunks = chunks
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()  # row → unit vectors, least recently used first
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def n_units(self) -> int:
        return self._n_units

    def __len__(self) -> int:
        return self.n_chunks

    def top(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best ``k`` chunks: a grouping search on ``chunk_row`` returns each chunk's best unit (exact where the
        local index over-fetches units; the same ranks on dev and CMRC, README "Milvus store")."""
        if self._n_units == 0 or k <= 0:
            return []
        docs = _doc_ids(self._chunks, rows)
        if docs == []:
            return []
        limit = min(k, MAX_TOPK)
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.hnsw:
            params["params"] = {"ef": max(self.ef_search, limit * 4)}
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        res = guarded(self.collection, self.client.search, self.collection, data=[q.tolist()], anns_field="dense",
                      limit=limit, group_by_field="chunk_row", filter="chunk_row >= 0" + doc_filter(docs),
                      output_fields=["chunk_row"], search_params=params)
        return _ranked(list(res[0]), k)

    def prefetch(self, rows: Sequence[int]) -> None:
        """Read the unit vectors of ``rows`` in one query (``Index.ask`` calls this with its hits before answering,
        which reads them chunk by chunk)."""
        with self._lock:
            todo = sorted({int(r) for r in rows} - set(self._cache))
        if not todo:
            return
        res = guarded(self.collection, self.client.query, self.collection,
                      filter=f"chunk_row in [{', '.join(map(str, todo))}]", output_fields=["id", "chunk_row", "dense"],
                      limit=MAX_TOPK)
        by_row: dict[int, list[tuple[int, list[float]]]] = {r: [] for r in todo}
        for r in res:
            by_row.setdefault(int(r["chunk_row"]), []).append((int(r["id"]), r["dense"]))
        with self._lock:
            for row, units in by_row.items():
                self._remember(row, np.asarray([v for _, v in sorted(units)], dtype=np.float32).reshape(-1, self._dim))

    def _remember(self, row: int, vectors: np.ndarray) -> None:
        self._cache[row] = vectors
        self._cache.move_to_end(row)
        while len(self._cache) > self.CACHE_ROWS:
            self._cache.popitem(last=False)

    def unit_vectors(self, row: int) -> np.ndarray:
        """The vectors of one chunk's units, in the order they were embedded."""
        with self._lock:
            cached = self._cache.get(int(row))
        if cached is None:
            self.prefetch([row])
            with self._lock:
                cached = self._cache.get(int(row))
        return cached if cached is not None else np.zeros((0, self._dim), np.float32)
