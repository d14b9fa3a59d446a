"""Chunks: evidence coverage on the seeds, size cap, sentence boundaries, spans."""

from __future__ import annotations

import json

import pytest
from conftest import DEV, SEEDS

from unionqa.config import ChunkingConfig
from unionqa.ingest.chunking import chunk_document
from unionqa.ingest.documents import read_document
from unionqa.text import squash


@pytest.fixture(scope="module")
def seed_chunks():  # type: ignore[no-untyped-def]
    docs = {p.name: read_document(p) for p in sorted(SEEDS.iterdir())}
    return docs, [c for d in docs.values() for c in chunk_document(d)]


def test_every_evidence_phrase_lies_inside_one_chunk(seed_chunks) -> None:  # type: ignore[no-untyped-def]
    _, chunks = seed_chunks
    gold = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    missing = []
    for g in gold:
        if not g.get("evidence"):
            continue
        ev = squash(g["evidence"])
        if not any(ev in squash(c.text) for c in chunks if c.doc_id == g["doc"]):
            missing.append(g["id"])
    assert missing == []


def test_chunks_respect_cap_and_end_at_sentence_boundaries(seed_chunks) -> None:  # type: ignore[no-untyped-def]
    _, chunks = seed_chunks
    cfg = ChunkingConfig()
    for c in chunks:
        # over the cap only as one whole paragraph (kept whole up to the hard cap) or one long sentence
        assert len(c.text) <= cfg.hard_max_chars + 5
        if c.kind == "body" and len(c.text) > cfg.max_chars:
            assert "\n" not in c.text
    enders = tuple("。！？；!?;…”’）)") + ("\n",)
    body = [c for c in chunks if c.kind == "body"]
    ended = sum(1 for c in body if c.text.rstrip().endswith(enders))
    assert ended / len(body) > 0.9


def test_span_covers_exactly_the_chunk_text(seed_chunks) -> None:  # type: ignore[no-untyped-def]
    docs, chunks = seed_chunks
    for c in chunks:
        src = docs[c.doc_id].text[c.span[0]:c.span[1]]
        assert squash(src.replace("*", "")) == squash(c.text)


def test_chunk_ids_are_unique_and_stable(seed_chunks) -> None:  # type: ignore[no-untyped-def]
    docs, chunks = seed_chunks
    ids = [c.chunk_id for c in chunks]
    assert len(ids) == len(set(ids))
    again = [c.chunk_id for d in docs.values() for c in chunk_document(d)]
    assert again == ids


def test_breadcrumb_is_document_article_section(seed_chunks) -> None:  # type: ignore[no-untyped-def]
    _, chunks = seed_chunks
    c = next(c for c in chunks if "7090宗" in c.text)
    assert c.breadcrumb[1].startswith("深化产改") and c.breadcrumb[-1] == "竭诚服务 以需求为导向提升职工生活品质"
    cap = next(c for c in chunks if c.kind == "caption" and "单位供图" in c.text)
    assert cap.breadcrumb[-1] == "图片说明"


def test_paragraphs_that_fit_the_hard_cap_stay_whole() -> None:
    from unionqa.ingest.documents import parse_document

    para = "".join(f"第{i}句话讲的是工会的工作。" for i in range(12))  # ~150 chars
    doc = parse_document("t.md", "# 标题\n\n" + para + "\n\n短的一段。\n")
    whole = chunk_document(doc, ChunkingConfig(max_chars=100, hard_max_chars=200))
    assert [c.text for c in whole] == [para, "短的一段。"]
    split = chunk_document(doc, ChunkingConfig(max_chars=100, hard_max_chars=200, keep_paragraphs=False))
    assert len(split) >= 2 and all(len(c.text) <= 100 for c in split) and split[0].text != para


def test_never_cuts_inside_a_sentence() -> None:
    from unionqa.ingest.documents import parse_document

    text = "# 标题\n\n" + "".join(f"第{i}句话讲的是工会的工作内容和成效。" for i in range(60)) + "\n"
    doc = parse_document("t.md", text)
    chunks = chunk_document(doc, ChunkingConfig(max_chars=100, hard_max_chars=200))
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("第") and c.text.endswith("。")
        assert len(c.text) <= 100


def test_a_sentence_end_inside_a_title_quotation_or_parenthesis_ends_nothing() -> None:
    from unionqa.text import split_sentences

    def sentences(text: str) -> list[str]:
        return [text[a:b] for a, b in split_sentences(text)]

    assert sentences("她在《CDTV×Sacas！》节目中演唱。然后发行单曲。") == ["她在《CDTV×Sacas！》节目中演唱。", "然后发行单曲。"]
    assert sentences("他说：“我们要努力。我们会成功。”会后签约。") == ["他说：“我们要努力。我们会成功。”", "会后签约。"]
    assert sentences("旗下组合（包括TOKIO及Hey! Say! JUMP）出版唱片。另一句。") == \
        ["旗下组合（包括TOKIO及Hey! Say! JUMP）出版唱片。", "另一句。"]


def test_a_lone_or_far_closing_mark_glues_nothing_together() -> None:
    from unionqa.text import MAX_BRACKETED_CHARS, split_sentences

    def sentences(text: str) -> list[str]:
        return [text[a:b] for a, b in split_sentences(text)]

    assert sentences("他提出“三个一。第二句。第三句。") == ["他提出“三个一。", "第二句。", "第三句。"]  # never closed
    assert sentences("右）开头。后面。") == ["右）开头。", "后面。"]
    assert sentences("“甲。\n乙。”丙。") == ["“甲。", "乙。”", "丙。"]  # a line end is a hard end
    far = "《书！" + "很长的句子。" * (MAX_BRACKETED_CHARS // 6) + "》完。"
    assert len(sentences(far)) > 2  # closes past the limit: split as before
