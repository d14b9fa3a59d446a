"""Answer text: the short answer first, then the quoted sentence(s) with [n] markers; refusals; the integrity check."""

from __future__ import annotations

import re
from collections.abc import Callable

from unionqa.answer.anchors import Mismatch
from unionqa.answer.evidence import Candidate
from unionqa.config import CLOSEST_SHOWN, AnswerConfig
from unionqa.text import map_offsets, normalize_for_match
from unionqa.types import MARKER_RE, Answer, Hit, SupportSentence

ABSTAIN_TEXT = "文档中没有找到这个问题的答案。"


def trim(sentence: str, anchors: list[int], limit: int) -> tuple[int, int]:
    """Clause window of ``sentence`` (≤ limit chars) around the anchors; returns offsets."""
    if len(sentence) <= limit:
        return 0, len(sentence)
    cuts = [0] + [m.end() for m in re.finditer(r"[，,；;：:]", sentence)] + [len(sentence)]
    centre = sorted(anchors)[len(anchors) // 2] if anchors else 0
    best = (0, min(limit, len(sentence)))
    for i in range(len(cuts) - 1):
        if cuts[i] <= centre < cuts[i + 1]:
            a, b = cuts[i], cuts[i + 1]
            while True:
                grew = False
                if i > 0 and b - cuts[i - 1] <= limit and cuts[i - 1] < a:
                    a = cuts[i - 1]
                    i -= 1
                    grew = True
                nxt = [c for c in cuts if c > b]
                if nxt and nxt[0] - a <= limit:
                    b = nxt[0]
                    grew = True
                if not grew:
                    break
            best = (a, min(b, a + limit))
            break
    return best


def _quote(c: Candidate, short: str | None, idf: dict[str, float], limit: int) -> str:
    norm = normalize_for_match(c.text)
    anchors = [norm.find(t) for t in idf if t in norm]
    if short and short in c.text:
        anchors = [c.text.find(short)]
    ta, tb = trim(c.text, anchors, limit)
    return ("…" if ta > 0 else "") + c.text[ta:tb].strip() + ("…" if tb < len(c.text) else "")


def compose(question: str, hits: list[Hit], chosen: list[Candidate], short: str | None, cfg: AnswerConfig,
            idf: dict[str, float], document_text: Callable[[str], str]) -> Answer:
    """The answer: ``short`` [n] on the first line, then each chosen sentence quoted with its marker."""
    citations: list[Hit] = []
    marker_of: dict[int, int] = {}
    sentences: list[SupportSentence] = []
    used = len(short or "")
    text = ""
    markers: list[tuple[int, int, int]] = []

    def mark(n: int) -> None:
        nonlocal text
        text += " "
        markers.append((len(text), len(text) + len(f"[{n}]"), n))
        text += f"[{n}]"

    for i, c in enumerate(chosen):
        quote = _quote(c, short, idf, cfg.max_quote_chars)
        if i and used + len(quote) + 1 > cfg.max_answer_chars:
            break  # the first quote always stays; a further one only while the answer stays short
        used += len(quote) + 1
        if c.hit_index not in marker_of:
            citations.append(hits[c.hit_index])
            marker_of[c.hit_index] = len(citations)
        n = marker_of[c.hit_index]
        hit = hits[c.hit_index]
        if i == 0 and short:
            text += short
            mark(n)
            text += "\n"
        elif i:
            text += "\n"
        text += quote
        mark(n)
        span = map_offsets(document_text(hit.doc_id), hit.span[0], hit.span[1], hit.text, c.start, c.end)
        sentences.append(SupportSentence(n, hit.chunk_id, hit.doc_id, c.text, span, (c.start, c.end)))
    ans = Answer(question, text, short, tuple(citations), tuple(sentences), False, markers=tuple(markers))
    verify_answer(ans)
    return ans


def abstain(question: str, hits: list[Hit], why: str) -> Answer:
    """The documents do not answer: say so, and offer the closest passages to read."""
    text = ABSTAIN_TEXT + (" 以下是最接近的段落，供参考。" if hits else "")
    return Answer(question, text, None, (), (), True, tuple(hits[:CLOSEST_SHOWN]), notes=(why,))


def refuse_mismatch(question: str, hits: list[Hit], near: Candidate, miss: Mismatch, cfg: AnswerConfig,
                    idf: dict[str, float]) -> Answer:
    """The documents hold this fact for another place/year than the one asked: refuse, and show the near miss
    clearly marked as not the answer (its passage first among ``closest``)."""
    asked = miss.describe()
    other = "、".join(miss.found[:3])
    said = f"（说的是{other}，不是{asked}）" if other else f"（其中没有提到{asked}）"
    text = (f"文档中没有{asked}的这项数据。相近的内容{said}，不是答案：" + "\n"
            + _quote(near, None, idf, cfg.max_quote_chars))
    hit = hits[near.hit_index]
    closest = (hit,) + tuple(h for h in hits[:CLOSEST_SHOWN] if h.chunk_id != hit.chunk_id)
    note = f"the question asks about {asked}; the closest evidence names {other or 'no such ' + miss.anchor.kind}"
    return Answer(question, text, None, (), (), True, closest[:CLOSEST_SHOWN], notes=(note,), mismatch=(asked, other))


def verify_answer(ans: Answer) -> None:
    """Every marker points at a citation, every quoted sentence is inside its cited passage.

    Markers are read where the composer recorded them (``Answer.markers``); only an answer without
    recorded markers (an LLM's) is scanned for ``[n]``.

    Raises AssertionError: a failure is a bug in answer composition, never silently dropped.
    """
    markers = ans.markers or tuple((m.start(), m.end(), int(m.group(1))) for m in MARKER_RE.finditer(ans.text))
    for a, b, n in markers:
        if ans.text[a:b] != f"[{n}]":
            raise AssertionError(f"answer marker [{n}] is not where the composer put it")
        if not 1 <= n <= len(ans.citations):
            raise AssertionError(f"answer marker [{n}] has no citation")
    for s in ans.sentences:
        cited = ans.citations[s.marker - 1]
        if s.chunk_id != cited.chunk_id or s.text not in cited.text:
            raise AssertionError(f"sentence for [{s.marker}] is not in its cited passage")
        if cited.text[s.offset[0]:s.offset[1]] != s.text:
            raise AssertionError(f"sentence offset for [{s.marker}] is wrong")
