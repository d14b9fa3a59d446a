"""Hybrid retrieval: validate and normalize the query, over-fetch from BM25 and FAISS, fuse, build Hits."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from unionqa.config import MODES, RetrievalConfig
from unionqa.errors import QueryError
from unionqa.search.fusion import rrf, weighted_scores
from unionqa.search.query import PreparedQuestion, check_top_k, prepare_question
from unionqa.search.tokenize import Tokenizer, load_stopwords
from unionqa.search.translate import expand_english
from unionqa.text import normalize_for_match, split_sentences
from unionqa.types import Chunk, Hit


class LexicalChannel(Protocol):
    """The BM25 side of an index as retrieval and answering use it: ``lexical.LexicalIndex`` or
    ``milvus.channels.MilvusLexical``. ``mask`` restricts to rows (the Milvus channel filters by their documents)."""

    vocab: dict[str, int]
    idf: np.ndarray
    n_docs: int

    def top(self, tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def terms_in(self, row: int, tokens: list[str]) -> list[str]: ...


class VectorChannel(Protocol):
    """The dense side of an index: ``vector.VectorIndex`` or ``milvus.channels.MilvusVector``."""

    @property
    def dim(self) -> int: ...

    @property
    def n_units(self) -> int: ...

    def __len__(self) -> int: ...

    def top(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]: ...

    def unit_vectors(self, row: int) -> np.ndarray: ...


class HybridRetriever:
    """Searches one loaded index; safe to call from many threads at once."""

    def __init__(self, chunks: Sequence[Chunk], lexical: LexicalChannel, vector: VectorChannel, tokenizer: Tokenizer,
                 embed_query: Callable[[str], np.ndarray], config: RetrievalConfig | None = None) -> None:
        self.chunks = chunks
        self.lexical = lexical
        self.vector = vector
        self.tokenizer = tokenizer
        self.embed_query = embed_query
        self.config = config or RetrievalConfig()
        self.stopwords = load_stopwords()
        self._sentence_cache: dict[int, list[str]] = {}  # shared by request threads: guarded by _cache_lock
        self._cache_lock = threading.Lock()
        rows_by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            rows_by_doc.setdefault(c.doc_id, []).append(i)
        self._doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in rows_by_doc.items()}

    def _rows_for(self, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        if isinstance(doc_ids, str):
            doc_ids = [doc_ids]
        unknown = [d for d in doc_ids if d not in self._doc_rows]
        if unknown:
            raise QueryError(f"unknown document(s): {', '.join(map(str, unknown))}")
        if not doc_ids:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([self._doc_rows[d] for d in doc_ids]))

    def _sentences(self, row: int) -> list[str]:
        with self._cache_lock:
            cached = self._sentence_cache.get(row)
        if cached is None:
            text = self.chunks[row].text
            cached = [normalize_for_match(text[a:b]) for a, b in split_sentences(text)]
            with self._cache_lock:
                if len(self._sentence_cache) > 50_000:
                    self._sentence_cache.clear()
                self._sentence_cache[row] = cached
        return cached

    def _idf(self, tokens: Sequence[str]) -> dict[str, float]:
        return {t: float(self.lexical.idf[self.lexical.vocab[t]]) for t in set(tokens) if t in self.lexical.vocab}

    def proximity(self, row: int, idf: dict[str, float]) -> float:
        """Largest share of the query's IDF mass (``idf``: term → IDF) that one sentence of the chunk contains."""
        total = sum(idf.values())
        if total <= 0:
            return 0.0
        best = 0.0
        for sent in self._sentences(row):
            best = max(best, sum(v for t, v in idf.items() if t in sent))
        return best / total

    def _rerank(self, fused: list[tuple[int, float]], tokens: Sequence[str], cfg: RetrievalConfig) -> list[tuple[int, float]]:
        head, tail = fused[:cfg.rerank_depth], fused[cfg.rerank_depth:]
        top = head[0][1] or 1.0
        idf = self._idf(tokens)
        rescored = [(row, s / top + cfg.proximity_weight * self.proximity(row, idf)) for row, s in head]
        rescored.sort(key=lambda x: (-x[1], x[0]))
        floor = rescored[-1][1] if rescored else 0.0
        # anything beyond the re-ranked head keeps its order, below the head
        return rescored + [(row, min(floor, s / top) - 1.0) for row, s in tail]

    def _rendering(self, prepared: PreparedQuestion) -> list[str]:
        """An English question's Chinese index terms (CC-CEDICT, ``translate.expand_english``); [] otherwise."""
        if not (prepared.english and prepared.tokens):
            return []
        return expand_english(prepared.text, self.lexical.vocab, self.stopwords)

    def _vector(self, text: str, rendering: Sequence[str], asked: np.ndarray | None = None) -> np.ndarray:
        v = self.embed_query(text) if asked is None else asked
        w = self.config.english_rendering_weight
        if not rendering or not w:
            return v
        # the model places union vocabulary asked in English far from the Chinese passages (our own English
        # questions: no gold passage in the English embedding's dense top 5), but the same question rendered as
        # Chinese dictionary terms lands near them; the sum keeps the English reading (README "English questions")
        both = v + w * self.embed_query("".join(dict.fromkeys(rendering)))
        norm = float(np.linalg.norm(both))
        return (both / norm).astype(np.float32) if norm > 0 else v

    def query_vector(self, query: str | PreparedQuestion, asked: np.ndarray | None = None) -> np.ndarray:
        """The dense channel's vector for ``query``: its embedding (``asked``, when the caller has it); for an
        English question, the sum with the embedding of its Chinese rendering (``english_rendering_weight``),
        normalized — what ``search`` searches with. Answering keeps ``asked``: its similarities and the
        answerability fit stay those of the question as asked."""
        prepared = prepare_question(query, self.tokenizer.tokenize)
        return self._vector(prepared.text, self._rendering(prepared), asked)

    def search(self, query: str | PreparedQuestion, top_k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None,
               fetch_k: int | None = None, query_vector: np.ndarray | None = None) -> list[Hit]:
        """Hits for ``query`` (text, or a question ``ask`` prepared once); ``query_vector`` is its embedding when
        the caller already has it (an English question's rendering is added here, as :meth:`query_vector` does)."""
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        prepared = prepare_question(query, self.tokenizer.tokenize)
        q, tokens, english = prepared.text, list(prepared.tokens), prepared.english
        k = check_top_k(top_k, len(self.chunks))
        rows = self._rows_for(doc_ids)
        rendering = self._rendering(prepared)
        tokens = tokens + rendering
        if not tokens or k == 0:
            return []  # only punctuation / stop words: nothing can honestly match
        cfg = self.config
        depth = max(fetch_k or cfg.fetch_k, k)
        lex: list[tuple[int, float]] = []
        dense: list[tuple[int, float]] = []
        if mode in ("hybrid", "lexical"):
            mask = None
            if rows is not None:
                mask = np.zeros(len(self.chunks), dtype=bool)
                mask[rows] = True
            lex = self.lexical.top(tokens, depth, mask)
        if mode in ("hybrid", "dense"):
            dense = self.vector.top(self._vector(q, rendering, query_vector), depth, rows)
        if mode == "lexical":
            fused = lex
        elif mode == "dense":
            fused = dense
        else:
            wl = cfg.non_cjk_lexical_weight if english else cfg.lexical_weight
            if cfg.fusion == "weighted":
                fused = weighted_scores([lex, dense], [wl, cfg.dense_weight])
            else:
                fused = rrf([lex, dense], [wl, cfg.dense_weight], cfg.rrf_k)
            if cfg.proximity_weight and fused:
                fused = self._rerank(fused, tokens, cfg)
        lex_rank = {r: (i, s) for i, (r, s) in enumerate(lex, start=1)}
        dense_rank = {r: (i, s) for i, (r, s) in enumerate(dense, start=1)}
        hits = []
        for rank, (row, score) in enumerate(fused[:k], start=1):
            c = self.chunks[row]
            lr = lex_rank.get(row)
            dr = dense_rank.get(row)
            hits.append(Hit(
                chunk_id=c.chunk_id, doc_id=c.doc_id, breadcrumb=c.breadcrumb, text=c.text, span=c.span,
                score=float(score), rank=rank,
                lexical_rank=lr[0] if lr else None, lexical_score=lr[1] if lr else None,
                dense_rank=dr[0] if dr else None, dense_score=dr[1] if dr else None,
                kind=c.kind, matched_terms=tuple(self.lexical.terms_in(row, tokens)),
                page=c.page, page_end=c.page_end, ocr=c.ocr,
            ))
        return hits
