#!/usr/bin/env bash
# UnionQA set-up and entry points (a fresh machine needs only Python 3.10+ and, for the
# browser tests, Debian's apt):
#   ./run.sh ui [ui.py options]      install, then serve the web UI on the seed index (http://127.0.0.1:7860)
#   ./run.sh test [pytest options]   install (incl. Debian chromium), then ruff, mypy and the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False

install() {  # $1: pip extras ("[ui,formats]" for the web UI, "[test]" for everything the tests use)
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  local stamp=".venv/.unionqa-installed$1-$(sha256sum pyproject.toml | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    # torch (only for sentence-transformers: the models extra) pinned: this resolves to the machine's CPU build;
    # an unpinned torch pulls CUDA wheels
    case "$1" in *test*|*all*|*models*) .venv/bin/python -m pip install -q "torch==2.13.0" ;; esac
    .venv/bin/python -m pip install -q -e ".$1"
    # rapidocr pulls opencv-python, whose cv2 needs the desktop libGL; on a server without it use the
    # headless build of the same cv2 (same API, no GUI libraries)
    .venv/bin/python -c "import cv2" 2>/dev/null || \
      .venv/bin/python -m pip install -q --force-reinstall --no-deps opencv-python-headless
    touch "$stamp"
  fi
}

case "${1:-}" in
  ui)
    shift
    install "[ui,formats]"
    exec .venv/bin/python ui.py "$@"
    ;;
  test)
    shift
    install "[test]"
    # Debian's Chromium for the browser tests (Playwright never downloads a browser here),
    # and a CJK font so screenshots show Chinese text
    if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    fi
    # lint and types first (pinned versions, pyproject.toml), then the tests
    .venv/bin/ruff check src tests benchmarks scripts ui.py
    .venv/bin/mypy src ui.py
    exec .venv/bin/python -m pytest -q "$@"
    ;;
  *)
    echo "usage: ./run.sh ui|test [options]" >&2
    exit 2
    ;;
esac
