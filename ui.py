"""UnionQA web UI: a thin launcher of ``unionqa.web.app`` (the same app as ``unionqa serve``), serving the
repository's seed index by default.

    python ui.py [--index index] [--host 127.0.0.1] [--port 7860] [--share] [--admin]
"""

from __future__ import annotations

import sys
from pathlib import Path

from unionqa.cli import serve

if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:], default_index=str(Path(__file__).resolve().parent / "index")))
