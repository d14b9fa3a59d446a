"""Place names: China's provinces, prefectures and counties (data/places.tsv), found in text as whole names.

The table is generated from a national list of administrative divisions by
``scripts/make_gazetteer.py`` — nothing in it comes from the documents or the evaluation
questions. Provinces and prefectures also match by their short form (惠州市 → 惠州); counties
match only by their full name, because their short forms are too often ordinary words.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Place:
    """One administrative division; ``name`` is its full official name (惠州市)."""

    name: str
    level: str  # province | city | county
    parent: str  # full name of the enclosing city or province; "" for a province

    @property
    def short(self) -> str:
        """The name without its administrative suffix when that is how people say it (惠州市 → 惠州)."""
        return _short_of.get(self.name, self.name)


@dataclass(frozen=True)
class PlaceMention:
    """A place name found in a text: character span, the surface form, every division it may denote."""

    start: int
    end: int
    surface: str
    places: tuple[Place, ...]

    @property
    def key(self) -> str:
        """A canonical name for comparing mentions (惠州 and 惠州市 → 惠州市)."""
        return self.places[0].name


_short_of: dict[str, str] = {}


class Gazetteer:
    """Longest-match place finder over the bundled table."""

    def __init__(self, rows: list[tuple[str, str, str, list[str]]]) -> None:
        self.by_name: dict[str, Place] = {}
        self.surfaces: dict[str, list[Place]] = {}
        for name, level, parent, shorts in rows:
            p = Place(name, level, parent)
            self.by_name.setdefault(name, p)
            self.surfaces.setdefault(name, []).append(p)
            for s in shorts:
                _short_of.setdefault(name, s)
                self.surfaces.setdefault(s, []).append(p)
        # surface lengths by their first two characters: most positions of a text start no place name
        self.lengths: dict[str, list[int]] = {}
        for surface in self.surfaces:
            self.lengths.setdefault(surface[:2], []).append(len(surface))
        for lens in self.lengths.values():
            lens.sort(reverse=True)
        self.find = functools.lru_cache(maxsize=8192)(self._find)  # evidence layers repeat across candidates

    def _find(self, text: str) -> tuple[PlaceMention, ...]:
        """Place mentions in ``text``, left to right, longest surface first, never overlapping."""
        out: list[PlaceMention] = []
        i, n = 0, len(text)
        while i < n - 1:
            for length in self.lengths.get(text[i:i + 2], ()):
                places = self.surfaces.get(text[i:i + length]) if i + length <= n else None
                if places:
                    out.append(PlaceMention(i, i + length, text[i:i + length], tuple(places)))
                    i += length
                    break
            else:
                i += 1
        return tuple(out)

    def lineage(self, place: Place) -> set[str]:
        """The full names of a place and every division that contains it."""
        out = {place.name}
        p = place
        while p.parent and p.parent not in out:
            out.add(p.parent)
            nxt = self.by_name.get(p.parent)
            if nxt is None:
                break
            p = nxt
        return out

    def covers(self, asked: PlaceMention, found: PlaceMention) -> bool:
        """True when ``found`` names the asked place or a place inside it (asked 河源, found 河源市源城区)."""
        asked_names = {p.name for p in asked.places}
        return any(asked_names & self.lineage(p) for p in found.places)


_gazetteer: Gazetteer | None = None
_lock = threading.Lock()


def gazetteer() -> Gazetteer:
    """The bundled gazetteer, loaded once per process."""
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                text = resources.files("unionqa").joinpath("data").joinpath("places.tsv").read_text(encoding="utf-8")
                rows = []
                for line in text.splitlines():
                    if not line.strip() or line.startswith("#"):
                        continue
                    name, level, parent, shorts = (line.split("\t") + ["", "", ""])[:4]
                    rows.append((name, level, parent, [s for s in shorts.split(",") if s]))
                _gazetteer = Gazetteer(rows)
    return _gazetteer


def place_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the place names in ``text`` (a highlighter must not cut through them)."""
    return [(m.start, m.end) for m in gazetteer().find(text)]


__all__ = ["Gazetteer", "Place", "PlaceMention", "gazetteer", "place_spans"]
