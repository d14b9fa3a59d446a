"""The web UI for real: ui.py in a subprocess, gradio_client calls, and headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT
from servers import ARTIFACTS, _browser, _start, _stop

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc, url = _start(ROOT / "index")
    yield url
    _stop(proc)


@pytest.fixture(scope="module")
def client(server: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(server, verbose=False)


def test_ask_endpoint_known_answer(client) -> None:  # type: ignore[no-untyped-def]
    r = client.predict("惠州市总工会五年来调处了多少宗劳资纠纷？", 5, "hybrid", api_name="/ask")
    assert not r["abstained"] and r["text"].startswith("7090宗")
    assert any("7090宗" in c["text"] for c in r["citations"])
    assert r["sentences"] and r["sentences"][0]["text"] in r["citations"][0]["text"]


def test_ask_endpoint_empty_and_unanswerable(client) -> None:  # type: ignore[no-untyped-def]
    r = client.predict("   ", 5, "hybrid", api_name="/ask")
    assert "empty" in r["error"]
    r = client.predict("火星上的工会有多少名会员？", 5, "hybrid", api_name="/ask")
    assert r["abstained"] and not any(ch.isdigit() for ch in r["text"])


def test_search_endpoint_and_odd_input(client) -> None:  # type: ignore[no-untyped-def]
    hits = client.predict("东莞荔枝", 3, "lexical", api_name="/search")
    assert hits and "doc_id" in hits[0] and hits[0]["lexical_rank"] == 1
    r = client.predict("\x00\x01工会\u200b 驿站", 3, "hybrid", api_name="/search")
    assert isinstance(r, list) and len(r) == 3 and any("驿站" in h["text"] for h in r)
    r = client.predict("工会", 0, "hybrid", api_name="/search")
    assert "top_k" in r["error"]


def test_raw_http_with_nul_and_lone_surrogate(server: str) -> None:
    """gradio_client cannot even encode a lone surrogate; send one as raw JSON over HTTP."""
    import json

    body = b'{"data": ["\\u0000\\ud800\\u5de5\\u4f1a", 3, "hybrid"]}'
    req = urllib.request.Request(server + "gradio_api/call/search", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(server + f"gradio_api/call/search/{event}", timeout=60) as r:
        stream = r.read().decode("utf-8")
    assert "event: complete" in stream, stream[:300]


@pytest.mark.parametrize("path", ["file=../../../../etc/passwd", "file=/etc/passwd", "gradio_api/file=/etc/passwd",
                                  "gradio_api/file=../../../../etc/passwd", "file=" + str(ROOT / "src/unionqa/index.py"),
                                  "gradio_api/file=" + str(ROOT / "index/CURRENT"), "../../etc/passwd"])
def test_no_file_routes_outside_the_app(server: str, path: str) -> None:
    req = urllib.request.Request(server + path)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode("utf-8", "replace")
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read().decode("utf-8", "replace"), e.code
    assert "root:x:0:0" not in body and "class Index" not in body and "gen-" not in body
    assert status in (200, 403, 404, 405) and (status != 200 or "<html" in body.lower())


def test_errors_are_one_short_line(client) -> None:  # type: ignore[no-untyped-def]
    r = client.predict("工会", 5, "nonsense", api_name="/search")
    assert "\n" not in r["error"] and "Traceback" not in r["error"] and len(r["error"]) < 200


def test_reload_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    said = client.predict(api_name="/reload")  # plain words, no generation name (issue 15)
    assert said.startswith("索引没有变化：基于5篇文档") and "gen-" not in said


def test_twenty_concurrent_clients(server: str) -> None:
    from gradio_client import Client

    questions = ["汕尾市总工会建设了多少家工会驿站？", "东莞免费送出了多少斤荔枝", "工会二次医保", "河源市工会林"] * 5

    def one(q: str):  # type: ignore[no-untyped-def]
        return Client(server, verbose=False).predict(q, 3, "hybrid", api_name="/search")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, questions))
    assert len(results) == 20 and all(isinstance(r, list) and r for r in results)


def test_full_queue_says_busy_and_recovers() -> None:
    from gradio_client import Client

    proc, url = _start(ROOT / "index", extra_args=("--queue-size", "1", "--workers", "1"))
    try:
        def one(_: int) -> str:
            try:
                Client(url, verbose=False).predict("惠州市总工会五年来调处了多少宗劳资纠纷？", 20, "hybrid", api_name="/ask")
                return "ok"
            except Exception as e:  # noqa: BLE001
                return str(e)

        with ThreadPoolExecutor(max_workers=30) as pool:
            results = list(pool.map(one, range(30)))
        busy = [r for r in results if r != "ok"]
        assert "ok" in results and busy and all("try again" in r for r in busy)
        r = Client(url, verbose=False).predict("东莞荔枝", 3, "lexical", api_name="/search")
        assert isinstance(r, list) and r
    finally:
        _stop(proc)


@pytest.mark.browser
def test_browser_ask_highlight_and_citation_click(server: str) -> None:
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server, wait_until="networkidle")
        box = page.locator("#uq-question textarea")
        box.fill("")
        page.locator("#uq-submit").click()
        page.wait_for_selector("text=请输入一个关于文档的问题", timeout=60_000)
        box.fill("惠州市总工会五年来调处了多少宗劳资纠纷？")
        box.press("Enter")
        page.wait_for_selector(".uq-short", timeout=120_000)
        assert "7090宗" in page.locator(".uq-short").inner_text()
        assert page.locator("mark.uq-support").first.is_visible()
        assert page.locator("#src-1").is_visible()
        why = page.locator("#src-1 .uq-why").inner_text()
        assert "关键词匹配第" in why and "融合分数" not in why
        page.locator("a.uq-marker").first.click()
        page.wait_for_function("location.hash === '#src-1'")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-answer.png"), full_page=True)
        assert "篇文档" in page.locator(".uq-footer").inner_text()


@pytest.mark.browser
def test_document_html_renders_as_text(tmp_path: Path) -> None:
    from unionqa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.md").write_text(
        "# 恶意文档\n\n## 工会驿站\n\n"
        "某市总工会建设工会驿站<script>window.__pwned=1</script>共88家<img src=x onerror=\"window.__pwned=2\">。\n",
        encoding="utf-8")
    (docs / "ok.md").write_text("# 普通文档\n\n## 荔枝\n\n东莞送出荔枝。\n", encoding="utf-8")
    Index.build([docs], tmp_path / "index")
    proc, url = _start(tmp_path / "index")
    try:
        with _browser() as browser:
            page = browser.new_page()
            page.goto(url, wait_until="networkidle")
            page.locator("#uq-question textarea").fill("某市总工会建设了多少家工会驿站？")
            page.locator("#uq-submit").click()
            page.wait_for_selector("#uq-sources .uq-passage", timeout=120_000)
            shown = page.locator("#uq-sources .uq-passage").first.inner_text()
            assert "<script>window.__pwned=1</script>" in shown and "<img src=x" in shown
            assert page.evaluate("window.__pwned === undefined")
            assert page.locator("#uq-sources img").count() == 0 and page.locator("#uq-sources script").count() == 0
    finally:
        _stop(proc)


@pytest.mark.browser
def test_browser_near_miss_is_never_shown_as_an_answer(server: str) -> None:
    """A question about a city the documents do not cover: refusal, the sibling city's figure marked as not the
    answer, and the highlighter does not light up 州市 inside 惠州市."""
    with _browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server, wait_until="networkidle")
        box = page.locator("#uq-question textarea")
        box.fill("潮州市总工会五年来调处了多少宗劳资纠纷？")
        box.press("Enter")
        page.wait_for_selector(".uq-mismatch", timeout=120_000)
        assert page.locator(".uq-short").count() == 0
        warning = page.locator(".uq-mismatch").inner_text()
        assert "潮州" in warning and "不是答案" in warning
        assert "文档中没有潮州市的这项数据" in page.locator(".uq-abstain").inner_text()
        terms = page.locator("#uq-sources b.uq-term").all_inner_texts()
        assert all(t not in ("州市", "州") for t in terms)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-near-miss.png"), full_page=True)


def test_highlight_marks_whole_place_names_only() -> None:
    from unionqa.web import render

    html = render._highlight("惠州市总工会五年来调处劳资纠纷7090宗", [], ("广州", "州市", "总工会", "劳资纠纷"))
    assert '<b class="uq-term">州市' not in html and "惠州市<b" in html and '<b class="uq-term">劳资纠纷</b>' in html
    assert render._highlight("广州市总工会", [], ("广州",)).startswith('<b class="uq-term">广州</b>市')


def test_api_wrong_top_k_types_get_a_real_error(client) -> None:  # type: ignore[no-untyped-def]
    for bad in ("x", 2.5, None):
        for api in ("/ask", "/search"):
            out = client.predict("惠州市总工会五年来调处了多少宗劳资纠纷？", bad, "hybrid", api_name=api)
            assert isinstance(out, dict) and out.get("error") and "top_k" in out["error"]


def _post(url: str, body: bytes, content_type: str) -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_no_upload_route_and_a_body_limit(server: str) -> None:
    """Issue 12 item 6: the page uploads nothing, so the upload route is gone; request bodies are bounded."""
    form = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nhello\r\n--b--\r\n')
    for path in ("gradio_api/upload", "upload"):
        assert _post(server + path, form, "multipart/form-data; boundary=b") == 404
    big = b'{"data": ["' + b"x" * 100_000 + b'", 3, "hybrid"]}'
    assert _post(server + "gradio_api/call/search", big, "application/json") == 413
    ok = b'{"data": ["\\u5de5\\u4f1a", 3, "hybrid"]}'
    assert _post(server + "gradio_api/call/search", ok, "application/json") == 200


def test_password_guessing_is_throttled(tmp_path: Path) -> None:
    """Issue 12 item 7: after a few wrong passwords a client is locked out (429), whatever it sends."""
    proc, url = _start(ROOT / "index", {"UNIONQA_AUTH": "staff:correct-horse"})
    try:
        def login(password: str) -> int:
            body = urllib.parse.urlencode({"username": "staff", "password": password}).encode()
            return _post(url + "login", body, "application/x-www-form-urlencoded")

        assert login("correct-horse") == 200
        statuses = [login(f"guess{i}") for i in range(8)]
        assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}, statuses
        assert login("correct-horse") == 429  # locked out: even the right password waits
        try:  # original files sit behind the same login
            urllib.request.urlopen(url + "original/000_aab834ac4fc42f74.txt", timeout=10)
            raise AssertionError("served without a login")
        except urllib.error.HTTPError as e:
            assert e.code == 401
    finally:
        _stop(proc)


@pytest.mark.browser
def test_browser_document_management_tab(tmp_path: Path) -> None:
    """Issue 13 item 3: upload (type by content), background build with progress, the new index served
    without a restart, a failed build keeps the old index and says why, delete; only with --admin."""
    from unionqa import Index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# 普通文档\n\n## 荔枝\n\n东莞市总工会送出荔枝12000斤。\n", encoding="utf-8")
    Index.build([docs], tmp_path / "index")
    formats = ROOT / "tests" / "data" / "formats"
    proc, url = _start(tmp_path / "index", extra_args=("--admin",))
    try:
        with _browser() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url)
            page.wait_for_selector("#uq-question textarea", timeout=60_000)  # the 1 s job timer: never network-idle

            def add(name: str, reload: bool = True) -> None:
                """Upload one file on a fresh 文档管理 tab and press 添加到索引."""
                if reload:
                    page.reload()
                    page.wait_for_selector("#uq-question textarea", timeout=60_000)
                page.get_by_role("tab", name="文档管理").click()
                page.locator("#uq-upload input[type=file]").set_input_files(str(formats / name))
                page.wait_for_timeout(1000)
                page.locator("#uq-add").click()

            # a file whose content is not what it claims is refused before any build
            add("legacy.doc", reload=False)
            page.wait_for_selector("text=不支持这种文件", timeout=30_000)
            # a damaged PDF: the build fails, the old index keeps serving, the reason is shown
            add("broken.pdf")
            page.wait_for_selector("#uq-job-failed", timeout=120_000)
            assert "PDF 已损坏或无法读取" in page.locator("#uq-job-failed").inner_text()
            # a web page: added in the background, listed, and answerable without a restart
            add("article.html")
            page.wait_for_selector("#uq-job-ok", timeout=300_000)
            assert "article.html" in page.locator("#uq-docs").inner_text()
            page.get_by_role("tab", name="问答").click()
            page.locator("#uq-question textarea").fill("河源市全市建成工会爱心驿站多少家？")
            page.locator("#uq-submit").click()
            page.wait_for_selector(".uq-short", timeout=120_000)
            assert "127" in page.locator(".uq-short").inner_text()
            assert "article.html" in page.locator("#uq-sources").inner_text()
            # delete it again
            page.get_by_role("tab", name="文档管理").click()
            page.locator("#uq-remove-choice input").click()
            page.get_by_role("option", name=re.compile(r"（article\.html，\d{4}-\d\d-\d\d加入）")).click()
            page.keyboard.press("Escape")  # close the option list, which covers the button
            page.locator("#uq-remove").click()
            # nothing is deleted before the clerk confirms, in a row that names the document
            page.wait_for_selector("#uq-confirm-text >> text=确定要删除这 1 篇文档吗", timeout=30_000)
            assert "article.html" in page.locator("#uq-docs").inner_text()
            page.locator("#uq-confirm-no").click()
            page.wait_for_selector("text=已取消，没有删除任何文档", timeout=30_000)
            page.locator("#uq-remove").click()
            page.wait_for_selector("#uq-confirm-yes", state="visible", timeout=30_000)
            page.locator("#uq-confirm-yes").click()
            page.wait_for_function("document.querySelector('#uq-job-ok') && "
                                   "document.querySelector('#uq-job-ok').innerText.includes('已删除')", timeout=120_000)
            assert "article.html" not in page.locator("#uq-docs").inner_text()
        assert set(Index.load(tmp_path / "index").documents) == {"ok.md"}
    finally:
        _stop(proc)


def test_document_management_needs_admin_and_a_login_off_loopback(server: str, tmp_path: Path) -> None:
    with urllib.request.urlopen(server + "config", timeout=30) as r:
        config = r.read().decode("utf-8")
    assert "问答" in json.loads(config).__repr__() and "文档管理" not in json.loads(config).__repr__()
    out = subprocess.run([sys.executable, str(ROOT / "ui.py"), "--host", "0.0.0.0", "--admin", "--index", str(ROOT / "index")],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "UNIONQA_AUTH": ""})
    assert out.returncode == 1 and "needs a login" in out.stderr


def test_original_files_by_doc_id_only(server: str) -> None:
    """Issue 13 item 2: a citation's source file, looked up by doc id; nothing else is reachable."""
    with urllib.request.urlopen(server + "original/000_aab834ac4fc42f74.txt", timeout=10) as r:
        assert r.status == 200 and "惠州市总工会" in r.read().decode("utf-8")
        assert r.headers["Content-Type"].startswith("text/plain") and r.headers["X-Content-Type-Options"] == "nosniff"
    for bad in ("nope.txt", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "../pyproject.toml"):
        try:
            with urllib.request.urlopen(server + "original/" + bad, timeout=10) as r:
                body = r.read().decode("utf-8", "replace")
                assert r.status != 200 or ("root:x:0:0" not in body and "[project]" not in body)
        except urllib.error.HTTPError as e:
            assert e.code == 404


