"""The 问答 tab: ask, read the short answer and its cited sources, follow up, give feedback.

The conversation lives in the browser (``gr.BrowserState``); each turn sends it and gets it back, the server
keeps none."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from unionqa.errors import QueryError, UnionQAError
from unionqa.feedback import feedback_record, record_feedback
from unionqa.web.inputs import DEFAULT_MODE, EXAMPLES, MODES, TOP_K_MAX, turn_inputs
from unionqa.web.render import (
    MAX_TURNS,
    hint,
    history_turns,
    read_turns,
    render_history,
    render_sources,
    render_turn,
    turn_record,
)
from unionqa.web.served import App

log = logging.getLogger(__name__)

# runs in the page as a question goes out: the previous answer and its sources give way at once
WAITING_JS = """(...args) => { window.uqSent && window.uqSent(); window.uqWatch && window.uqWatch();
  return ['<div class="uq-answer uq-waiting">正在检索…</div>', '']; }"""
# runs when the answer is in: the newest turn comes into view (after a few turns it lands below the fold)
SHOW_NEWEST_JS = """() => { window.uqAnswered && window.uqAnswered(); const a = document.querySelector('#uq-answer');
  if (a) a.scrollIntoView({block: 'start', behavior: 'instant'}); }"""


def on(trigger: Callable[..., Any], fn: Callable[..., Any] | None, inputs: Any, outputs: Any, js: str | None = None) -> Any:
    """Wire one page event: private (the named API endpoints are ``web.app.add_api``) and without Gradio's own
    progress counter, which is English (the page shows 正在检索… itself). Returns the event, for ``.then``."""
    return trigger(fn, inputs, outputs, js=js, api_visibility="private", show_progress="hidden")


def answer_turn(app: App, question: Any, mode_label: Any, top_k: Any, doc_filter: Any, conversation: str) -> tuple[Any, ...]:
    """One turn: (history, answer, sources, conversation, question box, feedback row, feedback message, feedback
    comment). A bad input or a failure is a hint in place of an answer; the conversation stays as it was."""
    def said(message: str) -> tuple[Any, ...]:
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
        ans, more = ix.ask_with_passages(question, top_k=k, mode=mode, doc_ids=doc_filter, history=history_turns(turns))
    except QueryError as e:
        return said(f"无法处理这个问题：{e.chinese}")
    except UnionQAError as e:
        return said(f"出错了：{e.chinese}")
    except Exception:  # noqa: BLE001 - never show a traceback to users, but log the cause for the operator
        log.exception("answering %r failed", question[:80])
        return said("出错了，请换个问法再试。")
    shown = question if len(question) <= 200 else question[:200] + "…"
    record = turn_record(ans, ix, doc_filter)
    return (render_history(turns), render_turn(ix, ans, doc_filter, typed=shown), render_sources(ix, ans, more, mode),
            json.dumps((turns + [record])[-MAX_TURNS:], ensure_ascii=False), "", gr.update(visible=True), "", "")


def give_feedback(app: App, vote: str, comment: str, conversation: str) -> str:
    """Record a verdict on the newest answer of the conversation."""
    turns = read_turns(conversation)
    if not turns:
        return hint("还没有答案可以评价。")
    try:
        record_feedback(app.feedback_file, feedback_record(turns[-1], vote, comment, app.index.generation_name))
    except (UnionQAError, OSError) as e:
        return hint(f"没能记录：{e}")
    return hint("已记录，谢谢！" + ("我们会核对这个答案。" if vote == "down" else ""))


@dataclass
class QaTab:
    """The tab's components that other parts of the page update or read."""

    question: Any
    submit: Any
    new_chat: Any
    history: Any
    answer: Any
    sources: Any
    feedback_row: Any
    up: Any
    down: Any
    comment: Any
    feedback_msg: Any
    conversation: Any
    examples: list[Any]
    mode: Any
    top_k: Any
    doc_filter: Any
    reload_btn: Any
    reload_msg: Any
    footer: Any

    @property
    def outputs(self) -> list[Any]:
        """What one answered turn writes (``answer_turn``'s tuple, in order)."""
        return [self.history, self.answer, self.sources, self.conversation, self.question, self.feedback_row,
                self.feedback_msg, self.comment]


