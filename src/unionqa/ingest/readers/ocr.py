"""Offline Chinese OCR: RapidOCR's PP-OCR models run by onnxruntime, shipped inside the
``rapidocr-onnxruntime`` wheel (no download). One engine per process, one call at a time."""

from __future__ import annotations

import threading
from typing import Any

from unionqa.config import LayoutConfig
from unionqa.errors import DocumentError
from unionqa.ingest.readers.layout import Segment

_ENGINE: Any = None
_LOCK = threading.Lock()


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as e:
            raise DocumentError(f"OCR cannot start ({e}); pip install 'unionqa[formats]', and on a server "
                                "without libGL also opencv-python-headless", zh="文字识别（OCR）无法启动，请联系管理员") from None
        _ENGINE = RapidOCR()
    return _ENGINE


def ocr_image(image: Any, cfg: LayoutConfig) -> list[Segment]:
    """Text lines of a PIL image as segments in pixel coordinates."""
    import numpy as np

    arr = np.asarray(image.convert("RGB"))
    with _LOCK:
        result, _ = _engine()(arr)
    segs = []
    for box, text, score in result or []:
        if float(score) < cfg.ocr_min_score or not str(text).strip():
            continue
        xs = [float(p[0]) for p in box]
        ys = [float(p[1]) for p in box]
        text = str(text).strip()
        # a CJK character is as wide as the font size: width per character is a steadier size than the box
        # height, which grows with quotes, digits and descenders
        width = sum(0.5 if c.isascii() else 1.0 for c in text)
        height = (max(ys) - min(ys)) * 0.85
        size = (max(xs) - min(xs)) / width if width >= 3 else height
        segs.append(Segment(text, min(xs), min(ys), max(xs), max(ys), size))
    return segs
