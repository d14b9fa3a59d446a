"""Evidence: every sentence (and adjacent pair) of the top passages, scored for the question.

A sentence's score combines the share of the question's IDF mass it contains (coverage), the
coverage of the words around the question word (focus), the similarity of the question to the
sentence's stored embedding windows (semantic), the passage's rank, and whether it holds a value
of the asked type. Each candidate also carries the evidence layers the constraint check reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from unionqa.answer.candidates import PLACE_RE, candidates, city_mentions, nearest
from unionqa.answer.context import AnswerContext, PassageScorer
from unionqa.answer.question import (
    CITY_Q,
    asked_category,
    counted_noun,
    counted_phrase,
    figure_unit,
    focus_terms,
    question_type,
)
from unionqa.config import AnswerConfig
from unionqa.ingest.chunking import sentence_units
from unionqa.search.query import PreparedQuestion, prepare_question, to_simplified
from unionqa.search.tokenize import NUMBER_RE
from unionqa.search.translate import english_phrases
from unionqa.text import normalize_for_match, split_sentences
from unionqa.types import Hit


@dataclass
class Candidate:
    """A sentence or adjacent pair of one hit, with its score and features."""

    hit_index: int
    start: int
    end: int
    text: str
    score: float
    coverage: float
    short: str | None
    semantic: float = 0.0
    rare_found: float = 0.0  # share of the question's rarest known words found in this candidate's evidence layers
    reader: float | None = None  # the reader's P(this sentence answers), when it read it
    pair: bool = False  # two adjacent sentences


@dataclass
class Evidence:
    """What the extractive answerer found for a question (also the calibration features)."""

    qtype: str
    candidates: list[Candidate]
    unknown_share: float
    english: bool
    idf: dict[str, float]
    passage_coverage: float = 0.0
    typed: bool = False
    layers: dict[int, list[str]] = field(default_factory=dict)  # hit index → hit_layers(...)
    read: bool = False  # the reader scored the best candidates (Candidate.reader)
    unit: str | None = None  # the measure word of the figure the question asks for (多少亩 → 亩), if any


def hit_layers(hit: Hit, title: str, head: str = "") -> list[str]:
    """A hit's evidence beyond the quoted sentence, nearest first and in Simplified Chinese: the passage, its
    headings, the document title, the document's opening (masthead, date line, issue number)."""
    return [to_simplified(t) for t in (hit.text, " ".join(hit.breadcrumb[1:]), title, head) if t]


def _positions(text: str, terms: list[str]) -> list[int]:
    """Every position of every term in ``text``."""
    out = []
    for t in terms:
        i = text.find(t)
        while i >= 0:
            out.append(i)
            i = text.find(t, i + 1)
    return out


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for a, b in split_sentences(text):
        raw = text[a:b]
        a += len(raw) - len(raw.lstrip())
        b = a + len(raw.strip())
        spans.append((a, b))
    return spans


#: a sentence that opens like this leans on the one before it (但…, 因此…, 他…, 该…, 此外…): it is not quoted alone
LEANS_BACK_RE = re.compile(
    r"^[（(「“]?(?:但|然而|而且?|因[此而]|所以|于是|[此其随之]后|后来|同时|此外|另外|并且?|且|也|又|还|其|该|此|这|那|"
    r"[他她它牠](?:们)?|在此|对此|为此|由此|不久|主要|其次|再次|最后|包括|例如|由于)")


def widen(c: Candidate, passage: str, limit: int, mode: str = "leaning",
          read: Callable[[list[str]], np.ndarray] | None = None, threshold: float = 0.0) -> Candidate:
    """The candidate with the sentences it leans on or that lean on it, while the quote stays within ``limit``.

    The sentence before is added while the quote opens with a back-reference (``LEANS_BACK_RE``); the next one when
    it leans back on this one ("leaning"), when ``read`` (the reader's logits, one call for every sentence that could
    fit) scores it at least ``threshold`` ("read"), or whenever it fits ("next")."""
    spans = _sentence_spans(passage)
    first = next((i for i, (a, b) in enumerate(spans) if a <= c.start < b), None)
    last = next((i for i, (a, b) in enumerate(spans) if a < c.end <= b), None)
    if first is None or last is None:
        return c
    start, end = spans[first][0], spans[last][1]
    while first > 0 and LEANS_BACK_RE.match(passage[start:end]) and end - spans[first - 1][0] <= limit:
        first -= 1
        start = spans[first][0]
    following = [passage[a:b] for a, b in spans[last + 1:] if b - start <= limit]
    said = list(read(following) >= threshold) if mode == "read" and read is not None and following else []
    for i, sentence in enumerate(following):
        if not (mode == "next" or LEANS_BACK_RE.match(sentence) or (said and said[i])):
            break
        end = spans[last + 1 + i][1]
    if (start, end) == (c.start, c.end):
        return c
    return replace(c, start=start, end=end, text=passage[start:end])


