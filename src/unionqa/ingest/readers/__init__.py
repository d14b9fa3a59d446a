"""One reader per source format, all producing what the structure parser takes.

``read_source`` looks at a file's content (not only its name) and returns an :class:`Extracted`:
the text (Markdown-style ``#`` headings where the format states them), where each page starts in
that text, which pages were read by OCR, and the title/date the format carries. Everything
downstream — structure, chunks, search, answers — is the same for every format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from unionqa.config import LayoutConfig
from unionqa.errors import DocumentError
from unionqa.text import clean_text, decode_bytes

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
WORD_SUFFIXES = (".docx",)
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES + IMAGE_SUFFIXES + WORD_SUFFIXES + HTML_SUFFIXES
# formats people have that we cannot read, and what to do instead
UNSUPPORTED = {
    ".doc": "an old binary Word file: save it as .docx (Word or WPS: 另存为 .docx) or PDF and add that",
    ".wps": "a WPS document: save it as .docx or PDF (WPS: 另存为) and add that",
    ".xls": "a spreadsheet: save the sheet as .docx or PDF to index its text",
    ".xlsx": "a spreadsheet: save the sheet as .docx or PDF to index its text",
    ".ppt": "a presentation: export it to PDF and add that",
    ".pptx": "a presentation: export it to PDF and add that",
    ".rtf": "an RTF file: save it as .docx and add that",
}
#: the same advice in Chinese, for the web UI's 文档管理 tab
UNSUPPORTED_ZH = {
    ".doc": "旧版 Word 文件：请在 Word 或 WPS 中“另存为”.docx 或 PDF 后再上传",
    ".wps": "WPS 文档：请在 WPS 中“另存为”.docx 或 PDF 后再上传",
    ".xls": "电子表格：请把表格另存为 .docx 或 PDF 后再上传",
    ".xlsx": "电子表格：请把表格另存为 .docx 或 PDF 后再上传",
    ".ppt": "演示文稿：请导出为 PDF 后再上传",
    ".pptx": "演示文稿：请导出为 PDF 后再上传",
    ".rtf": "RTF 文件：请另存为 .docx 后再上传",
}


@dataclass(frozen=True)
class Extracted:
    """A source file read into text: ``pages`` are the start offsets of pages 1, 2, … in ``text``."""

    text: str
    format: str  # text | pdf | docx | html | image
    encoding: str = "utf-8"
    pages: tuple[int, ...] = ()
    ocr_pages: tuple[int, ...] = ()  # 1-based numbers of pages whose text OCR recognised
    title: str = ""
    date: str = ""


def sniff(path: Path, head: bytes) -> str:
    """The format of a file by its first bytes, falling back to its suffix for text and HTML."""
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if suffix in WORD_SUFFIXES else "zip"
    if head.startswith(bytes.fromhex("d0cf11e0a1b11ae1")):
        return "ole"  # .doc, .wps, .xls, .ppt
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    return "unknown"


def _unsupported(path: Path, kind: str) -> DocumentError:
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED:
        return DocumentError(f"{path}: {UNSUPPORTED[suffix]}", zh=f"{path.name}：{UNSUPPORTED_ZH[suffix]}")
    if kind == "ole":
        return DocumentError(f"{path}: an old Office/WPS binary file; save it as .docx or PDF and add that",
                             zh=f"{path.name}：{UNSUPPORTED_ZH['.doc']}")
    if suffix in SUPPORTED_SUFFIXES:
        return DocumentError(f"{path}: the content is not {suffix} (the name says so, the bytes do not); check the file",
                             zh=f"{path.name}：文件名是 {suffix}，内容却不是，请检查文件")
    return DocumentError(f"{path}: {suffix or 'no suffix'} is not a supported format "
                         f"(supported: {' '.join(SUPPORTED_SUFFIXES)})",
                         zh=f"{path.name}：不支持这种文件；支持 {' '.join(SUPPORTED_SUFFIXES)}")


def _paged(texts: list[str], fmt: str, ocr_pages: tuple[int, ...] = (), title: str = "") -> Extracted:
    starts = []
    parts = []
    pos = 0
    for t in texts:
        t = clean_text(t)
        starts.append(pos)
        parts.append(t)
        pos += len(t) + 2
    return Extracted("\n\n".join(parts), fmt, pages=tuple(starts), ocr_pages=ocr_pages, title=title)


def read_source(path: Path, data: bytes, ocr: bool = True, layout: LayoutConfig | None = None,
                on_page: Callable[[int, int], None] | None = None) -> Extracted:
    """Read ``data`` (the bytes of ``path``) by its format; DocumentError (one line, naming the file) when it can't.
    ``on_page(done, total)`` is told after each page of a PDF."""
    layout = layout or LayoutConfig()
    kind = sniff(path, data[:16])
    if kind == "text":
        try:
            text, encoding = decode_bytes(data, str(path))
        except ValueError as e:
            raise DocumentError(str(e), zh=f"{path.name}：无法识别文字编码，请另存为 UTF-8 文本") from None
        return Extracted(text, "text", encoding)
    if kind == "pdf":
        from unionqa.ingest.readers.layout import render_pages
        from unionqa.ingest.readers.pdf import read_pdf

        pages = read_pdf(path, data, ocr, layout, on_page)
        ocr_pages = tuple(i + 1 for i, p in enumerate(pages) if p.ocr)
        return _paged(render_pages(pages, layout), "pdf", ocr_pages)
    if kind == "image":
        if not ocr:
            raise DocumentError(f"{path}: an image is read by OCR, and OCR is off; build without --no-ocr",
                                zh=f"{path.name}：图片需要文字识别（OCR），但 OCR 已关闭")
        return _paged(_read_image(path, data, layout), "image", (1,))
    if kind == "docx":
        from unionqa.ingest.readers.word import read_docx

        text, title = read_docx(path, data)
        return Extracted(clean_text(text), "docx", title=title)
    if kind == "html":
        from unionqa.ingest.readers.web import read_html

        try:
            html, encoding = decode_bytes(data, str(path))
        except ValueError as e:
            raise DocumentError(str(e), zh=f"{path.name}：无法识别网页的文字编码，请重新保存网页") from None
        text, title, date = read_html(path, html)
        return Extracted(clean_text(text), "html", encoding, title=title, date=date)
    raise _unsupported(path, kind)


def _read_image(path: Path, data: bytes, layout: LayoutConfig) -> list[str]:
    import io

    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as e:
        raise DocumentError(f"{path}: reading images needs pillow ({e}); pip install 'unionqa[formats]'",
                            zh=f"{path.name}：读取图片的组件没有安装，请联系管理员") from None

    from unionqa.ingest.readers.layout import Page, render_pages
    from unionqa.ingest.readers.ocr import ocr_image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as e:
        raise DocumentError(f"{path}: not a readable image ({e}); save it again as PNG or JPEG",
                            zh=f"{path.name}：图片无法读取，请另存为 PNG 或 JPEG 后再上传") from None
    return render_pages([Page(float(image.width), float(image.height), ocr_image(image, layout), ocr=True)], layout)


__all__ = ["Extracted", "SUPPORTED_SUFFIXES", "read_source", "sniff"]
