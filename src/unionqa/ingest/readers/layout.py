"""Reading order and structure of laid-out pages (PDF text layers and OCR output alike).

Input: per page, line segments (a run of text on one baseline, never crossing a column gutter)
with their box and font size. Output: per page, text lines the structure parser already reads —
``#``/``##`` headings, one line per paragraph, blank lines between blocks:

* running headers and footers (a line in the top or bottom band of the page that repeats on other
  pages, digits ignored) and bare page numbers are dropped;
* a page is read in bands separated by lines that span the centre; inside a band the left column is
  read before the right one;
* a line set in a clearly larger font than the body is a heading (the largest sizes ``#``, the next
  ``##``); heading lines that follow each other join into one heading, also across a page break;
* wrapped lines join into paragraphs; a paragraph ends where a line ends a sentence short of the
  column edge, the next line is indented, or the vertical gap is wide; ``(下转第N页)`` stays its own line.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from unionqa.config import LayoutConfig
from unionqa.text import ends_sentence, join_lines

_PAGE_NUMBER = re.compile(r"^[-—–－\s·]*(第\s*)?\d{1,4}(\s*页)?[-—–－\s·]*$|^\d{1,4}\s*/\s*\d{1,4}$")
_CONT = re.compile(r"^[（(]\s*(下转|上接|转)第?\s*\d+\s*版?页?\s*[)）]$")


@dataclass
class Segment:
    """A run of text on one line of a page. Coordinates in points, y growing downwards."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    column: int = 0  # 0 spans / single column, 1 left, 2 right (set by order_page)
    level: int = 0  # heading level (0 = body), set by mark_headings


@dataclass
class Page:
    width: float
    height: float
    segments: list[Segment] = field(default_factory=list)
    ocr: bool = False


def _repeat_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def drop_running_lines(pages: list[Page], cfg: LayoutConfig) -> None:
    """Remove running headers/footers and page numbers from the top and bottom bands of every page."""
    def in_band(s: Segment, p: Page) -> bool:
        return s.bottom <= p.height * cfg.margin_band or s.top >= p.height * (1 - cfg.margin_band)

    counts: dict[str, int] = {}
    for p in pages:
        for k in {_repeat_key(s.text) for s in p.segments if in_band(s, p)}:
            counts[k] = counts.get(k, 0) + 1
    repeated = {k for k, n in counts.items() if n >= 2 and n >= cfg.running_share * len(pages)}
    for p in pages:
        p.segments = [s for s in p.segments if not (in_band(s, p) and (
            _repeat_key(s.text) in repeated or _PAGE_NUMBER.match(s.text.strip())))]


def body_size(pages: list[Page]) -> float:
    """The font size most text is set in (character-weighted median)."""
    sizes: list[float] = []
    for p in pages:
        for s in p.segments:
            sizes.extend([round(s.size * 2) / 2] * max(1, len(s.text)))
    return statistics.median(sizes) if sizes else 10.0


def mark_headings(pages: list[Page], cfg: LayoutConfig) -> None:
    """Level 1 for the largest heading sizes, 2 for the rest; short lines only (a heading is not a paragraph)."""
    body = body_size(pages)
    big = sorted({round(s.size * 2) / 2 for p in pages for s in p.segments
                  if s.size >= body * cfg.heading_ratio and len(s.text) <= cfg.heading_max_chars}, reverse=True)
    if not big:
        return
    top = big[0]
    for p in pages:
        for s in p.segments:
            if s.size >= body * cfg.heading_ratio and len(s.text) <= cfg.heading_max_chars:
                s.level = 1 if round(s.size * 2) / 2 >= top - cfg.level_tolerance * body else 2


def order_page(p: Page) -> list[list[Segment]]:
    """Bands of segments in reading order; each band is a list of columns' segments, left column first."""
    if not p.segments:
        return []
    mid = p.width / 2
    left = [s for s in p.segments if s.x1 <= mid + 1]
    right = [s for s in p.segments if s.x0 >= mid - 1]
    two_columns = len(left) >= 3 and len(right) >= 3
    segs = sorted(p.segments, key=lambda s: (s.top, s.x0))
    if not two_columns:
        for s in segs:
            s.column = 0
        return [segs]
    bands: list[list[Segment]] = []
    band: list[Segment] = []
    for s in segs:
        spans = s.x0 < mid - 1 and s.x1 > mid + 1
        if spans:
            if band:
                bands.append(band)
                band = []
            s.column = 0
            bands.append([s])
        else:
            s.column = 1 if s.x1 <= mid + 1 else 2
            band.append(s)
    if band:
        bands.append(band)
    return [_merge_lines(sorted(b, key=lambda s: (s.column, s.top, s.x0))) for b in bands]


