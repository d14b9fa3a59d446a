"""Killing a build at every stage leaves the previous index loading and answering identically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import ROOT

from unionqa import Index

SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from conftest import FakeEmbedder
    from unionqa import Index
    stop_at = sys.argv[3]
    def hook(stage):
        print(stage, flush=True)
        if stage == stop_at:
            time.sleep(60)
    class Slow(FakeEmbedder):
        def embed_documents(self, texts, progress=None):
            if stop_at == "embedding":
                print("embedding", flush=True)
                time.sleep(60)
            return super().embed_documents(texts, progress)
    Index.build([sys.argv[1]], sys.argv[2], embedder=Slow(), _hook=hook)
    print("done", flush=True)
""")

def kill_build_at(stage: str, corpus: Path, location: str, tmp_path: Path) -> list[str]:
    """Run ``Index.build([corpus], location)`` in a subprocess, SIGKILL it once it reports ``stage``; the stages seen."""
    script = tmp_path / "build.py"
    script.write_text(SCRIPT.format(tests=str(ROOT / "tests")), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(corpus), location, stage],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.strip() == stage:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return seen


STAGES = ["chunked", "embedding", "embedded", "wrote chunks.jsonl", "wrote documents.jsonl", "wrote lexical",
          "wrote vectors", "written"]


@pytest.mark.parametrize("stage", STAGES)
def test_kill_mid_build_keeps_old_index(tiny_index: Index, tiny_corpus: Path, fake_embedder, tmp_path: Path,
                                        stage: str) -> None:  # type: ignore[no-untyped-def]
    before_chunks = [asdict(c) for c in tiny_index.chunks]
    before_hits = tiny_index.search("劳资纠纷", top_k=3)
    (tiny_corpus / "new.md").write_text("# 新增\n\n新的一篇关于工会驿站的文章。\n", encoding="utf-8")
    seen = kill_build_at(stage, tiny_corpus, str(tiny_index.index_dir), tmp_path)
    assert stage in seen, seen
    again = Index.load(tiny_index.index_dir, embedder=fake_embedder)
    assert [asdict(c) for c in again.chunks] == before_chunks
    assert again.search("劳资纠纷", top_k=3) == before_hits
    # and the next build succeeds and cleans up the abandoned temp generation
    Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)
    assert not list(tiny_index.index_dir.glob(".tmp-*"))
    assert "new.md" in Index.load(tiny_index.index_dir, embedder=fake_embedder).documents
