"""English → Chinese index terms from CC-CEDICT (``search.translate``), against a made-up vocabulary."""

from __future__ import annotations

from unionqa.search.translate import english_phrases, expand_english

VOCAB = {"基层", "律师", "工会", "组织", "层次", "水平", "草根", "单位"}
STOP = {"how", "many", "did", "the", "in", "of"}


def test_a_word_with_a_gloss_of_its_own() -> None:
    assert english_phrases("how many lawyers", VOCAB, STOP) == [("lawyers", ["律师"])]  # lawyer, plural undone
    assert expand_english("level", VOCAB, STOP) == ["层次", "水平"]  # not 基层's "basic level": "level" has its own


def test_a_word_only_opening_two_word_glosses_falls_back_to_them() -> None:
    # CC-CEDICT glosses 基层 as "grassroots unit": "grassroots" alone has no gloss of its own
    assert "基层" in expand_english("how many grassroots trade union organizations", VOCAB, STOP)
    assert dict(english_phrases("grassroots", VOCAB, STOP))["grassroots"] == ["基层"]


def test_the_fallback_never_replaces_a_gloss_of_its_own() -> None:
    # "trade union" is a gloss (工会): its first word's two-word glosses never stand in for it
    phrases = dict(english_phrases("trade union", VOCAB, STOP))
    assert phrases == {"trade union": ["工会"]}


def test_the_glossary_renders_union_services_cc_cedict_lacks() -> None:
    vocab = VOCAB | {"职工书屋", "书屋", "驿站", "工会爱心驿站", "行业工会", "市级", "阅读"}
    # CC-CEDICT knows reading (阅读) and room, not 职工书屋: the glossary's three-word phrase wins, plural undone
    assert dict(english_phrases("How many workers' reading rooms", vocab, STOP)) == {"workers reading rooms": ["职工书屋", "书屋"]}
    assert dict(english_phrases("trade union stations", vocab, STOP))["trade union stations"] == ["工会爱心驿站", "驿站"]
    phrases = dict(english_phrases("how many municipal-level industry trade unions", vocab, STOP))
    assert phrases["municipal level"] == ["市级"] and phrases["industry trade unions"] == ["行业工会"]
    # a glossary term the index lacks is no rendering: the shorter phrases are rendered as before
    assert english_phrases("trade union stations", VOCAB, STOP)[0] == ("trade union", ["工会"])

