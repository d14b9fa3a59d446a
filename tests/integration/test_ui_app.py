"""web.served.App without a server (issue 16 item 7): one reload at a time, a no-op reload is cheap, the document
filter follows the index being served."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from unionqa import Index


@pytest.fixture()
def app(tiny_index: Index, fake_embedder, monkeypatch):  # type: ignore[no-untyped-def]
    from unionqa.web.served import App

    real_load = Index.load.__func__  # type: ignore[attr-defined]
    loads: list[int] = []

    def counting_load(cls, index_dir, **kw):  # type: ignore[no-untyped-def]
        loads.append(1)
        return real_load(cls, index_dir, embedder=fake_embedder, **kw)

    monkeypatch.setattr(Index, "load", classmethod(counting_load))
    a = App(str(tiny_index.index_dir))
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


def _handler(demo, name: str):  # type: ignore[no-untyped-def]
    """The function a ``/gradio_api/queue/join`` call with this handler's fn_index runs."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


@pytest.mark.parametrize("mode,top_k,doc_filter,expected", [
    ("混合检索（推荐）", 10**6, None, "参考段落数"),
    ("混合检索（推荐）", -3, None, "参考段落数"),
    ("混合检索（推荐）", "many", None, "参考段落数"),
    ("bm25!", 5, None, "未知的检索方式"),
    (None, 5, None, "未知的检索方式"),
    ("混合检索（推荐）", 5, ["no-such-doc.md"], "所选文档已不在索引中"),
    ("混合检索（推荐）", 5, "a.md", "文档筛选"),
])
def test_every_ui_handler_input_is_checked_on_the_server(app, mode, top_k, doc_filter, expected) -> None:  # type: ignore[no-untyped-def]
    """Issue 26: through the queue a caller could send an unknown filter, top_k 10**6 or -3, an unknown mode label:
    each was searched anyway (or crashed); now each is refused in one line and nothing is answered."""
    from unionqa.web.app import build_app

    turn = _handler(build_app(app), "answer_turn")
    out = turn("惠州市总工会五年来调处了多少宗劳资纠纷？", mode, top_k, doc_filter, "[]")
    assert expected in out[1] and out[2] == "", out[1]
    good = turn("惠州市总工会五年来调处了多少宗劳资纠纷？", "混合检索（推荐）", 5, ["a.md"], "[]")
    assert "7090" in good[1]


def test_question_that_is_not_text_and_unknown_deletions_are_refused(app, tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from unionqa.web.app import build_app
    from unionqa.web.manage import Manager

    demo = build_app(app, Manager(tiny_index.index_dir, on_published=lambda: None, embedder=fake_embedder))
    assert "问题须是文字" in _handler(demo, "answer_turn")(12, "混合检索（推荐）", 5, None, "[]")[1]
    assert "没有这些文档" in _handler(demo, "start_remove")(["../../etc/passwd"])[0]
    assert "没有这些文档" in _handler(demo, "ask_to_remove")(["../../etc/passwd"])[0]
    assert "uq-error" in _handler(demo, "ask_to_remove")([])[0]  # a refusal is an error, not a grey hint
    asked = _handler(demo, "ask_to_remove")(["a.md"])
    assert "确定要删除这 1 篇文档吗" in asked[2] and "惠州市总工会工作报告" in asked[2]


def test_a_refusal_under_a_filter_is_one_refusal_and_the_history_keeps_the_filter(tiny_index: Index) -> None:
    """Issue 27 item 5: "在所选文档中没有找到" was followed by "文档中没有河源市的这项数据" (two refusals that contradict
    each other), and a filtered refusal in the history lost its filter."""
    from unionqa.web.render import render_history, render_turn, turn_record

    ans = tiny_index.ask("河源市总工会五年来调处了多少宗劳资纠纷？", doc_ids=["a.md"])
    assert ans.abstained and ans.mismatch  # Huizhou's figure is the near miss, never the answer
    html = render_turn(tiny_index, ans, ["a.md"])
    assert html.count('class="uq-abstain"') == 1 and "在所选文档中没有河源市的这项数据" in html
    assert "在所选文档中没有找到" not in html
    plain = tiny_index.ask("北极熊在工会里担任什么职务？", doc_ids=["a.md"])
    assert "在所选文档中没有找到这个问题的答案" in render_turn(tiny_index, plain, ["a.md"])
    history = render_history([turn_record(ans, tiny_index, ["a.md"])])
    assert "只在所选文档中查找：《惠州市总工会工作报告》" in history and "在所选文档中没有河源市" in history