def widening_reader(ctx: AnswerContext, q: str, passage: str, title: str,
                    cfg: AnswerConfig) -> Callable[[list[str]], np.ndarray] | None:
    """What ``widen`` asks the reader with (logits for sentences of ``passage``): the passage reader's scores of the
    passage read whole (``reader_reads_passages``: answering read it already, so they come from its cache), else
    each sentence read alone (``reader_text``); None without a reader."""
    if cfg.reader_reads_passages and ctx.passage_reader is not None:
        reader = ctx.passage_reader

        def in_passage(asked: list[str]) -> np.ndarray:
            sentences = [passage[a:b] for a, b in _sentence_spans(passage)]
            scored = dict(zip(sentences, reader(q, [sentences])[0]))
            return np.array([scored.get(s, -np.inf) for s in asked], dtype=np.float64)

        return in_passage
    if ctx.reader is None:
        return None
    pairs = ctx.reader
    return lambda sentences: pairs(q, [reader_text(s, title, cfg) for s in sentences])


def reader_text(sentence: str, title: str, cfg: AnswerConfig) -> str:
    """What the reader reads of a sentence: ``title：sentence`` when the document's title is a short name (at most
    ``reader_title_chars``: an encyclopedia entry's subject) that the sentence does not already hold, else the sentence.
    Read alone, "它的名字源自于几个天然温泉" answers 四加亭名字的由来 as well as its own subject's; a long title is a
    headline that states facts (…发展产业工人党员295名) and would lend them to every sentence."""
    if title and len(title) <= cfg.reader_title_chars and title not in sentence:
        return f"{title}：{sentence}"
    return sentence


def _semantic(ctx: AnswerContext, hit: Hit, n_sents: int, qvec: np.ndarray | None) -> list[float]:
    """Cosine of the question to each sentence: its best stored window (``chunking.sentence_units``)."""
    if qvec is None or ctx.unit_vectors is None:
        return [0.0] * n_sents
    units = ctx.unit_vectors(hit.chunk_id)
    if len(units) == 0:
        return [0.0] * n_sents
    sims = units @ np.asarray(qvec, dtype=np.float32).reshape(-1)
    windows = sentence_units(hit.kind, n_sents)
    if len(sims) != 1 + max((u for us in windows for u in us), default=0):
        # the stored windows follow another sentence split (an index built before sentences kept brackets whole):
        # every sentence gets the whole chunk's similarity rather than a neighbour's window
        return [float(sims[0])] * n_sents
    return [max(float(sims[u]) for u in us) for us in windows]


def _question_words(ctx: AnswerContext, p: PreparedQuestion,
                    cfg: AnswerConfig) -> tuple[list[tuple[list[str], float]], dict[str, float], float, bool]:
    """The question's words as scoring sees them: (groups of alternatives that count as one word with its weight,
    the IDF of each word the corpus knows, the share of words it has never seen, whether the question is English)."""
    q, tokens, english = p.text, list(p.tokens), p.english
    groups: list[tuple[list[str], float]] = []  # alternatives that count as one question word, weight
    if english:
        # an English word counts as found when any of its Chinese renderings is; a word with no
        # rendering in the corpus (often just missing from the dictionary) weighs a median IDF
        for _en, zhs in english_phrases(q, ctx.vocab, ctx.stopwords):
            weight = max((ctx.term_idf(z) or 0.0 for z in zhs), default=ctx.median_idf) if zhs else ctx.median_idf
            groups.append((zhs, weight))
        for t in tokens:
            if t.isdigit() or (t[:1].isdigit() and t in ctx.vocab):
                groups.append(([t], ctx.term_idf(t) or ctx.max_idf))
        tokens = tokens + [z for zhs, _ in groups for z in zhs]
    category = asked_category(ctx.tokenize, q) if cfg.drop_asked_category and not english else set()
    content = [t for t in dict.fromkeys(tokens) if len(t) >= 2 and t not in category]
    known = [t for t in content if t in ctx.vocab]
    unknown = [t for t in content if t not in ctx.vocab and not t.isdigit() and not english]
    unknown_share = len(unknown) / len(content) if content else 1.0
    idf = {t: float(ctx.idf[ctx.vocab[t]]) for t in known}
    if not english:
        # a word the corpus has never seen is rarer than any word it has: it weighs as the
        # largest IDF, so a question about an absent name cannot be "mostly covered"
        groups = [([t], w) for t, w in idf.items()] + [([t], ctx.max_idf) for t in unknown]
    return groups, idf, unknown_share, english


