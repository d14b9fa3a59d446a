"""Issue 15 in a real browser: a conversation with follow-ups, copy and share, feedback, and the walkthrough's fixes
(document filter by title that follows a rebuild, active filters, a stopped server, unwrapped context, the
参考段落数 slider, plain-words footer, long questions, the phone layout, example questions that ask)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from servers import ARTIFACTS, _browser, _free_port, _start, _stop

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.browser]

HZ = "惠州市总工会五年来调处了多少宗劳资纠纷？"
HZ_SOURCE = "《深化产改，在发展新质生产力中展现工会作为》，惠州市总工会 › 竭诚服务 以需求为导向提升职工生活品质"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """ui.py on the committed seed index, its feedback going to a file of this test's own."""
    feedback = tmp_path_factory.mktemp("feedback") / "fb.jsonl"
    proc, url = _start(ROOT / "index", extra_env={"UNIONQA_FEEDBACK": str(feedback)})
    yield url, feedback
    _stop(proc)


def _ask(page, question: str) -> str:  # type: ignore[no-untyped-def]
    """Type a question, press Enter, wait for this turn's answer; returns the answer's text."""
    box = page.locator("#uq-question textarea")
    box.fill(question)
    box.press("Enter")
    shown = question if len(question) <= 200 else question[:200] + "…"
    page.wait_for_function(
        "q => { const a = document.querySelector('#uq-answer .uq-asked'); return a && a.innerText === '问：' + q; }",
        arg=shown, timeout=120_000)
    return str(page.locator("#uq-answer").inner_text())


