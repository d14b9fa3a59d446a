"""BM25 over a sparse term matrix; scores equal rank_bm25.BM25Okapi on the same tokens."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import sparse

IDF_METHODS = ("okapi", "lucene")


def idf_values(df: np.ndarray, n: int, method: str = "okapi", epsilon: float = 0.25) -> np.ndarray:
    """Each term's IDF from its document frequency ``df`` among ``n`` documents.

    ``okapi``: rank_bm25's BM25Okapi, ``log((n - df + 0.5) / (df + 0.5))`` with negative values (terms in more
    than half the documents: 工会, 职工) floored to ``epsilon`` × the mean IDF — which puts those common terms
    *above* rarer ones that sit just under half; ``lucene``: ``log(1 + (n - df + 0.5) / (df + 0.5))`` (Lucene's
    BM25, BM25+-like), positive and falling with ``df`` throughout."""
    df = np.asarray(df, dtype=np.float64)
    if not n:
        return np.zeros(len(df))
    if method == "lucene":
        return np.log1p((n - df + 0.5) / (df + 0.5))
    if method != "okapi":
        raise ValueError(f"BM25 IDF method must be one of {', '.join(IDF_METHODS)}, not {method!r}")
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    average_idf = float(idf.sum() / len(idf)) if len(idf) else 0.0
    idf[idf < 0] = epsilon * average_idf
    return idf


class LexicalIndex:
    """Okapi BM25 (k1, b, epsilon as in rank_bm25) with per-term weights precomputed.

    Each document's term weight ``tf*(k1+1)/(tf + k1*(1-b+b*dl/avgdl))`` is stored column-wise
    (one run of ``(row, weight)`` per term, rows ascending), so a query gathers its terms' runs
    and sums them with one ``bincount`` instead of looping over documents. IDF follows
    BM25Okapi exactly, including its flooring of negative IDFs to ``epsilon * average_idf`` (``idf="okapi"``), or
    Lucene's positive IDF (``idf="lucene"``; :func:`idf_values`). The method is saved with the index.
    Saved as plain ``.npy`` arrays that :meth:`load` memory-maps: a query reads only its terms.
    """

    FILES = ("lexical.json", "lexical_weights.npy", "lexical_rows.npy", "lexical_colptr.npy", "lexical_doc_len.npy")

    def __init__(self, vocab: dict[str, int], weights: np.ndarray, rows: np.ndarray, colptr: np.ndarray,
                 doc_len: np.ndarray, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25,
                 idf: str = "okapi") -> None:
        self.vocab = vocab
        self.k1, self.b, self.epsilon, self.idf_method = k1, b, epsilon, idf
        # plain ndarray views of memory-mapped files (np.memmap slicing costs ~1 µs a call)
        self.weights, self.rows = np.asarray(weights), np.asarray(rows)
        self.colptr = np.asarray(colptr, dtype=np.int64)
        self.doc_len = np.asarray(doc_len, dtype=np.float64)
        self.n_docs = len(self.doc_len)
        self.avgdl = float(self.doc_len.sum() / self.n_docs) if self.n_docs else 0.0
        self.idf = idf_values(np.diff(self.colptr), self.n_docs, idf, epsilon)

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75,
              epsilon: float = 0.25, idf: str = "okapi") -> LexicalIndex:
        vocab: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for doc in corpus:
            counts = Counter(doc)
            for term, c in counts.items():
                indices.append(vocab.setdefault(term, len(vocab)))
                data.append(c)
            indptr.append(len(indices))
        tf = sparse.csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
             np.asarray(indptr, dtype=np.int64)),
            shape=(len(corpus), len(vocab)),
        )
        del data, indices
        n = tf.shape[0]
        doc_len = np.asarray(tf.sum(axis=1)).ravel().astype(np.float64)
        avgdl = float(doc_len.sum() / n) if n else 0.0
        rows = np.repeat(np.arange(n), np.diff(tf.indptr))
        norm = k1 * (1 - b + b * doc_len[rows] / (avgdl or 1.0))
        del rows
        tf.data = tf.data * (k1 + 1) / (tf.data + norm)
        del norm
        w = tf.tocsc()
        w.sort_indices()
        return cls(vocab, w.data, w.indices.astype(np.int32, copy=False), w.indptr, doc_len, k1, b, epsilon, idf)

    def get_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document (float64), as BM25Okapi.get_scores would return."""
        scores = np.zeros(self.n_docs, dtype=np.float64)
        for term, count in Counter(t for t in tokens if t in self.vocab).items():
            c = self.vocab[term]
            a, b = self.colptr[c], self.colptr[c + 1]
            scores[self.rows[a:b]] += self.weights[a:b] * (self.idf[c] * count)  # rows in a run are unique
        return scores

    def top(self, tokens: Sequence[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best ``k`` (row, score) with score > 0 (documents sharing no term are never returned)."""
        scores = self.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        cand = np.flatnonzero(scores > 0)
        if len(cand) > k:
            part = np.argpartition(-scores[cand], k - 1)[:k]
            cand = cand[part]
        order = cand[np.lexsort((cand, -scores[cand]))]
        return [(int(r), float(scores[r])) for r in order[:k]]

    def terms_in(self, row: int, tokens: Sequence[str]) -> list[str]:
        """Which of ``tokens`` occur in document ``row`` (for highlighting)."""
        out = []
        for t in dict.fromkeys(tokens):
            c = self.vocab.get(t)
            if c is None:
                continue
            run = self.rows[self.colptr[c]:self.colptr[c + 1]]
            i = int(run.searchsorted(np.int32(row)))  # an int64 key would make numpy copy the whole run
            if i < len(run) and run[i] == row:
                out.append(t)
        return out

    def save(self, directory: Path) -> list[str]:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        meta = {"k1": self.k1, "b": self.b, "epsilon": self.epsilon, "idf": self.idf_method, "n_docs": self.n_docs,
                "terms": terms}
        (directory / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        for name, arr in (("weights", np.asarray(self.weights, dtype=np.float64)),
                          ("rows", np.asarray(self.rows, dtype=np.int32)), ("colptr", self.colptr),
                          ("doc_len", self.doc_len)):
            np.save(directory / f"lexical_{name}.npy", arr, allow_pickle=False)
        return list(self.FILES)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> LexicalIndex:
        """Open a saved index; the weight and row arrays are memory-mapped unless ``mmap`` is false."""
        meta = json.loads((directory / "lexical.json").read_text(encoding="utf-8"))
        mode: Literal["r"] | None = "r" if mmap else None
        weights = np.load(directory / "lexical_weights.npy", mmap_mode=mode, allow_pickle=False)
        rows = np.load(directory / "lexical_rows.npy", mmap_mode=mode, allow_pickle=False)
        colptr = np.load(directory / "lexical_colptr.npy", allow_pickle=False)
        doc_len = np.load(directory / "lexical_doc_len.npy", allow_pickle=False)
        terms = meta["terms"]
        if (len(colptr) != len(terms) + 1 or not int(colptr[-1]) == len(rows) == len(weights)
                or len(doc_len) != meta["n_docs"] or weights.dtype != np.float64 or rows.dtype != np.int32):
            raise ValueError("lexical files do not match each other")
        return cls({t: i for i, t in enumerate(terms)}, weights, rows, colptr, doc_len,
                   k1=float(meta["k1"]), b=float(meta["b"]), epsilon=float(meta["epsilon"]),
                   idf=str(meta.get("idf", "okapi")))  # an index from before the choice: okapi
