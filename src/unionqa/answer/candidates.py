"""Short-answer candidates: the values of the asked type (number with the asked measure word, date, place) in a sentence."""

from __future__ import annotations

import functools
import re

from unionqa.answer.question import CITY_Q, asked_unit, counted_phrase
from unionqa.ingest.places import gazetteer
from unionqa.measures import APPROX_UNIT_RE, MORE_UNIT_RE, same_count, written_counts
from unionqa.search.tokenize import NUMBER_RE, tagged
from unionqa.text import normalize_for_match, split_sentences

#: a month and day, or a month alone, without a year (both date patterns end with it)
_MONTH_DAY = r"\d{1,2}月\d{1,2}日|(?<![\d年])(?:1[0-2]|[1-9])月(?!\d)"
YEAR_RE = re.compile(rf"(?:19|20)\d{{2}}年(?:\d{{1,2}}月(?:\d{{1,2}}日)?)?|{_MONTH_DAY}")
_CN_YEAR, _CN_DAY = "[〇零一二三四五六七八九]{4}", "(?:[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
#: a date as the text writes it, for a 哪一年/何时 question: a year of three or four digits (1303年, 公元前221年) or of
#: four Chinese digits (一九六一年), with its month and day in the same digits; or a month and day alone (YEAR_RE,
#: which keeps to 19xx/20xx years, tells a year from a count in the figures' path)
DATE_RE = re.compile(
    rf"(?:公元前)?\d{{3,4}}年(?:\d{{1,2}}月(?:\d{{1,2}}[日号])?)?|{_CN_YEAR}年(?:{_CN_DAY}月(?:{_CN_DAY}[日号])?)?"
    rf"|{_MONTH_DAY}")
#: what ends a place name (南京市, 开普省, 天河区, 人民公园)
_PLACE_ENDINGS = "省|市|县|区|镇|街道|小镇|园区|公园"
PLACE_RE = re.compile(rf"[\u4e00-\u9fff]{{2,6}}?(?:{_PLACE_ENDINGS})")
_SCALED_RE = re.compile(r"\d+(?:[.,]\d+)*[万亿千百]+")
_CLOCK_RE = re.compile(r"\d{1,2}(?:分钟?|秒)(?:\d{1,2}(?:秒|\b)?)?")
#: what ends a clause or a list item: the words beside a figure that say what it counts stop there
_CLAUSE_END = re.compile(r"[，,；;。、：:！!？?]")
#: the end of a Latin model name just before a digit (POWER5, A-135, Win10); not a multiplication sign (4x200米)
_MODEL_NAME_RE = re.compile(r"(?<!\d)[a-z]-?$", re.IGNORECASE)
_AT_PLACE_RE = re.compile(r"在([\u4e00-\u9fff·]{2,24}?)(?:举行|举办|召开|开展|启动|成立|进行)")


def candidates(q: str, qtype: str, sent: str, exclude: set[str]) -> list[tuple[int, str]]:
    """(position, answer text) of things of the asked type in a sentence; ``exclude``: values the question itself names."""
    out: list[tuple[int, str]] = []
    if qtype in ("number", "percent"):
        unit = asked_unit(q)
        norm = normalize_for_match(sent)
        with_unit: list[tuple[int, str]] = []
        similar_unit: list[tuple[int, str]] = []  # 人 for 名, 件 for 宗: only when no value has the asked unit
        consumed = 0
        for m in NUMBER_RE.finditer(norm):
            val = m.group(0)
            if m.start() < consumed or val in exclude or YEAR_RE.fullmatch(val) or re.fullmatch(r"\d{1,2}[月日号期]", val):
                continue
            if _MODEL_NAME_RE.search(norm, max(0, m.start() - 2), m.start()):
                continue  # POWER5处理器, A-135系统: a digit after a Latin letter is part of a model's name, no count
            clock = _CLOCK_RE.match(norm, m.end()) if val[-1] in "分时" else None
            if clock:  # 3分33秒62, 2小时5分: one time, not a count of minutes
                out.append((m.start(), val + clock.group(0)))
                consumed = clock.end()
                continue
            if re.fullmatch(r"\d{3,4}年", val) and unit != "年":
                continue  # a year (1628年), not a count of years
            if qtype == "percent" and not val.endswith("%"):
                continue
            bare = re.fullmatch(r"\d+(?:[.,]\d+)*", val) is not None
            approx = APPROX_UNIT_RE.match(norm, m.end()) if bare and unit else None
            if approx:  # 多少名 → 600余名: a figure in the asked measure word, as the text gives it
                val, bare = val + approx.group(0), False
            prefix = norm[max(0, m.start() - 1):m.start()]
            shown = prefix + val if prefix and prefix in "近约超逾" else val
            # 120美元, and 77亿美元: a unit of measure or currency after the number (and its 万/亿)
            more = MORE_UNIT_RE.match(norm, m.end()) if bare or _SCALED_RE.fullmatch(val) else None
            if more and not unit:
                out.append((m.start(), shown + more.group(0)))
            elif more and unit and same_count(unit, more.group(0)):
                (with_unit if more.group(0).endswith(unit) else similar_unit).append((m.start(), shown + more.group(0)))
            elif unit and bare and norm[m.end():m.end() + len(unit)] == unit:
                with_unit.append((m.start(), shown + unit))  # a measure word the tokenizer does not keep (2000只)
            elif unit and not bare and same_count(unit, val):
                (with_unit if val.endswith(unit) else similar_unit).append((m.start(), shown))
            elif not bare or qtype == "percent":
                out.append((m.start(), shown))
        if unit and not with_unit:  # 几条 → 三条: a count written in Chinese numerals
            for pos, val in written_counts(norm, unit):
                (with_unit if val.endswith(unit) else similar_unit).append((pos, val))
        if with_unit and similar_unit:  # 多少名会员 in "党员295名,吸收会员3752人": the figure of the thing counted competes
            counted = counted_phrase(q)[0]
            with_unit += [c for c in similar_unit if _counted_before(norm, c[0], counted)]
        # a question that names its measure word (多少只) is answered only by a number in it
        return (with_unit or similar_unit) if unit else out
    if qtype == "date":
        for m in DATE_RE.finditer(normalize_for_match(sent)):
            if m.group(0) not in exclude:
                out.append((m.start(), m.group(0)))
    elif qtype == "place":
        for m in _AT_PLACE_RE.finditer(sent):
            out.append((m.start(1), m.group(1)))
        if not out and CITY_Q.search(q.lower()):
            out = city_mentions(sent, q)
        if not out:
            for pos, name in place_names(sent):
                for e in exclude:  # 黑龙江省哈尔滨市 for 黑龙江省博物馆在哪: 哈尔滨市
                    if name.startswith(e) and _PLACE_END_RE.search(name[len(e):]) and len(name) - len(e) >= 3:
                        pos, name = pos + len(e), name[len(e):]
                if not any(name in e or e in name for e in exclude):
                    out.append((pos, name))
    return out