def test_highlight_skips_single_characters_and_parts_of_words() -> None:
    """Issue 27 item 6: 出/来/上/家/之 were highlighted, and terms lit up inside longer words."""
    from unionqa.search.tokenize import JiebaTokenizer
    from unionqa.web import render

    text = "五年来，全市新建工会组织91家，出台上级工会之规定。"
    html = render._highlight(text, [], ("来", "家", "出", "上", "之", "工会", "五年", "会组"),
                             JiebaTokenizer().word_spans(text))
    bold = re.findall(r'<b class="uq-term">([^<]*)</b>', html)
    assert bold == ["五年", "工会"], bold  # 工会 as a word of its own; not 工会 inside 工会组织, nor 会组


def test_source_line_shows_the_documents_date_where_it_has_one() -> None:
    """Issue 27 item 6: no document date was shown."""
    from types import SimpleNamespace

    from unionqa.web import render

    ix = SimpleNamespace(documents={"a.html": {"path": "/u/1/a.html", "format": "html", "date": "2026-11-20"},
                                    "b.txt": {"path": "seeds/b.txt"}})
    assert render.source_file(ix, "a.html") == "网页 a.html · 2026-11-20"  # type: ignore[arg-type]
    assert render.source_file(ix, "b.txt") == "文本文件 b.txt"  # type: ignore[arg-type]


