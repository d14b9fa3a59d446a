"""PDF pages → layout segments: the text layer through pypdfium2, scanned pages through OCR.

pypdfium2 (PDFium, Apache-2.0/BSD) was chosen over pdfplumber/pdfminer.six: it reads the same
characters with boxes and font sizes ~5× faster (benchmarks/compare_readers.py), tells an encrypted
file from a damaged one, and renders scanned pages for OCR (one library for both).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from unionqa.config import LayoutConfig
from unionqa.errors import DocumentError
from unionqa.ingest.readers.layout import Page, Segment


def _open(path: Path, data: bytes):  # -> pdfium.PdfDocument
    try:
        import pypdfium2 as pdfium
    except ImportError as e:
        raise DocumentError(f"{path}: reading PDFs needs pypdfium2 ({e}); pip install 'unionqa[formats]'",
                            zh=f"{path.name}：读取 PDF 的组件没有安装，请联系管理员") from None

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise DocumentError(f"{path}: the PDF is password-protected; save a copy without the password and add that",
                                zh=f"{path.name}：PDF 有密码保护，请另存一份没有密码的再上传") from None
        raise DocumentError(f"{path}: not a readable PDF ({msg.strip().rstrip('.')}); export or download it again",
                            zh=f"{path.name}：PDF 已损坏或无法读取，请重新导出或下载后再上传") from None


def _segments(textpage, width: float, height: float) -> list[Segment]:  # noqa: ANN001 - pypdfium2 PdfTextPage
    """Runs of characters on one baseline, split where a wide gap crosses the page's centre (a column
    gutter) or is wider than four characters; justified text's wide spaces stay inside their line."""
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    segs: list[Segment] = []
    cur: list[tuple[str, float, float, float, float, float]] = []  # char, box (y down), font size

    def flush() -> None:
        if cur:
            text = "".join(c[0] for c in cur).strip()
            if text:
                sizes = [c[5] for c in cur if not c[0].isspace()] or [cur[0][5]]
                segs.append(Segment(text, min(c[1] for c in cur), min(c[2] for c in cur), max(c[3] for c in cur),
                                    max(c[4] for c in cur), statistics.median(sizes)))
            cur.clear()

    for i in range(n):
        code = raw.FPDFText_GetUnicode(textpage.raw, i)
        ch = chr(code) if code else ""
        if ch in ("\r", "\n", "\x02", "") or (0xD800 <= code <= 0xDFFF):
            continue  # PDFium's own line breaks: lines are found from the boxes instead
        left, bottom, right, top = textpage.get_charbox(i, loose=True)  # loose: one height per line, quotes too
        size = raw.FPDFText_GetFontSize(textpage.raw, i) or (top - bottom)
        y0, y1 = height - top, height - bottom
        if ch.isspace():
            if cur:
                cur.append((" ", left, y0, right, y1, size))
            continue
        if cur:
            last = next((c for c in reversed(cur) if not c[0].isspace()), cur[-1])
            centre, last_centre = (y0 + y1) / 2, (last[2] + last[4]) / 2
            same_line = abs(centre - last_centre) < 0.6 * max(size, last[5])
            gap = left - last[3]
            em = max(size, last[5])
            gutter = gap > 1.2 * em and last[3] <= width / 2 + em <= left + 2 * em
            spaced = cur[-1][0] == " "  # a stretched space of justified text, not a jump to another block
            if not same_line or gutter or (gap > 4 * em and not spaced) or gap < -2 * size:
                flush()
        cur.append((ch, left, y0, right, y1, size))
    flush()
    return segs


def _ocr_page(page, cfg: LayoutConfig) -> list[Segment]:  # noqa: ANN001 - pypdfium2 PdfPage
    from unionqa.ingest.readers.ocr import ocr_image

    scale = cfg.ocr_dpi / 72
    image = page.render(scale=scale, grayscale=True).to_pil()
    return [Segment(s.text, s.x0 / scale, s.top / scale, s.x1 / scale, s.bottom / scale, s.size / scale)
            for s in ocr_image(image, cfg)]


def read_pdf(path: Path, data: bytes, ocr: bool, cfg: LayoutConfig,
             on_page: Callable[[int, int], None] | None = None) -> list[Page]:
    """Every page's segments; a page without a text layer is OCR'd (``ocr``) or left empty.
    ``on_page(done, total)`` after each page (a scanned page takes seconds: builds show it)."""
    doc = _open(path, data)
    pages: list[Page] = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            width, height = page.get_size()
            tp = page.get_textpage()
            segs = _segments(tp, width, height)
            tp.close()
            scanned = sum(len(s.text) for s in segs) < cfg.ocr_min_chars
            if scanned and ocr and _has_images(page):
                pages.append(Page(width, height, _ocr_page(page, cfg), ocr=True))
            else:
                pages.append(Page(width, height, segs))
            page.close()
            if on_page:
                on_page(i + 1, len(doc))
    except DocumentError:
        raise
    except Exception as e:  # noqa: BLE001 - PDFium raises plain errors on damaged pages: name the file
        raise DocumentError(f"{path}: page {len(pages) + 1} cannot be read ({type(e).__name__}: {e}); "
                            "export or download the PDF again",
                            zh=f"{path.name}：第{len(pages) + 1}页无法读取，请重新导出或下载 PDF 后再上传") from None
    finally:
        doc.close()
    if not any(p.segments for p in pages) and not ocr:
        raise DocumentError(f"{path}: no text layer (a scanned PDF) and OCR is off; build without --no-ocr to read it",
                            zh=f"{path.name}：扫描版 PDF 需要文字识别（OCR），但 OCR 已关闭")
    return pages


def _has_images(page) -> bool:  # noqa: ANN001
    import pypdfium2.raw as raw

    return any(obj.type == raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects())