def _merge_lines(segs: list[Segment]) -> list[Segment]:
    """Pieces of one visual line in one column (justified text's wide gaps, OCR boxes) become one segment."""
    out: list[Segment] = []
    for s in segs:
        last = out[-1] if out else None
        if (last is not None and last.column == s.column and last.level == s.level
                and abs((last.top + last.bottom) / 2 - (s.top + s.bottom) / 2) < 0.5 * max(last.size, s.size)
                and s.x0 >= last.x1 - 0.5 * s.size):
            out[-1] = Segment(join_lines([last.text, s.text]), last.x0, min(last.top, s.top), s.x1, max(last.bottom, s.bottom),
                              max(last.size, s.size), last.column, last.level)
        else:
            out.append(s)
    return out


def page_lines(p: Page, cfg: LayoutConfig) -> list[tuple[int, str]]:
    """(heading level, text) blocks of one page in reading order; level 0 is a paragraph."""
    bands = order_page(p)
    edges: dict[int, tuple[float, float]] = {}  # each column's text edges on this page
    for col in {s.column for s in p.segments}:
        segs = [s for s in p.segments if s.column == col]
        body = [s for s in segs if s.level == 0] or segs
        edges[col] = (min(s.x0 for s in body), max(s.x1 for s in segs))
    out: list[tuple[int, str]] = []
    prev: Segment | None = None
    for band in bands:
        for s in band:
            text = s.text.strip()
            if not text:
                continue
            if s.level and p.ocr and prev is not None and out and (
                    out[-1][0] == 0 and not ends_sentence(out[-1][1]) and prev.column == s.column
                     and s.top - prev.bottom < cfg.paragraph_gap * s.size):
                # OCR sizes are estimates: a "larger" line that carries on an unfinished sentence is body text
                s.level = 0
            if not s.level and prev is not None and prev.level and p.ocr and len(text) <= 2 \
                    and s.top - prev.bottom < 0.6 * prev.size and s.x0 <= edges[s.column][0] + prev.size:
                out[-1] = (prev.level, out[-1][1] + text)  # the last character of a heading wrapped onto its own line
                continue
            if s.level:
                if out and prev is not None and prev.level == s.level and s.top - prev.bottom < 1.5 * s.size:
                    wrapped = prev.x1 >= edges[prev.column][1] - s.size * 1.5
                    out[-1] = (s.level, out[-1][1] + ("" if wrapped else " ") + text)
                else:
                    out.append((s.level, text))
                prev = s
                continue
            left, right = edges[s.column]
            new_para = (
                prev is None or prev.level != 0 or not out
                # a paragraph carries on into the next column unless it ended or the new line is indented
                or (prev.column != s.column and ends_sentence(out[-1][1]))
                or bool(_CONT.match(text)) or bool(_CONT.match(out[-1][1]))
                or s.x0 > left + cfg.indent * s.size
                or s.top - prev.bottom > cfg.paragraph_gap * s.size
                or (ends_sentence(out[-1][1]) and prev.x1 < right - cfg.short_line * s.size)
            )
            if new_para:
                out.append((0, text))
            else:
                out[-1] = (0, join_lines([out[-1][1], text]))
            prev = s
    return out


def render_pages(pages: list[Page], cfg: LayoutConfig | None = None) -> list[str]:
    """The text of each page for the structure parser (see the module docstring)."""
    cfg = cfg or LayoutConfig()
    drop_running_lines(pages, cfg)
    mark_headings(pages, cfg)
    blocks = [page_lines(p, cfg) for p in pages]
    # a heading continued at the top of the next page (nothing else between) is one heading
    for i in range(1, len(blocks)):
        prev_blocks, cur = blocks[i - 1], blocks[i]
        if prev_blocks and cur and prev_blocks[-1][0] and prev_blocks[-1][0] == cur[0][0]:
            prev_blocks[-1] = (cur[0][0], prev_blocks[-1][1] + " " + cur[0][1])
            cur.pop(0)
    texts = []
    for b in blocks:
        texts.append("\n\n".join(("#" * level + " " + t) if level else t for level, t in b))
    return texts
