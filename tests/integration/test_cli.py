"""The CLI: build/info/search/ask/eval, one-line errors, --skip-bad, instant --help."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from unionqa.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "unionqa", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_help_is_instant_and_lists_commands() -> None:
    t = time.perf_counter()
    r = run("--help")
    assert r.returncode == 0 and "build" in r.stdout and "eval" in r.stdout
    assert time.perf_counter() - t < 5


def test_errors_are_one_line_without_traceback(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["info", "--index", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("unionqa: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert main(["search", "   ", "--index", str(ROOT / "index")]) == 1
    assert "empty question" in capsys.readouterr().err
    assert main(["search", "工会", "--index", str(ROOT / "index"), "--top-k", "0"]) == 1
    assert "top_k" in capsys.readouterr().err


def test_serve_is_the_web_app_and_its_errors_are_one_line(tmp_path: Path) -> None:
    """Issue 26: `unionqa serve` starts the same app as ui.py (its options, its one-line refusal of a missing
    index); `unionqa --help` lists it."""
    assert "serve" in run("--help").stdout
    r = run("serve", "--help")
    assert r.returncode == 0 and "--admin" in r.stdout and "unionqa serve" in r.stdout
    r = run("serve", "--index", str(tmp_path / "missing"), "--port", "0")
    assert r.returncode == 1 and r.stderr.startswith("unionqa: error:") and r.stderr.count("\n") == 1, r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "ui.py"), "--index", str(tmp_path / "missing")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.startswith("unionqa: error:") and "Traceback" not in r.stderr, r.stderr


def test_build_refuses_bad_file_or_skips_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# 标题\n\n## 小节\n\n工会驿站建成127家。\n", encoding="utf-8")
    (docs / "bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    r = run("build", str(docs), "--index", str(tmp_path / "ix"), "--quiet")
    assert r.returncode == 1 and "bad.txt" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run("build", str(docs), "--index", str(tmp_path / "ix"), "--skip-bad", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "skipped" in r.stdout and "bad.txt" in r.stdout and "1 documents" in r.stdout
    r = run("info", "--index", str(tmp_path / "ix"), "--json")
    info = json.loads(r.stdout)
    assert info["documents"] == 1 and info["doc_ids"] == ["good.md"]


@pytest.mark.model
def test_answer_settings_from_the_command_line(capsys) -> None:  # type: ignore[no-untyped-def]
    """``--set FIELD=VALUE`` reaches the answer step; a bad setting is one line naming the fields."""
    q = "潮州市总工会五年来调处了多少宗劳资纠纷？"  # a city the documents do not cover: refused by default
    assert main(["ask", q, "--index", str(ROOT / "index"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["abstained"]
    assert main(["ask", q, "--index", str(ROOT / "index"), "--json", "--set", "check_constraints=false"]) == 0
    assert json.loads(capsys.readouterr().out)["short_answer"] == "7090宗"  # the sibling's figure, unchecked
    for bad in ("nosuch=1", "semantic_weight=lots", "check_constraints=maybe", "passages"):
        assert main(["ask", q, "--index", str(ROOT / "index"), "--set", bad]) == 1
        err = capsys.readouterr().err
        assert err.startswith("unionqa: error: --set") and err.count("\n") == 1


def test_search_ask_and_eval_on_seed_index(tmp_path: Path) -> None:
    r = run("search", "东莞免费送出了多少斤荔枝", "--index", "index", "--top-k", "3")
    assert r.returncode == 0 and "【" in r.stdout and "12000斤" in r.stdout and "lexical #" in r.stdout
    r = run("search", "东莞免费送出了多少斤荔枝", "--index", "index", "--json", "--mode", "lexical")
    hits = json.loads(r.stdout)
    assert hits[0]["lexical_rank"] == 1 and hits[0]["dense_rank"] is None
    r = run("ask", "东莞市总工会免费送出了多少斤荔枝？", "--index", "index", "--json")
    ans = json.loads(r.stdout)
    assert ans["short_answer"] == "12000斤" and not ans["abstained"]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "t1", "kind": "fact", "question": "东莞免费送出了多少斤荔枝？",
                                "answers": ["12000斤"], "doc": "001_d336f6f2ef874946.txt",
                                "evidence": "免费送出12000斤“东莞荔枝”"}, ensure_ascii=False) + "\n"
                    + json.dumps({"id": "t2", "kind": "none", "question": "火星上的工会有多少会员？", "answers": [],
                                  "doc": None, "evidence": None}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = run("eval", str(gold), "--index", "index", "--json")
    rep = json.loads(r.stdout)
    assert rep["retrieval"]["hybrid"]["all"]["hit@1"] == 1.0 and rep["retrieval"]["lexical"]["all"]["mrr@10"] == 1.0
    assert rep["answers"]["fact"]["accuracy"] == 1.0 and rep["answers"]["none"]["accuracy"] == 1.0
    r = run("eval", str(gold), "--index", "index")
    assert "hit@1" in r.stdout and "answers" in r.stdout


def _run_cli(*args: str, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def, type-arg]
    return subprocess.run([sys.executable, "-m", "unionqa", *args], capture_output=True, text=True, timeout=300, **kw)


def test_build_into_a_regular_file_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "not-a-dir"
    target.write_text("x", encoding="utf-8")
    r = _run_cli("build", str(ROOT / "seeds"), "--index", str(target), "--quiet")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "not-a-dir" in r.stderr


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    r = subprocess.run(f"{sys.executable} -m unionqa search 工会 --index {ROOT / 'index'} --top-k 50 --mode lexical | head -c 10;"
                       " exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True, timeout=300)
    assert r.returncode == 0 and b"Traceback" not in r.stderr and b"BrokenPipe" not in r.stderr


def test_bad_gold_file_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("{not json\n", encoding="utf-8")
    assert main(["eval", str(gold), "--index", str(ROOT / "index"), "--no-answers"]) == 1
    err = capsys.readouterr().err
    assert "not a JSON object" in err and err.count("\n") == 1


_DISK_FULL = r"""
import resource, sys
sys.path.insert(0, sys.argv[3])
from conftest import FakeEmbedder
from unionqa import Index, IndexWriteError
docs, index = sys.argv[1], sys.argv[2]
Index.build([docs], index, embedder=FakeEmbedder())          # the index that is served
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # then the disk "fills": no file may pass 20 kB
try:
    Index.build([docs], index, embedder=FakeEmbedder())
