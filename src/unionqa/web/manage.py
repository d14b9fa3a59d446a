"""Adding and removing documents from a served index: uploads checked by content, one background job
at a time with its progress, the new generation published atomically and then served.

Used by the web UI's 文档管理 tab; a function of the index directory and a callback, so it is tested
without a browser. Each uploaded file is kept on its own under ``INDEX/uploads/<sha256[:16]>/<name>`` (the
store's ``uploads_dir``; the originals that citations point to), so deleting or replacing one document removes
its file only, never another upload's; a failed job removes the files it stored and leaves the served index as
it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from unionqa.errors import UnionQAError
from unionqa.ingest.documents import MAX_FILE_BYTES
from unionqa.ingest.readers import SUPPORTED_SUFFIXES, UNSUPPORTED_ZH, sniff

log = logging.getLogger(__name__)

READABLE = ("text", "pdf", "image", "docx", "html")
_SAFE_NAME = re.compile(r"[^\w.\-\u3400-\u9fff（）()]+")


@dataclass(frozen=True)
class JobState:
    """What the 文档管理 tab shows: the running or last job."""

    running: bool = False
    action: str = ""  # 添加 | 删除
    stage: str = ""  # read | tokenize | embed | …
    done: int = 0
    total: int = 0
    ok: bool | None = None  # None while running or before any job
    message: str = ""


class Manager:
    """One add/remove job at a time on ``index_dir``; ``on_published`` is called (e.g. the UI's reload) after
    a job has published a new generation."""

    def __init__(self, index_dir: str | Path, on_published: Callable[[], object], embedder: object | None = None) -> None:
        from unionqa.store.locations import open_store
        from unionqa.store.milvus import is_milvus

        self._index_store = open_store(index_dir)
        self.index_dir = index_dir if is_milvus(index_dir) else Path(index_dir)
        self.uploads = self._index_store.uploads_dir()
        self._on_published = on_published
        self._embedder = embedder  # tests pass a fake; None: the index's own model
        self._lock = threading.Lock()
        self._state = JobState()
        self._thread: threading.Thread | None = None
        self.finished = 0  # jobs ended so far: the UI refreshes its document list when this changes
        said = [m for m in (self._interrupted(), self._missing_message()) if m]
        if said:  # the start-up checks: said where the clerk looks, as a failed job is
            self._state = JobState(ok=False, message="；".join(said))

    @property
    def _journal(self) -> Path:
        """Names the running job while it runs: still there at start-up means a job was interrupted."""
        return self.uploads / ".job.json"

    def _interrupted(self) -> str | None:
        """A job the server stopped in the middle of: say which, and remove the files it had stored."""
        try:
            raw = self._journal.read_bytes()[:65536]
        except OSError:
            return None
        try:
            job = json.loads(raw)
            action, names = str(job["action"]), [str(n) for n in job["names"]][:10]
        except (ValueError, KeyError, TypeError):
            action, names = "文档", []
        cited = set(self._document_paths().values())
        for path in self.uploads.glob("*/*"):
            if path.is_file() and path not in cited:
                self._discard(path)
        self._journal.unlink(missing_ok=True)
        return (f"上次的{action}任务（{'、'.join(names) or '文件'}）在服务器停止时中断，没有完成，索引仍是之前的"
                + ("；请重新上传" if action == "添加" else "；请重新删除"))

    def _missing_message(self) -> str | None:
        missing = self.missing_originals()
        if not missing:
            return None
        return f"启动检查：{len(missing)} 篇文档的原文件已不在，“查看原文件”打不开，请重新上传：{'、'.join(missing)}"

    @property
    def state(self) -> JobState:
        with self._lock:
            return self._state

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]
            if changes.get("running") is False:
                self.finished += 1

    # ---- uploads -----------------------------------------------------------------------
    def check_upload(self, path: str | Path, name: str | None = None) -> str | None:
        """Why an uploaded file cannot be added (one line), or None. The type is read from the content."""
        p = Path(path)
        shown = name or p.name
        try:
            size = p.stat().st_size
            with open(p, "rb") as f:
                head = f.read(16)
        except OSError as e:
            return f"{shown}：无法读取（{e.strerror}）"
        if size > MAX_FILE_BYTES:
            return f"{shown}：文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分后再上传"
        if size == 0:
            return f"{shown}：空文件"
        kind = sniff(Path(shown), head)
        if kind not in READABLE:
            hint = UNSUPPORTED_ZH.get(Path(shown).suffix.lower())
            return (f"{shown}：不支持这种文件（按内容判断）；" + (hint or f"支持 {' '.join(SUPPORTED_SUFFIXES)}"))
        return None

    def _store(self, paths: Sequence[str | Path]) -> list[Path]:
        """Copy each upload into a folder named by its content, so no two documents share a folder."""
        stored = []
        for src in paths:
            name = _SAFE_NAME.sub("_", Path(src).name).lstrip(".") or "upload"
            digest = hashlib.sha256()
            with open(src, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            dest = self.uploads / digest.hexdigest()[:16] / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                shutil.copyfile(src, dest)
            stored.append(dest)
        return stored

    def _discard(self, path: Path) -> None:
        """Remove one uploaded original (and its folder once empty); never anything outside the uploads."""
        if not self._is_upload(path):
            return
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # only when no other document's file is in it
        except OSError:
            pass

    # ---- jobs --------------------------------------------------------------------------
    def add(self, paths: Sequence[str | Path]) -> str:
        """Check uploaded files, then add every good one in the background; a bad one is named with what to do
        (here and in the job's result), and never holds back the others. Returns what to show now."""
        if not paths:
            return "请先选择文件"
        checked = [(p, self.check_upload(p)) for p in paths]
        good = [p for p, problem in checked if problem is None]
        refused = "；".join(problem for _, problem in checked if problem)
        if not good:
            return f"没有添加任何文件：{refused}"
        note = f"；以下文件未添加：{refused}" if refused else ""
        started = self._start("添加", lambda: self._add(good) + note, [Path(p).name for p in good])
        return started + (f"（{len(good)} 个文件）{note}" if started == "添加任务已开始" else "")

    def remove(self, doc_ids: Sequence[str]) -> str:
        if not doc_ids:
            return "请先选择要删除的文档"
        return self._start("删除", lambda: self._remove(doc_ids), list(doc_ids))

    def _start(self, action: str, work: Callable[[], str], names: list[str]) -> str:
        with self._lock:
            if self._state.running:
                return f"另一个任务（{self._state.action}）正在进行，请稍后"
            self._state = JobState(running=True, action=action, stage="准备")
            try:
                self.uploads.mkdir(parents=True, exist_ok=True)
                self._journal.write_text(json.dumps({"action": action, "names": names[:50]}, ensure_ascii=False),
                                         encoding="utf-8")
            except OSError:
                log.warning("cannot record the job in %s", self._journal)
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()
        return f"{action}任务已开始"

    def _run(self, work: Callable[[], str]) -> None:
        try:
            self._work(work)
        finally:
            self._journal.unlink(missing_ok=True)

    def _work(self, work: Callable[[], str]) -> None:
        try:
            message = work()
        except UnionQAError as e:
            self._set(running=False, ok=False, message=f"失败，仍在使用原索引：{e.chinese}")
            return
        except Exception:  # noqa: BLE001 - the job thread must report, never die silently
            log.exception("document job failed")
            self._set(running=False, ok=False, message="失败，仍在使用原索引：意外错误，详情见服务器日志")
            return
        try:
            self._on_published()
        except Exception as e:  # noqa: BLE001 - published but not yet served: say so
            log.exception("reload after a document job failed")
            why = e.chinese if isinstance(e, UnionQAError) else "意外错误，详情见服务器日志"
            self._set(running=False, ok=False, message=f"{message}，但重新加载失败：{why}")
            return
        self._set(running=False, ok=True, message=message)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._set(stage=stage, done=done, total=total)

    def _add(self, paths: Sequence[str | Path]) -> str:
        from unionqa.index import Index

        before = self._document_paths()
        stored = self._store(paths)
        try:
            ix, added = Index.add(stored, self.index_dir, progress=self._progress, embedder=self._embedder)  # type: ignore[arg-type]
        except BaseException:
            cited = set(before.values())
            for path in stored:
                if path not in cited:  # the same file uploaded again is still the original of a document
                    self._discard(path)
            raise
        # a replaced document's previous upload is no longer cited
        for doc_id in added:
            old = before.get(doc_id)
            if old is not None and old not in stored:
                self._discard(old)
        return f"已添加 {len(added)} 篇：{'、'.join(added)}（共 {ix.manifest['counts']['documents']} 篇文档）"

    def _remove(self, doc_ids: Sequence[str]) -> str:
        from unionqa.index import Index

        before = self._document_paths()
        ix = Index.remove(doc_ids, self.index_dir, embedder=self._embedder)  # type: ignore[arg-type]
        for doc_id in doc_ids:
            old = before.get(doc_id)
            if old is not None:
                self._discard(old)
        return f"已删除 {len(doc_ids)} 篇：{'、'.join(doc_ids)}（剩 {ix.manifest['counts']['documents']} 篇文档）"

    def missing_originals(self) -> list[str]:
        """Documents whose original file is gone (checked at start-up; 查看原文件 cannot open them)."""
        return sorted(d for d, p in self._document_paths().items() if not p.is_file())

    def _document_paths(self) -> dict[str, Path]:
        records = self._index_store.previous_records()
        return {d: Path(str(r.get("path", ""))) for d, r in records.items() if r.get("path")}

    def _is_upload(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.uploads.resolve())
        except OSError:
            return False

    def wait(self, timeout: float = 600) -> JobState:
        """Block until the running job ends (tests, scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state
