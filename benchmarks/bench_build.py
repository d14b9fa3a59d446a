"""Seed build, time per stage, embedding tokens/s, and the incremental case.

    python benchmarks/bench_build.py [--seeds seeds] [--workdir .cache/bench_build]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from unionqa import Index
from unionqa.ingest.chunking import embedding_units
from unionqa.search.embedding import load_embedder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="seeds")
    ap.add_argument("--workdir", default=".cache/bench_build")
    args = ap.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    src = work / "docs"
    shutil.copytree(args.seeds, src)
    t = time.perf_counter()
    full = Index.build([src], work / "index")
    full_s = time.perf_counter() - t
    tm = full.manifest["timings"]
    emb = load_embedder(None)
    units = [u for c in full.chunks for u in embedding_units(c)]
    count = getattr(emb, "token_count", None)
    tokens = sum(count(u) for u in units) if count else 0
    print(f"seed build: {len(full.documents)} documents, {len(full.chunks)} chunks, {len(units)} vectors, "
          f"{tokens} tokens")
    print("stage      seconds")
    for stage in ("read", "chunk", "tokenize", "embed", "index", "write"):
        print(f"{stage:9s}  {tm[stage]:8.2f}")
    print(f"total      {full_s:8.2f}")
    if tokens:
        print(f"embedding: {tokens / tm['embed']:.0f} tokens/s, {len(units) / tm['embed']:.1f} vectors/s "
              f"({emb.name})")
    # incremental: one document changed, one added, one removed
    files = sorted(src.iterdir())
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\n新增的一段内容。\n", encoding="utf-8")
    (src / "new.md").write_text("# 新文档\n\n## 新的一节\n\n这是一篇新增的文档。\n", encoding="utf-8")
    files[1].unlink()
    t = time.perf_counter()
    inc = Index.build([src], work / "index")
    inc_s = time.perf_counter() - t
    c = inc.manifest["counts"]
    print(f"incremental (1 changed, 1 added, 1 removed): {inc_s:.2f} s = {inc_s / full_s:.3f} of full; "
          f"embedded {c['embedded']} of {c['vector_units']} vectors")
    t = time.perf_counter()
    Index.build([src], work / "index")
    print(f"no-change rebuild: {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
