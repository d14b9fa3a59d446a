"""Building an index generation, one small stage each: read → chunk → tokenize → embed → write.

``Index.build`` runs the stages under the build lock and publishes the result; each stage is a
function of its inputs (and reports progress through the caller's callback).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unionqa.config import FORMAT_VERSION, VERSION, ChunkingConfig, RetrievalConfig, ann_settings
from unionqa.errors import DocumentError, EmptyCorpusError, IndexFormatError, IndexWriteError, UnionQAError
from unionqa.ingest.chunking import chunk_document, embedding_units, index_text
from unionqa.ingest.documents import iter_source_files, parse_document, read_document
from unionqa.search.embedding import Embedder
from unionqa.search.lexical import LexicalIndex
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.search.vector import VectorIndex
from unionqa.store.generations import current_generation, new_generation, publish, read_manifest, write_manifest
from unionqa.store.records import DATA_FILES, read_chunks, read_documents
from unionqa.types import Chunk, Document

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
Hook = Callable[[str], None]


def text_key(text: str) -> str:
    """The key a vector is reused under: the hash of the exact text that was embedded."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class Embedded:
    """The embed stage's output: one vector per embedding unit, the chunk row each belongs to."""

    vectors: np.ndarray
    owners: np.ndarray
    embedded: int  # how many were embedded now (the rest were reused)
    keys: list[str]  # ``text_key`` of each unit's text (what a later build reuses the vector under)


def read_sources(sources: Sequence[str | Path], skip_bad: bool, warn: Callable[[str], None],
                 progress: Progress | None, ocr: bool = True,
                 known: dict[str, str] | None = None) -> tuple[list[Document], list[str]]:
    """Read and parse every file; drop empty files and exact duplicates (said through ``warn``).

    ``known``: sha256 → doc id of documents already indexed (``add``): a file with the same content is
    a duplicate too. Returns the documents and the errors of skipped files (``skip_bad``; otherwise
    the first error raises).
    """
    files = iter_source_files(list(sources))
    docs: list[Document] = []
    seen_hash: dict[str, str] = dict(known or {})
    skipped: list[str] = []
    used_ids: set[str] = set()
    for i, f in enumerate(files):
        try:
            on_page = (lambda done, total: progress("page", done, total)) if progress else None
            d = read_document(f, doc_id=f.name if f.name not in used_ids else str(f), ocr=ocr, on_page=on_page)
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
    return docs, skipped


def stored_documents(index_dir: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Document]]:
    """The live generation's manifest, document records (without text) and documents, parsed again from
    their stored text.

    Parsing is a function of the text (and, for paged sources, the stored page starts), so the
    documents — and so the chunks of the ones ``add``/``remove`` leave alone — are the same as built.
    """
    gen = current_generation(index_dir)
    if gen is None:
        raise IndexFormatError(f"{index_dir}: no index to change; build one first with `unionqa build`")
    manifest = read_manifest(gen, verify=True, required=DATA_FILES)
    records, texts = read_documents(gen / "documents.jsonl")
    return manifest, records, documents_from_records(records, lambda doc_id: texts[doc_id].text())


def documents_from_records(records: dict[str, dict[str, Any]], text_of: Callable[[str], str]) -> list[Document]:
    """Documents parsed again from their stored records and text (``text_of(doc_id)``), as built."""
    docs = []
    for doc_id, r in records.items():
        pages = r.get("pages", [])
        docs.append(parse_document(doc_id, text_of(doc_id), path=str(r.get("path", "")),
                                   encoding=str(r.get("encoding", "utf-8")),
                                   pages=tuple(pages) if isinstance(pages, list) else (),
                                   ocr_pages=tuple(r.get("ocr_pages", [])), fmt=str(r.get("format", "text")),
                                   title=str(r.get("title", "")), date=str(r.get("date", ""))))
    return docs


def chunk_all(docs: list[Document], chunking: ChunkingConfig) -> list[Chunk]:
    chunks = [c for d in docs for c in chunk_document(d, chunking)]
    if not chunks:
        raise EmptyCorpusError("the sources contain no text to index")
    return chunks


def tokenize_all(chunks: list[Chunk], tokenizer: JiebaTokenizer, progress: Progress | None,
                 idf: str = "okapi") -> LexicalIndex:
    """The BM25 index of the chunks' indexed text (headings + body), with the IDF method ``idf``."""
    tokens = []
    for i, c in enumerate(chunks):
        tokens.append(tokenizer.tokenize(index_text(c)))
        if progress and (i % 50 == 0 or i == len(chunks) - 1):
            progress("tokenize", i + 1, len(chunks))
    return LexicalIndex.build(tokens, idf=idf)


def previous_vectors(index_dir: Path, model_name: str) -> dict[str, np.ndarray]:
    """Vectors of the live generation keyed by ``text_key`` of their unit, when it used the same model."""
    try:
        gen = current_generation(index_dir, missing_ok=True)
        if gen is None:
            return {}
        manifest = read_manifest(gen, verify=True, required=DATA_FILES)
        if manifest.get("model", {}).get("name") != model_name:
            return {}
        chunks = read_chunks(gen / "chunks.jsonl")
        vecs = VectorIndex.load(gen).vectors()
        units = [u for c in chunks for u in embedding_units(c)]
        if len(units) != len(vecs):
            return {}
    except (UnionQAError, OSError, ValueError, KeyError, RuntimeError) as e:  # RuntimeError: faiss
        # a damaged or foreign old index only means nothing is reused; say why everything is re-embedded
        log.warning("not reusing vectors of the previous index (%s: %s); "
                                             "embedding every chunk", type(e).__name__, e)
        return {}
    return {text_key(u): vecs[i] for i, u in enumerate(units)}