except IndexWriteError as e:
    print("ERROR", e)
"""


def test_disk_full_build_cleans_up_and_keeps_serving(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.md").write_text("# 报告\n\n## 一\n\n" + "全市建成职工服务站点356个，覆盖各区县。" * 3000 + "\n", encoding="utf-8")
    (docs / "b.md").write_text("# 另一份\n\n## 劳模\n\n评选劳动模范81名。\n", encoding="utf-8")
    index = tmp_path / "index"
    # the first build runs without the limit; Python ignores SIGXFSZ, so an over-limit write fails with EFBIG
    r = subprocess.run([sys.executable, "-c", _DISK_FULL, str(docs), str(index), str(ROOT / "tests")],
                       capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    line = next(line for line in r.stdout.splitlines() if line.startswith("ERROR"))
    assert "File too large" in line and "previous index is still served" in line
    assert not list(index.glob(".tmp-gen-*"))  # the partial generation is gone
    from unionqa import Index

    assert len(Index.load(index).chunks) > 0  # the first build still serves


def test_cli_import_loads_no_numeric_stack_and_reads_no_settings() -> None:
    """`unionqa --help` stays instant: importing the CLI (and the package) loads neither numpy, scipy nor faiss,
    and settings are read from the environment when used (issue 16 item 9)."""
    code = ("import sys, os; os.environ['UNIONQA_INDEX'] = 'from-env'; import unionqa.cli as c; "
            "bad = [m for m in ('numpy', 'scipy', 'faiss', 'jieba') if m in sys.modules]; "
            "print(bad); print(c._parser().parse_args(['info']).index)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["[]", "from-env"], r.stdout + r.stderr


def test_jieba_dictionary_built_once_per_process() -> None:
    from unionqa.search.tokenize import JiebaTokenizer

    a, b = JiebaTokenizer(), JiebaTokenizer()
    assert a._tk() is b._tk() and a.tokenize("惠州市总工会调处7090宗") == b.tokenize("惠州市总工会调处7090宗")


def test_chat_follow_ups_and_feedback(tmp_path: Path) -> None:
    """Issue 15: `unionqa chat` answers follow-ups as the questions they stand for, says so, starts over on
    新对话; /wrong writes a verdict next to the index and `unionqa feedback` prints it."""
    feedback = tmp_path / "fb.jsonl"
    env = {**__import__("os").environ, "UNIONQA_FEEDBACK": str(feedback)}
    turns = ("惠州市总工会五年来调处了多少宗劳资纠纷？\n成功调解了多少件？\n/wrong 应该说明是五年累计\n河源呢？\n"
             "新对话\n成功调解了多少件？\n")
    r = subprocess.run([sys.executable, "-m", "unionqa", "chat", "--index", "index"], input=turns, capture_output=True,
                       text=True, cwd=ROOT, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    parts = r.stdout.split("（新对话）")
    assert parts[0].startswith("7090宗 [1]")
    assert "（按“惠州市总工会五年来成功调解了多少件？”回答）\n1092件 [1]" in parts[0]
    assert "（按“河源市总工会五年来成功调解了多少件？”回答）\n文档中没有河源市的这项数据" in parts[0]
    assert "（按“" not in parts[1]  # a new conversation: nothing to lean on
    r = subprocess.run([sys.executable, "-m", "unionqa", "feedback", "--index", "index"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60, env=env)
    assert r.returncode == 0
    assert "👎" in r.stdout and "惠州市总工会五年来成功调解了多少件？" in r.stdout and "(typed: 成功调解了多少件？)" in r.stdout
    assert "应该说明是五年累计" in r.stdout and "1092件" in r.stdout
    [line] = feedback.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["vote"] == "down" and record["citations"][0]["doc_id"] == "000_aab834ac4fc42f74.txt"
    assert not ({"ip", "user", "host"} & set(record))


def test_feedback_file_sits_next_to_the_index_and_bad_votes_are_refused(tmp_path: Path) -> None:
    from unionqa.errors import QueryError
    from unionqa.feedback import feedback_path, feedback_record, read_feedback, record_feedback

    path = feedback_path(tmp_path / "myindex")
    assert path == tmp_path / "myindex.feedback.jsonl"
    assert feedback_path("milvus:" + str(tmp_path / "x.db")) == Path(str(tmp_path / "x.db") + ".feedback.jsonl")
    with pytest.raises(QueryError, match="vote"):
        feedback_record({"question": "问"}, "maybe")
    with pytest.raises(QueryError, match="no answer"):
        feedback_record({"question": " "}, "up")
    record_feedback(path, feedback_record({"question": "问题一", "text": "答"}, "up", "x" * 5000))
    path.open("a", encoding="utf-8").write("{broken\n")
    record_feedback(path, feedback_record({"question": "问题二"}, "down", "不对"))
    got = read_feedback(path)
    assert [r["question"] for r in got] == ["问题一", "问题二"] and len(got[0]["comment"]) == 2000
    # issue 27 item 7: one verdict per answer, the last click wins (a 👎 clicked twice, then 👍, is one 👍)
    for vote in ("down", "down", "up"):
        record_feedback(path, feedback_record({"question": "问题三", "text": "答三"}, vote))
    record_feedback(path, feedback_record({"question": "问题三", "text": "另一个答案"}, "down"))
    got = read_feedback(path)
    assert [(r["question"], r["vote"]) for r in got][2:] == [("问题三", "up"), ("问题三", "down")]


def test_faiss_write_failure_is_one_line_and_leaves_no_partial_generation(tiny_corpus: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                          fake_embedder, monkeypatch) -> None:
    """Issue 26: FAISS reports a short write (file-size limit, full disk) as RuntimeError; it was a traceback and
    the partial generation stayed behind until the next build."""
    import faiss

    from unionqa import Index, IndexWriteError

    index = tmp_path / "index"
    Index.build([tiny_corpus], index, embedder=fake_embedder)

    def short_write(ix, path):  # type: ignore[no-untyped-def]
        open(path, "wb").write(b"\0" * 10)
        raise RuntimeError("Error in faiss::FileIOWriter: 'ret == (n)' failed: write error")

    monkeypatch.setattr(faiss, "write_index", short_write)
    with pytest.raises(IndexWriteError, match="vectors.faiss.*previous index is still served"):
        Index.build([tiny_corpus], index, embedder=fake_embedder)
    assert not list(index.glob(".tmp-gen-*"))
    monkeypatch.undo()
    assert len(Index.load(index, embedder=fake_embedder).chunks) > 0
