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
