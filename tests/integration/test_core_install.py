"""A core install (issue 26): `pip install unionqa` without extras builds, searches and answers over text with the
bundled model; the UI, document formats, other model backends and Milvus are extras, and each says so when missing."""

from __future__ import annotations

import os
import subprocess
import sys

import tomllib
from conftest import ROOT

#: what the extras bring (import names): a core install has none of them
EXTRAS = ("gradio", "starlette", "fastapi", "rapidocr_onnxruntime", "pypdfium2", "docx", "trafilatura", "PIL", "cv2",
          "sentence_transformers", "torch", "pymilvus", "milvus_lite")

_RUN_WITHOUT_EXTRAS = """
import importlib.abc, sys, tempfile, pathlib
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {extras!r}:
            raise ImportError(f"No module named {{name!r}} (not in a core install)")
sys.meta_path.insert(0, NotInstalled())
from unionqa import Index
from unionqa.cli import main
index = pathlib.Path(tempfile.mkdtemp()) / "index"
ix = Index.build([{seeds!r}], index)
print("hit", ix.search("东莞市总工会免费送出了多少斤荔枝？")[0].doc_id)
print("answer", ix.ask("惠州市总工会五年来调处了多少宗劳资纠纷？").short_answer)
print("cli", main(["ask", "河源市建成了多少家工会爱心驿站？", "--index", str(index)]))
print("serve", main(["serve", "--index", str(index)]))
print("loaded", sorted(m for m in {extras!r} if m in sys.modules))
"""


def test_core_dependencies_leave_out_the_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(project["dependencies"]).lower()
    for heavy in ("gradio", "rapidocr", "pypdfium2", "python-docx", "trafilatura", "pillow", "sentence-transformers",
                  "torch", "pymilvus", "milvus-lite"):
        assert heavy not in core, heavy
    extras = project["optional-dependencies"]
    assert {"ui", "formats", "models", "milvus", "all", "test"} <= set(extras)


def test_core_install_builds_searches_and_answers_the_seeds() -> None:
    code = _RUN_WITHOUT_EXTRAS.format(extras=EXTRAS, seeds=str(ROOT / "seeds"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=ROOT,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "answer 7090宗" in out and "cli 0" in out and "127家" in out, out
    assert "serve 1" in out and "pip install 'unionqa[ui]'" in out, out  # the UI: one line naming its extra
    assert "loaded []" in out, out