def embed_all(chunks: list[Chunk], emb: Embedder, reuse: dict[str, np.ndarray], progress: Progress | None) -> Embedded:
    """Vectors of every embedding unit (``chunking.embedding_units``): reused by text, the rest embedded."""
    units: list[str] = []
    owner_list: list[int] = []
    for row, c in enumerate(chunks):
        for u in embedding_units(c):
            units.append(u)
            owner_list.append(row)
    vectors = np.zeros((len(units), emb.dim), dtype=np.float32)
    keys = [text_key(tx) for tx in units]
    todo = []
    for i, key in enumerate(keys):
        v = reuse.get(key)
        if v is None:
            todo.append(i)
        else:
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
    return Embedded(vectors, np.asarray(owner_list, dtype=np.int64), len(todo), keys)


def chunk_record(c: Chunk) -> dict[str, Any]:
    """A chunks.jsonl line; the page fields only where a source has pages (text sources' lines are as before)."""
    d = asdict(c)
    for key, unset in (("page", None), ("page_end", None), ("ocr", False)):
        if d[key] == unset:
            del d[key]
    return d


def previous_records(index_dir: Path) -> dict[str, dict[str, Any]]:
    """The live generation's document records (without text), or {} when there is none or it is unreadable."""
    try:
        gen = current_generation(index_dir, missing_ok=True)
        return read_documents(gen / "documents.jsonl")[0] if gen is not None else {}
    except (UnionQAError, OSError, ValueError):
        return {}


def document_records(docs: list[Document], previous: dict[str, dict[str, Any]] | None = None,
                     now: str | None = None) -> dict[str, dict[str, Any]]:
    """documents.jsonl records; ``indexed_at`` carries over from ``previous`` while a document's content is unchanged
    (a record written before indexes kept the time stays without one: unknown, not the time of this build)."""
    now = now or time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out: dict[str, dict[str, Any]] = {}
    for d in docs:
        old = (previous or {}).get(d.doc_id, {})
        rec: dict[str, Any] = {"doc_id": d.doc_id, "title": d.title, "path": d.path, "sha256": d.sha256,
                               "encoding": d.encoding, "articles": d.articles}
        when = old.get("indexed_at") if old.get("sha256") == d.sha256 else now
        if when:
            rec["indexed_at"] = when
        if d.format != "text":
            # page starts, not a count: ``stored_documents`` parses the text again with them
            rec.update(format=d.format, pages=list(d.pages), ocr_pages=list(d.ocr_pages), date=d.date)
        rec["text"] = d.text
        out[d.doc_id] = rec
    return out


def write_files(gen: Path, chunks: list[Chunk], documents: dict[str, dict[str, Any]], lexical: LexicalIndex,
                vector: VectorIndex, hook: Hook) -> list[str]:
    """The data files of a generation (``hook`` is told after each, for the interruption tests)."""
    with open(gen / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(chunk_record(c), ensure_ascii=False) + "\n")
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


def new_manifest(docs: list[Document], skipped: list[str], chunks: list[Chunk], lexical: LexicalIndex, n_units: int,
                 tokenizer: JiebaTokenizer, emb: Embedder, embedded: int, chunking: ChunkingConfig,
                 retrieval: RetrievalConfig) -> dict[str, Any]:
    """The manifest of a new generation (every store writes the same one; the local store adds ``files``)."""
    corpus = hashlib.sha256("".join(sorted(d.sha256 for d in docs)).encode()).hexdigest()
    return {
        "format_version": FORMAT_VERSION,
        "writer": f"unionqa {VERSION}",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {"name": emb.name, "dim": emb.dim},
        "tokenizer": {"name": tokenizer.name, "dictionary_sha256": tokenizer.dictionary_hash},
        "chunking": chunking.as_dict(),
        # how the index is searched: saved with it, so a load searches as the build set (not the environment)
        "retrieval": asdict(retrieval),
        "ann": ann_settings(),
        "counts": {"documents": len(docs), "articles": sum(len(d.articles) for d in docs),
                   "chunks": len(chunks), "vocabulary": len(lexical.vocab),
                   "vector_units": n_units, "embedded": embedded, "reused_vectors": n_units - embedded},
        "corpus_sha256": corpus,
        "skipped": skipped,
    }


def write_generation(index_dir: Path, docs: list[Document], skipped: list[str], chunks: list[Chunk],
                     documents: dict[str, dict[str, Any]], lexical: LexicalIndex, vector: VectorIndex,
                     tokenizer: JiebaTokenizer, emb: Embedder, embedded: int, chunking: ChunkingConfig,
                     retrieval: RetrievalConfig, hook: Hook) -> tuple[dict[str, Any], Path]:
    """Write a new generation with its manifest and publish it; returns the manifest and the published path.

    Raises IndexWriteError (the partial generation removed, CURRENT untouched) on any OS error.
    """
    gen = new_generation(index_dir)
    try:
        files_written = write_files(gen, chunks, documents, lexical, vector, hook)
        manifest = new_manifest(docs, skipped, chunks, lexical, vector.n_units, tokenizer, emb, embedded, chunking,
                                retrieval)
        write_manifest(gen, manifest, files_written)
        hook("written")
        return manifest, publish(index_dir, gen)
    except OSError as e:
        # disk full, quota, I/O error: drop the partial generation; CURRENT still names the old one
        shutil.rmtree(gen, ignore_errors=True)
        raise IndexWriteError(f"{e.filename or gen}: {e.strerror or e}; the previous index is still served") from None
