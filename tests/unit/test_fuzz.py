"""Property-based tests: normalizer, sentence splitter, line unwrapper, chunker, tokenizer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unionqa.config import ChunkingConfig
from unionqa.ingest.chunking import chunk_document
from unionqa.ingest.documents import _classify, _split_lines, parse_document
from unionqa.search.tokenize import JiebaTokenizer
from unionqa.text import clean_text, join_lines, normalize_for_match, split_sentences, squash

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
PUNCT = st.sampled_from(list("。！？；，、：“”（）()…—- #\n\n \t*■①") + ["\n\n", "单位供图", "(下转第3页)", "目录"])
ODD = st.characters(blacklist_categories=())  # anything, including controls and lone surrogates
TEXT = st.lists(st.one_of(CJK, PUNCT, st.sampled_from(list("0123456789abcXYZ%")), ODD), max_size=400).map("".join)
LINES = st.lists(st.one_of(st.lists(CJK, min_size=1, max_size=30).map("".join), PUNCT, TEXT), max_size=60).map(
    lambda parts: "\n".join(parts))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_TOKENIZER = JiebaTokenizer()


def _visible(s: str) -> str:
    return "".join(c for c in s if not c.isspace() and c != "*")


@SETTINGS
@given(TEXT)
def test_normalizer_is_total_and_idempotent(text: str) -> None:
    once = normalize_for_match(text)
    assert normalize_for_match(once) == once
    assert "\x00" not in once and not any("\ud800" <= c <= "\udfff" for c in once)


@SETTINGS
@given(TEXT)
def test_sentence_spans_tile_the_text(text: str) -> None:
    spans = split_sentences(text)
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        assert text[pos:a].strip() == ""  # only whitespace is ever skipped
        pos = b
    assert text[pos:].strip() == ""
    assert "".join(text[a:b] for a, b in spans).split() == text.strip().split() or \
        _visible("".join(text[a:b] for a, b in spans)) == _visible(text)


@SETTINGS
@given(st.lists(TEXT, max_size=10))
def test_join_lines_loses_nothing_visible(parts: list[str]) -> None:
    joined = join_lines(parts)
    assert _visible(joined) == _visible("".join(parts)).replace("*", "")


@SETTINGS
@given(LINES)
def test_chunks_cover_body_lines_in_order_with_exact_spans(text: str) -> None:
    doc = parse_document("f.txt", text)
    chunks = chunk_document(doc, ChunkingConfig(max_chars=80, hard_max_chars=160))
    last_end = -1
    for c in chunks:
        a, b = c.span
        assert 0 <= a <= b <= len(doc.text)
        assert a >= last_end  # in order, no overlap
        last_end = b
        assert squash(doc.text[a:b].replace("*", "")) == squash(c.text.replace("*", ""))
        assert len(c.text) <= 160 + 2
    # every body/caption/byline/masthead line's visible text lands in some chunk
    lines = _split_lines(clean_text(text))
    _classify(lines)
    everything = "".join(_visible(c.text) for c in chunks)
    for ln in lines:
        if ln.kind in ("body", "list", "caption", "byline", "masthead") and _visible(ln.text):
            assert squash(ln.text.replace("*", "")) in squash(everything) or len(_visible(ln.text)) > 160


@SETTINGS
@given(TEXT)
def test_tokenizer_is_total_and_deterministic(text: str) -> None:
    toks = _TOKENIZER.tokenize(text)
    assert toks == _TOKENIZER.tokenize(text)
    assert all(t and not any(ch.isspace() for ch in t) for t in toks)
