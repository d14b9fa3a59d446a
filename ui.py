"""UnionQA web UI: a thin launcher of ``unionqa.web.app`` (the same app as ``unionqa serve``), serving the
repository's seed index by default.

    python ui.py [--index index] [--host 127.0.0.1] [--port 7860] [--share] [--admin]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from unionqa.cli import main

if __name__ == "__main__":
    default_index = os.environ.get("UNIONQA_INDEX") or str(Path(__file__).resolve().parent / "index")
    sys.exit(main(["serve", "--index", default_index, *sys.argv[1:]]))  # a later --index wins