def gather_evidence(ctx: AnswerContext, question: str | PreparedQuestion, hits: list[Hit], cfg: AnswerConfig,
                    qvec: np.ndarray | None = None) -> Evidence:
    """Score every sentence of the top passages for ``question`` (as ``ask`` prepared it, or text)."""
    prepared = prepare_question(question, ctx.tokenize)
    q = prepared.text
    groups, idf, unknown_share, english = _question_words(ctx, prepared, cfg)
    total = sum(w for _, w in groups) or 1.0

    def found(text: str, context: str = "") -> float:
        return sum(w for alts, w in groups if any(a in text or a in context for a in alts)) / total

    qtype = question_type(q)
    typed = qtype in ("number", "percent", "date", "place")
    exclude = {m.group(0) for m in NUMBER_RE.finditer(normalize_for_match(q))} | {
        m.group(0) for m in PLACE_RE.finditer(q)}
    focus = {t: idf[t] for t in focus_terms(ctx.tokenize, q) if t in idf}
    focus_total = sum(focus.values())
    head = counted_noun(ctx.tokenize, q) if cfg.counted_noun_bonus else None
    pointer = counted_phrase(q)  # what the question counts and its predicate: where the short answer sits
    # the question's rarest words (names, specific terms): a passage that lacks them is about something else
    rare = sorted(idf, key=lambda t: -idf[t])[:2]
    cands: list[Candidate] = []
    layers: dict[int, list[str]] = {}
    titles: dict[int, str] = {}
    passage_cov = 0.0
    prior = cfg.english_rank_prior if english else cfg.rank_prior
    rare_w = cfg.english_rare_weight if english else cfg.rare_weight
    for hi, h in enumerate(hits[:cfg.passages]):
        crumb = " ".join(h.breadcrumb[1:])
        whole = normalize_for_match(crumb + " " + h.text)
        passage_cov = max(passage_cov, found(whole))
        raw_title = titles[hi] = ctx.document_title(h.doc_id)
        layers[hi] = hit_layers(h, raw_title, ctx.head(h.doc_id))
        title = normalize_for_match(raw_title)
        rare_found = sum(1 for t in rare if t in whole or t in title) / len(rare) if rare else 1.0
        heading_words = normalize_for_match(crumb) + " " + title if cfg.context_words else ""
        share = cfg.context_share if heading_words else 0.0
        spans = _sentence_spans(h.text)
        sem = _semantic(ctx, h, len(spans), qvec)
        # single sentences, and adjacent pairs (a fact and its subject are often split by "……")
        windows = [(a, b, 1.0, sem[i], False) for i, (a, b) in enumerate(spans)] + [
            (spans[i][0], spans[i + 1][1], cfg.pair_weight, max(sem[i], sem[i + 1]), True)
            for i in range(len(spans) - 1) if spans[i + 1][1] - spans[i][0] <= cfg.pair_max_chars]
        for a, b, weight, s, pair in windows:
            if b <= a:
                continue
            sent = h.text[a:b]
            norm = normalize_for_match(sent)
            matched = [t for t in idf if t in norm]
            # substring tests: a word the index segmented differently (林某 in 林某于) still counts
            cov = found(norm)
            # for choosing a sentence only: words the headings/title supply count half
            choice_cov = (1.0 - share) * cov + share * found(norm, heading_words) if share else cov
            fcov = sum(v for t, v in focus.items() if t in norm) / focus_total if focus_total else 0.0
            anchors = _positions(norm, [t for t in matched if t in focus] or matched)
            short = nearest(candidates(q, qtype, sent, exclude), anchors, pointer, norm)
            if qtype == "place" and short is None and CITY_Q.search(q.lower()):
                cities = city_mentions(sent, q) or city_mentions(crumb, q)
                short = cities[0][1] if cities else None
            bonus = (cfg.typed_bonus if short else 0.0) if typed else 0.0
            if head and head in norm:
                bonus += cfg.counted_noun_bonus
            sem_score = cfg.semantic_weight * max(0.0, s - cfg.semantic_floor) / (1.0 - cfg.semantic_floor)
            score = weight * (choice_cov + fcov) + sem_score + prior / (hi + 1) + bonus + rare_w * rare_found
            cands.append(Candidate(hi, a, b, sent, score, cov, short, s, rare_found, pair=pair))
    cands.sort(key=lambda c: -c.score)
    read = bool(cfg.reader and ctx.reader is not None and (cfg.reader_english or not english) and cands)
    if read:
        _read(ctx.reader, q, cands, cfg, qtype, titles, ctx.passage_reader)  # type: ignore[arg-type]
    return Evidence(qtype, cands, unknown_share, english, idf, passage_cov, typed, layers, read,
                    figure_unit(q) if qtype == "number" else None)