def test_three_turn_conversation(served: tuple[str, Path]) -> None:
    """The issue's bar: 惠州…多少宗劳资纠纷？ → 成功调解了多少件？ → 河源呢？, each answer and its citation checked; the
    history stays visible with the newest turn at the bottom; 新对话 forgets it."""
    url, _ = served
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url, wait_until="networkidle")
        first = _ask(page, HZ)
        assert page.locator("#uq-answer .uq-short").inner_text().startswith("7090宗")
        assert "按“" not in first and "7090宗" in page.locator("#src-1 .uq-passage").inner_text()

        second = _ask(page, "成功调解了多少件？")
        assert "按“惠州市总工会五年来成功调解了多少件？”回答" in second
        assert page.locator("#uq-answer .uq-short").inner_text().startswith("1092件")
        assert "成功调解案件1092件" in "".join(page.locator("#src-1 .uq-passage mark.uq-support").all_inner_texts())

        third = _ask(page, "河源呢？")
        assert "按“河源市总工会五年来成功调解了多少件？”回答" in third
        assert page.locator("#uq-answer .uq-short").count() == 0  # 惠州's figure is never shown as 河源's
        warning = page.locator("#uq-answer .uq-mismatch").inner_text()
        assert "河源" in warning and "惠州" in warning and "不是答案" in warning

        history = page.locator("#uq-history .uq-turn").all_inner_texts()
        assert len(history) == 2 and HZ in history[0] and "7090宗（来源：" in history[0]
        assert "成功调解了多少件？" in history[1] and "1092件" in history[1]
        assert page.locator("#uq-history").bounding_box()["y"] < page.locator("#uq-answer").bounding_box()["y"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-conversation.png"), full_page=True)

        page.locator("#uq-new").click()
        page.wait_for_selector("text=新对话：前面的问题不再作为上下文", timeout=30_000)
        assert page.locator("#uq-history .uq-turn").count() == 0
        fresh = _ask(page, "成功调解了多少件？")
        assert "按“" not in fresh  # nothing to lean on any more


def test_copy_answer_and_share_link(served: tuple[str, Path]) -> None:
    url, _ = served
    with _browser() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page = context.new_page()
        page.goto(url, wait_until="networkidle")
        _ask(page, HZ)
        page.locator("#uq-answer .uq-copy").click()
        page.wait_for_function("document.querySelector('#uq-answer .uq-copy').innerText === '已复制'")
        assert page.evaluate("navigator.clipboard.readText()") == f"7090宗（来源：{HZ_SOURCE}）"
        page.locator("#uq-answer .uq-copy-link").click()
        link = page.evaluate("navigator.clipboard.readText()")
        assert urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["q"] == [HZ]
        cited = page.locator("#src-1 .uq-passage").inner_text()

        # a colleague opens the link: the same question is asked at once, with the same sources
        other = context.new_page()
        other.goto(link)
        other.wait_for_selector("#uq-answer .uq-short", timeout=120_000)
        assert other.locator("#uq-answer .uq-short").inner_text().startswith("7090宗")
        assert other.locator("#src-1 .uq-passage").inner_text() == cited
        assert other.locator("#uq-question textarea").input_value() == ""  # asked, not left to type

        # a follow-up's link asks the question it was answered as
        _ask(page, "成功调解了多少件？")
        href = page.locator("#uq-answer .uq-share").get_attribute("href") or ""
        assert urllib.parse.parse_qs(href.lstrip("?"))["q"] == ["惠州市总工会五年来成功调解了多少件？"]


def test_feedback_is_written_next_to_the_index_and_read_back(served: tuple[str, Path]) -> None:
    url, feedback = served
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url, wait_until="networkidle")
        assert not page.locator("#uq-down").is_visible()  # nothing to judge yet
        _ask(page, HZ)
        _ask(page, "成功调解了多少件？")
        page.locator("#uq-comment textarea").fill("应写明是五年累计")
        page.locator("#uq-down").click()
        page.wait_for_selector("#uq-feedback-msg >> text=已记录", timeout=30_000)
        _ask(page, HZ)
        page.locator("#uq-up").click()
        page.wait_for_function("document.querySelector('#uq-feedback-msg').innerText.includes('已记录')")
    records = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert [r["vote"] for r in records] == ["down", "up"]
    assert records[0]["question"] == "惠州市总工会五年来成功调解了多少件？" and records[0]["asked"] == "成功调解了多少件？"
    assert records[0]["comment"] == "应写明是五年累计" and records[0]["short_answer"] == "1092件"
    assert records[0]["citations"][0]["doc_id"] == "000_aab834ac4fc42f74.txt" and records[0]["generation"]
    r = subprocess.run([sys.executable, "-m", "unionqa", "feedback"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "UNIONQA_FEEDBACK": str(feedback)})
    assert "惠州市总工会五年来成功调解了多少件？" in r.stdout and "应写明是五年累计" in r.stdout
    assert HZ not in r.stdout  # the 👍 is not listed as wrong


