"""Shared fixtures: a deterministic fake embedder, tiny corpora, and the real seed index; and the test groups.

Tests are grouped by purpose, one folder each, and marked with its name (``pytest -m unit``):

- ``unit/``: one module's rules on made-up input — no model, no index on disk, seconds;
- ``integration/``: the parts together on real data — the real model, real FAISS/BM25 indexes, the CLI, Milvus Lite;
- ``browser/``: the web app on a real HTTP server driven by headless Chromium;
- ``quality/``: benchmark-like checks of what the product answers against the issues' bars (the reader, follow-ups).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEV = ROOT / "eval" / "dev.jsonl"  # the gold set, committed with the project (eval/SOURCES.md)


PURPOSES = ("unit", "integration", "browser", "quality")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test is marked with its folder's purpose; a test outside those folders is a mistake, said at once."""
    for item in items:
        purpose = item.path.parent.name
        if purpose not in PURPOSES:
            raise pytest.UsageError(f"{item.path}: put tests in one of tests/{{{','.join(PURPOSES)}}}/")
        item.add_marker(purpose)


class FakeEmbedder:
    """Hashes character bigrams into a fixed-size vector: deterministic, fast, no model."""

    name = "fake-bigram-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
            v[h % self.dim] += 1.0
        if not v.any():
            v[0] = 1.0
        return v / np.linalg.norm(v)

    def embed_documents(self, texts, progress=None):  # type: ignore[no-untyped-def]
        self.calls += len(texts)
        out = np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


TINY = {
    "a.md": "# 惠州市总工会工作报告\n\n## 维权服务\n\n五年来，调处各类劳资纠纷7090宗，成功调解案件1092件。"
            "聘请100名律师担任工会法律顾问。\n\n## 劳模引领\n\n全市选树劳动模范81名。评选培育10名鹅城工匠。\n",
    "b.txt": "东莞市总工会：荔枝助农\n\n东莞市总工会在“工会助农 味荔东莞”活动中免费送出12000斤“东莞荔枝”。\n\n"
             "疗休养\n\n东莞市总工会组织职工疗休养，接待职工超3万人次。\n",
    "c.md": "# 河源市总工会\n\n## 工会林\n\n广泛动员建设“工会林”近300亩，植树超2万棵。\n",
}


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in TINY.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.fixture
def tiny_index(tiny_corpus: Path, tmp_path: Path, fake_embedder: FakeEmbedder):  # type: ignore[no-untyped-def]
    from unionqa import Index

    return Index.build([tiny_corpus], tmp_path / "index", embedder=fake_embedder)


@pytest.fixture(scope="session")
def seed_index():  # type: ignore[no-untyped-def]
    """The committed index of seeds/ with the real default model."""
    from unionqa import Index

    return Index.load(ROOT / "index")


@pytest.fixture(scope="session")
def seed_copy(tmp_path_factory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("seedcopy")
    shutil.copytree(SEEDS, d / "seeds")
    return d / "seeds"