_PLACE_END_RE = re.compile(rf"(?:{_PLACE_ENDINGS})$")
#: the part-of-speech tags that cannot be inside a place name: verbs, prepositions, conjunctions, particles, pronouns,
#: adverbs, numerals, time and direction words (位于, 于, 和, 的, 是 …)
_NOT_IN_NAME = frozenset("vpcurdmtfbqxyeoa")
_LONGEST_PLACE = 10  # characters in a place name read by the tagger, its ending included


def place_names(text: str) -> list[tuple[int, str]]:
    """(position, name) of the place names in ``text``: a word ending like a place (南京市, 开普省) with the name-like
    words before it (南非东开普省, 法国瓦尔省), never across a verb or particle (年级进入南京市 → 南京市, 英国的专属经济区 →
    专属经济区) nor inside a word (省级, 城市化); at least two characters before the ending, at most ``_LONGEST_PLACE`` in all.

    Tagging is the slow part of answering a place question, which reads every sentence and adjacent pair of the top
    passages: a name never crosses a sentence end, so each sentence is tagged once (``_sentence_place_names``, cached)
    and a pair reuses its two sentences."""
    return [(a + pos, name) for a, b in split_sentences(text) for pos, name in _sentence_place_names(text[a:b])]


@functools.lru_cache(maxsize=4096)
def _sentence_place_names(sent: str) -> tuple[tuple[int, str], ...]:
    if not PLACE_RE.search(sent):
        return ()  # no place ending: nothing to tag
    words = tagged(sent)
    out: list[tuple[int, str]] = []
    end = 0
    starts = []
    for w, _ in words:
        starts.append(end)
        end += len(w)
    for i, (w, _) in enumerate(words):
        m = _PLACE_END_RE.search(w)
        if not m:
            continue
        j = i
        while j > 0 and words[j - 1][1][:1] not in _NOT_IN_NAME and starts[i] + len(w) - starts[j - 1] <= _LONGEST_PLACE:
            j -= 1
        if j == i and words[i][1][:1] in _NOT_IN_NAME:
            continue
        name = sent[starts[j]:starts[i] + len(w)]
        if len(name) - len(m.group(0)) < 2:
            continue
        if out and out[-1][0] == starts[j]:
            out[-1] = (starts[j], name)  # 广东省 → 广东省广州市: the whole name
        else:
            out.append((starts[j], name))
    return tuple(out)


def city_mentions(text: str, q: str) -> list[tuple[int, str]]:
    """Prefecture-level place names (provinces when the question asks 哪个省) in ``text`` that the question
    does not name itself."""
    level = "province" if re.search(r"哪个省|哪一个省|which province", q.lower()) else "city"
    return [(m.start, m.surface) for m in gazetteer().find(text)
            if any(p.level == level for p in m.places) and m.surface not in q]


def _counted_before(norm: str, pos: int, counted: str) -> bool:
    """What the question counts ends within the 10 characters before ``pos``, in the same clause (never past a comma,
    、 or sentence end): 会员3752人."""
    return len(counted) >= 2 and counted[-2:] in _CLAUSE_END.split(norm[max(0, pos - 10):pos])[-1]


def _counted_after(norm: str, end: int, counted: str) -> bool:
    """What the question counts starts within the 8 characters after ``end``, in the same clause: 230名新就业形态劳动者."""
    return len(counted) >= 2 and counted[:2] in _CLAUSE_END.split(norm[end:end + 8])[0]


def nearest(cands: list[tuple[int, str]], anchors: list[int], pointer: tuple[str, str] = ("", ""),
            norm: str = "") -> str | None:
    """The candidate the question points at: next to the thing it counts (为多少名新就业形态劳动者 → 230名新就业形态
    劳动者) or right after its predicate (提升到41.5%), else closest to the matched question words.
    ``pointer`` is ``question.counted_phrase`` of the question; ``norm`` the normalized sentence."""
    if not cands:
        return None
    counted, predicate = pointer

    def tied(c: tuple[int, str]) -> int:
        pos, val = c
        end = pos + len(val)
        score = 0
        if _counted_after(norm, end, counted) or _counted_before(norm, pos, counted):
            score -= 2
        if predicate and len(predicate) >= 2 and predicate[-2:] in norm[max(0, pos - 5):pos]:
            score -= 1
        return score

    if not anchors:
        return min(cands, key=lambda c: (tied(c), c[0]))[1]
    return min(cands, key=lambda c: (tied(c), min(abs(c[0] - a) for a in anchors)))[1]
