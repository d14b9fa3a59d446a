"""UnionQA web UI (Gradio): ask, read the short answer, check every cited source in context.

    python ui.py [--index index] [--host 127.0.0.1] [--port 7860] [--share]

Binds to loopback unless --host says otherwise; set UNIONQA_AUTH=user:password to require a
login. Named API endpoints /ask and /search return the same fields as Index.ask / Index.search.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from unionqa import Index, QueryError, UnionQAError
from unionqa.answer.reader import WEIGHTS as READER_WEIGHTS
from unionqa.answer.reader import load_reader
from unionqa.config import MODES as SEARCH_MODES
from unionqa.documents import MAX_FILE_BYTES
from unionqa.embedding import load_embedder
from unionqa.feedback import feedback_path, feedback_record, record_feedback
from unionqa.guard import Guard
from unionqa.manage import Manager
from unionqa.originals import Originals
from unionqa.render import (
    MAX_TURNS,
    document_choices,
    documents_table,
    error,
    hint,
    history_turns,
    index_summary,
    job_html,
    read_turns,
    removal_choices,
    render_history,
    render_sources,
    render_turn,
    turn_record,
)

log = logging.getLogger("unionqa.ui")
ROOT = Path(__file__).resolve().parent

MODES = dict(zip(("混合检索（推荐）", "语义检索", "关键词检索"), SEARCH_MODES))  # labels of config.MODES, in order
EXAMPLES = [
    "惠州市总工会五年来调处了多少宗劳资纠纷？",
    "东莞市总工会免费送出了多少斤荔枝？",
    "河源市建成了多少家工会爱心驿站？",
    "What is the trade union's second medical insurance?",
    "佛岡縣總工會如何宣傳工會二次醫保？",
]

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
.uq-file {color: #6b7280; font-size: .8rem;}
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
.uq-asked {font-weight: 600; color: #111827; margin-bottom: .2rem;}
.uq-resolved {color: #2563eb; font-size: .9rem; margin-bottom: .3rem;}
.uq-filters {display: inline-block; background: #eef2ff; color: #3730a3; border-radius: 6px; padding: .1rem .5rem;
             font-size: .85rem; margin-bottom: .3rem;}
.uq-history {border-left: 3px solid #e5e7eb; padding-left: .8rem; margin-bottom: .6rem;}
.uq-turn {margin: .5rem 0; color: #374151;}
.uq-said {white-space: pre-wrap; font-size: .95rem;}
/* an earlier turn takes at most two lines of question and three of answer: a long paste cannot fill the screen */
.uq-history .uq-asked, .uq-history .uq-resolved, .uq-history .uq-said {display: -webkit-box; -webkit-box-orient: vertical;
                                                                      overflow: hidden;}
.uq-history .uq-asked, .uq-history .uq-resolved {-webkit-line-clamp: 2;} .uq-history .uq-said {-webkit-line-clamp: 3;}
.uq-tools {margin-top: .6rem; display: flex; flex-wrap: wrap; gap: .8rem; align-items: center; font-size: .9rem;}
.uq-tools button, .uq-retry {border: 1px solid #d1d5db; border-radius: 6px; padding: .15rem .6rem; background: #f9fafb;
                            cursor: pointer;}
.uq-down {color: #b91c1c; font-weight: 600;}
.uq-restored {color: #15803d; font-size: .9rem;}
/* Gradio's own notices are English; the page says what happened in Chinese (the watchdog, #uq-restored) */
.toast-wrap {display: none !important;}
.uq-error {color: #b91c1c; background: #fef2f2; border: 1px solid #fecaca; border-radius: 6px; padding: .4rem .6rem;}
"""

