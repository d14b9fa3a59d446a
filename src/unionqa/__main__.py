"""``python -m unionqa`` runs the CLI."""

from __future__ import annotations

import sys

from unionqa.cli import main

sys.exit(main())
