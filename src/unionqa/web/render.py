"""HTML of the web UI: answers, source cards, hints, the document list and job progress.

Every piece of document or question text is escaped here (``_esc``); ``ui.py`` only wires components.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections import Counter
from datetime import datetime
from pathlib import PurePath
from typing import Any

from unionqa.config import MAX_QUERY_CHARS
from unionqa.conversation import Turn
from unionqa.index import Index
from unionqa.ingest.places import place_spans
from unionqa.types import MARKER_RE, Answer, Chunk, Hit
from unionqa.web.manage import JobState
from unionqa.web.originals import ORIGINAL_ROUTE, original_file

MAX_QUESTION_CHARS = MAX_QUERY_CHARS  # the index answers the first MAX_QUERY_CHARS characters
STAGES = {"read": "读取文件", "page": "读取页面（扫描页需OCR，每页约10秒）", "tokenize": "分词", "embed": "计算向量"}


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def _highlight(text: str, support: list[tuple[int, int]], terms: tuple[str, ...],
               words: list[tuple[int, int]] | None = None) -> str:
    """Escape ``text``; wrap supporting sentences in <mark> and query terms in <b>: terms of two or more
    characters, and with ``words`` (the text's word spans) only where they start and end on word boundaries
    (不 出/来/上/家, not 工会 inside 总工会)."""
    bounds = {a for a, _ in words} | {b for _, b in words} if words else None
    n = len(text)
    mark = [False] * n
    term = [False] * n
    for a, b in support:
        for i in range(max(0, a), min(n, b)):
            mark[i] = True
    lowered = text.lower()
    names = place_spans(text)
    for t in sorted({t for t in terms if len(t.strip()) > 1}, key=len, reverse=True):
        for m in re.finditer(re.escape(t.lower()), lowered):
            if bounds is not None and not (m.start() in bounds and m.end() in bounds):
                continue
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


def card_title(ix: Index, hit: Hit) -> str:
    """A source card's title: the article the passage is in (a magazine's article, not the magazine's name), or the
    document's title when the document is one article."""
    record = ix.documents.get(hit.doc_id, {})
    articles = record.get("articles") or []
    if len(hit.breadcrumb) > 1 and hit.breadcrumb[1] in articles:
        return hit.breadcrumb[1]
    return str(record.get("title") or (hit.breadcrumb[0] if hit.breadcrumb else hit.doc_id))


def crumb_parts(hit: Hit) -> list[str]:
    """document › article › section, each once: a part that repeats the one before it (an article headed by the
    document's title, 深化产改… › 深化产改… 惠州市总工会：) shows only what it adds."""
    out: list[str] = []
    for part in hit.breadcrumb:
        part = " ".join(part.split())
        if out and part.startswith(out[-1]):
            part = part[len(out[-1]):].strip(" ：:")
        if part and part not in out:
            out.append(part)
    return out


FORMAT_NAMES = {"text": "文本", "pdf": "PDF", "docx": "Word", "html": "网页", "image": "图片"}  # the 格式 column, cards


def format_name(fmt: str, file_word: bool = False) -> str:
    """A format in plain words: 文本, PDF, …; ``file_word``: 文本文件, PDF文件, Word文件 (网页 and 图片 stay)."""
    name = FORMAT_NAMES.get(fmt, "文本")
    return name + "文件" if file_word and fmt in ("text", "pdf", "docx") else name


def source_file(ix: Index, doc_id: str) -> str:
    """Where a passage comes from, in plain words: 文本文件 000_aab834ac4fc42f74.txt, and the document's date where its
    format states one (a web page's publish date): 网页 article.html · 2026-11-20."""
    record = ix.documents.get(doc_id, {})
    name = PurePath(str(record.get("path") or doc_id)).name or doc_id
    date = str(record.get("date") or "").strip()
    return f"{format_name(str(record.get('format') or 'text'), file_word=True)} {name}" + (f" · {date[:10]}" if date else "")


def _why(hit: Hit, mode: str) -> str:
    """Why this passage, in plain words: its place in each list it was found in (no scores)."""
    parts = []
    if mode != "dense":
        parts.append(f"关键词匹配第{hit.lexical_rank}名" if hit.lexical_rank else "关键词没有匹配")
    if mode != "lexical":
        parts.append(f"意思相近第{hit.dense_rank}名" if hit.dense_rank else "意思相近不在前列")
    return "为什么是这个结果：" + " · ".join(parts)


def _context(ix: Index, hit: Hit) -> str:
    """The passage between its neighbours as the chunker read them (hard-wrapped source lines joined), their own
    section named when it differs."""
    before, after = ix.neighbours(hit.chunk_id)

    def told(c: Chunk) -> str:  # a neighbour from another section says which
        return f"【{c.breadcrumb[-1]}】" if c.breadcrumb[-1:] != hit.breadcrumb[-1:] else ""

    return ((f"…{_esc(told(before) + before.text[-300:])}\n" if before is not None else "")
            + f'<mark class="uq-support">{_esc(hit.text)}</mark>'
            + (f"\n{_esc(told(after) + after.text[:300])}…" if after is not None else ""))


def _card(ix: Index, n: int | None, hit: Hit, support: list[tuple[int, int]], mode: str = "hybrid") -> str:
    anchor = f' id="src-{n}"' if n else ""
    label = f"[{n}] " if n else ""
    ocr = ' · <span class="uq-ocr">文字由OCR识别，可能有误，请核对原件</span>' if hit.ocr else ""
    if original_file(ix, hit.doc_id) is not None:
        fmt = str(ix.documents.get(hit.doc_id, {}).get("format") or "text")
        # a PDF opens at the cited page; text and web pages at the passage itself, marked
        at = f"#page={hit.page}" if hit.page else (f"?at={hit.span[0]}-{hit.span[1]}#passage"
                                                    if fmt in ("text", "html") else "")
        ocr += (f' · <a class="uq-original" target="_blank" rel="noopener" '
                f'href="{ORIGINAL_ROUTE.lstrip("/")}{_esc(urllib.parse.quote(hit.doc_id))}{at}">查看原文件</a>')
    crumb = " › ".join(crumb_parts(hit) + ([hit.page_label] if hit.page else []))
    return (
        f'<div class="uq-card"{anchor}>'
        f'<div class="uq-title">{label}{_esc(card_title(ix, hit))}</div>'
        f'<div class="uq-crumb">{_esc(crumb)}</div>'
        f'<div class="uq-file">来自{_esc(source_file(ix, hit.doc_id))}{ocr}</div>'
        f'<div class="uq-passage">{_highlight(hit.text, support, hit.matched_terms, ix.tokenizer.word_spans(hit.text))}</div>'
        f'<details><summary>查看上下文</summary><div class="uq-context">{_context(ix, hit)}</div></details>'
        f'<div class="uq-why">{_why(hit, mode)}</div></div>'
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


def render_answer(ans: Answer, filtered: bool = False) -> str:
    """The answer as HTML; ``filtered``: a refusal says it looked in the selected documents only (one refusal, not
    "not in the selected documents" followed by "not in the documents")."""
    if ans.abstained:
        scope = (lambda text: text.replace("文档中", "在所选文档中", 1)) if filtered else (lambda text: text)
        if ans.mismatch:
            # a near miss for another place/year: never shown like an answer
            asked, other = ans.mismatch
            first, _, rest = ans.text.partition("\n")
            first = scope(first)
            said = f"文档中的相近内容说的是{_esc(other)}" if other else "文档中的相近内容没有提到它"
            return (f'<div class="uq-answer"><div class="uq-abstain">{_esc(first)}</div>'
                    f'<div class="uq-mismatch">⚠ 您问的是{_esc(asked)}，{said}——下面的内容不是答案。</div>'
                    f'<div class="uq-nearmiss">{_esc(rest)}</div></div>')
        return f'<div class="uq-answer"><div class="uq-abstain">{_esc(scope(ans.text))}</div></div>'
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
    return f'<div class="uq-answer">{"<br>".join(lines)}{caveats}{notes}</div>'


def render_sources(ix: Index, ans: Answer, more: list[Hit] | None = None, mode: str = "hybrid") -> str:
    """The answer's source cards; ``more``: the other passages retrieved (参考段落数), collapsed below them;
    ``mode``: the search mode (which lists a card's "why" names)."""
    if ans.abstained:
        if not ans.closest:
            return ""
        closest = "".join(_card(ix, None, h, [], mode) for h in ans.closest)
        return f"<h4>最接近的段落（仅供参考，未找到答案）</h4>{closest}"
    cards = []
    for n, hit in enumerate(ans.citations, 1):
        support = [s.offset for s in ans.sentences if s.marker == n]
        cards.append(_card(ix, n, hit, support, mode))
    cited = {h.chunk_id for h in ans.citations}
    rest = [h for h in more or [] if h.chunk_id not in cited]
    extra = ""
    if rest:
        extra = (f'<details class="uq-more"><summary>另外{len(rest)}个相关段落（参考段落数）</summary>'
                 + "".join(_card(ix, None, h, [], mode) for h in rest) + "</details>")
    return "<h4>来源</h4>" + "".join(cards) + extra


# ---- plain text, conversation turns ------------------------------------------------------------

def _unmarked(text: str) -> str:
    return re.sub(r"\s*" + MARKER_RE.pattern, "", text).strip()


def cite_plain(ix: Index, hit: Hit) -> str:
    """One source as plain text: 《document》，article › section，第N页."""
    parts = crumb_parts(hit)
    doc = parts[0] if parts else hit.doc_id
    rest = " › ".join(parts[1:])
    return f"《{doc}》" + (f"，{rest}" if rest else "") + (f"，{hit.page_label}" if hit.page else "")


def plain_answer(ix: Index, ans: Answer) -> str:
    """The answer with its sources as plain text for a report or a message: 7090宗（来源：《…》，…，第…页）."""
    if ans.abstained:  # the refusal itself: a near miss is not an answer to pass on
        first = _unmarked(ans.text.split("\n")[0])
        return first.split("。")[0] + "。" if "。" in first else first
    body = ans.short_answer or _unmarked(ans.text)
    sources = [cite_plain(ix, h) for h in ans.citations]
    if len(sources) > 1:
        sources = [f"[{i}]{s}" for i, s in enumerate(sources, 1)]
    return f"{body}（来源：{'；'.join(sources)}）" if sources else body


def share_link(question: str) -> str:
    """A relative link that asks ``question`` again when opened (the page reads ``?q=``)."""
    return "?" + urllib.parse.urlencode({"q": question})


def titles(ix: Index, doc_ids: list[str] | None) -> list[str]:
    return [str(ix.documents.get(d, {}).get("title") or d) for d in doc_ids or []]


def render_turn(ix: Index, ans: Answer, doc_filter: list[str] | None = None, typed: str = "") -> str:
    """The newest turn: what was asked (and what it was answered as), the active filters, the answer, and the
    copy and share buttons."""
    head = f'<div class="uq-asked">问：{_esc(typed or ans.asked or ans.question)}</div>'
    if ans.asked:
        inherited = f"（沿用上一问的{_esc('、'.join(ans.inherited))}）" if ans.inherited else ""
        head += f'<div class="uq-resolved">按“{_esc(ans.question)}”回答{inherited}</div>'
    if doc_filter:
        head += f'<div class="uq-filters">只在所选文档中查找：{_esc("、".join("《" + t + "》" for t in titles(ix, doc_filter)))}</div>'
    if any(n.startswith("only the first") for n in ans.notes):
        head += f'<div class="uq-caveat uq-cut">⚠ 问题过长，只按前{MAX_QUESTION_CHARS}字回答</div>'
    body = render_answer(ans, filtered=bool(doc_filter))  # a refusal says where it looked: the filter may hide it
    copy = _esc(plain_answer(ix, ans))
    link = _esc(share_link(ans.question))
    tools = (f'<div class="uq-tools"><button class="uq-copy" type="button" data-copy="{copy}">复制答案和出处</button> '
             f'<a class="uq-share" href="{link}" target="_blank" rel="noopener">分享链接</a> '
             f'<button class="uq-copy-link" type="button" data-copy="{link}">复制链接</button></div>')
    return head + body + tools


def turn_record(ans: Answer, ix: Index, doc_filter: list[str] | None = None) -> dict[str, Any]:
    """What the browser keeps of a turn (the conversation lives there, not on the server): enough for the next
    follow-up (question, evidence), for the history list (with the documents it was limited to), and for feedback
    on it."""
    turn = Turn.of(ans)
    return {"question": ans.question, "asked": ans.asked, "text": ans.text[:600], "short_answer": ans.short_answer,
            "filter": titles(ix, doc_filter)[:10],
            "abstained": ans.abstained, "evidence": [e[:400] for e in turn.evidence[:6]],
            "plain": plain_answer(ix, ans),
            "citations": [{"doc_id": c.doc_id, "chunk_id": c.chunk_id, "breadcrumb": list(c.breadcrumb)}
                          for c in ans.citations]}


MAX_TURNS = 8  # turns the page keeps (the request carrying them stays far below the 64 KB body limit)


def read_turns(value: Any) -> list[dict[str, Any]]:
    """The conversation the page sent (JSON text); anything malformed is an empty conversation."""
    try:
        turns = json.loads(value) if isinstance(value, str) and value.strip() else value
    except json.JSONDecodeError:
        return []
    if not isinstance(turns, list):
        return []
    return [t for t in turns if isinstance(t, dict) and isinstance(t.get("question"), str)][-MAX_TURNS:]


def history_turns(turns: list[dict[str, Any]]) -> list[Turn]:
    return [Turn(t["question"], tuple(str(e) for e in t.get("evidence") or [])) for t in turns]


def render_history(turns: list[dict[str, Any]]) -> str:
    """Earlier turns, oldest first: the question, what it was answered as, the answer with its sources in short."""
    if not turns:
        return ""
    rows = []
    for t in turns:
        asked = t.get("asked") or t["question"]
        resolved = f'<div class="uq-resolved">按“{_esc(t["question"])}”回答</div>' if t.get("asked") else ""
        within = [str(x) for x in t.get("filter") or [] if isinstance(x, str)] if isinstance(t.get("filter"), list) else []
        scope = (f'<div class="uq-filters">只在所选文档中查找：{_esc("、".join("《" + x + "》" for x in within))}</div>'
                 if within else "")
        plain = str(t.get("plain") or "")
        plain = plain.replace("文档中", "在所选文档中", 1) if within and t.get("abstained") else plain
        rows.append(f'<div class="uq-turn"><div class="uq-asked">问：{_esc(asked)}</div>{resolved}{scope}'
                    f'<div class="uq-said">{_esc(plain)}</div></div>')
    return '<div class="uq-history">' + "".join(rows) + "</div>"


def when(iso: str) -> str:
    """11月21日 from an ISO timestamp (the date in local time)."""
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return ""
    if t.tzinfo is not None:
        t = t.astimezone()
    return f"{t.month}月{t.day}日"


def index_summary(ix: Index) -> str:
    """基于5篇文档（42篇文章），更新于11月21日."""
    i = ix.info()
    date = when(str(i.get("created_at") or ""))
    return f"基于{i['documents']}篇文档（{i['articles']}篇文章）" + (f"，更新于{date}" if date else "")


def document_choices(ix: Index) -> list[tuple[str, str]]:
    """The document filter: (title, doc id) pairs sorted by title; a title two documents share names its file."""
    named = [(str(r.get("title") or d), d) for d, r in ix.documents.items()]
    seen = Counter(t for t, _ in named)
    return sorted(((f"{t}（{d}）" if seen[t] > 1 else t), d) for t, d in named)


def hint(text: str) -> str:
    return f'<div class="uq-hint">{_esc(text)}</div>'


def error(text: str) -> str:
    """A refusal the user must act on, shown as an error (red, announced), not as a grey hint."""
    return f'<div class="uq-error" role="alert">✗ {_esc(text)}</div>'


def removal_choices(ix: Index) -> list[tuple[str, str]]:
    """The 删除 list: 标题（文件名，加入时间）for each document, by title; the value is the doc id."""
    out = []
    for d, r in ix.documents.items():
        name = PurePath(str(r.get("path") or d)).name or d
        added = str(r.get("indexed_at") or "")[:10]
        out.append((f"{r.get('title') or name}（{name}" + (f"，{added}加入" if added else "") + "）", d))
    return sorted(out)


# ---- handlers ---------------------------------------------------------------------------

def documents_table(ix: Index) -> list[list[Any]]:
    """The 文档管理 list: doc id, title, format, pages, chunks, when indexed."""
    counts = Counter(c.doc_id for c in ix.chunks)
    rows = []
    for doc_id, r in sorted(ix.documents.items()):
        pages = r.get("pages")
        rows.append([doc_id, r.get("title", ""), format_name(str(r.get("format") or "text")),
                     len(pages) if isinstance(pages, list) and pages else "",
                     counts[doc_id], str(r.get("indexed_at") or "未记录")[:16].replace("T", " ")])
    return rows


def job_html(st: JobState) -> str:
    """The running job's progress bar, or how the last one ended."""
    if st.running:
        share = int(100 * st.done / st.total) if st.total else 0
        stage = STAGES.get(st.stage, st.stage)
        count = f" {st.done}/{st.total}" if st.total else ""
        return (f'<div class="uq-job" id="uq-job-running">正在{_esc(st.action)}：{_esc(stage)}{count}'
                f'<div class="uq-bar"><div style="width:{share}%"></div></div></div>')
    if st.ok is None:
        return ""
    cls, mark = ("uq-job-ok", "✓") if st.ok else ("uq-job-failed", "✗")
    return f'<div class="uq-job {cls}" id="{cls}">{mark} {_esc(st.message)}</div>'