def _read(reader: Callable[[str, Sequence[str]], np.ndarray], q: str, cands: list[Candidate],
          cfg: AnswerConfig, qtype: str = "other", titles: dict[int, str] | None = None,
          passages: PassageScorer | None = None) -> None:
    """Rerank in place: the best candidates by the rules are read with the question (``read_candidates``); each
    gains ``reader_weight`` × P(answers) — or × its share of one softmax over all read candidates and the null
    (``reader_share``) — and the rest the lowest gain given (reading them could only have ranked them lower).
    For a question that asks for a value (多少, 哪一年; the types in ``reader_gated_types``) only a sentence holding a
    value of that kind gains more than that floor (with ``reader_typed_needs_value``): the reader judges what a
    sentence is about, the typed candidate whether it states the thing asked. A sentence not held so also gains
    ``reader_margin_weight`` × its logit above 0: where P saturates the reader's margin still orders sentences.
    ``titles`` (hit index → document title): each sentence is read with its document's title (``reader_text``).
    ``passages``: the passage reader (``reader_reads_passages``)."""
    top, logits = read_candidates(reader, q, cands, cfg, titles or {}, passages)
    gains, margins, lowest = reader_terms(top, logits, cfg, qtype)
    for c, logit, g, m in zip(top, logits, gains, margins):
        c.reader = float(1.0 / (1.0 + np.exp(-logit)))
        c.score += cfg.reader_weight * g + cfg.reader_margin_weight * m
    read = {id(c) for c in top}
    for c in cands:
        if id(c) not in read:
            c.score += cfg.reader_weight * lowest
    cands.sort(key=lambda c: -c.score)


def read_candidates(reader: Callable[[str, Sequence[str]], np.ndarray], q: str, cands: list[Candidate],
                    cfg: AnswerConfig, titles: dict[int, str],
                    passages: PassageScorer | None = None) -> tuple[list[Candidate], np.ndarray]:
    """The candidates the reader scores and their logits. The reader was trained on single sentences, so it reads
    sentences: the first ``reader_candidates`` distinct sentences of the candidates in the rules' order (those of
    ``reading_list`` first; a pair gives its two), and every candidate whose sentences were all read is scored —
    a pair by its better sentence: two sentences answer no better than the one that answers, and a pair read as
    one text scored higher than its answering sentence alone, so pairs around an answer won and quoted a sentence
    more. With ``reader_reads_pairs`` the candidates of ``reading_list`` are read as they are, pairs as one text.
    With ``reader_reads_passages`` and a passage reader (``passages``), ``read_passages``."""
    top = reading_list(cands, cfg)
    if cfg.reader_reads_passages and passages is not None:
        return read_passages(passages, q, cands, top)
    if cfg.reader_reads_pairs:
        logits = reader(q, [reader_text(c.text, titles.get(c.hit_index, ""), cfg) for c in top]).astype(np.float64)
        if cfg.reader_passage_weight and passages is not None:  # both readings: the passage's logit added
            read, values = read_passages(passages, q, cands, top)
            in_passage = {id(c): v for c, v in zip(read, values)}
            logits = logits + cfg.reader_passage_weight * np.array([in_passage[id(c)] for c in top])
        return top, logits
    parts = _sentences_of(cands)
    first = {id(c) for c in top}
    by_id = {id(s): s for c in cands for s in parts[id(c)]}
    # the first distinct sentences of the candidates, those of the reading list first
    order = list(dict.fromkeys(id(s) for c in top + [c for c in cands if id(c) not in first]
                               for s in parts[id(c)]))[:max(cfg.reader_candidates, len(top))]
    texts = [reader_text(by_id[i].text, titles.get(by_id[i].hit_index, ""), cfg) for i in order]
    logit = dict(zip(order, reader(q, texts).astype(np.float64))) if order else {}
    read = _all_read(cands, parts, logit)
    return read, np.array([max(logit[id(s)] for s in parts[id(c)]) for c in read], dtype=np.float64)


