"""Follow-up questions: a question that leans on the previous turn is rewritten into one that stands alone.

People ask "惠州市总工会五年来调处了多少宗劳资纠纷？" and then "成功调解了多少件？" or "河源呢？".
The answer step checks a question's places, years and periods against the evidence, so a
follow-up must carry them: ``resolve`` rewrites it by rule from the previous turn — its
question as resolved and, when that names no place, the place its answer's evidence names.

- ``X呢`` / ``那X呢`` / ``换成X呢``: X replaces what it stands for in the previous question — a place
  (惠州 → 河源, an organisation follows: 惠州市总工会 → 河源市总工会), a year or period, or what a
  多少 question counted (多少斤荔枝 → 多少烧鹅); anything else is asked about the previous subject.
- a pronoun (他们, 它, 该会, 当地 …) becomes the previous subject (当地/那里: its place);
- a question without a place or organisation of its own that starts like a predicate (成功调解了…,
  那…, 其中…, 去年…) or is a short 多少 question inherits the previous subject, and its time when it
  names none.

A question that names its own place, asks for one (哪个市…) or starts with a topic of its own
stands alone. Nothing is guessed beyond this: the UI and the CLI show the rewritten question
("按'…'回答"), so a wrong guess is visible. ``rewrite_with_llm`` lets a configured LLM do the
rewriting instead; its rewrite is kept only when it names no place, year or period that neither
the follow-up nor the previous turn named, and keeps every one the follow-up named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from unionqa.answer import PERIOD_PATTERN, counted_text, periods_in, years_in
from unionqa.ingest.places import PlaceMention, gazetteer
from unionqa.search.query import is_english, prepare_query
from unionqa.search.tokenize import first_word
from unionqa.types import Answer

# time expressions a question may carry; the first group of alternatives is replaced by a follow-up's own time
TIME_RE = re.compile(
    rf"(?:19|20)\d{{2}}\s*年(?:上半年|下半年|以来|全年)?|(?:19|20)\d{{2}}(?=\D|$)|去年|今年|前年|明年|上半年|下半年"
    rf"|(?:{PERIOD_PATTERN})(?:来|以来|间)?")  # the periods the constraint check knows (近五年来 whole)
# an organisation named after its place: 惠州市总工会, 佛冈县总工会, 石龙镇工会
_ORG_AFTER_PLACE = re.compile(r"^(?:市|县|区|镇|街道)?(?:总工会|工会)")
_LEAD = re.compile(r"^(?:那么|那末|那(?![里儿个些边家])|还有|另外|此外|再问一下|再问|请问|换成|如果是|要是|那如果是|同样)+[，,、\s]*")
_ABOUT = re.compile(r"^(.{1,16}?)(?:的情况|的数据|的呢|呢|又如何|又怎样|怎么样|如何|又是多少|是多少|的)*[？?。!！\s]*$")
_ENDS_ABOUT = re.compile(r"(?:呢|又如何|又怎样|怎么样|又是多少)[？?。!！\s]*$")
# the question asks for the entity itself: it stands alone
_ASKS_ENTITY = re.compile(r"哪个|哪些|哪家|哪座|哪位|哪里|哪儿|哪一|哪|谁|什么地方|什么单位")
_PRONOUN_SUBJECT = re.compile(r"他们|她们|它们|他|她|它|该会|该单位|该组织|该机构|这个工会|那个工会|这家单位|那家单位|其(?=[会工])")
_PRONOUN_PLACE = re.compile(r"当地|那里|那儿|这里|这儿|该市|该县|该区|该镇|本地|这个市|那个市|这个地方|那个地方")
_CONNECTIVES = ("其中", "一共", "总共", "共计", "合计", "总计", "分别", "具体", "主要", "同时", "另有", "还", "又", "也",
                "共", "而", "并")
_PREDICATE_FLAGS = {"v", "vn", "vd", "vg", "a", "ad", "d", "p", "c", "m", "t", "r", "u", "ul", "uj", "b", "q", "f", "y"}
_SHORT = 12  # a 多少 question this short without a topic of its own is a follow-up

@dataclass(frozen=True)
class Turn:
    """What a follow-up may lean on: the previous question as it was answered, and the text of the answer's
    evidence (its quoted sentences, headings and titles; empty for a refusal)."""

    question: str
    evidence: tuple[str, ...] = ()

    @classmethod
    def of(cls, ans: Answer) -> Turn:
        if ans.abstained:
            return cls(ans.question)
        cited = {s.marker for s in ans.sentences}
        crumbs = [" ".join(c.breadcrumb) for n, c in enumerate(ans.citations, 1) if n in cited or not cited]
        return cls(ans.question, tuple(s.text for s in ans.sentences) + tuple(crumbs))


@dataclass(frozen=True)
class Resolution:
    """A question as answered: ``question`` stands alone; ``asked`` is how it was typed; ``inherited`` what came from
    the previous turn (惠州市总工会, 五年来); ``how`` rule | llm | "" (it stood alone)."""

    question: str
    asked: str
    inherited: tuple[str, ...] = ()
    how: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.how)


@dataclass(frozen=True)
class _Frame:
    """The previous turn's subject (organisation or place, as written), its place, time and counted phrase."""

    question: str
    subject: str
    place: PlaceMention | None
    place_start: int  # where the subject's place names begin (江门鹤山市: at 江门)
    place_in_question: bool
    time: str
    counted: str  # 多少斤荔枝: the text to replace when a follow-up names another thing to count


