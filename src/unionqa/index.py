"""The Index facade: build, load, search and ask over one index directory."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .chunking import chunk_document, embedding_units, index_text
from .config import FORMAT_VERSION, AnswerConfig, ChunkingConfig, RetrievalConfig
from .documents import MAX_FILE_BYTES, iter_source_files, read_document
from .embedding import Embedder, load_embedder
from .errors import DocumentError, EmptyCorpusError, IndexFormatError, IndexWriteError, UnionQAError
from .lexical import LexicalIndex
from .query import check_top_k, prepare_query
from .retrieval import HybridRetriever
from .storage import build_lock, cleanup, current_generation, new_generation, publish, read_manifest, write_manifest
from .tokenize import JiebaTokenizer, Tokenizer
from .types import Answer, Chunk, Document, Hit
from .vector import VectorIndex

if TYPE_CHECKING:
    from .answer import AnswerContext

Progress = Callable[[str, int, int], None]


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Index:
    """One searchable index: chunks in row order, BM25, FAISS, and the model that made it.

    Build with :meth:`build`, open with :meth:`load`; :meth:`search` and :meth:`ask` are
    thread-safe. The embedding model is loaded lazily, once per process.
    """

    def __init__(self, index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], documents: dict[str, dict[str, Any]],
                 lexical: LexicalIndex, vector: VectorIndex, tokenizer: Tokenizer, embedder: Embedder | None = None,
                 generation: Path | None = None, retrieval: RetrievalConfig | None = None,
                 document_texts: dict[str, _DocumentText] | None = None) -> None:
        self.index_dir = index_dir
        self.generation = generation or index_dir
        self.manifest = manifest
        self.chunks = chunks
        self.documents = documents
        self._document_texts = document_texts or {}  # doc_id → text left on disk (records loaded without it)
        self.lexical = lexical
        self.vector = vector
        self.tokenizer = tokenizer
        # nothing the index owns refers back to it (no reference cycle: a replaced index is freed at once)
        self._model = _LazyEmbedder(str(manifest["model"]["name"]), embedder)
        self.retriever = HybridRetriever(chunks, lexical, vector, tokenizer, self._model.embed_query, retrieval)
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
        """The query vector search and ask use for ``text`` (already prepared): the retriever's embedding function."""
        return self.retriever.embed_query(text)

    # ---- build -------------------------------------------------------------------------
    @classmethod
    def build(cls, sources: Sequence[str | Path], index_dir: str | Path, *, model: str | None = None,
              embedder: Embedder | None = None, chunking: ChunkingConfig | None = None,
              progress: Progress | None = None, skip_bad: bool = False, wait_for_lock: bool = False,
              warn: Callable[[str], None] | None = None, _hook: Callable[[str], None] | None = None) -> Index:
        """Read ``sources`` (files and folders of .txt/.md), build, and publish atomically to ``index_dir``.

        Vectors of chunks whose indexed text is unchanged since the live generation (same
        model) are reused instead of re-embedded. Raises DocumentError for an undecodable file
        (unless ``skip_bad``), EmptyCorpusError when nothing indexable is left.
        """
        index_dir = Path(index_dir)
        chunking = chunking or ChunkingConfig()
        warn = warn or (lambda msg: None)
        hook = _hook or (lambda stage: None)
        timings: dict[str, float] = {}
        with build_lock(index_dir, wait=wait_for_lock):
            t0 = time.perf_counter()
            files = iter_source_files(list(sources))
            docs: list[Document] = []
            seen_hash: dict[str, str] = {}
            skipped: list[str] = []
            used_ids: set[str] = set()
            for i, f in enumerate(files):
                try:
                    doc_id = f.name if f.name not in used_ids else str(f)
                    d = read_document(f, doc_id=doc_id)
                except DocumentError as e:
                    if not skip_bad:
                        raise
                    skipped.append(str(e))
                    warn(f"skipped: {e}")
                    continue
                if not d.text.strip():
                    warn(f"skipped: {f}: empty file")
                    continue
                if d.sha256 in seen_hash:
                    warn(f"skipped: {f}: same content as {seen_hash[d.sha256]}")
                    continue
                seen_hash[d.sha256] = d.doc_id
                used_ids.add(d.doc_id)
                docs.append(d)
                if progress:
                    progress("read", i + 1, len(files))
            if not docs:
                raise EmptyCorpusError("no indexable text in the sources (all files empty, duplicate or unreadable)")
            timings["read"] = time.perf_counter() - t0

            t = time.perf_counter()
            chunks = [c for d in docs for c in chunk_document(d, chunking)]
            if not chunks:
                raise EmptyCorpusError("the sources contain no text to index")
            timings["chunk"] = time.perf_counter() - t
            hook("chunked")

            t = time.perf_counter()
            tokenizer = JiebaTokenizer()
            texts = [index_text(c) for c in chunks]
            tokens = []
            for i, tx in enumerate(texts):
                tokens.append(tokenizer.tokenize(tx))
                if progress and (i % 50 == 0 or i == len(texts) - 1):
                    progress("tokenize", i + 1, len(texts))
            lexical = LexicalIndex.build(tokens)
            timings["tokenize"] = time.perf_counter() - t

            t = time.perf_counter()
            emb = embedder or load_embedder(model)
            reuse = cls._previous_vectors(index_dir, emb.name)
            units: list[str] = []
            owner_list: list[int] = []
            for row, c in enumerate(chunks):
                for u in embedding_units(c):
                    units.append(u)
                    owner_list.append(row)
            owners = np.asarray(owner_list, dtype=np.int64)
            vectors = np.zeros((len(units), emb.dim), dtype=np.float32)
            todo = [i for i, tx in enumerate(units) if _text_key(tx) not in reuse]
            for i, tx in enumerate(units):
                v = reuse.get(_text_key(tx))
                if v is not None:
                    vectors[i] = v
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress("embed", done, len(todo))

            if todo:
                vectors[todo] = emb.embed_documents([units[i] for i in todo], progress=tick)
            elif progress:
                progress("embed", 0, 0)
            timings["embed"] = time.perf_counter() - t
            hook("embedded")

            t = time.perf_counter()
            vector = VectorIndex.build(vectors, owners)
            timings["index"] = time.perf_counter() - t

            t = time.perf_counter()
            gen = new_generation(index_dir)
            try:
                documents = {d.doc_id: {"doc_id": d.doc_id, "title": d.title, "path": d.path, "sha256": d.sha256,
                                        "encoding": d.encoding, "articles": d.articles, "text": d.text} for d in docs}
                files_written = cls._write_files(gen, chunks, documents, lexical, vector, hook)
                corpus = hashlib.sha256("".join(sorted(d.sha256 for d in docs)).encode()).hexdigest()
                manifest = {
                    "format_version": FORMAT_VERSION,
                    "writer": f"unionqa {__version__}",
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "model": {"name": emb.name, "dim": emb.dim},
                    "tokenizer": {"name": tokenizer.name, "dictionary_sha256": tokenizer.dictionary_hash},
                    "chunking": chunking.as_dict(),
                    "counts": {"documents": len(docs), "articles": sum(len(d.articles) for d in docs),
                               "chunks": len(chunks), "vocabulary": len(lexical.vocab),
                               "vector_units": len(units), "embedded": len(todo),
                               "reused_vectors": len(units) - len(todo)},
                    "corpus_sha256": corpus,
                    "skipped": skipped,
                }
                write_manifest(gen, manifest, files_written)
                hook("written")
                timings["write"] = time.perf_counter() - t
                final = publish(index_dir, gen)
            except OSError as e:
                # disk full, quota, I/O error: drop the partial generation; CURRENT still names the old one
                shutil.rmtree(gen, ignore_errors=True)
                raise IndexWriteError(f"{e.filename or gen}: {e.strerror or e}; the previous index is still served") from None
            cleanup(index_dir)
            manifest["timings"] = timings
        ix = cls(index_dir, manifest, chunks, documents, lexical, vector, tokenizer, emb, generation=final)
        return ix

    @staticmethod
    def _previous_vectors(index_dir: Path, model_name: str) -> dict[str, np.ndarray]:
        """Vectors of the live generation keyed by indexed-text hash, when it used the same model."""
        try:
            gen = current_generation(index_dir, missing_ok=True)
            if gen is None:
                return {}
            manifest = read_manifest(gen, verify=True, required=DATA_FILES)
            if manifest.get("model", {}).get("name") != model_name:
                return {}
            chunks = _read_chunks(gen / "chunks.jsonl")
            vecs = VectorIndex.load(gen).vectors()
            units = [u for c in chunks for u in embedding_units(c)]
            if len(units) != len(vecs):
                return {}
        except (UnionQAError, OSError, ValueError, KeyError, RuntimeError) as e:  # RuntimeError: faiss
            # a damaged or foreign old index only means nothing is reused; say why everything is re-embedded
            logging.getLogger("unionqa").warning("not reusing vectors of the previous index (%s: %s); "
                                                 "embedding every chunk", type(e).__name__, e)
            return {}
        return {_text_key(u): vecs[i] for i, u in enumerate(units)}

    @staticmethod
    def _write_files(gen: Path, chunks: list[Chunk], documents: dict[str, dict[str, Any]], lexical: LexicalIndex,
                     vector: VectorIndex, hook: Callable[[str], None]) -> list[str]:
        with open(gen / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        hook("wrote chunks.jsonl")
        with open(gen / "documents.jsonl", "w", encoding="utf-8") as f:
            for d in documents.values():
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        hook("wrote documents.jsonl")
        files = ["chunks.jsonl", "documents.jsonl"]
        files += lexical.save(gen)
        hook("wrote lexical")
        files += vector.save(gen)
        hook("wrote vectors")
        return files

    # ---- load --------------------------------------------------------------------------
    @classmethod
    def load(cls, index_dir: str | Path, *, embedder: Embedder | None = None, verify: bool = True,
             retrieval: RetrievalConfig | None = None) -> Index:
        """Open the live generation of ``index_dir``, checking manifest, checksums and compatibility."""
        index_dir = Path(index_dir)
        if not index_dir.exists():
            raise IndexFormatError(f"{index_dir}: no such index directory (build one with `unionqa build`)")
        for attempt in range(3):
            gen = current_generation(index_dir)
            try:
                return cls._load_generation(index_dir, gen, embedder, verify, retrieval)  # type: ignore[arg-type]
            except IndexFormatError:
                # a build may have switched CURRENT and removed this generation while we read it
                if attempt == 2 or gen is None or gen.exists() and current_generation(index_dir) == gen:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_generation(cls, index_dir: Path, gen: Path, embedder: Embedder | None, verify: bool,
                         retrieval: RetrievalConfig | None) -> Index:
        assert gen is not None
        manifest = read_manifest(gen, verify=verify, required=DATA_FILES)
        tokenizer = JiebaTokenizer()
        tok = manifest.get("tokenizer", {})
        if tok.get("name") != tokenizer.name or tok.get("dictionary_sha256") != tokenizer.dictionary_hash:
            raise IndexFormatError(f"{gen}: built with a different tokenizer or dictionary; rebuild the index")
        model = manifest.get("model", {})
        if embedder is not None and (embedder.name != model.get("name") or embedder.dim != model.get("dim")):
            raise IndexFormatError(
                f"{gen}: built with model {model.get('name')} ({model.get('dim')}d), not {embedder.name} ({embedder.dim}d); "
                "rebuild the index with this model")
        try:
            chunks = _read_chunks(gen / "chunks.jsonl")
            documents, texts = _read_documents(gen / "documents.jsonl")
            lexical = LexicalIndex.load(gen)
            vector = VectorIndex.load(gen)
        except (ValueError, KeyError, OSError, RuntimeError) as e:
            raise IndexFormatError(f"{gen}: damaged ({type(e).__name__}); rebuild the index") from None
        counts = manifest.get("counts")
        if not (isinstance(counts, dict) and len(chunks) == lexical.n_docs == len(vector) == counts.get("chunks")):
            raise IndexFormatError(f"{gen}: chunk, BM25 and vector counts disagree; rebuild the index")
        if vector.dim != model.get("dim"):
            raise IndexFormatError(f"{gen}: vectors are {vector.dim}d but the manifest says {model.get('dim')}d; rebuild")
        return cls(index_dir, manifest, chunks, documents, lexical, vector, tokenizer, embedder, generation=gen,
                   retrieval=retrieval, document_texts=texts)

    # ---- query -------------------------------------------------------------------------
    def search(self, query: str, top_k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None) -> list[Hit]:
        """Passages for ``query``, best first. ``mode``: hybrid (default), dense or lexical.

        Raises QueryError for an empty query, a bad mode, ``top_k`` < 1 or not an integer, or an
        unknown ``doc_ids`` entry. ``top_k`` above the index size returns every match there is.
        """
        return self.retriever.search(query, top_k=top_k, mode=mode, doc_ids=doc_ids)

    def ask(self, question: str, top_k: int = 5, mode: str = "hybrid", doc_ids: Sequence[str] | None = None,
            use_llm: bool | None = None, config: AnswerConfig | None = None) -> Answer:
        """Answer ``question`` from the documents with cited sentences, or abstain.

        ``use_llm``: None uses the LLM configured by ``UNIONQA_LLM_*`` if any; ``config`` overrides
        the answer settings (``AnswerConfig``). Raises QueryError as :meth:`search` does (empty
        question, bad mode, ``top_k`` not a positive integer).
        """
        from .answer import OpenAICompatibleGenerator, answer

        check_top_k(top_k, len(self.chunks))  # the same contract and messages as search
        cfg = config or AnswerConfig()
        if self.model_name != cfg.calibrated_model:
            cfg = replace(cfg, answerable_weights=None, semantic_weight=0.0)
        q = prepare_query(question)
        qvec = self.embed_query(q)
        hits = self.retriever.search(q, top_k=max(top_k, cfg.passages), mode=mode, doc_ids=doc_ids, query_vector=qvec)
        generator = OpenAICompatibleGenerator.from_env() if use_llm is not False else None
        return answer(question, hits, self.answer_context, cfg, query_vector=qvec, generator=generator)

    @property
    def answer_context(self) -> AnswerContext:
        """What answering reads from this index (built once)."""
        with self._context_lock:  # request threads share one context
            if self._answer_context is None:
                self._answer_context = self._make_answer_context()
        return self._answer_context

    def _make_answer_context(self) -> AnswerContext:
        from .answer import AnswerContext

        # closures over the parts, never over self (see __init__)
        rows, documents, texts, vector = self._by_id, self.documents, self._document_texts, self.vector
        return AnswerContext(
            tokenize=self.tokenizer.tokenize, vocab=self.lexical.vocab, idf=self.lexical.idf,
            stopwords=self.retriever.stopwords, document_text=lambda doc_id: _text_of(documents, texts, doc_id),
            document_title=lambda doc_id: str(documents.get(doc_id, {}).get("title") or doc_id),
            unit_vectors=lambda chunk_id: vector.unit_vectors(rows[chunk_id]))

    def chunk(self, chunk_id: str) -> Chunk:
        return self.chunks[self._by_id[chunk_id]]

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
            "index_dir": str(self.index_dir), "generation": self.generation.name,
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


def _text_of(documents: dict[str, dict[str, Any]], texts: dict[str, _DocumentText], doc_id: str) -> str:
    d = documents[doc_id]
    return str(d["text"]) if "text" in d else texts[doc_id].text()


# the files of index format v2 (manifest "files" must list exactly these)
DATA_FILES = frozenset(("chunks.jsonl", "documents.jsonl", *LexicalIndex.FILES, *VectorIndex.FILES))
# a chunk is at most hard_max_chars (800) plus its headings: a record far past that is not one of ours, and
# one 100 MB chunk would make every question that touches it slow and huge (issue 12 item 11)
MAX_CHUNK_RECORD_BYTES = 64 * 1024
# documents.jsonl holds each decoded source (≤ 64 MiB a file) as JSON
MAX_DOCUMENT_RECORD_BYTES = 4 * MAX_FILE_BYTES


def _bounded_lines(f: Any, limit: int, path: Path) -> Iterator[bytes]:
    """The lines of binary file ``f``; IndexFormatError for one over ``limit`` bytes, without reading past it."""
    while line := f.readline(limit + 1):
        if len(line) > limit:
            raise IndexFormatError(f"{path}: a record over {limit} bytes, not one this index wrote; rebuild the index")
        yield line


def _read_chunks(path: Path) -> list[Chunk]:
    out = []
    shared: dict[str, str] = {}  # one string object per distinct doc_id / heading (saves ~200 B a chunk)
    with open(path, "rb") as f:
        for line in _bounded_lines(f, MAX_CHUNK_RECORD_BYTES, path):
            d = json.loads(line)
            crumb, span, kind = d["breadcrumb"], d["span"], d.get("kind", "body")
            if not (isinstance(d["chunk_id"], str) and isinstance(d["doc_id"], str) and isinstance(d["text"], str)
                    and isinstance(kind, str) and isinstance(crumb, list) and all(isinstance(b, str) for b in crumb)
                    and isinstance(span, list) and len(span) == 2 and all(type(x) is int for x in span)):
                raise IndexFormatError(f"{path}: a record with fields of the wrong type; rebuild the index")
            out.append(Chunk(d["chunk_id"], shared.setdefault(d["doc_id"], d["doc_id"]),
                             tuple(shared.setdefault(b, b) for b in crumb), d["text"], (span[0], span[1]),
                             shared.setdefault(kind, kind)))
    return out


class _DocumentText:
    """A document's text left on disk: one line of documents.jsonl, read when needed.

    The file stays open, so the text remains readable after a later build removes the generation.
    """

    def __init__(self, file: Any, offset: int, length: int) -> None:
        self._file, self._offset, self._length = file, offset, length

    def text(self) -> str:
        raw = os.pread(self._file.fileno(), self._length, self._offset)
        return str(json.loads(raw)["text"])


def _read_documents(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, _DocumentText]]:
    """Document records without their text, and a reader of each text (see Index.document_text)."""
    documents: dict[str, dict[str, Any]] = {}
    texts: dict[str, _DocumentText] = {}
    f = open(path, "rb")  # noqa: SIM115 - lives as long as the readers that use it
    offset = 0
    for line in _bounded_lines(f, MAX_DOCUMENT_RECORD_BYTES, path):
        d = json.loads(line)
        text = d.pop("text", None) if isinstance(d, dict) else None
        if not isinstance(text, str) or not isinstance(d.get("doc_id"), str):
            raise IndexFormatError(f"{path}: a record with fields of the wrong type; rebuild the index")
        documents[d["doc_id"]] = d
        texts[d["doc_id"]] = _DocumentText(f, offset, len(line))
        offset += len(line)
    return documents, texts


__all__ = ["Index"]