# copy buttons, the retry button, and a watchdog for a server that stopped answering; event delegation, so the
# answer HTML carries no script and no inline handler
HEAD = """<script>
(() => {
  const copyText = (text, btn) => {
    const done = () => { const t = btn.dataset.label || btn.textContent; btn.dataset.label = t;
                         btn.textContent = '已复制'; setTimeout(() => { btn.textContent = t; }, 1500); };
    const fallback = () => { const ta = document.createElement('textarea'); ta.value = text;
      document.body.appendChild(ta); ta.select(); try { document.execCommand('copy'); done(); } catch (e) {} ta.remove(); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  };
  document.addEventListener('click', (e) => {
    const b = e.target.closest('.uq-copy, .uq-copy-link, .uq-retry');
    if (!b) return;
    if (b.classList.contains('uq-retry')) { document.querySelector('#uq-submit')?.click(); return; }
    const text = b.classList.contains('uq-copy-link')
      ? new URL(b.dataset.copy, location.href.split('#')[0]).href : b.dataset.copy;
    copyText(text, b);
  });
  // while a question is out: when the page still waits after a few seconds, ask whether the server is there;
  // the page may redraw the answer box (its placeholder comes back), so look again until the answer is in
  window.uqWatch = () => {
    const started = Date.now();
    let down = false;
    const check = async () => {
      const wait = document.querySelector('#uq-answer .uq-waiting');
      if (!wait) return;  // answered
      let up = true;
      try { const r = await fetch(location.pathname.replace(/[^/]*$/, '') + 'config', {cache: 'no-store'});
            up = r.ok || r.status === 401; } catch (e) { up = false; }
      down = down || !up;
      const slow = up && !down && Date.now() - started > 120000;
      const now = document.querySelector('#uq-answer .uq-waiting');
      if (now && (down || slow) && !now.querySelector('.uq-retry')) {
        const said = !up ? '无法连接到服务器（可能已停止或正在重启），这个问题还没有答案。'
          : down ? '服务器已恢复，但这个问题在中断时丢失了，请点击重试。' : '服务器长时间没有回应，这个问题还没有答案。';
        now.innerHTML = '<div class="uq-down">' + said + '</div><button class="uq-retry" type="button">重试</button>';
      } else if (now && down && up && now.querySelector('.uq-down')) {
        now.querySelector('.uq-down').textContent = '服务器已恢复，但这个问题在中断时丢失了，请点击重试。';
      }
      if (now) setTimeout(check, 2000);
    };
    setTimeout(check, 2000);
  };
  // the typed question survives a server restart (Gradio then resets the page) and a reload: kept in the
  // browser until it has been answered; a question sent but not answered is kept too
  const TYPED = 'uq-question', SENT = 'uq-question-sent';
  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('#uq-question')) localStorage.setItem(TYPED, e.target.value);
  });
  window.uqSent = () => { const box = document.querySelector('#uq-question textarea');
    if (box && box.value) localStorage.setItem(SENT, box.value); localStorage.removeItem(TYPED); };
  window.uqAnswered = () => localStorage.removeItem(SENT);
  setInterval(() => {
    const box = document.querySelector('#uq-question textarea');
    const saved = localStorage.getItem(TYPED) || localStorage.getItem(SENT);
    if (!box || !saved || box.value || document.querySelector('#uq-answer .uq-waiting')) return;
    box.value = saved;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    const note = document.querySelector('#uq-restored');
    if (note) note.textContent = '已连接到服务器；您输入的问题已保留，可以接着提问。';
  }, 1000);
})();
</script>"""
# runs in the page as a question goes out: the previous answer and its sources give way at once
WAITING_JS = """(...args) => { window.uqSent && window.uqSent(); window.uqWatch && window.uqWatch();
  return ['<div class="uq-answer uq-waiting">正在检索…</div>', '']; }"""
# runs when the answer is in: the newest turn comes into view (after a few turns it lands below the fold)
SHOW_NEWEST_JS = """() => { window.uqAnswered && window.uqAnswered(); const a = document.querySelector('#uq-answer');
  if (a) a.scrollIntoView({block: 'start', behavior: 'instant'}); }"""


class App:
    """Holds the live index; reload() swaps in a rebuilt one without a restart."""

    def __init__(self, index_dir: str, threads: int | None = None) -> None:
        self.index_dir = index_dir
        self.threads = threads
        self._reloading = threading.Lock()  # one load at a time: a reload is a full verified load
        self.index = Index.load(index_dir)
        self.feedback_file = feedback_path(index_dir)

    def warm(self) -> None:
        """Load the embedding model and the reader in the background so the first question is not slow."""
        def load() -> None:
            load_embedder(self.index.model_name, threads=self.threads)  # cached: the index's embedder is this one
            self.index.embedder  # noqa: B018 - touching it loads it
            if READER_WEIGHTS.is_file():  # the answer reader too (its graph is built into the cache once)
                load_reader(threads=self.threads)

        threading.Thread(target=load, daemon=True).start()

    def reload(self, wait: bool = False) -> str:
        """Switch to the generation live on disk. One reload runs at a time (others are told so), and a reload
        when nothing was rebuilt costs one small file read, so /reload cannot be used to pile up full loads.
        ``wait``: queue behind a running reload instead (after a document job, whose index must be served)."""
        if not self._reloading.acquire(blocking=wait):
            return "另一个重新加载正在进行，请稍后再试"
        try:
            if Index.live_generation(self.index_dir) == self.index.generation_name:
                return f"索引没有变化：{index_summary(self.index)}"
            # one reference assignment, under the reload lock: a request sees the old index or the new one
            self.index = fresh = Index.load(self.index_dir)
        except UnionQAError as e:
            return f"重新加载失败，仍在使用原索引：{e}"
        finally:
            self._reloading.release()
        return f"已加载最新的索引：{index_summary(fresh)}"

    def doc_ids(self) -> list[str]:
        """The doc ids of the index being served."""
        return sorted(self.index.documents)

    def doc_choices(self) -> list[tuple[str, str]]:
        """The document filter's choices: (title, doc id) of the index being served."""
        return document_choices(self.index)

    def footer(self) -> str:
        return f'<div class="uq-footer">{html.escape(index_summary(self.index))}</div>'


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