def test_filter_titles_active_filter_context_slider_and_footer(served: tuple[str, Path]) -> None:
    url, _ = served
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 1400})
        page.goto(url, wait_until="networkidle")
        assert page.locator("#uq-footer").inner_text().startswith("基于5篇文档")
        assert "gen-" not in page.locator("#uq-footer").inner_text() and "e5" not in page.locator("#uq-footer").inner_text()
        _ask(page, HZ)
        # 查看上下文: the text the chunker read, not the source's hard-wrapped lines
        page.locator("#src-1 summary").click()
        context = page.locator("#src-1 .uq-context").inner_text()
        assert "调处各类劳资纠纷7090宗，成功调解案件1092件" in context
        assert max(len(line) for line in context.splitlines()) > 100
        # the card: the article as title, each breadcrumb part once, the file in plain words
        assert page.locator("#src-1 .uq-title").inner_text() == "[1] 深化产改，在发展新质生产力中展现工会作为 惠州市总工会："
        assert page.locator("#src-1 .uq-crumb").inner_text() == HZ_SOURCE.replace("《", "").replace("》，", " › ")
        assert page.locator("#src-1 .uq-file").inner_text().startswith("来自文本文件 000_aab834ac4fc42f74.txt")
        why = page.locator("#src-1 .uq-why").inner_text()
        assert "融合分数" not in why and "关键词匹配第" in why
        cited = page.locator("#uq-sources .uq-card[id^=src-]").count()
        assert page.locator("#uq-sources .uq-more > summary").inner_text().startswith(f"另外{5 - cited}个相关段落")

        page.get_by_text("高级选项").click()
        slider = page.locator("input[type=range]").first
        slider.wait_for(state="visible")
        page.wait_for_timeout(500)  # the accordion opening
        slider.fill("10")
        slider.dispatch_event("change")  # what a drag ends with
        page.wait_for_timeout(300)
        _ask(page, "东莞市总工会免费送出了多少斤荔枝？")
        cited = page.locator("#uq-sources .uq-card[id^=src-]").count()
        assert page.locator("#uq-sources .uq-more > summary").inner_text().startswith(f"另外{10 - cited}个相关段落")
        assert page.locator("#uq-sources .uq-more .uq-card").count() == 10 - cited

        # the document filter lists titles; a refusal inside a filter says so, and the filter shows by the answer
        page.locator("#uq-doc-filter input").click()
        options = page.get_by_role("option").all_inner_texts()
        assert "廣東工運" in options and not any(o.endswith(".txt") for o in options)
        page.get_by_role("option", name="云浮市总工会:").click()
        page.keyboard.press("Escape")
        answer = _ask(page, HZ)
        assert "只在所选文档中查找：《云浮市总工会:》" in answer and "在所选文档中没有惠州市的这项数据" in answer
        assert page.locator("#uq-answer .uq-short").count() == 0
        assert page.locator("#uq-answer .uq-abstain").count() == 1  # one refusal (issue 27 item 5)
        assert "\n文档中没有" not in answer  # and no second one that contradicts it


def test_phone_layout_examples_and_long_question(served: tuple[str, Path]) -> None:
    url, _ = served
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url, wait_until="networkidle")
        page.locator(".uq-example").first.click()  # an example asks at once
        page.wait_for_selector("#uq-answer .uq-short", timeout=120_000)
        assert page.locator("#uq-answer .uq-short").inner_text().startswith("7090宗")
        answer_top = page.locator("#uq-answer").bounding_box()["y"]
        assert answer_top < page.locator("#uq-examples").bounding_box()["y"]
        assert answer_top < 500  # right under the question box on a phone (it was ~600 px down, below the examples)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-phone.png"), full_page=False)
        from unionqa.config import MAX_QUERY_CHARS

        long = HZ + "请给出具体数字。" * 300  # 2,420 characters: the box takes them all, the answer says what was used
        answer = _ask(page, long)
        assert page.locator("#uq-question textarea").input_value() == ""
        assert f"问题过长，只按前{MAX_QUERY_CHARS}字回答" in answer


def test_rebuilt_document_reaches_the_filter_after_reload_and_refresh(tmp_path: Path) -> None:
    from unionqa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 荔枝报告\n\n## 荔枝\n\n东莞市总工会送出荔枝12000斤。\n", encoding="utf-8")
    Index.build([docs], tmp_path / "index")
    proc, url = _start(tmp_path / "index")
    try:
        with _browser() as browser:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.goto(url, wait_until="networkidle")
            (docs / "b.md").write_text("# 驿站报告\n\n## 驿站\n\n河源市建成工会爱心驿站127家。\n", encoding="utf-8")
            Index.build([docs], tmp_path / "index")
            page.get_by_text("高级选项").click()
            page.locator("#uq-reload").click()
            page.wait_for_selector("#uq-reload-msg >> text=已加载最新的索引", timeout=120_000)
            assert "gen-" not in page.locator("#uq-reload-msg").inner_text()
            assert page.locator("#uq-footer").inner_text().startswith("基于2篇文档")
            page.locator("#uq-doc-filter input").click()
            assert "驿站报告" in page.get_by_role("option").all_inner_texts()
            page.reload(wait_until="networkidle")  # a fresh page lists what is served now, not what was at start
            page.get_by_text("高级选项").click()
            page.locator("#uq-doc-filter input").click()
            assert set(page.get_by_role("option").all_inner_texts()) == {"荔枝报告", "驿站报告"}
    finally:
        _stop(proc)


