"""ui.App without a server (issue 16 item 7): one reload at a time, a no-op reload is cheap, the document
filter follows the index being served."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from unionqa import Index


@pytest.fixture()
def app(tiny_index: Index, fake_embedder, monkeypatch):  # type: ignore[no-untyped-def]
    import ui

    real_load = Index.load.__func__  # type: ignore[attr-defined]
    loads: list[int] = []

    def counting_load(cls, index_dir, **kw):  # type: ignore[no-untyped-def]
        loads.append(1)
        return real_load(cls, index_dir, embedder=fake_embedder, **kw)

    monkeypatch.setattr(Index, "load", classmethod(counting_load))
    a = ui.App(str(tiny_index.index_dir))
    a.loads = loads  # type: ignore[attr-defined]
    return a


def test_reload_without_a_rebuild_does_not_load(app) -> None:  # type: ignore[no-untyped-def]
    before = len(app.loads)
    msg = app.reload()
    assert msg.startswith("索引没有变化：基于") and len(app.loads) == before


def test_concurrent_reloads_load_once_and_the_filter_follows(app, tiny_corpus: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    (tiny_corpus / "new.md").write_text("# 新文档\n\n新增的工会驿站有二十家。\n", encoding="utf-8")
    Index.build([tiny_corpus], app.index_dir, embedder=fake_embedder)
    before = len(app.loads)
    gate = threading.Barrier(8)
    out: list[str] = []

    def one() -> None:
        gate.wait()
        out.append(app.reload())

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(app.loads) - before == 1, out  # eight reloads at once: one full load
    assert sum(m.startswith("已加载最新的索引：基于") for m in out) == 1, out
    assert "new.md" in app.doc_ids()