def _subject_at(text: str) -> tuple[str, PlaceMention | None, int]:
    """The first place named in ``text`` and, when an organisation follows it (惠州市总工会), that organisation;
    places written one after another are one subject (江门鹤山市总工会)."""
    mentions = gazetteer().find(text)
    if not mentions:
        return "", None, 0
    first = last = mentions[0]
    for m in mentions[1:]:
        if m.start != last.end:
            break
        last = m
    org = _ORG_AFTER_PLACE.match(text[last.end:])
    # the place is the most specific one (鹤山市); a follow-up's place replaces them all (江门鹤山市 → 河源市)
    return text[first.start:last.end] + (org.group(0) if org else ""), last, first.start


def _frame(turn: Turn) -> _Frame:
    q = prepare_query(turn.question)
    subject, place, start = _subject_at(q)
    in_question = place is not None
    if place is None:  # the question named no place (哪个市…): the answer's evidence does
        for text in turn.evidence:
            subject, place, start = _subject_at(prepare_query(text)) if text.strip() else ("", None, 0)
            if place is not None:
                break
    t = TIME_RE.search(q)
    return _Frame(q, subject, place, start, in_question, t.group(0) if t else "", counted_text(q))


def _last_turn(history: Sequence[Turn | Answer]) -> Turn:
    last = history[-1]
    return last if isinstance(last, Turn) else Turn.of(last)


def _replace_place(f: _Frame, new: PlaceMention) -> str:
    """The previous question about ``new`` instead of its place (its organisation follows: 惠州市总工会 → 河源市总工会)."""
    old = f.place
    assert old is not None
    name = new.places[0].name if old.surface == old.places[0].name else new.surface
    if f.place_in_question:
        return f.question[:f.place_start] + name + f.question[old.end:]
    return name + f.question  # the place came from the evidence: say it


def _with_time(f: _Frame, time: str) -> str:
    if f.time:
        return f.question.replace(f.time, time, 1)
    if f.subject and f.place_in_question:
        i = f.question.find(f.subject) + len(f.subject)
        return f.question[:i] + time + f.question[i:]
    return time + f.question


def _about(f: _Frame, core: str, asked: str) -> Resolution | None:
    """``X呢``: X instead of what it stands for in the previous question."""
    places = gazetteer().find(core)
    time = TIME_RE.search(core)
    if places and f.place is not None:
        q = _replace_place(f, places[0])
        if time:
            q = _with_time(replace(f, question=q, place_in_question=False), time.group(0))
        return Resolution(q, asked, tuple(x for x in (f.time,) if x and not time), "rule")
    if time and not places:
        return Resolution(_with_time(f, time.group(0)), asked, tuple(x for x in (f.subject,) if x), "rule")
    if places:
        return None  # a new place and nothing to put it into: the question stands alone
    _, flag = first_word(core)
    if f.counted and not flag.startswith("v"):  # 烧鹅呢 after 多少斤荔枝: count the new thing
        q = f.question.replace(f.counted, "多少" + core, 1)
        return Resolution(q, asked, tuple(x for x in (f.subject, f.time) if x), "rule")
    if f.subject:
        return Resolution(f.subject + f.time + core + "？", asked, tuple(x for x in (f.subject, f.time) if x), "rule")
    return None


def _tidy(r: Resolution) -> Resolution:
    """Full-width question marks in a rewritten Chinese question (the normalised text has ASCII ones)."""
    if not r.changed:
        return r
    return Resolution(re.sub(r"\?(?=\s*$)", "？", r.question.strip()), r.asked, r.inherited, r.how)


def resolve(question: str, history: Sequence[Turn | Answer] = ()) -> Resolution:
    """``question`` as a question that stands alone, given the earlier turns (oldest first)."""
    return _tidy(_resolve(question, history))