TOP_K_MAX = 20  # the slider's range


def turn_inputs(ix: Index, mode_label: Any, top_k: Any, doc_filter: Any) -> tuple[str, int, list[str] | None]:
    """The page's settings checked on the server (a caller of ``/gradio_api/queue/join`` can send anything):
    a known mode label, a whole number of passages within the slider's range, documents the index holds."""
    if not isinstance(mode_label, str) or mode_label not in MODES:
        raise QueryError(f"未知的检索方式：{str(mode_label)[:40]!r}（可选：{'、'.join(MODES)}）")
    k = _top_k(top_k)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= TOP_K_MAX:
        raise QueryError(f"参考段落数须是 1 到 {TOP_K_MAX} 之间的整数，不是 {str(top_k)[:20]}")
    if doc_filter is not None and not (isinstance(doc_filter, list) and all(isinstance(d, str) for d in doc_filter)):
        raise QueryError("文档筛选须是文档列表")
    gone = [d for d in doc_filter or [] if d not in ix.documents]
    if gone:  # a page older than a rebuild, or a forged request: say so instead of searching everything
        raise QueryError(f"所选文档已不在索引中：{'、'.join(d[:60] for d in gone[:3])}；请刷新页面后重新选择")
    return MODES[mode_label], k, list(doc_filter) if doc_filter else None


def state_secret() -> str:
    """The key the browser-kept conversation is sealed with: one per installation (in the model cache), so it
    survives a server restart — Gradio's default is a new random key each start, which drops the conversation."""
    from unionqa.e5_onnx import cache_dir

    path = cache_dir() / "browser-state.key"
    try:
        return path.read_text(encoding="ascii").strip() or _new_secret(path)
    except OSError:
        return _new_secret(path)


def _new_secret(path: Path) -> str:
    import secrets

    key = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key, encoding="ascii")
        path.chmod(0o600)
    except OSError:
        log.warning("cannot keep %s: conversations will not survive a restart", path)
    return key