#: Latin words the page may show: the product's name and names of file formats (file names are taken out first)
ALLOWED_LATIN = {"UnionQA", "PDF", "Word", "WPS", "OCR", "PNG", "JPEG", "docx", "html"}
_FILE_NAME = re.compile(r"[\w.-]+\.(?:txt|md|pdf|docx|html|png|jpe?g)\b")


def _english_on_page(page) -> set[str]:  # type: ignore[no-untyped-def]
    """Latin words in the visible text of the page, less file names, the allowed names and the example questions
    (content the clerk may click: one shows that English questions work)."""
    text = page.locator("body").inner_text()
    for example in page.locator(".uq-example").all_inner_texts():
        text = text.replace(example, "")
    return set(re.findall(r"[A-Za-z][A-Za-z'-]{2,}", _FILE_NAME.sub(" ", text))) - ALLOWED_LATIN


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_no_english_reachable_in_any_tab_or_dialog(tmp_path: Path, locale: str) -> None:
    """Issue 27: the clerk meets no English — whatever language the browser is set to, walking every tab and dialog:
    an answer, a refusal, the options and the document filter, feedback, the 文档管理 tab (upload box, list, a
    refusal, the delete confirmation) and an original opened at its passage."""
    import shutil

    shutil.copytree(ROOT / "index", tmp_path / "index", ignore=shutil.ignore_patterns(".lock", "uploads"))
    proc, url = _start(tmp_path / "index", extra_args=("--admin",))
    seen: dict[str, set[str]] = {}
    try:
        with _browser() as browser:
            page = browser.new_page(locale=locale, viewport={"width": 1366, "height": 900})
            page.goto(url)
            page.wait_for_selector("#uq-question textarea", timeout=60_000)
            page.wait_for_timeout(1500)  # the page settles (Gradio's first status notes)
            seen["start"] = _english_on_page(page)
            page.locator(".uq-example").first.click()
            page.wait_for_selector(".uq-short", timeout=120_000)
            seen["answer"] = _english_on_page(page)
            page.locator("#uq-question textarea").fill("潮州市总工会五年来调处了多少宗劳资纠纷？")
            page.locator("#uq-submit").click()
            page.wait_for_selector("#uq-answer .uq-mismatch, #uq-answer .uq-abstain", timeout=120_000)
            seen["refusal"] = _english_on_page(page)
            page.locator("#uq-down").click()
            page.wait_for_selector("#uq-feedback-msg >> text=已记录", timeout=30_000)
            seen["feedback"] = _english_on_page(page)
            page.get_by_text("高级选项").click()
            page.locator("#uq-doc-filter input").click()
            page.wait_for_timeout(500)
            seen["options and filter"] = _english_on_page(page)
            page.keyboard.press("Escape")
            page.get_by_role("tab", name="文档管理").click()
            page.wait_for_timeout(1500)
            seen["documents tab"] = _english_on_page(page)
            page.locator("#uq-remove").click()
            page.wait_for_selector("#uq-job .uq-error", timeout=30_000)
            seen["refused delete"] = _english_on_page(page)
            page.locator("#uq-remove-choice input").click()
            page.get_by_role("option").first.click()
            page.keyboard.press("Escape")
            page.locator("#uq-remove").click()
            page.wait_for_selector("#uq-confirm-text >> text=确定要删除", timeout=30_000)
            seen["delete confirmation"] = _english_on_page(page)
            page.locator("#uq-confirm-no").click()
            page.get_by_role("tab", name="问答").click()
            page.locator("#uq-question textarea").fill("惠州市总工会五年来调处了多少宗劳资纠纷？")
            page.locator("#uq-submit").click()
            page.wait_for_selector("#uq-sources .uq-original", timeout=120_000)
            original = page.locator("#uq-sources .uq-original").first.get_attribute("href")
            page.goto(urllib.parse.urljoin(url, original or ""))
            seen["original"] = _english_on_page(page)
    finally:
        _stop(proc)
    assert all(not words for words in seen.values()), {where: sorted(w) for where, w in seen.items() if w}
