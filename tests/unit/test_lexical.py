"""BM25 parity with rank_bm25.BM25Okapi, tokenizer behaviour."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import SEEDS
from rank_bm25 import BM25Okapi

from unionqa.ingest.chunking import chunk_document, index_text
from unionqa.ingest.documents import read_document
from unionqa.search.lexical import LexicalIndex
from unionqa.search.tokenize import JiebaTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> JiebaTokenizer:
    return JiebaTokenizer()


@pytest.fixture(scope="module")
def seed_tokens(tokenizer):  # type: ignore[no-untyped-def]
    chunks = [c for p in sorted(SEEDS.iterdir()) for c in chunk_document(read_document(p))]
    return [tokenizer.tokenize(index_text(c)) for c in chunks]


QUERIES = ["惠州市总工会五年来调处了多少宗劳资纠纷？", "东莞免费送出了多少斤荔枝", "工会二次医保", "疗休养基地",
           "印数", "职工 职工 职工 工会", "完全不存在的词语"]


def test_scores_equal_bm25okapi_on_seed_tokens(seed_tokens, tokenizer) -> None:  # type: ignore[no-untyped-def]
    ref = BM25Okapi(seed_tokens)
    ours = LexicalIndex.build(seed_tokens)
    for q in QUERIES:
        toks = tokenizer.tokenize(q)
        np.testing.assert_allclose(ours.get_scores(toks), ref.get_scores(toks), rtol=1e-9, atol=1e-12)
        top_ref = [int(i) for i in np.argsort(-ref.get_scores(toks), kind="stable")[:10]]
        top_ours = [r for r, _ in ours.top(toks, 10)]
        positive = [i for i in top_ref if ref.get_scores(toks)[i] > 0]
        assert top_ours == positive[:len(top_ours)]


def test_parity_on_random_corpus_with_negative_idf() -> None:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(30)]
    corpus = [[rng.choice(vocab[:5] if rng.random() < 0.5 else vocab) for _ in range(rng.randint(1, 20))]
              for _ in range(200)]
    ref = BM25Okapi(corpus)
    ours = LexicalIndex.build(corpus)
    for _ in range(20):
        q = [rng.choice(vocab) for _ in range(rng.randint(1, 6))]
        np.testing.assert_allclose(ours.get_scores(q), ref.get_scores(q), rtol=1e-9, atol=1e-12)


def test_save_load_round_trip(tmp_path, seed_tokens) -> None:  # type: ignore[no-untyped-def]
    ours = LexicalIndex.build(seed_tokens)
    ours.save(tmp_path)
    again = LexicalIndex.load(tmp_path)
    q = ["工会", "7090宗", "劳资纠纷"]
    np.testing.assert_array_equal(ours.get_scores(q), again.get_scores(q))


def test_documents_sharing_no_term_are_never_returned() -> None:
    ix = LexicalIndex.build([["a", "b"], ["c"], ["d"]])
    assert [r for r, _ in ix.top(["a"], 10)] == [0]
    assert ix.top(["zzz"], 10) == []


def test_tokenizer_keeps_numbers_units_and_domain_terms(tokenizer) -> None:  # type: ignore[no-untyped-def]
    toks = tokenizer.tokenize("调处各类劳资纠纷7090宗，访问量达到38.8万人次，办结率99.82%，2024年")
    for t in ("7090宗", "7090", "38.8万人次", "99.82%", "2024年", "劳资纠纷"):
        assert t in toks
    toks = tokenizer.tokenize("“百千万工程”、粤工惠、工会二次医保、疗休养")
    for t in ("百千万工程", "粤工惠", "工会二次医保", "疗休养"):
        assert t in toks


def test_tokenizer_drops_punctuation_and_stop_words(tokenizer) -> None:  # type: ignore[no-untyped-def]
    assert tokenizer.tokenize("？？！！……，。") == []
    assert tokenizer.tokenize("的 了 吗 多少") == []
    assert "，" not in tokenizer.tokenize("工会，职工")


def test_tokenizer_normalizes_fullwidth_and_spaced_cjk(tokenizer) -> None:  # type: ignore[no-untyped-def]
    assert tokenizer.tokenize("ＡＢＣ１２３") == tokenizer.tokenize("abc123")
    assert "印数" in tokenizer.tokenize("印 数 2500本")


def test_idf_methods_and_the_saved_choice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 26: the Okapi floor puts a term found in most documents (工会) above rarer ones just under half;
    Lucene's IDF stays positive and falls with document frequency. The method is saved with the index."""
    import numpy as np
    import pytest

    from unionqa.search.lexical import LexicalIndex, idf_values

    df = np.array([1, 1, 1, 2, 3, 5, 9])  # most terms are rare, as in any corpus
    okapi, lucene = idf_values(df, 10, "okapi"), idf_values(df, 10, "lucene")
    assert okapi[6] > okapi[5]  # the floor: a term in 9 of 10 documents outweighs one in 5 of 10
    assert (lucene > 0).all() and (np.diff(lucene) <= 0).all() and lucene[6] < lucene[5]
    with pytest.raises(ValueError, match="okapi, lucene"):
        idf_values(df, 10, "bm42")
    corpus = [["工会", "企业"], ["工会", "职工"], ["工会", "职工", "企业"], ["工会"]]
    lex = LexicalIndex.build(corpus, idf="lucene")
    lex.save(tmp_path)
    back = LexicalIndex.load(tmp_path)
    assert back.idf_method == "lucene" and np.allclose(back.idf, lex.idf) and back.idf[back.vocab["工会"]] > 0
    assert LexicalIndex.load(tmp_path).get_scores(["企业"]).tolist() == lex.get_scores(["企业"]).tolist()
