#!/usr/bin/env bash
# The project's one check command (CI runs it through README's test command):
#   ./check.sh               ruff, mypy, import contracts, size limits, then pytest (all of it)
#   ./check.sh --fast        the same, but only the tests on scripted models and fixtures: no
#                            real model or worker process (marker real), no real tsc, eslint,
#                            node sandbox or CLI/server/tmux subprocess (marker toolchain);
#                            under 4 minutes on 2 cores
#   ./check.sh --no-tests    ruff, mypy and import contracts only (run before each commit)
#   ./check.sh tests/tui -x  extra arguments go to pytest (after --fast too)
#   ./check.sh --help        this text
# Stops at the first step that fails and exits with its status.
set -euo pipefail
cd "$(dirname "$0")"
# The project's own environment (made by ./install.sh) when there is one.
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
elif [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
else
  PY=python3
fi

run_tests=1
fast=0
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  # The comment block at the top of this file, without its "# ".
  sed -n '2,/^# Stops/{s/^# \{0,1\}//;p}' "$(basename "$0")"
  exit 0
fi
if [ "${1:-}" = "--no-tests" ]; then
  run_tests=0
  shift
elif [ "${1:-}" = "--fast" ]; then
  fast=1
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
  # Classes over 450 lines, functions over 90 (tests/test_sizes.py; it prints the offenders).
  step "size limits" "$PY" tests/test_sizes.py
  if [ "$fast" = 1 ]; then
    # -m replaces pyproject's addopts -m 'not soak', so soak is named again.
    step "pytest (fast: not real, not toolchain)" "$PY" -m pytest -q \
      -m "not real and not toolchain and not soak" "$@"
  else
    step "pytest" "$PY" -m pytest -q "$@"
  fi
fi
