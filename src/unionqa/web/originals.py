"""The source file behind a citation, served by doc id: ``/original/<doc_id>`` (a PDF opens at ``#page=N``).

An ASGI middleware in front of the web UI (issue 13 item 2). The file is looked up in the served index
by doc id only — no path from a request is ever used — behind the same login as the page (Gradio's
session cookie); text is served as ``text/plain`` with ``Content-Security-Policy: sandbox``, and a web page as the text
the reader took from it (not its markup).
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unionqa.index import Index

ORIGINAL_ROUTE = "/original/"
_SAFE = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
_MEDIA = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "html": "text/plain; charset=utf-8", "text": "text/plain; charset=utf-8"}


def original_file(ix: Index, doc_id: str) -> Path | None:
    """The source file of an indexed document, looked up by doc id only (a request never names a path)."""
    rec = ix.documents.get(doc_id)
    path = Path(str(rec.get("path", ""))) if rec else None
    return path if path is not None and str(path) and path.is_file() else None


def _span(value: str) -> tuple[int, int] | None:
    """``?at=START-END`` (character offsets into the document's text), or None."""
    a, _, b = value.partition("-")
    return (int(a), int(b)) if a.isdigit() and b.isdigit() and int(a) <= int(b) else None


def passage_page(text: str, span: tuple[int, int], title: str) -> str:
    """A text document as a page, the cited passage marked and scrolled to (``#passage``); everything escaped and
    served under ``Content-Security-Policy: sandbox`` (no script runs)."""
    a, b = max(0, min(span[0], len(text))), max(0, min(span[1], len(text)))
    esc = html.escape
    return ('<!doctype html><meta charset="utf-8"><title>' + esc(title) + '</title>'
            '<body style="white-space:pre-wrap;font:16px/1.8 sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem">'
            + esc(text[:a]) + '<mark id="passage">' + esc(text[a:b]) + "</mark>" + esc(text[b:]) + "</body>")


class Originals:
    """ASGI middleware serving ``/original/<doc_id>``: the file a citation comes from, behind the same login as
    the page (Gradio's session cookie), so a PDF opens at the cited page (``#page=N``). Web pages are served as
    text, never as HTML from our origin."""

    def __init__(self, asgi: Any, index: Callable[[], Index]) -> None:
        self.asgi, self.index = asgi, index

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
        ix = self.index()
        found = original_file(ix, doc_id)
        if found is None:
            await PlainTextResponse("not found", status_code=404)(scope, receive, send)
            return
        fmt = str(ix.documents[doc_id].get("format", "text"))
        at = _span(request.query_params.get("at", ""))
        if fmt in ("text", "html") and at is not None:  # opened at the cited passage: the text with it marked
            from starlette.responses import HTMLResponse

            await HTMLResponse(passage_page(ix.document_text(doc_id), at, doc_id), headers=_SAFE)(scope, receive, send)
            return
        if fmt == "html":  # a web page as the reader sees it: its text, never the page's markup (nor run as HTML)
            await PlainTextResponse(ix.document_text(doc_id), headers=_SAFE)(scope, receive, send)
            return
        media = _MEDIA.get(fmt, "application/octet-stream")
        disposition = "inline" if fmt in ("pdf", "image", "html", "text") else "attachment"
        await FileResponse(found, media_type=media if fmt != "image" else None, filename=doc_id,
                           content_disposition_type=disposition,
                           headers=_SAFE)(
                               scope, receive, send)
