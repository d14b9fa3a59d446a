"""The Milvus store: one index as Milvus collections behind the same ``Index`` API (``--index milvus:…``).

``milvus:./unionqa.db`` is an embedded Milvus Lite file (tests, small installs); ``milvus://HOST:19530/NAME``
is a Milvus server (token from ``UNIONQA_MILVUS_TOKEN``). Each build writes a new collection and switches the
alias ``NAME`` to it, so a reader sees the old index or the new one, never a mix (README "Milvus store").
"""

from __future__ import annotations

from unionqa.store.milvus.location import MilvusLocation, is_milvus

__all__ = ["MilvusLocation", "is_milvus"]
