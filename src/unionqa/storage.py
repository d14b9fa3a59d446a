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
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .config import FORMAT_VERSION
from .errors import BuildLockedError, IndexFormatError, IndexWriteError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"


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
    pointer = index_dir / CURRENT
    if not pointer.exists():
        if (index_dir / MANIFEST).exists():
            return index_dir  # a flat index directory (copied generation)
        if missing_ok:
            return None
        raise IndexFormatError(f"{index_dir}: no index here (build one with `unionqa build SOURCES --index {index_dir}`)")
    name = pointer.read_text(encoding="utf-8").strip()
    gen = index_dir / name
    if not name.startswith("gen-") or "/" in name or not gen.is_dir():
        raise IndexFormatError(f"{index_dir}/{CURRENT} points at {name!r}, which is missing; rebuild the index")
    return gen


def read_manifest(gen: Path, verify: bool = True) -> dict[str, Any]:
    """Read and check a generation's manifest; with ``verify`` every file's checksum is checked."""
    path = gen / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexFormatError(f"{path}: missing; rebuild the index") from None
    except (ValueError, UnicodeDecodeError):
        raise IndexFormatError(f"{path}: damaged (not valid JSON); rebuild the index") from None
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise IndexFormatError(f"{path}: no format version; rebuild the index")
    if version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{gen}: index format v{version} is newer than this unionqa reads (v{FORMAT_VERSION}); upgrade unionqa or rebuild the index")
    if version < FORMAT_VERSION:
        raise IndexFormatError(f"{gen}: index format v{version} is older than v{FORMAT_VERSION}; rebuild the index")
    files = manifest.get("files") or {}
    for name, meta in files.items():
        f = gen / name
        if not f.is_file():
            raise IndexFormatError(f"{f}: missing from the index; rebuild the index")
        if f.stat().st_size != meta.get("bytes"):
            raise IndexFormatError(f"{f}: damaged (size {f.stat().st_size}, expected {meta.get('bytes')}); rebuild the index")
        if verify and sha256_file(f) != meta.get("sha256"):
            raise IndexFormatError(f"{f}: damaged (checksum mismatch); rebuild the index")
    return manifest