def test_a_stopped_server_clears_the_old_answer_and_says_so(tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from unionqa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 荔枝报告\n\n## 荔枝\n\n东莞市总工会送出荔枝12000斤。\n", encoding="utf-8")
    Index.build([docs], tmp_path / "index")
    port = _free_port()
    proc, url = _start(tmp_path / "index", port=port)
    try:
        with _browser() as browser:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.goto(url, wait_until="networkidle")
            _ask(page, "东莞市总工会送出了多少斤荔枝？")
            assert "12000斤" in page.locator("#uq-answer").inner_text()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            box = page.locator("#uq-question textarea")
            box.fill("东莞市总工会送出荔枝多少斤？")
            box.press("Enter")
            page.wait_for_selector("#uq-answer .uq-down", timeout=60_000)
            shown = page.locator("#uq-answer").inner_text()
            assert "无法连接到服务器" in shown and "12000斤" not in shown  # the old answer is gone
            assert page.locator("#uq-sources .uq-card").count() == 0
            assert page.locator("#uq-answer .uq-retry").is_visible()
            # the server comes back: the page reconnects (Gradio resets it to a fresh page, no spinner left)
            # and the question can be asked again
            proc, _ = _start(tmp_path / "index", port=port)
            try:  # Gradio notices the server is back and resets the page; let that happen before asking again
                page.wait_for_function("!document.querySelector('#uq-answer .uq-waiting')", timeout=30_000)
            except PlaywrightTimeout:
                assert page.locator("#uq-answer .uq-retry").is_visible()  # not reset: 重试 is still offered
            _ask(page, "东莞市总工会送出荔枝多少斤？")
            assert "12000斤" in page.locator("#uq-answer .uq-short").inner_text()
    finally:
        _stop(proc)


def test_newest_answer_is_in_view_after_six_turns_on_a_phone(served: tuple[str, Path]) -> None:
    """Issue 27 item 3: after two turns on a phone the newest answer landed below the fold, with no scroll to it;
    one long paste made a history entry a screen tall."""
    url, _ = served
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url, wait_until="networkidle")
        long_paste = "惠州市总工会五年来调处了多少宗劳资纠纷？" + "请详细说明各年度的情况和依据。" * 20
        for q in (HZ, "成功调解了多少件？", long_paste, "河源呢？", "东莞市总工会免费送出了多少斤荔枝？", HZ):
            _ask(page, q)
            top = page.evaluate("document.querySelector('#uq-answer').getBoundingClientRect().top")
            assert -4 <= top < 844 * 0.6, (q[:20], top)  # the newest answer starts on screen, without scrolling
        heights = [b["height"] for b in (t.bounding_box() for t in page.locator("#uq-history .uq-turn").all()) if b]
        assert len(heights) == 5 and max(heights) < 844 / 3


def test_a_restart_keeps_the_typed_question_and_the_conversation(tmp_path: Path) -> None:
    """Issue 27 item 4: after a server restart the tab reset silently and the typed question was lost."""
    port = _free_port()
    proc, url = _start(ROOT / "index", port=port)
    try:
        with _browser() as browser:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url, wait_until="networkidle")
            _ask(page, HZ)
            page.locator("#uq-question textarea").fill("成功调解了多少件？")  # typed, not yet sent
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc, _ = _start(ROOT / "index", port=port)
            page.reload(wait_until="networkidle")  # what Gradio's reset after the restart amounts to
            page.wait_for_function("document.querySelector('#uq-question textarea').value === '成功调解了多少件？'",
                                   timeout=30_000)
            assert "已连接到服务器" in page.locator("#uq-restored").inner_text()
            assert HZ in page.locator("#uq-history").inner_text()  # the conversation is still there
            page.locator("#uq-question textarea").press("Enter")
            page.wait_for_selector("#uq-answer .uq-resolved", timeout=120_000)
            assert "按“惠州市总工会五年来成功调解了多少件？”回答" in page.locator("#uq-answer").inner_text()
            assert not page.locator(".toast-wrap").is_visible()  # no English toast from Gradio
    finally:
        _stop(proc)
