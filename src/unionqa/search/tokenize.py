"""Tokenizer shared by documents and queries: jieba (search mode) + domain dictionary + whole numbers."""

from __future__ import annotations

import hashlib
import re
import threading
from importlib import resources
from typing import Any, Protocol

from unionqa.measures import TOKEN_UNIT_RE
from unionqa.text import normalize_for_match

# A number with its unit (measures.TOKEN_UNITS) stays one token (7090宗, 38.8万人次, 99.82%, 2024年); the bare
# number is emitted too so a query that types only the digits still matches.
NUMBER_RE = re.compile(rf"\d+(?:[.,]\d+)*(?:%|[万亿千百]*(?:{TOKEN_UNIT_RE})|[万亿]+)?")
_WORD_RE = re.compile(r"[0-9a-z\u3400-\u9fff]", re.IGNORECASE)


class Tokenizer(Protocol):
    """Turns text into index terms; the same instance serves documents and queries."""

    name: str

    @property
    def dictionary_hash(self) -> str: ...

    def tokenize(self, text: str) -> list[str]: ...

    def word_spans(self, text: str) -> list[tuple[int, int]]: ...


def _data(name: str) -> str:
    return resources.files("unionqa").joinpath("data").joinpath(name).read_text(encoding="utf-8")


def load_stopwords() -> frozenset[str]:
    return frozenset(w.strip() for w in _data("stopwords.txt").splitlines() if w.strip() and not w.startswith("#"))


_JIEBA: dict[str, object] = {}  # user dictionary text → its jieba.Tokenizer: built once per process (~1 s)
_JIEBA_LOCK = threading.Lock()


def _jieba_with(userdict: str):  # type: ignore[no-untyped-def]
    """jieba's main dictionary plus ``userdict``, shared by every JiebaTokenizer (and Index) of this process.

    jieba's segmentation only reads the tokenizer's tables after this, so request threads may share it."""
    with _JIEBA_LOCK:
        tk = _JIEBA.get(userdict)
        if tk is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            for line in userdict.splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    word, _, freq = line.partition(" ")
                    tk.add_word(word, int(freq) if freq.strip().isdigit() else None)
            _JIEBA[userdict] = tk
        return tk


_POS: dict[str, Any] = {}


def _tagger():  # type: ignore[no-untyped-def]
    """jieba's part-of-speech tagger over the shared dictionary, built once per process."""
    userdict = _data("userdict.txt")
    with _JIEBA_LOCK:
        pos = _POS.get(userdict)
    if pos is None:
        import jieba.posseg

        tk = _jieba_with(userdict)
        with _JIEBA_LOCK:
            pos = _POS.setdefault(userdict, jieba.posseg.POSTokenizer(tk))
    return pos


def tagged(text: str) -> list[tuple[str, str]]:
    """``text`` as words with their part-of-speech tags (jieba's tagger over the shared dictionary: ``v``, ``n``,
    ``ns`` …), in order; the words joined give ``text`` back."""
    return [(str(w.word), str(w.flag)) for w in _tagger().cut(text)]


def first_word(text: str) -> tuple[str, str]:
    """The first word of ``text`` and its part-of-speech tag (as ``tagged``; ``("", "")`` for no word): the tagger
    stops there."""
    return next(((str(w.word), str(w.flag)) for w in _tagger().cut(text) if w.word.strip()), ("", ""))


class JiebaTokenizer:
    """jieba search-mode segmentation with the bundled domain dictionary and stop words.

    Text is NFKC-normalized and lowercased first (normalize_for_match), numbers with units
    are kept whole, punctuation and stop words are dropped. jieba itself loads lazily.
    """

    name = "jieba-search-v1"

    def __init__(self) -> None:
        self._jieba = None
        self._userdict = _data("userdict.txt")
        self._stop = load_stopwords()

    @property
    def dictionary_hash(self) -> str:
        import jieba

        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update(getattr(jieba, "__version__", "").encode())
        h.update(self._userdict.encode("utf-8"))
        h.update("\n".join(sorted(self._stop)).encode("utf-8"))
        return h.hexdigest()

    def _tk(self):  # type: ignore[no-untyped-def]
        if self._jieba is None:
            self._jieba = _jieba_with(self._userdict)
        return self._jieba

    def tokenize(self, text: str) -> list[str]:
        norm = normalize_for_match(text)
        tk = self._tk()
        out: list[str] = []
        pos = 0
        for m in NUMBER_RE.finditer(norm):
            if m.start() > pos:
                out.extend(self._words(tk, norm[pos:m.start()]))
            num = m.group(0)
            out.append(num)
            bare = re.match(r"\d+(?:[.,]\d+)*", num)
            if bare and bare.group(0) != num:
                out.append(bare.group(0))
            pos = m.end()
        if pos < len(norm):
            out.extend(self._words(tk, norm[pos:]))
        return out

    def word_spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each word of ``text`` as jieba's default mode cuts it (for highlighting whole words)."""
        return [(a, b) for _, a, b in self._tk().tokenize(text)]

    def _words(self, tk, text: str) -> list[str]:  # type: ignore[no-untyped-def]
        words = []
        for w in tk.cut_for_search(text, HMM=True):
            w = w.strip()
            if w and _WORD_RE.search(w) and w not in self._stop:
                words.append(w)
        return words
