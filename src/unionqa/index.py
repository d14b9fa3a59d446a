"""The Index facade: build, load, search and ask over one index directory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from unionqa.config import AnswerConfig, ChunkingConfig, RetrievalConfig
from unionqa.conversation import Turn, resolve_followup
from unionqa.errors import EmptyCorpusError, QueryError
from unionqa.search.embedding import Embedder, load_embedder
from unionqa.search.query import check_top_k, prepare_question
from unionqa.search.retrieval import HybridRetriever
from unionqa.search.tokenize import JiebaTokenizer, Tokenizer
from unionqa.store import build as stages
from unionqa.store.base import Loaded, Store
from unionqa.store.local import LocalStore
from unionqa.store.locations import open_store
from unionqa.store.records import TextSource
from unionqa.types import Answer, Chunk, Document, Hit

if TYPE_CHECKING:
    from unionqa.answer import AnswerContext

class Index:
    """One searchable index: chunks in row order, BM25, FAISS, and the model that made it.

    Build with :meth:`build`, open with :meth:`load`; :meth:`search` and :meth:`ask` are
    thread-safe. The embedding model is loaded lazily, once per process.
    """

    def __init__(self, store: Store, loaded: Loaded, tokenizer: Tokenizer, embedder: Embedder | None = None,
                 retrieval: RetrievalConfig | None = None) -> None:
        self.store = store
        # the location as given: a local index directory (a Path, as before) or a ``milvus:…`` string
        self.index_dir: Path | str = store.index_dir if isinstance(store, LocalStore) else store.location
        self.generation_name = loaded.generation
        # the local generation directory (the Milvus store has none: the collection's name stands in)
        self.generation = loaded.path if loaded.path is not None else Path(loaded.generation)
        self.manifest = loaded.manifest
        self.chunks = chunks = loaded.chunks
        self.documents = loaded.documents
        self._document_texts = loaded.texts  # doc_id → text left on disk / in Milvus (records loaded without it)
        self.lexical = loaded.lexical
        self.vector = loaded.vector
        self.tokenizer = tokenizer
        # nothing the index owns refers back to it (no reference cycle: a replaced index is freed at once)
        self._model = _LazyEmbedder(str(loaded.manifest["model"]["name"]), embedder)
        # searched as built: the settings saved in the manifest, unless the caller gives others
        self.retriever = HybridRetriever(chunks, loaded.lexical, loaded.vector, tokenizer, self._model.embed_query,
                                         retrieval or RetrievalConfig.saved(loaded.manifest))
        self._by_id = {c.chunk_id: i for i, c in enumerate(chunks)}
        self._answer_context: AnswerContext | None = None
        self._context_lock = threading.Lock()

    # ---- model -------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return str(self.manifest["model"]["name"])

    @property
    def embedder(self) -> Embedder:
        return self._model.get()

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of ``text`` (already prepared): the retriever's embedding function. Search adds an English
        question's Chinese rendering to it (``HybridRetriever.search``); answering uses it as it is."""
        return self.retriever.embed_query(text)

    # ---- build -------------------------------------------------------------------------
    @classmethod
    def build(cls, sources: Sequence[str | Path], index_dir: str | Path, *, model: str | None = None,
              embedder: Embedder | None = None, chunking: ChunkingConfig | None = None,
              progress: stages.Progress | None = None, skip_bad: bool = False, wait_for_lock: bool = False,
              warn: Callable[[str], None] | None = None, ocr: bool = True, retrieval: RetrievalConfig | None = None,
              _hook: Callable[[str], None] | None = None) -> Index:
        """Read ``sources`` (files and folders: .txt/.md, .pdf, images, .docx, .html), build, and publish
        atomically to ``index_dir``.

        Vectors of chunks whose indexed text is unchanged since the live generation (same
        model) are reused instead of re-embedded. Raises DocumentError for an unreadable file
        (unless ``skip_bad``), EmptyCorpusError when nothing indexable is left. ``ocr``: read scanned
        PDF pages and images with OCR (off: such files are an error). ``retrieval``: the search settings saved with
        the index (default ``RetrievalConfig()``); a load searches with them.
        """
        store = open_store(index_dir)
        with store.lock(wait=wait_for_lock):
            t = time.perf_counter()
            docs, skipped = stages.read_sources(sources, skip_bad, warn or (lambda msg: None), progress, ocr=ocr)
            return cls._publish(store, docs, skipped, model, embedder, chunking or ChunkingConfig(),
                                retrieval or RetrievalConfig(), progress, _hook, {"read": time.perf_counter() - t})

    @classmethod
    def add(cls, files: Sequence[str | Path], index_dir: str | Path, *, embedder: Embedder | None = None,
            progress: stages.Progress | None = None, skip_bad: bool = False, wait_for_lock: bool = False,
            warn: Callable[[str], None] | None = None, ocr: bool = True,
            _hook: Callable[[str], None] | None = None) -> tuple[Index, list[str]]:
        """Add (or replace, by file name) documents in an existing index and publish atomically.

        The index keeps its model and chunking; only the new chunks are embedded. Returns the new
        index and the doc ids added or replaced. A file with the same content as an indexed document
        is left out (said through ``warn``).
        """
        store = open_store(index_dir)
        with store.lock(wait=wait_for_lock):
            t = time.perf_counter()
            manifest, records, kept = store.stored_documents()
            new, skipped = stages.read_sources(files, skip_bad, warn or (lambda msg: None), progress, ocr=ocr,
                                               known={d.sha256: d.doc_id for d in kept})
            names = {d.doc_id for d in new}
            docs = [d for d in kept if d.doc_id not in names] + new
            return cls._publish(store, docs, skipped, manifest["model"]["name"], embedder,
                                ChunkingConfig(**manifest["chunking"]), RetrievalConfig.saved(manifest), progress, _hook,
                                {"read": time.perf_counter() - t}, records), sorted(names)

    @classmethod
    def remove(cls, doc_ids: Sequence[str], index_dir: str | Path, *, embedder: Embedder | None = None,
               wait_for_lock: bool = False, _hook: Callable[[str], None] | None = None) -> Index:
        """Remove documents by doc id and publish atomically (nothing is re-embedded).

        Raises QueryError naming an unknown doc id, EmptyCorpusError when nothing would be left.
        """
        store = open_store(index_dir)
        with store.lock(wait=wait_for_lock):
            manifest, records, kept = store.stored_documents()
            known = {d.doc_id for d in kept}
            unknown = [d for d in doc_ids if d not in known]
            if unknown:
                raise QueryError(f"no document {unknown[0]!r} in the index (see `unionqa info`)")
            docs = [d for d in kept if d.doc_id not in set(doc_ids)]
            if not docs:
                raise EmptyCorpusError("removing these would leave the index empty; build a new index instead")
            return cls._publish(store, docs, [], manifest["model"]["name"], embedder,
                                ChunkingConfig(**manifest["chunking"]), RetrievalConfig.saved(manifest), None, _hook, {},
                                records)

    @classmethod
    def _publish(cls, store: Store, docs: list[Document], skipped: list[str], model: str | None,
                 embedder: Embedder | None, chunking: ChunkingConfig, retrieval: RetrievalConfig,
                 progress: stages.Progress | None,
                 _hook: Callable[[str], None] | None, timings: dict[str, float],
                 previous: dict[str, dict[str, Any]] | None = None) -> Index:
        """Chunk → tokenize → embed → write a generation of ``docs`` and publish it (the build lock is held).
        ``previous``: the live generation's document records when the caller has read them already."""
        hook = _hook or (lambda stage: None)

        def timed(stage: str, t: float) -> float:
            now = time.perf_counter()
            timings[stage] = now - t
            return now

        t = time.perf_counter()
        chunks = stages.chunk_all(docs, chunking)
        t = timed("chunk", t)
        hook("chunked")
        tokenizer = JiebaTokenizer()
        lexical = stages.tokenize_all(chunks, tokenizer, progress, idf=retrieval.bm25_idf)
        t = timed("tokenize", t)
        emb = embedder or load_embedder(model)
        embedded = stages.embed_all(chunks, emb, store.previous_vectors(emb.name), progress)
        t = timed("embed", t)
        hook("embedded")
        if previous is None:
            previous = store.previous_records()
        documents = stages.document_records(docs, previous)
        loaded = store.write(docs, skipped, chunks, documents, lexical, embedded, tokenizer, emb, chunking, retrieval,
                             hook, timings)
        # the store times its own "index" stage inside write: keep the two stages apart, as bench_build prints them
        timings["write"] = time.perf_counter() - t - timings.get("index", 0.0)
        loaded.manifest["timings"] = timings
        return cls(store, loaded, tokenizer, emb)

    # ---- load --------------------------------------------------------------------------
    @classmethod
    def load(cls, index_dir: str | Path, *, embedder: Embedder | None = None, verify: bool = True,
             retrieval: RetrievalConfig | None = None) -> Index:
        """Open the live generation of ``index_dir`` (a directory, or ``milvus:…``), checking manifest, checksums
        and compatibility."""
        store = open_store(index_dir)
        return cls(store, store.load(embedder, verify), JiebaTokenizer(), embedder, retrieval)

    @staticmethod
    def live_generation(index_dir: str | Path) -> str | None:
        """The name of the generation a load of ``index_dir`` would open now (None: no index)."""
        return open_store(index_dir).live()

    # ---- query -------------------------------------------------------------------------
    def search(self, query: str, top_k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """Passages for ``query``, best first. ``mode``: hybrid (default), dense or lexical.

        Raises QueryError for an empty query, a bad mode, ``top_k`` < 1 or not an integer, or an
        unknown ``doc_ids`` entry. ``top_k`` above the index size returns every match there is.
        """
        return self.retriever.search(query, top_k=top_k, mode=mode, doc_ids=doc_ids)

    def ask(self, question: str, top_k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None,
            use_llm: bool | None = None, config: AnswerConfig | None = None,
            history: Sequence[Answer | Turn] = ()) -> Answer:
        """Answer ``question`` from the documents with cited sentences, or abstain.

        ``use_llm``: None uses the LLM configured by ``UNIONQA_LLM_*`` if any; ``config`` overrides
        the answer settings (``AnswerConfig``). ``history``: the conversation's earlier answers, oldest
        first — a follow-up ("河源呢？") is answered as the question it stands for, kept in
        ``Answer.question`` (``Answer.asked`` is what was typed; see ``unionqa.conversation``).
        Raises QueryError as :meth:`search` does (empty question, bad mode, ``top_k`` not a positive integer).
        """
        return self.ask_with_passages(question, top_k, mode, doc_ids, use_llm, config, history)[0]

    def ask_with_passages(self, question: str, top_k: int = 5, mode: str = "hybrid",
                          doc_ids: Sequence[str] | None = None, use_llm: bool | None = None,
                          config: AnswerConfig | None = None,
                          history: Sequence[Answer | Turn] = ()) -> tuple[Answer, list[Hit]]:
        """:meth:`ask`, and the first ``top_k`` passages it retrieved for the question it answered (for a caller
        that lists them too: one search and one query embedding, not two)."""
        from unionqa.answer import OpenAICompatibleGenerator, answer

        check_top_k(top_k, len(self.chunks))  # the same contract and messages as search
        generator = OpenAICompatibleGenerator.from_env() if use_llm is not False else None
        typed = question
        resolution = resolve_followup(question, history, generator)
        question = resolution.question
        cfg = config or AnswerConfig()
        if self.model_name != cfg.calibrated_model:
            cfg = replace(cfg, answerable_weights=None, semantic_weight=0.0)
        prepared = prepare_question(question, self.tokenizer.tokenize)  # once: search and answering share it
        qvec = self.embed_query(prepared.text)
        hits = self.retriever.search(prepared, top_k=max(top_k, cfg.passages), mode=mode, doc_ids=doc_ids,
                                     query_vector=qvec)
        prefetch = getattr(self.vector, "prefetch", None)
        if prefetch is not None:  # a remote store: the answer step's unit vectors in one round trip
            prefetch([self._by_id[h.chunk_id] for h in hits])
        ans = answer(prepared, hits, self.answer_context, cfg, query_vector=qvec, generator=generator)
        if resolution.changed:
            ans = replace(ans, asked=typed, inherited=resolution.inherited)
        return ans, hits[:top_k]

    @property
    def answer_context(self) -> AnswerContext:
        """What answering reads from this index (built once)."""
        with self._context_lock:  # request threads share one context
            if self._answer_context is None:
                self._answer_context = self._make_answer_context()
        return self._answer_context

    def _make_answer_context(self) -> AnswerContext:
        from unionqa.answer import AnswerContext
        from unionqa.answer.reader import shipped_passage_scorer, shipped_scorer

        # closures over the parts, never over self (see __init__)
        rows, documents, texts, vector = self._by_id, self.documents, self._document_texts, self.vector
        return AnswerContext(
            tokenize=self.tokenizer.tokenize, vocab=self.lexical.vocab, idf=self.lexical.idf,
            stopwords=self.retriever.stopwords, document_text=lambda doc_id: _text_of(documents, texts, doc_id),
            document_title=lambda doc_id: str(documents.get(doc_id, {}).get("title") or doc_id),
            unit_vectors=lambda chunk_id: vector.unit_vectors(rows[chunk_id]), reader=shipped_scorer(),
            passage_reader=shipped_passage_scorer())

    def chunk(self, chunk_id: str) -> Chunk:
        return self.chunks[self._by_id[chunk_id]]

    def neighbours(self, chunk_id: str) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after ``chunk_id`` in its document (None at either end)."""
        i = self._by_id[chunk_id]
        c = self.chunks[i]

        def near(j: int) -> Chunk | None:
            return self.chunks[j] if 0 <= j < len(self.chunks) and self.chunks[j].doc_id == c.doc_id else None

        before, after = near(i - 1), near(i + 1)
        # chunks are written in document order; anything else is not a neighbour
        return (before if before and before.span[1] <= c.span[0] else None,
                after if after and after.span[0] >= c.span[1] else None)

    def document_text(self, doc_id: str) -> str:
        """The decoded text of a document (spans index into it); read from disk on demand after load."""
        return _text_of(self.documents, self._document_texts, doc_id)

    def context(self, chunk_id: str, margin: int = 400) -> tuple[str, str, str]:
        """The source text around a chunk: (before, chunk source, after)."""
        c = self.chunk(chunk_id)
        text = self.document_text(c.doc_id)
        a, b = c.span
        return text[max(0, a - margin):a], text[a:b], text[b:b + margin]

    def info(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "index_dir": str(self.index_dir), "generation": self.generation_name,
            "format_version": m["format_version"], "writer": m.get("writer"), "created_at": m.get("created_at"),
            "model": m["model"]["name"], "dim": m["model"]["dim"], "tokenizer": m["tokenizer"]["name"],
            "documents": m["counts"]["documents"], "articles": m["counts"]["articles"], "chunks": m["counts"]["chunks"],
            "vocabulary": m["counts"]["vocabulary"], "chunking": m["chunking"],
            "doc_ids": sorted(self.documents),
        }


class _LazyEmbedder:
    """An index's embedding model, loaded on first use (once per process: ``load_embedder`` caches)."""

    def __init__(self, name: str, embedder: Embedder | None) -> None:
        self.name = name
        self._embedder = embedder

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.name)  # locked and cached there: racing threads get one model
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        return self.get().embed_query(text)


def _text_of(documents: dict[str, dict[str, Any]], texts: dict[str, TextSource], doc_id: str) -> str:
    d = documents[doc_id]
    return str(d["text"]) if "text" in d else texts[doc_id].text()


__all__ = ["Index"]
