"""Write src/unionqa/data/userdict.txt (jieba's domain dictionary) from the corpus and the gazetteer.

Nothing in the output is typed by hand; every entry comes from one of three general rules:

1. **places** — from ``src/unionqa/data/places.tsv`` (the national gazetteer, scripts/make_gazetteer.py):
   every province and prefecture by its full and short name (惠州市, 惠州), and every county of the
   provinces the corpus mentions by its full name (新丰县) — so a place name is one token, whole;
2. **names the documents quote** — a term in “…” / 「…」 / 《…》 of 2–10 characters that the corpus
   quotes at least twice (programme and brand names: 百千万工程, 粤工惠). (Organisations named by a
   place, 惠州市总工会, are left to their parts 惠州市 + 总工会: as one more token the whole name would
   count twice in a question's coverage and outweigh what it asks.)
3. **frequent terms jieba splits** — character n-grams (2–6) seen at least ``MIN_COUNT`` times, varied on
   both sides (left/right neighbour entropy ≥ ``MIN_ENTROPY``: a word, not a fragment of a longer one),
   cohesive (the count is well above what its two most likely halves predict), made of CJK characters,
   mostly starting and ending where jieba's own segmentation has a word boundary (a term joins whole
   words; 力打造 from 大力/打造 cuts one), and not already a single word of jieba's own dictionary.

    python scripts/make_userdict.py [SOURCE …]     (default: seeds/)

Re-run it when the corpus changes, then rebuild the index (the tokenizer's dictionary hash is part of
the index format: an index built with another dictionary is refused at load).
"""

from __future__ import annotations

import argparse
import collections
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "unionqa" / "data"
FREQ = 20000  # jieba frequency: high enough that the term wins over its pieces (cut_for_search still yields them)
MIN_COUNT = 4
MIN_ENTROPY = 1.0
MIN_COHESION = 8.0  # count / (expected count of the best split) — Matrix67-style new-word discovery
MAX_N = 6
MIN_ALIGNED = 0.5  # share of occurrences on jieba word boundaries: a term joins whole words, never cuts one
_QUOTED = re.compile(r"[“「《]([\u4e00-\u9fff0-9A-Za-z]{2,10})[”」》]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_JOIN_WRAP = re.compile(r"(?<=[\u4e00-\u9fff])\n(?=[\u4e00-\u9fff])")
# characters that begin or end a phrase rather than a term (particles, prepositions, conjunctions)
_EDGE = set("的了和与及在是为对将把被从向以于等也都而并或又就这那其之个有着上中下年月日")


def corpus_text(sources: list[Path]) -> str:
    from unionqa.ingest.documents import iter_source_files, read_document

    texts = [read_document(p).text for p in iter_source_files([str(s) for s in sources])]
    return _JOIN_WRAP.sub("", "\n".join(texts))


def places(text: str) -> list[str]:
    """Every province and prefecture surface (full and short names), and the full names (≥ 3 characters) of the
    counties of the provinces ``text`` names — from the bundled gazetteer."""
    from unionqa.ingest.places import gazetteer

    surfaces = gazetteer().surfaces  # surface → every division it may denote
    mentioned = {p.name for surface, ps in surfaces.items() if surface in text for p in ps if p.level == "province"}
    province_of = {p.name: p.parent for ps in surfaces.values() for p in ps if p.level == "city"}
    return [surface for surface, ps in surfaces.items() for p in ps
            if p.level in ("province", "city")
            or (p.level == "county" and surface == p.name and len(surface) >= 3
                and province_of.get(p.parent, p.parent) in mentioned)]


def quoted(text: str) -> list[str]:
    counts = collections.Counter(m.group(1) for m in _QUOTED.finditer(text))
    return [t for t, n in counts.items() if n >= 2 and not t.isdigit()]


def _entropy(c: collections.Counter[str]) -> float:
    total = sum(c.values())
    return -sum(n / total * math.log(n / total) for n in c.values()) if total else 0.0


def _aligned_share(g: str, runs: list[str], bounds: list[set[int]]) -> float:
    """Share of ``g``'s occurrences that start and end on jieba word boundaries (力打造 in 大力/打造 does not)."""
    hits = total = 0
    for r, b in zip(runs, bounds):
        i = r.find(g)
        while i >= 0:
            total += 1
            hits += i in b and i + len(g) in b
            i = r.find(g, i + 1)
    return hits / total if total else 0.0


def frequent_terms(text: str, known: set[str], cut) -> list[str]:  # type: ignore[no-untyped-def]
    runs = _CJK_RUN.findall(text)
    bounds = []
    for r in runs:
        b, pos = {0}, 0
        for w in cut(r):
            pos += len(w)
            b.add(pos)
        bounds.append(b)
    total = sum(len(r) for r in runs) or 1
    grams: collections.Counter[str] = collections.Counter()
    left: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    right: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for r in runs:
        padded = "^" + r + "$"
        for n in range(1, MAX_N + 1):
            for i in range(1, len(padded) - n):
                g = padded[i:i + n]
                grams[g] += 1
                if n >= 2:
                    left[g][padded[i - 1]] += 1
                    right[g][padded[i + n]] += 1
    out = []
    for g, n in grams.items():
        if len(g) < 2 or n < MIN_COUNT or g in known or g[0] in _EDGE or g[-1] in _EDGE:
            continue
        expected = max(grams[g[:k]] * grams[g[k:]] / total for k in range(1, len(g)))
        if n / expected < MIN_COHESION:
            continue
        if min(_entropy(left[g]), _entropy(right[g])) < MIN_ENTROPY:
            continue
        if _aligned_share(g, runs, bounds) < MIN_ALIGNED:
            continue
        out.append(g)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", nargs="*", type=Path, default=[ROOT / "seeds"])
    ap.add_argument("--out", type=Path, default=DATA / "userdict.txt")
    args = ap.parse_args()
    import jieba

    text = corpus_text(args.sources)
    jieba.setLogLevel(40)
    jieba.dt.initialize()
    known = {w for w, f in jieba.dt.FREQ.items() if f}  # jieba's own words (prefix entries have frequency 0)
    parts = [("places (gazetteer)", places(text)),
             ("names the documents quote", quoted(text)),
             ("frequent terms jieba splits", frequent_terms(text, known, lambda r: jieba.dt.cut(r, HMM=False)))]
    seen: set[str] = set()
    lines = ["# unionqa's jieba dictionary — generated by scripts/make_userdict.py; do not edit by hand",
             f"# corpus: {', '.join(str(s.relative_to(ROOT)) if s.is_relative_to(ROOT) else str(s) for s in args.sources)}"]
    for title, words in parts:
        fresh = sorted(w for w in set(words) if w not in seen)
        seen.update(fresh)
        lines.append(f"# {title}: {len(fresh)}")
        lines += [f"{w} {FREQ}" for w in fresh]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(seen)} terms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