def _sentences_of(cands: list[Candidate]) -> dict[int, list[Candidate]]:
    """Each candidate's single sentences (by ``id``; in ``cands``' order): a sentence itself, a pair those it spans."""
    singles: dict[int, list[Candidate]] = {}
    for c in cands:
        if not c.pair:
            singles.setdefault(c.hit_index, []).append(c)
    return {id(c): [s for s in singles.get(c.hit_index, []) if c.start <= s.start and s.end <= c.end]
            if c.pair else [c] for c in cands}


def _all_read(cands: list[Candidate], parts: dict[int, list[Candidate]], logit: dict[int, float]) -> list[Candidate]:
    """The candidates each of whose sentences has a logit."""
    return [c for c in cands if parts[id(c)] and all(id(s) in logit for s in parts[id(c)])]


def read_passages(passages: PassageScorer, q: str, cands: list[Candidate],
                  top: list[Candidate]) -> tuple[list[Candidate], np.ndarray]:
    """The passage reader: every passage that holds one of ``top`` is read whole, its sentences in order with the
    question, and every candidate of those passages gets a logit — a sentence its own, scored in its passage's
    context, a pair the mean of its two sentences' weighted by length (the head's mean over the pair's tokens)."""
    hits = list(dict.fromkeys(c.hit_index for c in top))
    runs = {h: sorted((c for c in cands if c.hit_index == h and not c.pair), key=lambda c: c.start) for h in hits}
    scored = passages(q, [[s.text for s in runs[h]] for h in hits])
    logit = {id(s): float(v) for h, row in zip(hits, scored) for s, v in zip(runs[h], row)}
    parts = _sentences_of(cands)
    read = _all_read(cands, parts, logit)
    values = [sum(logit[id(s)] * len(s.text) for s in parts[id(c)]) / sum(len(s.text) for s in parts[id(c)])
              for c in read]
    return read, np.array(values, dtype=np.float64)


def reader_terms(top: list[Candidate], logits: np.ndarray, cfg: AnswerConfig,
                 qtype: str = "other") -> tuple[np.ndarray, np.ndarray, float]:
    """What each read candidate gains, before the weights: (its P(answers) — or softmax share with
    ``reader_share`` — or the lowest of those where the value gate holds it; its logit above 0, or 0 where the gate
    holds it; the lowest gain, which every candidate not read gets). ``_read`` adds ``reader_weight`` × the first and
    ``reader_margin_weight`` × the second; ``benchmarks/bench_reader.py --fit`` fits those two weights on them."""
    probs = 1.0 / (1.0 + np.exp(-logits))
    gains = softmax_share(logits) if cfg.reader_share else probs
    lowest = float(gains.min()) if len(gains) else 0.0
    held = cfg.reader_typed_needs_value and qtype in cfg.reader_gated_types.split()  # a value question: the gate
    gated = np.array([held and not c.short for c in top], dtype=bool)
    return np.where(gated, lowest, gains), np.where(gated, 0.0, np.maximum(0.0, logits)), lowest


def reading_list(cands: list[Candidate], cfg: AnswerConfig) -> list[Candidate]:
    """What the reader reads, of ``cands`` (best first): the ``reader_candidates`` best, then the best
    ``reader_passage_sentences`` single sentences of each of the first ``reader_passages`` passages not among them."""
    top = cands[:cfg.reader_candidates]
    if cfg.reader_passages and cfg.reader_passage_sentences:
        chosen = {id(c) for c in top}
        taken: dict[int, int] = {}
        for c in cands:  # best first: each passage's best single sentences, counting those already read
            if c.hit_index >= cfg.reader_passages or c.pair:
                continue
            if taken.get(c.hit_index, 0) < cfg.reader_passage_sentences:
                taken[c.hit_index] = taken.get(c.hit_index, 0) + 1
                if id(c) not in chosen:
                    top.append(c)
                    chosen.add(id(c))
    return top


def softmax_share(logits: np.ndarray) -> np.ndarray:
    """Each logit's share of one softmax over all of them and a null logit fixed at 0 ("none answers")."""
    top = max(0.0, float(logits.max())) if len(logits) else 0.0
    e = np.exp(logits - top)
    return e / (np.exp(-top) + e.sum())


def evidence_layers(ev: Evidence, c: Candidate) -> list[str]:
    """Nearest first: the candidate's own text, its passage, headings, document title, document opening (Simplified)."""
    return [to_simplified(c.text)] + ev.layers.get(c.hit_index, [])
