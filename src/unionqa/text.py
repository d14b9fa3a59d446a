"""Text primitives: decoding, cleaning, normalizing, sentence splitting, span alignment."""

from __future__ import annotations

import re
import unicodedata

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Sentence ends: Chinese and Latin terminators, optionally followed by closing quotes/brackets.
SENTENCE_END_RE = re.compile(r"(?:[。！？；!?;]|\.(?=\s|$)|……|…)[”’」』）)\]】\"']*|\n")
TERMINAL_CHARS = "。！？；!?;…．.”’」』）)"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_SPACE_BETWEEN_CJK_RE = re.compile(
    r"(?<=[\u3400-\u9fff\uff00-\uffef0-9%])[ \t\u3000]+(?=[\u3400-\u9fff\uff00-\uffef0-9])"
)


def is_cjk(ch: str) -> bool:
    return bool(CJK_RE.match(ch))


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK ideographs."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if is_cjk(c)) / len(chars)


def _plausible(text: str) -> bool:
    """True when decoded text looks like natural text rather than mojibake."""
    if not text:
        return True
    sample = text[:200_000]
    bad = 0
    for ch in sample:
        cat = unicodedata.category(ch)
        if ch in "\n\r\t":
            continue
        if cat in ("Cc", "Co", "Cn", "Cs"):
            bad += 1
        elif "\ue000" <= ch <= "\uf8ff":
            bad += 1
    return bad / max(1, len(sample)) < 0.01


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Decode a document's bytes; returns (text, encoding) or raises ValueError naming ``name``.

    Tries UTF-8 (BOM stripped), UTF-16 with BOM, then GB18030 (a superset of GBK/GB2312).
    Text that decodes but is implausible (control/private-use characters) is refused
    rather than indexed as mojibake.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", data)]
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for enc, raw in candidates:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text.replace("\r\n", "\n").replace("\r", "\n"), enc
    raise ValueError(f"{name}: not valid UTF-8 or GB18030 text; refusing to index it (re-save it as UTF-8)")


def clean_text(text: str) -> str:
    """Remove control characters and lone surrogates; keep length-changing edits out of sources."""
    text = _SURROGATE_RE.sub("\ufffd", text)
    return _CONTROL_RE.sub(" ", text)


def normalize_for_match(text: str) -> str:
    """Canonical form used to compare and tokenize: NFKC, lowercase, no spaces inside CJK runs."""
    text = clean_text(text)
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE_BETWEEN_CJK_RE.sub("", text)


def squash(text: str) -> str:
    """NFKC with all whitespace removed: the eval's comparison form."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


#: brackets a sentence does not end inside: book titles, quotations, parentheses
_BRACKET_PAIRS = (("《", "》"), ("“", "”"), ("「", "」"), ("『", "』"), ("（", "）"), ("(", ")"))
#: a bracket holds its sentence ends only when it closes within this many characters of the sentence's start (a lone
#: or mismatched mark never glues a paragraph together); the longest sentence an answer quotes
#: (``AnswerConfig.max_quote_chars``)
MAX_BRACKETED_CHARS = 200


def _unbalanced(text: str) -> int:
    """> 0 when ``text`` opens a title, quotation or parenthesis it does not close; < 0 when it closes one it did not
    open (and 0 when neither, or both: text cut on both sides is left as it is)."""
    opened = [text.count(a) - text.count(b) for a, b in _BRACKET_PAIRS]
    if any(n > 0 for n in opened) and not any(n < 0 for n in opened):
        return 1
    if any(n < 0 for n in opened) and not any(n > 0 for n in opened):
        return -1
    return 0


def _bracket_end(text: str, raw: list[tuple[int, int]], i: int) -> int:
    """The last of the ``raw`` sentence spans that a bracket opened in span ``i`` runs through: the one where it closes,
    within ``MAX_BRACKETED_CHARS`` of span ``i``'s start and before any line end; ``i`` itself when span ``i`` opens
    none, or the bracket does not close in reach, or a later span closes more than was opened."""
    a = raw[i][0]
    if _unbalanced(text[a:raw[i][1]]) <= 0 or "\n" in text[a:raw[i][1]]:
        return i
    for k in range(i + 1, len(raw)):
        if raw[k][1] - a > MAX_BRACKETED_CHARS or "\n" in text[raw[k][0]:raw[k][1]]:
            return i
        state = _unbalanced(text[a:raw[k][1]])
        if state < 0:
            return i
        if state == 0:
            return k
    return i


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split into sentence spans (start, end); terminators and closing quotes stay with their sentence.

    A sentence end inside a book title, quotation or parenthesis that closes within ``MAX_BRACKETED_CHARS`` on the
    same line ends nothing (《CDTV×Sacas！》, “我们要努力。我们会成功。”). The spans tile ``text`` exactly (no
    character lost); whitespace-only spans are dropped.
    """
    raw: list[tuple[int, int]] = []
    start = 0
    for m in SENTENCE_END_RE.finditer(text):
        end = m.end()
        if end > start:
            raw.append((start, end))
            start = end
    if start < len(text):
        raw.append((start, len(text)))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(raw):
        last = _bracket_end(text, raw, i)
        spans.append((raw[i][0], raw[last][1]))
        i = last + 1
    return [(a, b) for a, b in spans if text[a:b].strip()]


