"""The 文档管理 tab: upload documents, list them, delete some (confirmed by title first); the job runs in the
background (``manage.Manager``) and a timer shows its progress and, once published, the new index."""

from __future__ import annotations

from typing import Any

import gradio as gr

from unionqa.ingest.documents import MAX_FILE_BYTES
from unionqa.web.manage import Manager
from unionqa.web.qa_tab import QaTab, on
from unionqa.web.render import documents_table, error, hint, job_html, removal_choices
from unionqa.web.served import App

STARTED = ("添加任务已开始", "删除任务已开始")


class AdminHandlers:
    """The tab's handlers; each checks what the page sent (a forged request gets the same refusal)."""

    def __init__(self, app: App, manager: Manager) -> None:
        self.app, self.manager = app, manager

    @staticmethod
    def started(message: str) -> str:
        """A job that started is a hint (its progress follows); anything else is a refusal: an error."""
        return hint(message) if message.startswith(STARTED) else error(message)

    def start_add(self, files: list[str] | None) -> tuple[str, Any]:
        message = self.manager.add(files or [])
        # the picker is emptied once the files are taken (they were copied), kept when nothing was
        return self.started(message), (None if message.startswith(STARTED[0]) else gr.update())

    def unknown_documents(self, doc_ids: list[str] | None) -> str | None:
        unknown = [d for d in doc_ids or [] if not isinstance(d, str) or d not in self.app.index.documents]
        return f"没有这些文档，未删除任何文档：{'、'.join(str(d)[:60] for d in unknown[:3])}" if unknown else None

    def ask_to_remove(self, doc_ids: list[str] | None) -> tuple[Any, ...]:
        """The first click only asks: which documents, by title, will go."""
        problem = self.unknown_documents(doc_ids) or (None if doc_ids else "请先选择要删除的文档")
        if problem:
            return error(problem), gr.update(visible=False), ""
        chosen = set(doc_ids or [])
        listed = "、".join(f"《{label}》" for label, d in removal_choices(self.app.index) if d in chosen)
        return "", gr.update(visible=True), hint(f"确定要删除这 {len(chosen)} 篇文档吗？{listed}。删除后只能重新上传。")

    def start_remove(self, doc_ids: list[str] | None) -> tuple[Any, ...]:
        problem = self.unknown_documents(doc_ids)
        return (error(problem) if problem else self.started(self.manager.remove(doc_ids or []))), gr.update(visible=False)

    def tick(self, last: int) -> tuple[Any, ...]:
        """Each second: the job's progress; once a job has finished, the new document list, filter and footer."""
        st, app = self.manager.state, self.app
        if self.manager.finished == last:
            return (gr.update(value=job_html(st)) if st.running else gr.update(), gr.update(), gr.update(), gr.update(),
                    gr.update(), last)
        return (job_html(st), documents_table(app.index), gr.update(choices=removal_choices(app.index), value=[]),
                gr.update(choices=app.doc_choices()), app.footer(), self.manager.finished)


def admin_tab(app: App, manager: Manager, qa: QaTab) -> None:
    """The tab's components and events, inside the ``gr.Tab`` being built; a finished job updates ``qa``'s
    document filter and footer too."""
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

    h = AdminHandlers(app, manager)
    on(add_btn.click, h.start_add, uploads, [job, uploads])
    on(remove_btn.click, h.ask_to_remove, to_remove, [job, confirm_row, confirm_text])
    on(confirm_btn.click, h.start_remove, to_remove, [job, confirm_row])
    on(cancel_btn.click, lambda: (hint("已取消，没有删除任何文档"), gr.update(visible=False)), None, [job, confirm_row])
    on(timer.tick, h.tick, seen, [job, table, to_remove, qa.doc_filter, qa.footer, seen])
