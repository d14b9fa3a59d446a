"""The committed index/ is the index of the committed seeds/ with the default model."""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from conftest import SEEDS

from unionqa.config import DEFAULT_MODEL, ChunkingConfig
from unionqa.ingest.chunking import chunk_document, embedding_units
from unionqa.ingest.documents import read_document


def test_index_matches_seeds(seed_index) -> None:  # type: ignore[no-untyped-def]
    docs = [read_document(p) for p in sorted(SEEDS.iterdir())]
    corpus = hashlib.sha256("".join(sorted(d.sha256 for d in docs)).encode()).hexdigest()
    m = seed_index.manifest
    assert m["corpus_sha256"] == corpus, "seeds/ changed: rebuild with `unionqa build seeds/ --index index/`"
    assert m["model"]["name"] == DEFAULT_MODEL and m["model"]["dim"] == 384
    cfg = ChunkingConfig(**m["chunking"])
    fresh = [c for d in docs for c in chunk_document(d, cfg)]
    assert [asdict(c) for c in fresh] == [asdict(c) for c in seed_index.chunks], "chunker changed: rebuild index/"
    units = [u for c in fresh for u in embedding_units(c)]
    assert len(units) == seed_index.vector.n_units, "embedding units changed: rebuild index/"
    assert sorted(seed_index.documents) == sorted(p.name for p in SEEDS.iterdir())


def test_userdict_is_generated_from_the_corpus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The bundled jieba dictionary is exactly what scripts/make_userdict.py makes of seeds/ and the gazetteer."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "userdict.txt"
    subprocess.run([sys.executable, str(root / "scripts" / "make_userdict.py"), str(SEEDS), "--out", str(out)],
                   check=True, capture_output=True)
    committed = (root / "src" / "unionqa" / "data" / "userdict.txt").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, "run scripts/make_userdict.py and rebuild index/"
