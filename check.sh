#!/usr/bin/env bash
# The project's one check command (CI runs it through README's test command):
#   ./check.sh               ruff, mypy, import contracts, then pytest
#   ./check.sh --no-tests    ruff, mypy and import contracts only (fast; run before each commit)
#   ./check.sh tests/tui -x  extra arguments go to pytest
# Stops at the first step that fails and exits with its status.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

run_tests=1
if [ "${1:-}" = "--no-tests" ]; then
  run_tests=0
  shift
fi

step() {
  echo "== $1"
  shift
  "$@"
}

step "ruff" "$PY" -m ruff check logomesh_tui tests
step "mypy" "$PY" -m mypy
# lint-imports through this Python, so that the checkout's copy of the package is the one checked.
step "import contracts" "$PY" -c \
  'import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())'
if [ "$run_tests" = 1 ]; then
  step "pytest" "$PY" -m pytest -q "$@"
fi