def layout(app: App, secret: str) -> QaTab:
    """The tab's components, inside the ``gr.Tab`` being built."""
    gr.HTML('<h2 style="margin:0">UnionQA 工会文档问答</h2>'
            '<div class="uq-hint">用中文（简体或繁体）或英文提问，答案都附有原文出处；可以接着追问，例如“河源呢？”。</div>')
    with gr.Row():
        question = gr.Textbox(label="问题", placeholder="例如：" + EXAMPLES[0], lines=1, max_lines=3, scale=5,
                              elem_id="uq-question")
        submit = gr.Button("提问", variant="primary", scale=1, elem_id="uq-submit")
        new_chat = gr.Button("新对话", scale=1, elem_id="uq-new")
    gr.HTML('<div id="uq-restored" class="uq-restored"></div>')
    history = gr.HTML("", elem_id="uq-history")
    answer = gr.HTML(hint("答案会显示在这里。"), elem_id="uq-answer")
    sources = gr.HTML("", elem_id="uq-sources")
    with gr.Row(visible=False, elem_id="uq-feedback") as feedback_row:
        up = gr.Button("👍 有用", size="sm", scale=0, elem_id="uq-up")
        down = gr.Button("👎 有误", size="sm", scale=0, elem_id="uq-down")
        comment = gr.Textbox(label="意见", placeholder="哪里不对？（可选）", show_label=False, scale=4, max_lines=2, elem_id="uq-comment")
    feedback_msg = gr.HTML("", elem_id="uq-feedback-msg")
    # kept in the browser (localStorage): a reload or a server restart does not lose the conversation
    conversation = gr.BrowserState("[]", storage_key="uq-conversation", secret=secret)
    gr.HTML('<div class="uq-hint">示例问题（点击即问）：</div>')
    with gr.Row(elem_id="uq-examples"):
        examples = [gr.Button(e, size="sm", elem_classes=["uq-example"]) for e in EXAMPLES]
    with gr.Accordion("高级选项", open=False):
        mode = gr.Radio(list(MODES), value=DEFAULT_MODE, label="检索方式")
        top_k = gr.Slider(1, TOP_K_MAX, value=5, step=1, label="参考段落数（答案下方列出的相关段落）")
        doc_filter = gr.Dropdown(app.doc_choices(), multiselect=True, label="只在这些文档中查找（留空为全部）",
                                 elem_id="uq-doc-filter")
        reload_btn = gr.Button("重新加载索引", size="sm", elem_id="uq-reload")
        reload_msg = gr.Markdown(elem_id="uq-reload-msg")
    footer = gr.HTML(app.footer(), elem_id="uq-footer")
    return QaTab(question, submit, new_chat, history, answer, sources, feedback_row, up, down, comment, feedback_msg,
                 conversation, examples, mode, top_k, doc_filter, reload_btn, reload_msg, footer)


def wire(app: App, tab: QaTab, demo: gr.Blocks) -> None:
    """The tab's events: asking (button, Enter, examples, a shared ``?q=`` link), a new conversation, feedback,
    reloading the index."""
    def answer_turn_(question: Any, mode_label: Any, top_k: Any, doc_filter: Any, conversation: str) -> tuple[Any, ...]:
        return answer_turn(app, question, mode_label, top_k, doc_filter, conversation)

    answer_turn_.__name__ = "answer_turn"  # the handler's name in the page's config (and the tests)
    inputs = [tab.question, tab.mode, tab.top_k, tab.doc_filter, tab.conversation]
    starts = [tab.submit.click, tab.question.submit]
    starts += [on(b.click, lambda t=text: t, None, tab.question).then for b, text in zip(tab.examples, EXAMPLES)]
    for start in starts:
        waiting = on(start, None, None, [tab.answer, tab.sources], js=WAITING_JS)
        on(on(waiting.then, answer_turn_, inputs, tab.outputs).then, None, None, None, js=SHOW_NEWEST_JS)
    on(tab.new_chat.click, lambda: ("", hint("新对话：前面的问题不再作为上下文。"), "", "[]", gr.update(visible=False), "", ""),
       None, [tab.history, tab.answer, tab.sources, tab.conversation, tab.feedback_row, tab.feedback_msg, tab.comment])
    on(tab.up.click, lambda c, conv: give_feedback(app, "up", c, conv), [tab.comment, tab.conversation], tab.feedback_msg)
    on(tab.down.click, lambda c, conv: give_feedback(app, "down", c, conv), [tab.comment, tab.conversation],
       tab.feedback_msg)
    on(tab.reload_btn.click, lambda: (app.reload(), app.footer(), gr.update(choices=app.doc_choices())), None,
       [tab.reload_msg, tab.footer, tab.doc_filter])

    def on_load(kept: str, request: gr.Request) -> tuple[Any, ...]:
        """A page (re)load shows the index being served (document list, footer) and the conversation the browser
        kept, and asks a shared question (``?q=…``) at once (as a new conversation)."""
        shared = (request.query_params.get("q") or "").strip() if request is not None else ""
        head = (gr.update(choices=app.doc_choices()), app.footer())
        if not shared:
            rest: list[Any] = [gr.update() for _ in tab.outputs]
            rest[0] = render_history(read_turns(kept))  # history: the turns kept in the browser
            return (*head, gr.update(), *rest)
        return (*head, shared, *answer_turn(app, shared, DEFAULT_MODE, 5, None, "[]"))

    on(demo.load, on_load, [tab.conversation], [tab.doc_filter, tab.footer, tab.question, *tab.outputs])
