"""Loading an index someone tampered with (issue 12 items 10, 11, 14): plain file names only, every format
file required, bounded reads, no file contents in errors, no hang on a FIFO, no reference cycle."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import threading
import weakref
from pathlib import Path

import pytest

from unionqa import Index
from unionqa.errors import IndexFormatError
from unionqa.store.generations import current_generation
from unionqa.store.records import MAX_CHUNK_RECORD_BYTES


def _gen(ix: Index) -> Path:
    return current_generation(ix.index_dir)  # type: ignore[return-value]


def _manifest(gen: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((gen / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _save(gen: Path, m: dict) -> None:  # type: ignore[type-arg]
    (gen / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def _rewrite_first_chunk(gen: Path, field: str, value: object) -> None:
    """Change one field of the first chunk record and re-sign the manifest, so only the record check can object."""
    f = gen / "chunks.jsonl"
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[0])
    rec[field] = value
    lines[0] = json.dumps(rec, ensure_ascii=False) + "\n"
    f.write_text("".join(lines), encoding="utf-8")
    m = _manifest(gen)
    m["files"]["chunks.jsonl"] = {"sha256": hashlib.sha256(f.read_bytes()).hexdigest(), "bytes": f.stat().st_size}
    _save(gen, m)


def _load_error(ix: Index) -> str:
    """Index.load must fail with IndexFormatError, within 10 s (a FIFO would block forever)."""
    out: list[BaseException | None] = []
    t = threading.Thread(target=lambda: out.append(_try_load(ix)), daemon=True)
    t.start()
    t.join(10)
    assert out, "Index.load hung"
    err = out[0]
    assert isinstance(err, IndexFormatError), repr(err)
    msg = str(err)
    assert "\n" not in msg and "rebuild" in msg
    return msg


def _try_load(ix: Index) -> BaseException | None:
    try:
        Index.load(ix.index_dir)
    except BaseException as e:  # noqa: BLE001 - the test inspects what was raised
        return e
    return None


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "sub/chunks.jsonl", ".hidden", "a\\b"])
def test_manifest_file_names_outside_the_generation_are_refused(tiny_index: Index, name: str) -> None:
    gen = _gen(tiny_index)
    m = _manifest(gen)
    m["files"][name] = {"sha256": "0" * 64, "bytes": 1}
    _save(gen, m)
    msg = _load_error(tiny_index)
    assert "outside" in msg and "root:" not in msg


@pytest.mark.parametrize("name", ["chunks.jsonl", "vectors.faiss", "lexical_rows.npy"])
def test_a_manifest_that_omits_a_file_is_refused(tiny_index: Index, name: str) -> None:
    """Leaving a file out of the manifest would skip its checksum: every file of the format must be listed."""
    gen = _gen(tiny_index)
    m = _manifest(gen)
    del m["files"][name]
    _save(gen, m)
    assert name in _load_error(tiny_index)


def test_unknown_files_and_bad_entries_are_refused(tiny_index: Index) -> None:
    gen = _gen(tiny_index)
    m = _manifest(gen)
    (gen / "extra.bin").write_bytes(b"x")
    m["files"]["extra.bin"] = {"sha256": hashlib.sha256(b"x").hexdigest(), "bytes": 1}
    _save(gen, m)
    assert "extra.bin" in _load_error(tiny_index)
    del m["files"]["extra.bin"]
    for bad in ("x", None, {"sha256": 5, "bytes": 1}, {"sha256": "0" * 64, "bytes": "9"}):
        m["files"]["chunks.jsonl"] = bad
        _save(gen, m)
        assert "chunks.jsonl" in _load_error(tiny_index)
    for files in ([], "x", {}):
        m["files"] = files
        _save(gen, m)
        _load_error(tiny_index)
    _save(gen, [1, 2])  # type: ignore[arg-type]
    _load_error(tiny_index)


def test_current_symlinked_elsewhere_is_refused_without_printing_it(tiny_index: Index, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("gen-topsecret-password\n", encoding="utf-8")
    cur = tiny_index.index_dir / "CURRENT"
    cur.unlink()
    cur.symlink_to(secret)
    assert "topsecret" not in _load_error(tiny_index)
    cur.unlink()
    cur.symlink_to("/etc/passwd")
    assert "root:x" not in _load_error(tiny_index)
    cur.unlink()
    cur.write_text("not a generation: hunter2\n", encoding="utf-8")
    assert "hunter2" not in _load_error(tiny_index)


@pytest.mark.parametrize("target", ["CURRENT", "manifest.json", "chunks.jsonl"])
def test_dev_zero_and_fifo_neither_exhaust_memory_nor_hang(tiny_index: Index, target: str) -> None:
    gen = _gen(tiny_index)
    path = tiny_index.index_dir / "CURRENT" if target == "CURRENT" else gen / target
    path.unlink()
    path.symlink_to("/dev/zero")
    _load_error(tiny_index)
    path.unlink()
    os.mkfifo(path)
    _load_error(tiny_index)


def test_oversized_chunk_record_is_refused_at_load(tiny_index: Index) -> None:
    """A 100 MB chunk would make every question touching it slow and huge; records are bounded at load."""
    _rewrite_first_chunk(_gen(tiny_index), "text", "工会" * MAX_CHUNK_RECORD_BYTES)
    assert "chunks.jsonl" in _load_error(tiny_index)


def test_chunk_fields_of_the_wrong_type_are_refused(tiny_index: Index) -> None:
    _rewrite_first_chunk(_gen(tiny_index), "span", ["0", 5])
    assert "chunks.jsonl" in _load_error(tiny_index)


def test_a_dropped_index_is_freed_at_once(tiny_index: Index, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """No reference cycle inside Index: a replaced index (UI /reload) goes when its last reference does,
    not when the cycle collector happens to run."""
    ix = Index.load(tiny_index.index_dir, embedder=fake_embedder)
    ix.search("工会", top_k=2)
    ix.ask("工会有多少会员？")
    ref = weakref.ref(ix)
    gc.disable()
    try:
        del ix
        assert ref() is None
    finally:
        gc.enable()


def test_a_damaged_previous_index_is_not_reused_and_says_why(tiny_index: Index, tiny_corpus: Path, fake_embedder,  # type: ignore[no-untyped-def]
                                                             caplog) -> None:
    """Issue 16 item 8: the incremental build no longer hides why it re-embeds everything."""
    (_gen(tiny_index) / "vectors.faiss").write_bytes(b"broken")
    with caplog.at_level("WARNING", logger="unionqa"):
        Index.build([tiny_corpus], tiny_index.index_dir, embedder=fake_embedder)
    assert any("not reusing vectors" in r.getMessage() and "vectors.faiss" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("field,value", [("model", "e5"), ("model", {"name": 3, "dim": 384}), ("model", {"name": "x"}),
                                         ("tokenizer", "jieba"), ("counts", [1])])
def test_a_manifest_entry_of_the_wrong_shape_is_a_format_error(tiny_index: Index, field: str, value: object) -> None:
    """Issue 26: ``"model": "e5"`` crashed with AttributeError instead of a one-line IndexFormatError."""
    gen = _gen(tiny_index)
    m = _manifest(gen)
    m[field] = value
    _save(gen, m)
    assert "manifest" in _load_error(tiny_index)
