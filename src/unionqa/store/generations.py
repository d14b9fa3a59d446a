"""Index directories on disk: generations, manifest with checksums, atomic switch, build lock.

Layout of ``index_dir``::

    CURRENT          name of the live generation (replaced atomically with os.replace)
    gen-<id>/        one complete index: manifest.json + the files it lists
    .lock            held (flock) by the build that is writing

A build writes a new ``gen-*`` directory, fsyncs it, then swaps ``CURRENT``; readers
resolve ``CURRENT`` once and read one generation, so they see the old index or the
new one, never a mix. The previous generation is kept (a reader may still be on it);
older ones are removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unionqa.config import FORMAT_VERSION
from unionqa.errors import BuildLockedError, IndexFormatError, IndexWriteError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
# what load reads before it trusts anything: the pointer and the manifest are small files
MAX_POINTER_BYTES = 256
MAX_MANIFEST_BYTES = 1 << 20
_GEN_NAME = re.compile(r"gen-[A-Za-z0-9_-]{1,120}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _plain_stat(path: Path) -> os.stat_result | None:
    """The stat of a regular file; None for a symlink, FIFO, device or missing file (opening a FIFO would block,
    /dev/zero never ends)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def read_small(path: Path, limit: int) -> bytes:
    """The bytes of a plain file of at most ``limit`` bytes; IndexFormatError otherwise (naming the file, never
    printing what it holds). FileNotFoundError passes through."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError:
        raise IndexFormatError(f"{path}: not a plain file (symlink or unreadable); rebuild the index") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IndexFormatError(f"{path}: not a plain file; rebuild the index")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise IndexFormatError(f"{path}: larger than {limit} bytes, so not an index file; rebuild the index")
    return data


def sha256_file(path: Path, fsync: bool = False) -> str:
    """SHA-256 of a file, read in 1 MiB blocks; with ``fsync`` the file is also flushed to disk."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
        if fsync:
            os.fsync(f.fileno())
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the per-directory build lock; a second builder gets BuildLockedError (or waits)."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise IndexWriteError(f"{e.filename or index_dir}: {e.strerror or e} (the index must be a directory you can write)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise BuildLockedError(f"{index_dir}: another build is writing this index; wait for it to finish") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


def new_generation(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 100000:05d}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    return tmp


def write_manifest(gen: Path, manifest: dict[str, Any], files: list[str]) -> None:
    """Checksum and fsync every data file (one pass each), then write and fsync the manifest."""
    manifest = dict(manifest)
    manifest["files"] = {name: {"sha256": sha256_file(gen / name, fsync=True), "bytes": (gen / name).stat().st_size}
                         for name in sorted(files)}
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    with open(gen / MANIFEST, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(gen)


def publish(index_dir: Path, tmp: Path) -> Path:
    """Move a finished ``.tmp-gen-*`` into place and switch CURRENT to it atomically."""
    final = index_dir / tmp.name.removeprefix(".tmp-")
    os.replace(tmp, final)
    pointer = index_dir / f".{CURRENT}.tmp"
    with open(pointer, "w", encoding="utf-8") as f:
        f.write(final.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return final


def cleanup(index_dir: Path, keep: int = 2) -> None:
    """Remove abandoned temp generations and all but the newest ``keep`` generations."""
    live = current_generation(index_dir, missing_ok=True)
    for p in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(p, ignore_errors=True)
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    kept = 0
    for p in gens:
        if live is not None and p.name == live.name:
            continue
        kept += 1
        if kept >= keep:
            shutil.rmtree(p, ignore_errors=True)


def current_generation(index_dir: Path, missing_ok: bool = False) -> Path | None:
    """The live generation named by ``index_dir/CURRENT`` (a plain file holding ``gen-…``; its contents are never
    echoed in errors)."""
    pointer = index_dir / CURRENT
    if not os.path.lexists(pointer):
        if (index_dir / MANIFEST).exists():
            return index_dir  # a flat index directory (copied generation)
        if missing_ok:
            return None
        raise IndexFormatError(f"{index_dir}: no index here (build one with `unionqa build SOURCES --index {index_dir}`)")
    try:
        name = read_small(pointer, MAX_POINTER_BYTES).decode("utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        name = ""
    if not _GEN_NAME.fullmatch(name):
        raise IndexFormatError(f"{pointer}: does not name an index generation; rebuild the index")
    gen = index_dir / name
    if not gen.is_dir() or gen.is_symlink():
        raise IndexFormatError(f"{pointer} points at {name}, which is missing; rebuild the index")
    return gen


def read_manifest(gen: Path, verify: bool = True, required: frozenset[str] | None = None) -> dict[str, Any]:
    """Read and check a generation's manifest; with ``verify`` every file's checksum is checked.

    ``files`` must list exactly the ``required`` file names (when given): plain names inside the generation,
    each a plain file of the listed size. Every error names the file and says to rebuild; none prints what
    a file holds.
    """
    path = gen / MANIFEST
    try:
        manifest = json.loads(read_small(path, MAX_MANIFEST_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise IndexFormatError(f"{path}: missing; rebuild the index") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise IndexFormatError(f"{path}: damaged (not valid JSON); rebuild the index") from None
    if not isinstance(manifest, dict):
        raise IndexFormatError(f"{path}: damaged (not a JSON object); rebuild the index")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexFormatError(f"{path}: no format version; rebuild the index")
    if version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{gen}: index format v{version} is newer than this unionqa reads (v{FORMAT_VERSION}); upgrade unionqa or rebuild the index")
    if version < FORMAT_VERSION:
        raise IndexFormatError(f"{gen}: index format v{version} is older than v{FORMAT_VERSION}; rebuild the index")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexFormatError(f"{path}: lists no files; rebuild the index")
    for name in files:
        if not _plain_name(name):
            raise IndexFormatError(f"{path}: lists a file outside the index generation; rebuild the index")
    if required is not None and set(files) != required:
        missing, extra = sorted(required - set(files)), sorted(set(files) - required)
        what = f"does not list {', '.join(missing)}" if missing else f"lists unknown files {', '.join(extra)}"
        raise IndexFormatError(f"{path}: {what}; rebuild the index")
    for name, meta in files.items():
        f = gen / name
        if (not isinstance(meta, dict) or not isinstance(meta.get("bytes"), int)
                or not isinstance(meta.get("sha256"), str) or not _SHA256.fullmatch(meta["sha256"])):
            raise IndexFormatError(f"{path}: damaged entry for {name}; rebuild the index")
        st = _plain_stat(f)
        if st is None:
            what = "missing from the index" if not os.path.lexists(f) else "not a plain file"
            raise IndexFormatError(f"{f}: {what}; rebuild the index")
        size = st.st_size
        if size != meta["bytes"]:
            raise IndexFormatError(f"{f}: damaged (size {size}, expected {meta['bytes']}); rebuild the index")
        if verify and sha256_file(f) != meta["sha256"]:
            raise IndexFormatError(f"{f}: damaged (checksum mismatch); rebuild the index")
    return manifest


def _plain_name(name: object) -> bool:
    """A file name that stays inside its directory: no separators, no leading dot, no NUL, not too long."""
    return (isinstance(name, str) and 0 < len(name) <= 100 and not name.startswith(".")
            and not any(ch in name for ch in "/\\\0:"))
