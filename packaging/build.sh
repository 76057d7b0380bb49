#!/usr/bin/env bash
# Build the frozen Earmark for this machine into dist/earmark/ (see packaging/build.py).
#
#   packaging/build.sh                 build, or reuse dist/earmark when it is up to date
#   packaging/build.sh --force         always rebuild (also EARMARK_FORCE_BUILD=1)
#   EARMARK_ONEFILE=1 packaging/build.sh   one executable in dist/onefile/ instead
#   PYTHON=python packaging/build.sh   freeze with that interpreter's packages (default: the
#                                      project venv's, else python3/python on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
  for candidate in .venv/bin/python .venv/Scripts/python.exe python3 python; do
    if [[ -x "$candidate" ]] || command -v "$candidate" >/dev/null 2>&1; then
      PYTHON=$candidate
      break
    fi
  done
fi
exec "${PYTHON:?no Python interpreter found}" packaging/build.py "$@"
