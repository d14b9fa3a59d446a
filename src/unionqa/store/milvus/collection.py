"""One index generation as one Milvus collection: the schema, the rows it holds, and reading them back.

Every row has the same fields (Milvus has one schema per collection):

    id         INT64 primary key   embedding units 0…U-1, then the record rows
    chunk_row  INT64               the chunk an embedding unit belongs to; -1 on record rows
    unit       INT64               the unit's place in its chunk (0 = the chunk's row); a record row's piece number
    doc_id     VARCHAR             the source document (filters search by document)
    key        VARCHAR             a unit's text hash (reuse by incremental builds) or the record kind:
                                   manifest | lexical | document | text
    data       VARCHAR             unit 0: the chunk record (chunks.jsonl's line); record rows: a JSON piece
    dense      FLOAT_VECTOR(dim)   the unit's normalized embedding (zeros on record rows, never searched)
    sparse     SPARSE_FLOAT_VECTOR unit 0: the chunk's BM25 term weights (idf × saturated tf, the project's own
                                   tokenizer); other rows a placeholder on dimension 0, which no query uses

A record larger than one VARCHAR (64 KB) is split into pieces (``unit`` orders them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from scipy import sparse

from unionqa.errors import IndexFormatError, StoreUnavailableError, UnionQAError

MAX_DATA_BYTES = 60_000  # below Milvus's VARCHAR limit of 65,535 bytes
MAX_DOC_ID_BYTES = 4096
PLACEHOLDER = {0: 1.0}  # the sparse value of rows that are not chunks: term dimensions start at 1
BATCH_BYTES = 8 << 20  # rows sent per insert (gRPC messages stay far below their 64 MB limit)
MAX_TOPK = 16384  # Milvus's largest search limit


def schema(dim: int) -> Any:
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("chunk_row", DataType.INT64)
    s.add_field("unit", DataType.INT64)
    s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_DOC_ID_BYTES)
    s.add_field("key", DataType.VARCHAR, max_length=64)
    s.add_field("data", DataType.VARCHAR, max_length=65535)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    return s


def index_params(client: Any, n_units: int, ann_threshold: int) -> Any:
    """Exact inner product up to ``ann_threshold`` units (as the local store), HNSW beyond; sparse: inverted IP."""
    from unionqa.config import HNSW_EF_CONSTRUCTION, HNSW_M

    p = client.prepare_index_params()
    if n_units > ann_threshold:
        p.add_index(field_name="dense", index_type="HNSW", metric_type="IP",
                    params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
    else:
        p.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    p.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return p


def pieces(text: str, limit: int = MAX_DATA_BYTES) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    out: list[str] = []
    data = text.encode("utf-8")
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte: step back to the character start
            cut -= 1
        out.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    out.append(data.decode("utf-8"))
    return out


def sparse_rows(lexical_weights: sparse.csc_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """The chunks' BM25 vectors: row r, column t+1 = idf[t] × the saturated term frequency of t in chunk r, so
    the inner product with a query's term counts is the local BM25 score (``lexical.LexicalIndex.get_scores``)."""
    w = lexical_weights.multiply(idf.reshape(1, -1)).tocsr()
    w.sort_indices()
    return w


class RowWriter:
    """Buffers rows and inserts them in batches of about ``BATCH_BYTES``."""

    def __init__(self, client: Any, collection: str, dim: int) -> None:
        self.client, self.collection = client, collection
        self.zero = np.zeros(dim, dtype=np.float32)
        self.next_id = 0
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0

    def add(self, chunk_row: int, unit: int, doc_id: str, key: str, data: str, dense: np.ndarray | None,
            sparse_vec: dict[int, float] | None) -> None:
        self._rows.append({"id": self.next_id, "chunk_row": chunk_row, "unit": unit, "doc_id": doc_id, "key": key,
                           "data": data, "dense": self.zero if dense is None else dense,
                           "sparse": sparse_vec or PLACEHOLDER})
        self.next_id += 1
        self._bytes += len(data) * 3 + 4 * len(self.zero) + 12 * len(sparse_vec or ()) + 100
        if self._bytes >= BATCH_BYTES:
            self.flush()

    def record(self, key: str, doc_id: str, obj: Any) -> None:
        """A JSON record as one or more rows (``read_record`` joins them)."""
        for i, piece in enumerate(pieces(json.dumps(obj, ensure_ascii=False))):
            self.add(-1, i, doc_id, key, piece, None, None)

    def text(self, doc_id: str, text: str) -> None:
        for i, piece in enumerate(pieces(text)):
            self.add(-1, i, doc_id, "text", piece, None, None)

    def flush(self) -> None:
        if self._rows:
            self.client.insert(self.collection, self._rows)
            self._rows, self._bytes = [], 0


def brief(e: BaseException) -> str:
    """The first line of a pymilvus error's message (they carry the server's reason)."""
    msg = str(getattr(e, "message", "") or e)
    return (msg.splitlines()[0] if msg else type(e).__name__)[:200]


def guarded(where: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the Milvus client; its failures (server gone, collection dropped) become one StoreUnavailableError line."""
    try:
        return fn(*args, **kwargs)
    except UnionQAError:
        raise
    except Exception as e:  # noqa: BLE001 - pymilvus and grpc raise many kinds
        raise StoreUnavailableError(f"{where}: Milvus failed ({brief(e)})") from None


def quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def doc_filter(doc_ids: list[str] | None) -> str:
    return "" if doc_ids is None else f" and doc_id in [{', '.join(quote(d) for d in doc_ids)}]"


def iterate(client: Any, collection: str, expr: str, fields: list[str], batch: int = 4000) -> Iterator[dict[str, Any]]:
    """Every row matching ``expr`` (a query iterator: no limit on how many)."""
    it = client.query_iterator(collection, batch_size=batch, filter=expr, output_fields=fields)
    try:
        while True:
            rows = it.next()
            if not rows:
                return
            yield from rows
    finally:
        it.close()


def read_record(client: Any, collection: str, key: str, doc_id: str | None = None) -> Any:
    """A JSON record written by ``RowWriter.record``; None when there is none."""
    expr = f"chunk_row == -1 and key == {quote(key)}" + ("" if doc_id is None else f" and doc_id == {quote(doc_id)}")
    rows = sorted(iterate(client, collection, expr, ["unit", "data"]), key=lambda r: r["unit"])
    if not rows:
        return None
    try:
        return json.loads("".join(r["data"] for r in rows))
    except ValueError:
        raise IndexFormatError(f"{collection}: a damaged {key} record; rebuild the index") from None


def read_records(client: Any, collection: str, key: str) -> dict[str, Any]:
    """Every document's JSON record of kind ``key``, by doc id."""
    parts: dict[str, list[tuple[int, str]]] = {}
    for r in iterate(client, collection, f"chunk_row == -1 and key == {quote(key)}", ["doc_id", "unit", "data"]):
        parts.setdefault(r["doc_id"], []).append((r["unit"], r["data"]))
    try:
        return {d: json.loads("".join(p for _, p in sorted(ps))) for d, ps in parts.items()}
    except ValueError:
        raise IndexFormatError(f"{collection}: a damaged {key} record; rebuild the index") from None


def read_text(client: Any, collection: str, doc_id: str) -> str:
    rows = client.query(collection, filter=f"chunk_row == -1 and key == \"text\" and doc_id == {quote(doc_id)}",
                        output_fields=["unit", "data"], limit=MAX_TOPK)
    return "".join(r["data"] for r in sorted(rows, key=lambda r: r["unit"]))