def build_app(app: App, manager: Manager | None = None) -> gr.Blocks:
    def answer_turn(question: str, mode_label: str, top_k: float, doc_filter: list[str] | None,
                    conversation: str) -> tuple[Any, ...]:
        """One turn: (history, answer, sources, conversation, question box, feedback row, feedback message,
        feedback comment). The conversation comes from the page and goes back to it; the server keeps none."""
        def said(message: str) -> tuple[Any, ...]:
            """A hint in place of an answer; the conversation and its history stay as they were."""
            return gr.update(), hint(message), "", gr.update(), gr.update(), gr.update(visible=False), "", ""

        if question is not None and not isinstance(question, str):
            return said("问题须是文字")
        question = (question or "").strip()
        if not question:
            return said("请输入一个关于文档的问题，例如：" + EXAMPLES[0])
        turns = read_turns(conversation)
        ix = app.index
        try:
            mode, k, doc_filter = turn_inputs(ix, mode_label, top_k, doc_filter)
            ans, more = ix.ask_with_passages(question, top_k=k, mode=mode, doc_ids=doc_filter,
                                             history=history_turns(turns))
        except QueryError as e:
            return said(f"无法处理这个问题：{e}")
        except UnionQAError as e:
            return said(f"出错了：{e}")
        except Exception:  # noqa: BLE001 - never show a traceback to users, but log the cause for the operator
            log.exception("answering %r failed", question[:80])
            return said("出错了，请换个问法再试。")
        shown = question if len(question) <= 200 else question[:200] + "…"
        now = render_turn(ix, ans, doc_filter, typed=shown)
        record = turn_record(ans, ix, doc_filter)
        return (render_history(turns), now, render_sources(ix, ans, more, mode),
                json.dumps((turns + [record])[-MAX_TURNS:], ensure_ascii=False), "",
                gr.update(visible=True), "", "")

    def new_conversation() -> tuple[Any, ...]:
        return "", hint("新对话：前面的问题不再作为上下文。"), "", "[]", gr.update(visible=False), "", ""

    def give_feedback(vote: str, comment: str, conversation: str) -> str:
        turns = read_turns(conversation)
        if not turns:
            return hint("还没有答案可以评价。")
        try:
            record_feedback(app.feedback_file, feedback_record(turns[-1], vote, comment, app.index.generation_name))
        except (UnionQAError, OSError) as e:
            return hint(f"没能记录：{e}")
        return hint("已记录，谢谢！" + ("我们会核对这个答案。" if vote == "down" else ""))

    with gr.Blocks(title="UnionQA 工会文档问答") as demo:
        with gr.Tabs() as tabs, gr.Tab("问答", id="qa"):
            gr.HTML('<h2 style="margin:0">UnionQA 工会文档问答</h2>'
                    '<div class="uq-hint">用中文（简体或繁体）或英文提问，答案都附有原文出处；可以接着追问，例如“河源呢？”。</div>')
            with gr.Row():
                question = gr.Textbox(label="问题", placeholder="例如：惠州市总工会五年来调处了多少宗劳资纠纷？", lines=1,
                                      max_lines=3, scale=5, elem_id="uq-question")
                submit = gr.Button("提问", variant="primary", scale=1, elem_id="uq-submit")
                new_chat = gr.Button("新对话", scale=1, elem_id="uq-new")
            gr.HTML('<div id="uq-restored" class="uq-restored"></div>')
            history = gr.HTML("", elem_id="uq-history")
            answer = gr.HTML(hint("答案会显示在这里。"), elem_id="uq-answer")
            sources = gr.HTML("", elem_id="uq-sources")
            with gr.Row(visible=False, elem_id="uq-feedback") as feedback_row:
                up = gr.Button("👍 有用", size="sm", scale=0, elem_id="uq-up")
                down = gr.Button("👎 有误", size="sm", scale=0, elem_id="uq-down")
                comment = gr.Textbox(placeholder="哪里不对？（可选）", show_label=False, scale=4, max_lines=2,
                                     elem_id="uq-comment")
            feedback_msg = gr.HTML("", elem_id="uq-feedback-msg")
            # kept in the browser (localStorage): a reload or a server restart does not lose the conversation
            conversation = gr.BrowserState("[]", storage_key="uq-conversation", secret=state_secret())
            gr.HTML('<div class="uq-hint">示例问题（点击即问）：</div>')
            with gr.Row(elem_id="uq-examples"):
                example_buttons = [gr.Button(e, size="sm", elem_classes=["uq-example"]) for e in EXAMPLES]
            with gr.Accordion("高级选项", open=False):
                mode = gr.Radio(list(MODES), value="混合检索（推荐）", label="检索方式")
                top_k = gr.Slider(1, 20, value=5, step=1, label="参考段落数（答案下方列出的相关段落）")
                doc_filter = gr.Dropdown(app.doc_choices(), multiselect=True, label="只在这些文档中查找（留空为全部）",
                                         elem_id="uq-doc-filter")
                reload_btn = gr.Button("重新加载索引", size="sm", elem_id="uq-reload")
                reload_msg = gr.Markdown(elem_id="uq-reload-msg")
            footer = gr.HTML(app.footer(), elem_id="uq-footer")

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
                to_remove = gr.Dropdown(removal_choices(app.index), multiselect=True, label="选择要删除的文档",
                                        elem_id="uq-remove-choice")
                remove_btn = gr.Button("删除所选文档", variant="stop", elem_id="uq-remove")
                with gr.Row(visible=False, elem_id="uq-confirm") as confirm_row:  # asked before anything is deleted
                    confirm_text = gr.HTML(elem_id="uq-confirm-text")
                    confirm_btn = gr.Button("确定删除", variant="stop", size="sm", elem_id="uq-confirm-yes")
                    cancel_btn = gr.Button("取消", size="sm", elem_id="uq-confirm-no")
                seen = gr.State(0)
                timer = gr.Timer(1.0)

            def started(message: str) -> str:
                """A job that started is a hint (its progress follows); anything else is a refusal: an error."""
                return hint(message) if message.startswith(("添加任务已开始", "删除任务已开始")) else error(message)

            def start_add(files: list[str] | None) -> tuple[str, Any]:
                message = manager.add(files or [])
                # the picker is emptied once the files are taken (they were copied), kept when nothing was
                return started(message), (None if message.startswith("添加任务已开始") else gr.update())

            def unknown_documents(doc_ids: list[str] | None) -> str | None:
                unknown = [d for d in doc_ids or [] if not isinstance(d, str) or d not in app.index.documents]
                return f"没有这些文档，未删除任何文档：{'、'.join(str(d)[:60] for d in unknown[:3])}" if unknown else None

            def ask_to_remove(doc_ids: list[str] | None) -> tuple[Any, ...]:
                """The first click only asks: which documents, by title, will go."""
                problem = unknown_documents(doc_ids) or (None if doc_ids else "请先选择要删除的文档")
                if problem:
                    return error(problem), gr.update(visible=False), ""
                names = dict(removal_choices(app.index))
                listed = "、".join(f"《{label}》" for label, d in names.items() if d in set(doc_ids or []))
                return ("", gr.update(visible=True),
                        hint(f"确定要删除这 {len(doc_ids or [])} 篇文档吗？{listed}。删除后只能重新上传。"))

            def start_remove(doc_ids: list[str] | None) -> tuple[Any, ...]:
                problem = unknown_documents(doc_ids)
                return (error(problem) if problem else started(manager.remove(doc_ids or []))), gr.update(visible=False)

            def tick(last: int) -> tuple[Any, ...]:
                st = manager.state
                if manager.finished == last:
                    return gr.update(value=job_html(st)) if st.running else gr.update(), gr.update(), gr.update(), \
                        gr.update(), gr.update(), last
                return (job_html(st), documents_table(app.index), gr.update(choices=removal_choices(app.index), value=[]),
                        gr.update(choices=app.doc_choices()), app.footer(), manager.finished)

            add_btn.click(start_add, uploads, [job, uploads], api_visibility="private")
            remove_btn.click(ask_to_remove, to_remove, [job, confirm_row, confirm_text], api_visibility="private")
            confirm_btn.click(start_remove, to_remove, [job, confirm_row], api_visibility="private")
            cancel_btn.click(lambda: (hint("已取消，没有删除任何文档"), gr.update(visible=False)), None, [job, confirm_row],
                             api_visibility="private")
            timer.tick(tick, seen, [job, table, to_remove, doc_filter, footer, seen], api_visibility="private")

        inputs = [question, mode, top_k, doc_filter, conversation]
        outputs = [history, answer, sources, conversation, question, feedback_row, feedback_msg, comment]
        for trigger in (submit.click, question.submit):
            trigger(None, None, [answer, sources], js=WAITING_JS, api_visibility="private").then(
                answer_turn, inputs, outputs, api_visibility="private").then(
                None, None, None, js=SHOW_NEWEST_JS, api_visibility="private")
        for button, text in zip(example_buttons, EXAMPLES):
            button.click(lambda t=text: t, None, question, api_visibility="private").then(
                None, None, [answer, sources], js=WAITING_JS, api_visibility="private").then(
                answer_turn, inputs, outputs, api_visibility="private").then(
                None, None, None, js=SHOW_NEWEST_JS, api_visibility="private")
        new_chat.click(new_conversation, None, [history, answer, sources, conversation, feedback_row, feedback_msg,
                                                comment], api_visibility="private")
        up.click(lambda c, conv: give_feedback("up", c, conv), [comment, conversation], feedback_msg,
                 api_visibility="private")
        down.click(lambda c, conv: give_feedback("down", c, conv), [comment, conversation], feedback_msg,
                   api_visibility="private")
        reload_btn.click(lambda: (app.reload(), app.footer(), gr.update(choices=app.doc_choices())), None,
                         [reload_msg, footer, doc_filter], api_visibility="private")

        def on_load(kept: str, request: gr.Request) -> tuple[Any, ...]:
            """A page (re)load shows the index being served (document list, footer) and the conversation the browser
            kept, and asks a shared question (``?q=…``) at once (as a new conversation)."""
            shared = (request.query_params.get("q") or "").strip() if request is not None else ""
            head = (gr.update(choices=app.doc_choices()), app.footer())
            if not shared:
                rest: list[Any] = [gr.update() for _ in outputs]
                rest[0] = render_history(read_turns(kept))  # history: the turns kept in the browser
                return (*head, gr.update(), *rest)
            return (*head, shared, *answer_turn(shared, "混合检索（推荐）", 5, None, "[]"))

        demo.load(on_load, [conversation], [doc_filter, footer, question, *outputs], api_visibility="private")

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
                show_error=False, css=CSS, head=HEAD, footer_links=[], max_file_size=upload or "1mb", ssr_mode=False,
                quiet=False,
                # no upload route unless 文档管理 is shown, a 64 KB request body limit, login throttling (unionqa.guard)
                app_kwargs={"middleware": [Middleware(Guard, upload_limit=upload + 1024 * 1024 if upload else 0),
                                            Middleware(Originals, index=lambda: app.index)]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
