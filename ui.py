"""UnionQA web UI (Gradio): ask, read the short answer, check every cited source in context.

    python ui.py [--index index] [--host 127.0.0.1] [--port 7860] [--share]

Binds to loopback unless --host says otherwise; set UNIONQA_AUTH=user:password to require a
login. Named API endpoints /ask and /search return the same fields as Index.ask / Index.search.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import re
import sys
import threading
import urllib.parse
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from unionqa import MAX_QUERY_CHARS, Answer, Hit, Index, QueryError, UnionQAError, place_spans
from unionqa.documents import MAX_FILE_BYTES
from unionqa.embedding import load_embedder
from unionqa.guard import Guard
from unionqa.manage import JobState, Manager
from unionqa.storage import current_generation

ROOT = Path(__file__).resolve().parent

MODES = {"混合检索（推荐）": "hybrid", "语义检索": "dense", "关键词检索": "lexical"}
EXAMPLES = [
    "惠州市总工会五年来调处了多少宗劳资纠纷？",
    "东莞市总工会免费送出了多少斤荔枝？",
    "河源市建成了多少家工会爱心驿站？",
    "What is the trade union's second medical insurance?",
    "佛岡縣總工會如何宣傳工會二次醫保？",
]
MAX_QUESTION_CHARS = MAX_QUERY_CHARS  # the index answers the first MAX_QUERY_CHARS characters

CSS = """
.uq-answer {font-size: 1.05rem; line-height: 1.8;}
.uq-short {font-size: 1.4rem; font-weight: 700; color: #b45309; margin-bottom: .4rem;}
.uq-abstain {color: #92400e; font-weight: 600;}
.uq-mismatch {margin-top: .5rem; padding: .4rem .6rem; border-left: 4px solid #dc2626; background: #fef2f2; color: #991b1b;}
.uq-nearmiss {margin-top: .3rem; padding: .4rem .6rem; background: #f3f4f6; color: #4b5563; font-size: .95rem;}
.uq-caveat {margin-top: .3rem; color: #b45309; font-size: .9rem;}
.uq-hint {color: #6b7280;}
.uq-card {border: 1px solid #e5e7eb; border-radius: 10px; padding: .8rem 1rem; margin: .6rem 0; background: #fff;}
.uq-card:target {border-color: #f59e0b; box-shadow: 0 0 0 3px #fde68a;}
.uq-crumb {color: #6b7280; font-size: .85rem;}
.uq-title {font-weight: 700;}
.uq-passage {white-space: pre-wrap; line-height: 1.75; margin: .4rem 0;}
.uq-passage mark.uq-support {background: #fef08a; padding: 0 1px;}
.uq-passage b.uq-term {color: #b91c1c;}
.uq-why {color: #4b5563; font-size: .8rem;}
.uq-marker {font-weight: 700; text-decoration: none; color: #2563eb;}
.uq-context {white-space: pre-wrap; color: #374151; font-size: .9rem; background: #f9fafb; padding: .5rem;}
.uq-ocr {color: #b45309;}
.uq-bar {height: .5rem; background: #e5e7eb; border-radius: .25rem; margin-top: .25rem;}
.uq-bar > div {height: 100%; background: #2563eb; border-radius: .25rem;}
.uq-job-ok {color: #15803d;}
.uq-job-failed {color: #b91c1c;}
.uq-footer {color: #6b7280; font-size: .8rem;}
"""


class App:
    """Holds the live index; reload() swaps in a rebuilt one without a restart."""

    def __init__(self, index_dir: str, threads: int | None = None) -> None:
        self.index_dir = index_dir
        self.threads = threads
        self._reloading = threading.Lock()  # one load at a time: a reload is a full verified load
        self.index = Index.load(index_dir)

    def warm(self) -> None:
        """Load the embedding model in the background so the first question is not slow."""
        def load() -> None:
            load_embedder(self.index.model_name, threads=self.threads)  # cached: the index's embedder is this one
            self.index.embedder  # noqa: B018 - touching it loads it

        threading.Thread(target=load, daemon=True).start()

    def reload(self, wait: bool = False) -> str:
        """Switch to the generation live on disk. One reload runs at a time (others are told so), and a reload
        when nothing was rebuilt costs one small file read, so /reload cannot be used to pile up full loads.
        ``wait``: queue behind a running reload instead (after a document job, whose index must be served)."""
        if not self._reloading.acquire(blocking=wait):
            return "另一个重新加载正在进行，请稍后再试"
        try:
            if current_generation(Path(self.index_dir)) == self.index.generation:
                return f"已加载索引 {self.index.generation.name}（没有新的索引）"
            # one reference assignment, under the reload lock: a request sees the old index or the new one
            self.index = fresh = Index.load(self.index_dir)
        except UnionQAError as e:
            return f"重新加载失败，仍在使用原索引：{e}"
        finally:
            self._reloading.release()
        return f"已加载索引 {fresh.generation.name}"

    def doc_ids(self) -> list[str]:
        """The document filter's choices: the doc ids of the index being served."""
        return sorted(self.index.documents)

    def footer(self) -> str:
        i = self.index.info()
        counts = " · ".join(f"{html.escape(str(i[k]))} {label}" for k, label in
                            (("documents", "篇文档"), ("articles", "篇文章"), ("chunks", "个段落")))
        return (f'<div class="uq-footer">已索引：{counts} · '
                f'模型 {html.escape(str(i["model"]))} · 建立于 {html.escape(str(i["created_at"]))}</div>')


# ---- original files ---------------------------------------------------------------------

ORIGINAL_ROUTE = "/original/"
_MEDIA = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "html": "text/plain; charset=utf-8", "text": "text/plain; charset=utf-8"}


def original_file(ix: Index, doc_id: str) -> Path | None:
    """The source file of an indexed document, looked up by doc id only (a request never names a path)."""
    rec = ix.documents.get(doc_id)
    path = Path(str(rec.get("path", ""))) if rec else None
    return path if path is not None and str(path) and path.is_file() else None


class Originals:
    """ASGI middleware serving ``/original/<doc_id>``: the file a citation comes from, behind the same login as
    the page (Gradio's session cookie), so a PDF opens at the cited page (``#page=N``). Web pages are served as
    text, never as HTML from our origin."""

    def __init__(self, asgi: Any, app: App) -> None:
        self.asgi, self.app = asgi, app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(ORIGINAL_ROUTE) or scope.get("method") != "GET":
            await self.asgi(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import FileResponse, PlainTextResponse

        request = Request(scope)
        gradio_app = scope.get("app")
        if getattr(gradio_app, "auth", None):
            cookie_id = getattr(gradio_app, "cookie_id", "")
            token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
            if not token or token not in getattr(gradio_app, "tokens", {}):
                await PlainTextResponse("login required", status_code=401)(scope, receive, send)
                return
        doc_id = urllib.parse.unquote(path[len(ORIGINAL_ROUTE):])
        ix = self.app.index
        found = original_file(ix, doc_id)
        if found is None:
            await PlainTextResponse("not found", status_code=404)(scope, receive, send)
            return
        fmt = str(ix.documents[doc_id].get("format", "text"))
        media = _MEDIA.get(fmt, "application/octet-stream")
        disposition = "inline" if fmt in ("pdf", "image", "html", "text") else "attachment"
        await FileResponse(found, media_type=media if fmt != "image" else None, filename=doc_id,
                           content_disposition_type=disposition,
                           headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})(
                               scope, receive, send)


# ---- rendering --------------------------------------------------------------------------

def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _highlight(text: str, support: list[tuple[int, int]], terms: tuple[str, ...]) -> str:
    """Escape ``text``; wrap supporting sentences in <mark> and query terms in <b>."""
    n = len(text)
    mark = [False] * n
    term = [False] * n
    for a, b in support:
        for i in range(max(0, a), min(n, b)):
            mark[i] = True
    lowered = text.lower()
    names = place_spans(text)
    for t in sorted({t for t in terms if t.strip() and (len(t) > 1 or not t.isascii())}, key=len, reverse=True):
        for m in re.finditer(re.escape(t.lower()), lowered):
            # whole names only: 州市 must not light up inside 惠州市 when 广州市 was asked
            if any(a < m.start() < b or (m.start() < a < m.end() < b) for a, b in names):
                continue
            for i in range(m.start(), m.end()):
                term[i] = True
    out: list[str] = []
    i = 0
    while i < n:
        j = i
        while j < n and mark[j] == mark[i] and term[j] == term[i]:
            j += 1
        seg = _esc(text[i:j])
        if term[i]:
            seg = f'<b class="uq-term">{seg}</b>'
        if mark[i]:
            seg = f'<mark class="uq-support">{seg}</mark>'
        out.append(seg)
        i = j
    return "".join(out)


def _card(ix: Index, n: int | None, hit: Hit, support: list[tuple[int, int]]) -> str:
    title = ix.documents.get(hit.doc_id, {}).get("title") or hit.doc_id
    anchor = f' id="src-{n}"' if n else ""
    label = f"[{n}] " if n else ""
    before, _, after = ix.context(hit.chunk_id, margin=300)
    ocr = ' · <span class="uq-ocr">文字由OCR识别，可能有误，请核对原件</span>' if hit.ocr else ""
    if original_file(ix, hit.doc_id) is not None:
        at = f"#page={hit.page}" if hit.page else ""
        ocr += (f' · <a class="uq-original" target="_blank" rel="noopener" '
                f'href="{ORIGINAL_ROUTE.lstrip("/")}{_esc(urllib.parse.quote(hit.doc_id))}{at}">查看原文件</a>')
    why = (f"为什么是这个结果：关键词排名 {hit.lexical_rank or '—'} · 语义排名 {hit.dense_rank or '—'} · "
           f"融合分数 {hit.score:.4f}")
    return (
        f'<div class="uq-card"{anchor}>'
        f'<div class="uq-title">{label}{_esc(title)}</div>'
        f'<div class="uq-crumb">{_esc(" › ".join(hit.breadcrumb + ((hit.page_label,) if hit.page else ())))} · '
        f'{_esc(hit.doc_id)} 第 {hit.span[0]}–{hit.span[1]} 字{ocr}</div>'
        f'<div class="uq-passage">{_highlight(hit.text, support, hit.matched_terms)}</div>'
        f'<details><summary>查看上下文</summary><div class="uq-context">…{_esc(before)}'
        f'<mark class="uq-support">{_esc(hit.text)}</mark>{_esc(after)}…</div></details>'
        f'<div class="uq-why">{why}</div></div>'
    )


def _with_marker_links(ans: Answer) -> str:
    """Escaped answer text with each citation marker linked to its source card. Markers are taken where the
    answer recorded them: a document's own footnote numbers ([2]) inside a quote stay plain text."""
    out, pos = [], 0
    for a, b, n in ans.markers:
        out.append(_esc(ans.text[pos:a]))
        out.append(f'<a class="uq-marker" href="#src-{n}">[{n}]</a>')
        pos = b
    out.append(_esc(ans.text[pos:]))
    return "".join(out)


def render_answer(ans: Answer) -> str:
    if ans.abstained:
        if ans.mismatch:
            # a near miss for another place/year: never shown like an answer
            asked, other = ans.mismatch
            first, _, rest = ans.text.partition("\n")
            said = f"文档中的相近内容说的是{_esc(other)}" if other else "文档中的相近内容没有提到它"
            return (f'<div class="uq-answer"><div class="uq-abstain">{_esc(first)}</div>'
                    f'<div class="uq-mismatch">⚠ 您问的是{_esc(asked)}，{said}——下面的内容不是答案。</div>'
                    f'<div class="uq-nearmiss">{_esc(rest)}</div></div>')
        return f'<div class="uq-answer"><div class="uq-abstain">{_esc(ans.text)}</div></div>'
    if ans.mode == "llm-unverified":
        figures = "、".join(n.split(" in:")[0].removeprefix("unsupported figure ") for n in ans.notes
                           if n.startswith("unsupported figure"))
        return (f'<div class="uq-answer"><div class="uq-mismatch">⚠ 未经核实：大模型的回答里有出处中没有的数字（{_esc(figures)}），'
                f'不能作为答案，请以下面的原文为准。</div><div class="uq-nearmiss">{_with_marker_links(ans)}</div></div>')
    lines = _with_marker_links(ans).split("\n")
    if ans.short_answer and lines:
        lines[0] = f'<div class="uq-short">{lines[0]}</div>'
    notes = "".join(f'<div class="uq-why">（{_esc(n)}）</div>' for n in ans.notes if ans.mode == "llm" or "LLM" in n)
    caveats = "".join(f'<div class="uq-caveat">⚠ {_esc(c)}</div>' for c in ans.caveats)
    if any(n.startswith("only the first") for n in ans.notes):
        caveats += f'<div class="uq-caveat">⚠ 问题过长，只按前{MAX_QUESTION_CHARS}字回答</div>'
    return f'<div class="uq-answer">{"<br>".join(lines)}{caveats}{notes}</div>'


def render_sources(ix: Index, ans: Answer) -> str:
    if ans.abstained:
        if not ans.closest:
            return ""
        closest = "".join(_card(ix, None, h, []) for h in ans.closest)
        return f"<h4>最接近的段落（仅供参考，未找到答案）</h4>{closest}"
    cards = []
    for n, hit in enumerate(ans.citations, 1):
        support = [s.offset for s in ans.sentences if s.marker == n]
        cards.append(_card(ix, n, hit, support))
    return "<h4>来源</h4>" + "".join(cards)


def _top_k(value: Any) -> Any:
    """top_k from an HTTP caller: JSON may send 5.0 or "5" for 5; anything else goes unchanged to the index,
    whose check (``query.check_top_k``) gives the same QueryError as the Python API."""
    if isinstance(value, (float, str)):
        try:
            number = float(value)
        except ValueError:
            return value
        if number.is_integer():
            return int(number)
    return value


def hint(text: str) -> str:
    return f'<div class="uq-hint">{_esc(text)}</div>'


# ---- handlers ---------------------------------------------------------------------------

def documents_table(ix: Index) -> list[list[Any]]:
    """The 文档管理 list: doc id, title, format, pages, chunks, when indexed."""
    counts = Counter(c.doc_id for c in ix.chunks)
    rows = []
    for doc_id, r in sorted(ix.documents.items()):
        pages = r.get("pages")
        rows.append([doc_id, r.get("title", ""), r.get("format", "text"), len(pages) if isinstance(pages, list) and pages else "",
                     counts[doc_id], str(r.get("indexed_at", ""))[:16].replace("T", " ")])
    return rows


def job_html(st: JobState) -> str:
    """The running job's progress bar, or how the last one ended."""
    if st.running:
        share = int(100 * st.done / st.total) if st.total else 0
        stage = {"read": "读取文件", "tokenize": "分词", "embed": "计算向量"}.get(st.stage, st.stage)
        return (f'<div class="uq-job" id="uq-job-running">正在{_esc(st.action)}：{_esc(stage)} {st.done}/{st.total}'
                f'<div class="uq-bar"><div style="width:{share}%"></div></div></div>')
    if st.ok is None:
        return ""
    cls, mark = ("uq-job-ok", "✓") if st.ok else ("uq-job-failed", "✗")
    return f'<div class="uq-job {cls}" id="{cls}">{mark} {_esc(st.message)}</div>'


def build_app(app: App, manager: Manager | None = None) -> gr.Blocks:
    docs = app.doc_ids()

    def on_ask(question: str, mode_label: str, top_k: float, doc_filter: list[str] | None,
               progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        question = (question or "").strip()
        if not question:
            return hint("请输入一个关于文档的问题，例如：" + EXAMPLES[0]), ""
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
        progress(0.2, desc="正在检索…")
        ix = app.index
        try:
            ans = ix.ask(question, top_k=int(top_k), mode=MODES.get(mode_label, "hybrid"),
                         doc_ids=doc_filter or None)
        except QueryError as e:
            return hint(f"无法处理这个问题：{e}"), ""
        except UnionQAError as e:
            return hint(f"出错了：{e}"), ""
        except Exception:  # noqa: BLE001 - never show a traceback to users, but log the cause for the operator
            logging.getLogger("unionqa.ui").exception("answering %r failed", question[:80])
            return hint("出错了，请换个问法再试。"), ""
        progress(1.0, desc="完成")
        return render_answer(ans), render_sources(ix, ans)

    with gr.Blocks(title="UnionQA 工会文档问答") as demo:
        with gr.Tabs() as tabs, gr.Tab("问答", id="qa"):
            gr.HTML('<h2 style="margin:0">UnionQA 工会文档问答</h2>'
                    '<div class="uq-hint">用中文（简体或繁体）或英文提问，答案都附有原文出处。</div>')
            with gr.Row():
                question = gr.Textbox(label=f"问题（最多{MAX_QUESTION_CHARS}字）",
                                      placeholder="例如：惠州市总工会五年来调处了多少宗劳资纠纷？", lines=1,
                                      max_lines=3, scale=5, elem_id="uq-question", max_length=MAX_QUESTION_CHARS)
                submit = gr.Button("提问", variant="primary", scale=1, elem_id="uq-submit")
            gr.Examples(EXAMPLES, inputs=question, label="示例问题")
            with gr.Accordion("高级选项", open=False):
                mode = gr.Radio(list(MODES), value="混合检索（推荐）", label="检索方式")
                top_k = gr.Slider(1, 20, value=5, step=1, label="参考段落数")
                doc_filter = gr.Dropdown(docs, multiselect=True, label="只在这些文档中查找（留空为全部）")
                reload_btn = gr.Button("重新加载索引", size="sm")
                reload_msg = gr.Markdown()
            answer = gr.HTML(hint("答案会显示在这里。"), elem_id="uq-answer")
            sources = gr.HTML("", elem_id="uq-sources")
            footer = gr.HTML(app.footer())

        if manager is not None:
            with tabs, gr.Tab("文档管理", id="admin"):
                gr.HTML('<div class="uq-hint">上传 PDF、Word（.docx）、网页（.html）、图片或文本文件（每个不超过'
                        f'{MAX_FILE_BYTES // (1024 * 1024)} MB，类型按内容判断）。同名文件会替换原文档。'
                        '索引在后台更新，完成前照常使用原索引。</div>')
                uploads = gr.File(file_count="multiple", type="filepath", label="选择文件", elem_id="uq-upload")
                add_btn = gr.Button("添加到索引", variant="primary", elem_id="uq-add")
                job = gr.HTML(job_html(manager.state), elem_id="uq-job")
                table = gr.Dataframe(documents_table(app.index), headers=["文档", "标题", "格式", "页数", "段落数", "加入时间"],
                                     interactive=False, elem_id="uq-docs")
                to_remove = gr.Dropdown(docs, multiselect=True, label="选择要删除的文档", elem_id="uq-remove-choice")
                remove_btn = gr.Button("删除所选文档", variant="stop", elem_id="uq-remove")
                seen = gr.State(0)
                timer = gr.Timer(1.0)

            def start_add(files: list[str] | None) -> str:
                return hint(manager.add(files or []))

            def start_remove(doc_ids: list[str] | None) -> str:
                return hint(manager.remove(doc_ids or []))

            def tick(last: int) -> tuple[Any, ...]:
                st = manager.state
                if manager.finished == last:
                    return gr.update(value=job_html(st)) if st.running else gr.update(), gr.update(), gr.update(), \
                        gr.update(), gr.update(), last
                ids = app.doc_ids()
                return (job_html(st), documents_table(app.index), gr.update(choices=ids, value=[]),
                        gr.update(choices=ids), app.footer(), manager.finished)

            add_btn.click(start_add, uploads, job, api_visibility="private")
            remove_btn.click(start_remove, to_remove, job, api_visibility="private")
            timer.tick(tick, seen, [job, table, to_remove, doc_filter, footer, seen], api_visibility="private")

        inputs = [question, mode, top_k, doc_filter]
        submit.click(on_ask, inputs, [answer, sources], api_visibility="private")
        question.submit(on_ask, inputs, [answer, sources], api_visibility="private")
        reload_btn.click(lambda: (app.reload(), app.footer(), gr.update(choices=app.doc_ids())), None,
                         [reload_msg, footer, doc_filter], api_visibility="private")

        def ask(question: str, top_k: int = 5, mode: str = "hybrid") -> dict[str, Any]:
            """Answer a question from the documents (same fields as Index.ask)."""
            try:
                return asdict(app.index.ask(question, top_k=_top_k(top_k), mode=mode))
            except UnionQAError as e:
                return {"error": str(e)}

        def search(query: str, top_k: int = 5, mode: str = "hybrid") -> list[dict[str, Any]] | dict[str, str]:
            """Search passages (same fields as Index.search)."""
            try:
                return [asdict(h) for h in app.index.search(query, top_k=_top_k(top_k), mode=mode)]
            except UnionQAError as e:
                return {"error": str(e)}

        def reload() -> str:
            """Switch to the index generation that is live on disk now (after a rebuild)."""
            return app.reload()

        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")
        gr.api(reload, api_name="reload")
    return demo


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SystemExit("UNIONQA_AUTH must look like user:password")
    return [(user, password)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="UnionQA web UI")
    ap.add_argument("--index", default=os.environ.get("UNIONQA_INDEX", str(ROOT / "index")))
    ap.add_argument("--host", default=os.environ.get("UNIONQA_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("UNIONQA_PORT", "7860")))
    ap.add_argument("--share", action="store_true", help="create a public Gradio share link (off by default)")
    ap.add_argument("--queue-size", type=int, default=64, help="waiting requests before 'busy, try again'")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("UNIONQA_WORKERS", "8")),
                    help="questions answered at the same time")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("UNIONQA_THREADS", "1")),
                    help="onnxruntime threads per query embedding (1: concurrent requests do not oversubscribe)")
    ap.add_argument("--admin", action="store_true",
                    help="show the 文档管理 tab (upload, delete) on loopback; with UNIONQA_AUTH it is always shown")
    args = ap.parse_args(argv)
    auth = parse_auth(os.environ.get("UNIONQA_AUTH"))
    loopback = args.host in ("127.0.0.1", "localhost", "::1") and not args.share
    if args.admin and not (auth or loopback):
        print("unionqa: error: --admin off loopback needs a login: set UNIONQA_AUTH=user:password", file=sys.stderr)
        return 1
    admin = bool(auth) or args.admin
    try:
        app = App(args.index, threads=args.threads)
    except UnionQAError as e:
        print(f"unionqa: error: {e}", file=sys.stderr)
        return 1
    app.warm()
    manager = Manager(args.index, on_published=lambda: app.reload(wait=True)) if admin else None
    demo = build_app(app, manager)
    demo.queue(max_size=args.queue_size, default_concurrency_limit=args.workers)
    upload = MAX_FILE_BYTES if admin else 0
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                show_error=False, css=CSS, footer_links=["api"], max_file_size=upload or "1mb", ssr_mode=False,
                quiet=False,
                # no upload route unless 文档管理 is shown, a 64 KB request body limit, login throttling (unionqa.guard)
                app_kwargs={"middleware": [Middleware(Guard, upload_limit=upload + 1024 * 1024 if upload else 0),
                                            Middleware(Originals, app=app)]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
