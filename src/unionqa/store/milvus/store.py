"""MilvusStore: the ``stores.Store`` of an index kept in Milvus (Milvus Lite file or server).

A build writes a new collection ``NAME_g<stamp>`` (``collection``), loads it, and only then points the alias
``NAME`` at it; readers resolve the alias once and read that collection, so they see the old index or the
new one. A killed or failed build leaves the alias where it was; its half-written collection is dropped by
the next build. The collection the alias left is kept (a reader may still be on it), older ones dropped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from unionqa.config import FORMAT_VERSION, ChunkingConfig, RetrievalConfig, ann_threshold, saved_ef_search
from unionqa.errors import BuildLockedError, IndexFormatError, IndexWriteError, StoreUnavailableError, UnionQAError
from unionqa.search.embedding import Embedder
from unionqa.search.lexical import LexicalIndex
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.store import build as stages
from unionqa.store.base import Loaded, check_manifest
from unionqa.store.milvus.channels import MilvusLexical, MilvusVector
from unionqa.store.milvus.collection import (
    RowWriter,
    brief,
    guarded,
    index_params,
    iterate,
    read_record,
    read_records,
    read_text,
    schema,
    sparse_rows,
)
from unionqa.store.milvus.location import MilvusLocation
from unionqa.store.records import chunk_from_record
from unionqa.types import Chunk, Document

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0  # seconds to wait for a server before saying it cannot be reached
_CLIENTS: dict[tuple[str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()
_BUILD_LOCKS: dict[str, threading.Lock] = {}


def _lite_in_use(path: Path) -> bool:
    """Whether another process holds Milvus Lite's lock on ``path`` (it serves one process per file)."""
    try:
        fd = os.open(path / "LOCK", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError as e:
        return e.errno in (errno.EAGAIN, errno.EACCES)
    finally:
        os.close(fd)


def connect(loc: MilvusLocation, create: bool = False) -> Any:
    """A client for ``loc`` (one per location and process); StoreUnavailableError with the reason otherwise."""
    key = (loc.uri, loc.token)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
    if client is not None:
        return client
    if loc.lite:
        path = Path(loc.uri)
        if not create and not path.exists():
            raise IndexFormatError(f"{loc.text}: no index here (build one with `unionqa build SOURCES --index {loc.text}`)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IndexWriteError(f"{path.parent}: {e.strerror or e}") from None
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise StoreUnavailableError("the Milvus store needs pymilvus and milvus-lite: pip install 'unionqa[milvus]'") from None
    # pymilvus logs every failed call with a traceback; its failures reach the user as one line (guarded)
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    if loc.lite:
        # the embedded server logs the RPCs it does not implement (query iterators ask for a timestamp first and
        # fall back to the client's); nothing for the user to act on
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    try:
        # Milvus Lite's in-process server refuses pymilvus's 10-second keepalive pings ("too_many_pings", then
        # GOAWAY and a gRPC log line in the middle of a long build): loopback needs no keepalive
        options = {"grpc_options": {"grpc.keepalive_time_ms": 2**31 - 1}} if loc.lite else {}
        client = MilvusClient(uri=loc.uri, token=loc.token, timeout=CONNECT_TIMEOUT, **options)
    except Exception as e:  # noqa: BLE001 - pymilvus raises several kinds; each becomes one line
        if loc.lite and _lite_in_use(Path(loc.uri)):
            raise StoreUnavailableError(
                f"{loc.text}: another process has this Milvus Lite file open (Milvus Lite serves one process per "
                f"file); stop it, or serve the file with `milvus-lite server --data-dir {loc.uri}` and use "
                f"milvus://127.0.0.1:19530/{loc.name}") from None
        what = "cannot open the Milvus Lite file" if loc.lite else f"cannot reach Milvus at {loc.uri}"
        raise StoreUnavailableError(f"{loc.text}: {what} ({brief(e)})") from None
    with _CLIENTS_LOCK:
        return _CLIENTS.setdefault(key, client)


class _Text:
    """A document's text, read from its collection when asked for."""

    def __init__(self, client: Any, collection: str, doc_id: str) -> None:
        self._client, self._collection, self._doc_id = client, collection, doc_id

    def text(self) -> str:
        return str(guarded(self._collection, read_text, self._client, self._collection, self._doc_id))


class MilvusStore:
    """An index in Milvus under the alias ``location.name``."""

    def __init__(self, location: str) -> None:
        self.loc = MilvusLocation.parse(location)
        self.location = location

    # ---- where things are ---------------------------------------------------------------
    def _client(self, create: bool = False) -> Any:
        return connect(self.loc, create)

    def _live(self, client: Any) -> str | None:
        """The collection the alias names now (asked only when the alias exists: pymilvus logs a failed call)."""
        if self.loc.name not in client.list_aliases().get("aliases", []):
            return None
        return str(client.describe_alias(self.loc.name)["collection_name"])

    def live(self) -> str | None:
        if self.loc.lite and not Path(self.loc.uri).exists():
            return None
        return guarded(self.location, self._live, self._client())  # type: ignore[no-any-return]

    def uploads_dir(self) -> Path:
        if self.loc.lite:
            return Path(self.loc.uri + ".uploads")
        return Path("unionqa-uploads") / self.loc.name

    def feedback_file(self) -> Path:
        if self.loc.lite:
            return Path(self.loc.uri + ".feedback.jsonl")
        return Path(f"unionqa-{self.loc.name}.feedback.jsonl")

    @contextlib.contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """One build at a time per location in this process; across processes Milvus Lite's own file lock
        allows one process per file (a server has no lock: run one builder per collection)."""
        lock = _BUILD_LOCKS.setdefault(self.loc.uri + "#" + self.loc.name, threading.Lock())
        if not lock.acquire(blocking=wait):
            raise BuildLockedError(f"{self.location}: another build is writing this index; wait for it to finish")
        try:
            yield
        finally:
            lock.release()

    # ---- what an incremental build reuses ------------------------------------------------
    def stored_documents(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Document]]:
        client = self._client()
        coll = guarded(self.location, self._live, client)
        if coll is None:
            raise IndexFormatError(f"{self.location}: no index to change; build one first with `unionqa build`")

        def read() -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[Document]]:
            manifest = self._manifest(client, coll)
            records = read_records(client, coll, "document")
            return manifest, records, stages.documents_from_records(records, lambda d: read_text(client, coll, d))

        return guarded(self.location, read)  # type: ignore[no-any-return]

    def previous_records(self) -> dict[str, dict[str, Any]]:
        try:
            client = self._client()
            coll = self._live(client)
            if coll is None:
                return {}
            client.load_collection(coll)
            return read_records(client, coll, "document")
        except Exception:  # noqa: BLE001 - as the local store: no previous records only resets indexed_at
            return {}

    def previous_vectors(self, model_name: str) -> dict[str, np.ndarray]:
        """Unit vectors of the live collection by the hash of their text, when it used ``model_name``."""
        try:
            if self.loc.lite and not Path(self.loc.uri).exists():
                return {}
            client = self._client()
            coll = self._live(client)
            if coll is None or self._manifest(client, coll).get("model", {}).get("name") != model_name:
                return {}
            return {r["key"]: np.asarray(r["dense"], dtype=np.float32)
                    for r in iterate(client, coll, "chunk_row >= 0", ["key", "dense"])}
        except Exception as e:  # noqa: BLE001 - nothing reused only means everything is embedded; say why
            log.warning("not reusing vectors of the previous index (%s: %s); "
                                                 "embedding every chunk", type(e).__name__, brief(e))
            return {}

    # ---- write ---------------------------------------------------------------------------
    def write(self, docs: list[Document], skipped: list[str], chunks: list[Chunk],
              documents: dict[str, dict[str, Any]], lexical: LexicalIndex, embedded: stages.Embedded,
              tokenizer: JiebaTokenizer, emb: Embedder, chunking: ChunkingConfig, retrieval: RetrievalConfig,
              hook: Callable[[str], None], timings: dict[str, float]) -> Loaded:
        client = self._client(create=True)
        name = self.loc.name
        if name in guarded(self.location, client.list_collections):
            raise IndexWriteError(f"{self.location}: a collection named {name!r} exists; unionqa needs that name for "
                                  "its alias — choose another name")
        old = guarded(self.location, self._live, client)
        coll = f"{name}_g{time.strftime('%Y%m%d%H%M%S')}_{os.getpid()}_{time.monotonic_ns() % 100000:05d}"
        n_units = len(embedded.vectors)
        hnsw = n_units > ann_threshold()
        manifest = stages.new_manifest(docs, skipped, chunks, lexical, n_units, tokenizer, emb, embedded.embedded,
                                       chunking, retrieval)
        manifest["store"] = {"kind": "milvus", "collection": coll, "dense_index": "HNSW" if hnsw else "FLAT"}
        t = time.perf_counter()
        try:
            client.create_collection(coll, schema=schema(emb.dim))
            self._write_rows(client, coll, chunks, documents, lexical, embedded, manifest, hook)
            client.flush(coll)
            client.create_index(coll, index_params(client, n_units, ann_threshold()))
            client.load_collection(coll)
            hook("written")
            if old is None:
                client.create_alias(coll, name)
            else:
                client.alter_alias(coll, name)
        except BaseException as e:
            with contextlib.suppress(Exception):
                client.drop_collection(coll)
            if isinstance(e, (UnionQAError, KeyboardInterrupt, SystemExit)):
                raise
            raise IndexWriteError(f"{self.location}: writing the new collection failed ({brief(e)}); "
                                  "the previous index is still served") from None
        timings["index"] = time.perf_counter() - t
        self._cleanup(client, keep={coll, old})
        texts = {d: _Text(client, coll, d) for d in documents}
        plain = {d: {k: v for k, v in r.items() if k != "text"} for d, r in documents.items()}
        return Loaded(manifest, chunks, plain, MilvusLexical(client, coll, lexical.vocab, lexical.idf, chunks, tokenizer),
                      MilvusVector(client, coll, emb.dim, n_units, chunks, hnsw, saved_ef_search(manifest)), coll, None,
                      dict(texts))

    @staticmethod
    def _write_rows(client: Any, coll: str, chunks: list[Chunk], documents: dict[str, dict[str, Any]],
                    lexical: LexicalIndex, embedded: stages.Embedded, manifest: dict[str, Any],
                    hook: Callable[[str], None]) -> None:
        w = RowWriter(client, coll, embedded.vectors.shape[1])
        csc = sparse.csc_matrix((np.asarray(lexical.weights), np.asarray(lexical.rows), lexical.colptr),
                                shape=(lexical.n_docs, len(lexical.vocab)))
        bm25 = sparse_rows(csc, lexical.idf)
        owners = embedded.owners
        prev_row = -1
        unit_no = 0
        for i, row in enumerate(owners.tolist()):
            unit_no = unit_no + 1 if row == prev_row else 0
            prev_row = row
            c = chunks[row]
            if unit_no == 0:
                a, b = bm25.indptr[row], bm25.indptr[row + 1]
                vec = {int(t) + 1: float(v) for t, v in zip(bm25.indices[a:b], bm25.data[a:b]) if v > 0}
                data = json.dumps(stages.chunk_record(c), ensure_ascii=False)
            else:
                vec, data = {}, ""
            w.add(row, unit_no, c.doc_id, embedded.keys[i], data, embedded.vectors[i], vec)
        w.flush()
        hook("wrote units")
        for doc_id, rec in documents.items():
            w.record("document", doc_id, {k: v for k, v in rec.items() if k != "text"})
            w.text(doc_id, str(rec["text"]))
        w.flush()
        hook("wrote documents")
        terms = sorted(lexical.vocab, key=lexical.vocab.__getitem__)
        w.record("lexical", "", {"terms": terms, "idf": [float(x) for x in lexical.idf]})
        w.record("manifest", "", manifest)
        w.flush()
        hook("wrote lexical")

    def _cleanup(self, client: Any, keep: set[str | None]) -> None:
        """Drop this alias's collections other than ``keep`` (abandoned half-written ones, older generations)."""
        prefix = f"{self.loc.name}_g"
        for c in client.list_collections():
            if c.startswith(prefix) and c not in keep:
                with contextlib.suppress(Exception):
                    client.drop_collection(c)

    # ---- load ----------------------------------------------------------------------------
    def _manifest(self, client: Any, coll: str) -> dict[str, Any]:
        client.load_collection(coll)  # a collection is "released" when its server (re)starts; loading is idempotent
        manifest = read_record(client, coll, "manifest")
        where = f"{self.location} ({coll})"
        if not isinstance(manifest, dict):
            raise IndexFormatError(f"{where}: no manifest (an unfinished build?); rebuild the index")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version != FORMAT_VERSION:
            newer = isinstance(version, int) and version > FORMAT_VERSION
            raise IndexFormatError(f"{where}: index format v{version} is {'newer' if newer else 'older'} than "
                                   f"this unionqa reads (v{FORMAT_VERSION}); "
                                   f"{'upgrade unionqa or ' if newer else ''}rebuild the index")
        return manifest

    def load(self, embedder: Embedder | None, verify: bool = True) -> Loaded:
        client = self._client()
        for attempt in range(3):
            coll = guarded(self.location, self._live, client)
            if coll is None:
                raise IndexFormatError(f"{self.location}: no index here (build one with "
                                       f"`unionqa build SOURCES --index {self.location}`)")
            try:
                return guarded(self.location, self._load_collection, client, coll, embedder)  # type: ignore[no-any-return]
            except UnionQAError:
                # a build may have switched the alias and dropped this collection while we read it
                if attempt == 2 or guarded(self.location, self._live, client) == coll:
                    raise
        raise AssertionError("unreachable")

    def _load_collection(self, client: Any, coll: str, embedder: Embedder | None) -> Loaded:
        where = f"{self.location} ({coll})"
        manifest = self._manifest(client, coll)
        tokenizer = JiebaTokenizer()
        check_manifest(manifest, where, tokenizer, embedder)
        dims = [f.get("params", {}).get("dim") for f in client.describe_collection(coll).get("fields", [])
                if f.get("name") == "dense"]
        if dims != [manifest["model"]["dim"]]:
            raise IndexFormatError(f"{where}: vectors are {dims[0] if dims else '?'}d but the manifest says "
                                   f"{manifest['model']['dim']}d; rebuild the index")
        shared: dict[str, str] = {}
        rows = sorted(((r["chunk_row"], r["data"]) for r in
                       iterate(client, coll, "unit == 0 and chunk_row >= 0", ["chunk_row", "data"])),
                      key=lambda x: x[0])
        try:
            chunks = [chunk_from_record(json.loads(d), where, shared) for _, d in rows]
            lex = read_record(client, coll, "lexical")
            vocab = {t: i for i, t in enumerate(lex["terms"])}
            idf = np.asarray(lex["idf"], dtype=np.float64)
        except (ValueError, KeyError, TypeError):
            raise IndexFormatError(f"{where}: damaged records; rebuild the index") from None
        counts = manifest.get("counts", {})
        if ([r for r, _ in rows] != list(range(len(rows))) or len(chunks) != counts.get("chunks")
                or len(vocab) != len(idf) or len(vocab) != counts.get("vocabulary")):
            raise IndexFormatError(f"{where}: chunk and BM25 records disagree with the manifest; rebuild the index")
        documents = read_records(client, coll, "document")
        texts = {d: _Text(client, coll, d) for d in documents}
        hnsw = manifest.get("store", {}).get("dense_index") == "HNSW"
        return Loaded(manifest, chunks, documents, MilvusLexical(client, coll, vocab, idf, chunks, tokenizer),
                      MilvusVector(client, coll, int(manifest["model"]["dim"]), int(counts.get("vector_units", 0)),
                                   chunks, hnsw, saved_ef_search(manifest)), coll, None, dict(texts))


def close(location: str) -> None:
    """Close this process's connection to ``location``; for Milvus Lite also release the file, so another process
    (a CLI build beside a stopped UI, a test's subprocess) can open it."""
    loc = MilvusLocation.parse(location)
    with _CLIENTS_LOCK:
        client = _CLIENTS.pop((loc.uri, loc.token), None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()
    if loc.lite:
        with contextlib.suppress(ImportError):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(loc.uri)