_EMPHASIS_RE = re.compile(r"\*\*")


def _ignorable(c: str) -> bool:
    """Characters dropped between source and chunk text: whitespace and Markdown emphasis marks."""
    return c.isspace() or c == "*"


def join_lines(parts: list[str]) -> str:
    """Join hard-wrapped line fragments: no space between CJK, one space between Latin words.

    Markdown emphasis (``**139**``) is dropped so the words read and match as plain text.
    """
    out = ""
    for p in parts:
        p = _EMPHASIS_RE.sub("", p).strip()
        if not p:
            continue
        if out and (out[-1].isascii() and out[-1].isalnum()) and (p[0].isascii() and p[0].isalnum()):
            out += " " + p
        else:
            out += p
    return out


class OffsetMap:
    """Maps slices of ``text`` (derived from ``source[start:end]`` by dropping/inserting whitespace
    and emphasis marks) back to source offsets by aligning the other characters. Built once per
    paragraph in O(n), then each lookup is O(1)."""

    def __init__(self, source: str, start: int, end: int, text: str) -> None:
        self.pos = [i for i in range(start, end) if not _ignorable(source[i])]
        self.start = start
        counts = [0] * (len(text) + 1)
        k = 0
        for i, c in enumerate(text):
            counts[i] = k
            if not _ignorable(c):
                k += 1
        counts[len(text)] = k
        self.counts = counts

    def span(self, a: int, b: int) -> tuple[int, int]:
        if not self.pos:
            return self.start, self.start
        k_a = min(self.counts[a], len(self.pos) - 1)
        k_b = min(self.counts[b], len(self.pos))
        if k_b <= k_a:
            return self.pos[k_a], self.pos[k_a]
        return self.pos[k_a], self.pos[k_b - 1] + 1


def map_offsets(source: str, start: int, end: int, text: str, a: int, b: int) -> tuple[int, int]:
    """One-off form of OffsetMap(source, start, end, text).span(a, b)."""
    return OffsetMap(source, start, end, text).span(a, b)


def ends_sentence(s: str) -> bool:
    """Whether a line ends a sentence (a closing quote or bracket counts only after 。！？ and the like)."""
    s = s.rstrip()
    while s and unicodedata.category(s[-1]) in ("So", "Sk", "Cn", "Mn"):
        s = s[:-1].rstrip()
    if not s:
        return True
    if s[-1] in "。！？；!?;…":
        return True
    if s[-1] in TERMINAL_CHARS and len(s) >= 2 and s[-2] in "。！？；!?;…":
        return True
    return s.endswith(".") and not s[-2:-1].isdigit()
