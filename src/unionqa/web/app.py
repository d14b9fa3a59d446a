"""The UnionQA web app (Gradio): ask, read the short answer, check every cited source in context.

    unionqa serve [--index index] [--host 127.0.0.1] [--port 7860] [--share] [--admin]     (or: python ui.py …)

Binds to loopback unless --host says otherwise; set UNIONQA_AUTH=user:password to require a login. Named API
endpoints /ask and /search return the same fields as Index.ask / Index.search.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from unionqa.errors import UnionQAError
from unionqa.ingest.documents import MAX_FILE_BYTES
from unionqa.web import qa_tab
from unionqa.web.admin_tab import admin_tab
from unionqa.web.guard import Guard
from unionqa.web.inputs import top_k_number
from unionqa.web.manage import Manager
from unionqa.web.originals import Originals
from unionqa.web.served import App

log = logging.getLogger(__name__)

#: Gradio's own words that this page can show (the upload box, loading and progress notes), in Chinese whatever
#: language the browser asks for: a clerk's browser may be set to English (issue 27: no English in the UI)
GRADIO_WORDS_ZH = {
    "upload_text.drop_file": "把文件拖到这里", "upload_text.click_to_upload": "点击上传", "common.or": "或",
    "common.loading": "加载中", "common.complete": "完成", "common.clear": "清除", "common.remove": "移除",
    "common.error": "错误", "common.empty": "空", "common.download": "下载",
}
#: the languages Gradio's page translates itself into (gradio 6); Chinese ones keep Gradio's own Chinese
GRADIO_LOCALES = ("en", "ar", "ca", "ckb", "de", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "ja", "ko", "lt", "nb",
                  "nl", "pl", "pt", "pt-BR", "ro", "ru", "sv", "ta", "th", "tr", "uk", "ur", "uz")


def asset(name: str) -> str:
    """A file shipped beside this module (the page's CSS and script)."""
    return resources.files("unionqa.web").joinpath(name).read_text(encoding="utf-8")


def state_secret() -> str:
    """The key the browser-kept conversation is sealed with: one per installation (in the model cache), so it
    survives a server restart — Gradio's default is a new random key each start, which drops the conversation."""
    from unionqa.search.e5_onnx import cache_dir

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


def add_api(app: App) -> None:
    """The named endpoints for ``gradio_client``: /ask, /search (the fields of Index.ask / Index.search), /reload."""
    def ask(question: str, top_k: int = 5, mode: str = "hybrid") -> dict[str, Any]:
        """Answer a question from the documents (same fields as Index.ask)."""
        try:
            return asdict(app.index.ask(question, top_k=top_k_number(top_k), mode=mode))
        except UnionQAError as e:
            return {"error": str(e)}

    def search(query: str, top_k: int = 5, mode: str = "hybrid") -> list[dict[str, Any]] | dict[str, str]:
        """Search passages (same fields as Index.search)."""
        try:
            return [asdict(h) for h in app.index.search(query, top_k=top_k_number(top_k), mode=mode)]
        except UnionQAError as e:
            return {"error": str(e)}

    def reload() -> str:
        """Switch to the index generation that is live on disk now (after a rebuild)."""
        return app.reload()

    gr.api(ask, api_name="ask")
    gr.api(search, api_name="search")
    gr.api(reload, api_name="reload")


def build_app(app: App, manager: Manager | None = None) -> gr.Blocks:
    """The page: the 问答 tab, the 文档管理 tab when ``manager`` is given, and the API endpoints."""
    with gr.Blocks(title="UnionQA 工会文档问答") as demo:
        with gr.Tabs() as tabs, gr.Tab("问答", id="qa"):
            qa = qa_tab.layout(app, state_secret())
        if manager is not None:
            with tabs, gr.Tab("文档管理", id="admin"):
                admin_tab(app, manager, qa)
        qa_tab.wire(app, qa, demo)
        add_api(app)
    return demo


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SystemExit("UNIONQA_AUTH must look like user:password")
    return [(user, password)]


def parser(default_index: str = "index") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="unionqa serve", description="UnionQA web UI")
    ap.add_argument("--index", default=os.environ.get("UNIONQA_INDEX", default_index))
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
    return ap


def main(argv: list[str] | None = None, default_index: str = "index") -> int:
    """Serve the app until stopped (the index: ``--index``, else ``UNIONQA_INDEX``, else ``default_index``); 1 with a
    one-line error when it cannot start."""
    args = parser(default_index).parse_args(argv)
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
                show_error=False, css=asset("style.css"), head=f"<script>{asset('page.js')}</script>", footer_links=[],
                max_file_size=upload or "1mb", ssr_mode=False, quiet=False,
                i18n=gr.I18n(**{locale: GRADIO_WORDS_ZH for locale in GRADIO_LOCALES}),
                # no upload route unless 文档管理 is shown, a 64 KB request body limit, login throttling (web.guard)
                app_kwargs={"middleware": [Middleware(Guard, upload_limit=upload + 1024 * 1024 if upload else 0),
                                            Middleware(Originals, index=lambda: app.index)]})
    return 0
