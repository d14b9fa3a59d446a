"""HTML of the web UI: answers, source cards, hints, the document list and job progress.

Every piece of document or question text is escaped here (``_esc``); ``ui.py`` only wires components.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections import Counter
from typing import Any

from .config import MAX_QUERY_CHARS
from .index import Index
from .manage import JobState
from .originals import ORIGINAL_ROUTE, original_file
from .places import place_spans
from .types import Answer, Hit

MAX_QUESTION_CHARS = MAX_QUERY_CHARS  # the index answers the first MAX_QUERY_CHARS characters
STAGES = {"read": "读取文件", "page": "读取页面（扫描页需OCR，每页约10秒）", "tokenize": "分词", "embed": "计算向量"}


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
        stage = STAGES.get(st.stage, st.stage)
        return (f'<div class="uq-job" id="uq-job-running">正在{_esc(st.action)}：{_esc(stage)} {st.done}/{st.total}'
                f'<div class="uq-bar"><div style="width:{share}%"></div></div></div>')
    if st.ok is None:
        return ""
    cls, mark = ("uq-job-ok", "✓") if st.ok else ("uq-job-failed", "✗")
    return f'<div class="uq-job {cls}" id="{cls}">{mark} {_esc(st.message)}</div>'
