"""Reading the seeds: decoding, line unwrapping, articles, headers, captions, bylines, masthead."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS

from unionqa.errors import DocumentError
from unionqa.ingest.documents import iter_source_files, parse_document, read_document
from unionqa.text import decode_bytes, join_lines, squash


def _doc(prefix: str):  # type: ignore[no-untyped-def]
    return read_document(next(SEEDS.glob(prefix + "*")))


def _paths(doc):  # type: ignore[no-untyped-def]
    return [(s.article, s.headers, s.kind) for s in doc.sections]


def test_000_two_articles_with_headline_and_subheadline_sections() -> None:
    doc = _doc("000")
    assert doc.articles[0].startswith("深化产改，在发展新质生产力中展现工会作为")
    assert "惠州市总工会：" in doc.articles[0]
    assert "河源市总工会：" in doc.articles
    heads = {h for _, hs, _ in _paths(doc) for h in hs}
    assert "思想领航 “工”字特色思政课进基层" in heads
    assert "扛牢政治责任 加强职工思想政治引领" in heads
    assert "坚持鲜明导向 增强基层工会引领力组织力服务力" in heads


def test_000_lines_are_unwrapped_into_sentences() -> None:
    doc = _doc("000")
    body = [doc.text[a:b] for s in doc.sections if s.kind == "body" for a, b in s.pieces]
    joined = [join_lines(p.split("\n")) for p in body]
    assert any("过去五年，惠州市总工会在惠州市委和省总工会的正确领导下" in p for p in joined)


def test_bylines_and_captions_are_kept_out_of_body() -> None:
    doc = _doc("000")
    for s in doc.sections:
        text = "".join(doc.text[a:b] for a, b in s.pieces)
        if s.kind == "body":
            assert "全媒体记者" not in text and "单位供图" not in text
    kinds = {s.kind for s in doc.sections}
    assert {"byline", "caption"} <= kinds


def test_001_caption_in_the_middle_is_not_glued_to_the_intro() -> None:
    doc = _doc("001")
    captions = [doc.text[a:b] for s in doc.sections if s.kind == "caption" for a, b in s.pieces]
    assert "东莞市总工会组织职工疗休养。" in captions
    assert doc.articles[0] == "东莞市总工会：激活最强“工”力量 谱写高质量发展时代新华章"
    heads = {h for _, hs, _ in _paths(doc) for h in hs}
    assert "用心用情，当好职工信赖的“娘家人”" in heads


def test_002_two_articles_and_named_sections() -> None:
    doc = _doc("002")
    assert doc.articles[0].startswith("一年新增工会会员近万人")
    assert any(a.startswith("清远市佛冈县总工会") for a in doc.articles)
    heads = {h for _, hs, _ in _paths(doc) for h in hs}
    assert {"聚焦思想引领 铸牢产业工人思想根基", "“阳光互助”暖人心", "线上申请“零跑腿”"} <= heads


def test_003_magazine_articles_masthead_and_continuations() -> None:
    doc = _doc("003")
    arts = doc.articles
    for title in ("广州市总工会： 突出“三坚持” 聚焦“三个度”", "阳江市总工会： “疗休养+交友联谊”助职工觅良缘",
                  "汕头市总工会:构建“工会+”平台 推动劳动争议多元化解"):
        assert title in arts
    masthead = [doc.text[a:b] for s in doc.sections if s.kind == "masthead" for a, b in s.pieces]
    assert "印 数 2500本" in masthead and "目录" in masthead
    # the Yangjiang article continues after "(上接第16页)" far later in the file
    yj = [s for s in doc.sections if s.article.startswith("阳江市总工会")]
    assert any("回访收集职工建议" in s.headers for s in yj)
    body_text = "".join(doc.text[a:b] for s in doc.sections if s.kind == "body" for a, b in s.pieces)
    assert "下转第" not in body_text and "上接第" not in body_text


def test_004_markdown_headers() -> None:
    doc = _doc("004")
    assert doc.articles == ["云浮市总工会: 叫响做优“工”品牌 奏响发展最强音"]
    heads = [h for _, hs, k in _paths(doc) if k == "body" for h in hs]
    assert "强化思政引领 凝聚职工磅礴力量" in heads and "深化改革创新 工会工作提质增效" in heads


def test_encodings_gb18030_bom_and_undecodable(tmp_path: Path) -> None:
    text = "河源市总工会：\n\n五年来，全市新建基层工会组织596个。\n"
    (tmp_path / "gb.txt").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    gb = read_document(tmp_path / "gb.txt")
    assert gb.encoding == "gb18030" and "新建基层工会组织596个" in gb.text
    bom = read_document(tmp_path / "bom.txt")
    assert not bom.text.startswith("\ufeff") and bom.text.startswith("河源市")
    with pytest.raises(DocumentError, match="bad.txt"):
        read_document(tmp_path / "bad.txt")


def test_decode_refuses_latin1_mojibake() -> None:
    with pytest.raises(ValueError):
        decode_bytes(b"\x00\x01\x02\x03\xff\xfe\x00" * 10, "x.bin")


def test_join_lines_keeps_latin_spaces() -> None:
    assert join_lines(["惠州市总工会在惠州", "市委领导下"]) == "惠州市总工会在惠州市委领导下"
    assert join_lines(["GUANGDONG LABOUR", "MOVEMENT"]) == "GUANGDONG LABOUR MOVEMENT"


def test_iter_source_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("y", encoding="utf-8")
    (tmp_path / "c.pdf").write_text("z", encoding="utf-8")
    (tmp_path / "d.doc").write_bytes(b"w")
    (tmp_path / "e.xyz").write_bytes(b"v")
    names = [p.name for p in iter_source_files([tmp_path])]
    # formats we read, and formats people have that we can't (they get a one-line error); others are ignored
    assert names == ["a.md", "c.pdf", "d.doc", "b.txt"]
    with pytest.raises(DocumentError, match="nope"):
        iter_source_files([tmp_path / "nope"])


def test_parse_document_spans_point_into_source() -> None:
    doc = parse_document("x.md", "# 标题\n\n## 小节\n\n第一句话。第二句\n话。\n")
    (sec,) = [s for s in doc.sections if s.kind == "body"]
    a, b = sec.pieces[0]
    assert squash(doc.text[a:b]) == "第一句话。第二句话。"


BODY = "今年以来，市总工会组织开展了多项活动，服务职工超过一万人次。"


@pytest.mark.parametrize("text, title", [
    (f"2025-01-15 08:00 广东工人报\n\n东莞市总工会开展送清凉活动\n\n{BODY}", "东莞市总工会开展送清凉活动"),
    (f"2025年1月15日\n\n关于开展职工疗休养活动的通知\n\n各基层工会：\n\n{BODY}", "关于开展职工疗休养活动的通知"),
    (f"广东工人报讯（记者 张三）\n\n{BODY}", "扫描件"),  # no title in the text: the file's name
    (f"尊敬的会员朋友们：\n\n{BODY}\n\n特此通知。", "扫描件"),
    (f"各基层工会：\n\n{BODY}", "扫描件"),
])
def test_a_dateline_or_salutation_is_never_the_title(text: str, title: str) -> None:
    """Issue 27 item 6: an OCR'd notice or a web page without a title element was titled by its first short line —
    a dateline, a news agency line or a salutation; the title is the real headline, else the file name."""
    doc = parse_document("扫描件.png", text, path="扫描件.png", fmt="image")
    assert doc.title == title
    assert all("2025" not in s.article and "：" not in s.article for s in doc.sections)
    body = [doc.text[a:b] for s in doc.sections if s.kind == "body" for a, b in s.pieces]
    assert any(BODY in p for p in body)
    if "各基层工会" in text:  # the salutation stays with the letter it opens
        assert any("各基层工会：" in p for p in body)


def test_an_article_opener_is_still_an_opener_not_a_salutation() -> None:
    doc = parse_document("a.txt", f"深化产改 激发活力\n惠州市总工会：\n\n{BODY}")
    assert doc.title.startswith("深化产改")