def _resolve(question: str, history: Sequence[Turn | Answer]) -> Resolution:
    asked = question
    if not history or is_english(question):
        return Resolution(question, asked)
    f = _frame(_last_turn(history))
    q = prepare_query(question)
    if not (f.subject or f.time or f.counted):
        return Resolution(question, asked)
    body = _LEAD.sub("", q).strip()
    about = _ABOUT.match(body) if _ENDS_ABOUT.search(q) or body != q.strip() else None
    if about and len(about.group(1)) <= _SHORT and not re.search(r"多少|几|吗|什么|怎么|如何", about.group(1)):
        found = _about(f, about.group(1).strip(), asked)
        if found is not None:
            return found
    if _ASKS_ENTITY.search(q) or gazetteer().find(q):
        return Resolution(question, asked)
    inherited: list[str] = []
    own_time = TIME_RE.search(q)
    place_word = _PRONOUN_PLACE.search(body)
    if place_word and f.place is not None:
        name = f.place.places[0].name
        body = body[:place_word.start()] + name + body[place_word.end():]
        inherited.append(name)
    pronoun = _PRONOUN_SUBJECT.search(body)
    if pronoun and f.subject:
        time = "" if own_time or not f.time else f.time
        body = body[:pronoun.start()] + f.subject + time + body[pronoun.end():]
        inherited += [x for x in (f.subject, time) if x]
    if inherited:
        return Resolution(body, asked, tuple(inherited), "rule")
    if f.subject and _elliptical(body):
        time = "" if own_time else f.time
        return Resolution(f.subject + time + body, asked, tuple(x for x in (f.subject, time) if x), "rule")
    return Resolution(question, asked)


def _elliptical(body: str) -> bool:
    """A question that starts like a predicate (成功调解了…, 其中…, 去年…) or is a short 多少 question."""
    if not body:
        return False
    if body.startswith(_CONNECTIVES):
        return True
    word, flag = first_word(body)
    if flag in _PREDICATE_FLAGS or flag[:1] in ("v", "d", "p", "m", "t"):
        return True
    core = re.sub(r"[？?。!！\s]", "", body)
    return len(core) <= _SHORT and bool(re.search(r"多少|几", core)) and not flag.startswith(("nr", "nt", "ns", "nz"))


# ---- an LLM's rewrite, checked ------------------------------------------------------------------

_REWRITE_SYSTEM = ("把用户的追问改写成一个不依赖上下文、可以单独理解的问题。只补全追问省略的主语、地点和时间，"
                   "不要回答问题，不要添加追问和上一个问题里都没有的内容。只输出改写后的问题。")


def _anchors_of(text: str) -> set[str]:
    """The places, years and periods ``text`` names, compared by canonical value."""
    q = prepare_query(text) if text.strip() else ""
    years, _ = years_in(q)
    return ({f"place:{m.key}" for m in gazetteer().find(q)} | {f"year:{y}" for y in years}
            | {f"period:{p}" for p in periods_in(q)})


def _shown(anchor: str) -> str:
    kind, value = anchor.split(":", 1)
    return {"year": f"{value}年", "period": f"{value}年来"}.get(kind, value)


def rewrite_with_llm(generate: object, question: str, history: Sequence[Turn | Answer],
                     by_rule: Resolution | None = None) -> Resolution | None:
    """An LLM's standalone form of a follow-up, or None when it has none or its rewrite fails the check.

    ``generate`` is a ``Generator`` (``generate(messages) -> str``). The rewrite may name only places, years and
    periods the follow-up or the previous turn (question and evidence) named; it must keep the follow-up's own
    and every one the rules' rewrite (``by_rule``) carries, so it can phrase the question better but never
    drop or change what it is about."""
    if not history:
        return None
    turn = _last_turn(history)
    messages = [{"role": "system", "content": _REWRITE_SYSTEM},
                {"role": "user", "content": f"上一个问题：{turn.question}\n追问：{question}"}]
    try:
        text = str(generate.generate(messages)).strip().splitlines()[0].strip()  # type: ignore[attr-defined]
    except (RuntimeError, IndexError):
        return None
    if not text or len(text) > 2 * len(turn.question) + len(question) + 20:
        return None
    allowed = _anchors_of(question) | _anchors_of(turn.question) | set().union(*(_anchors_of(e) for e in turn.evidence))
    got, own = _anchors_of(text), _anchors_of(question)
    needed = own | (_anchors_of(by_rule.question) if by_rule is not None else set())
    if not got <= allowed or not needed <= got:
        return None
    if text == question:
        return Resolution(question, question)
    return Resolution(text, question, tuple(sorted(_shown(a) for a in got - own)), "llm")


def resolve_followup(question: str, history: Sequence[Turn | Answer], generate: object | None = None) -> Resolution:
    """With a configured LLM (``generate``), its checked rewrite; otherwise, or when it fails the check, the rules."""
    by_rule = resolve(question, history)
    if generate is not None and history:
        rewritten = rewrite_with_llm(generate, question, history, by_rule)
        if rewritten is not None:
            return _tidy(rewritten)
    return by_rule


__all__ = ["Resolution", "TIME_RE", "Turn", "resolve", "resolve_followup", "rewrite_with_llm"]
