"""The committed XQuAD files (eval/xquad/) are the ones their README names, and the benchmark asks their English
questions over the Chinese paragraphs."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from unionqa.search.query import is_english

ROOT = Path(__file__).resolve().parents[2]
XQ = ROOT / "eval" / "xquad"


def test_files_match_the_readme_hashes() -> None:
    table = dict(re.findall(r"\| `(xquad\.\w+\.json)` \| `([0-9a-f]{64})` \|", (XQ / "README.md").read_text(encoding="utf-8")))
    assert set(table) == {"xquad.en.json", "xquad.zh.json"}
    for name, sha in table.items():
        assert hashlib.sha256((XQ / name).read_bytes()).hexdigest() == sha


def test_english_questions_over_chinese_paragraphs(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_cmrc2018 import write_corpus

    questions = write_corpus(XQ / "xquad.zh.json", tmp_path, XQ / "xquad.en.json")
    assert len(questions) == 1190 and len(list(tmp_path.glob("*.md"))) == 48
    assert all(is_english(q["question"]) for q in questions)
    texts = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")}
    assert all(any(a in texts[q["doc"]] for a in q["answers"]) for q in questions)  # Chinese answers, own article
    chinese = write_corpus(XQ / "xquad.zh.json", tmp_path / "zh")  # without --questions: the paragraphs' own wording
    assert [q["answers"] for q in chinese] == [q["answers"] for q in questions]
    assert sum(is_english(q["question"]) for q in chinese) < 0.05 * len(chinese)
