#!/usr/bin/env bash
# Install LogoMesh TUI and what it needs, from the package registries only, into a virtual
# environment of its own (.venv in this checkout): PEP 668 systems (Debian 12, Ubuntu 24.04,
# Homebrew Python) refuse pip installs into the system Python.
#   ./install.sh          the app, the TypeScript toolchain and the default model pool (4 models)
#   ./install.sh --test   also the test extras, tmux, and the models the tests use
# Afterwards `logomesh-tui` is on PATH (a link in ~/.local/bin) and the tests run with
# `.venv/bin/python -m pytest`. PYTHON picks the interpreter the environment is made from,
# LOGOMESH_VENV another folder for it, CMAKE_ARGS replaces the llama.cpp build flags below.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BASE_PY=${PYTHON:-python3}
VENV=${LOGOMESH_VENV:-$ROOT/.venv}

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$BASE_PY" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "error: could not create a virtual environment with $BASE_PY; install the venv module" \
         "(Debian/Ubuntu: apt-get install python3-venv) and run ./install.sh again" >&2
    exit 1
  fi
fi
PY="$VENV/bin/python"

# llama.cpp is built from source; pip keeps the built wheel in its cache, so a rerun does not
# build again. Pick the fastest backend this machine has: Metal on Apple silicon, CUDA where nvcc
# and an NVIDIA driver exist, a portable AVX2 CPU build otherwise.
if [ -z "${CMAKE_ARGS:-}" ]; then
  # A portable x86-64-v3 build: -march=native enables AMX on Sapphire Rapids hosts, and
  # llama.cpp's AMX kernels crash there (SIGSEGV in ggml_backend_amx_mul_mat).
  X86="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  if [ "$(uname -s)" = "Darwin" ] && [ "$(uname -m)" = "arm64" ]; then
    CMAKE_ARGS="-DGGML_METAL=on"
    echo "llama.cpp: building with Metal (Apple silicon)" >&2
  elif command -v nvcc >/dev/null 2>&1 && { command -v nvidia-smi >/dev/null 2>&1 || [ -e /proc/driver/nvidia/version ]; }; then
    # nvcc alone is not enough: a CUDA build cannot load where no NVIDIA driver is installed.
    CMAKE_ARGS="-DGGML_CUDA=on"
    [ "$(uname -m)" = "x86_64" ] && CMAKE_ARGS="$CMAKE_ARGS $X86"
    echo "llama.cpp: building with CUDA ($(command -v nvcc))" >&2
  elif [ "$(uname -m)" = "x86_64" ]; then
    CMAKE_ARGS="$X86"
    echo "llama.cpp: building for the CPU with AVX2" >&2
  fi
  export CMAKE_ARGS
fi

# pip's wheel cache does not know the flags a wheel was built with: rebuild when they changed
# since the last install here, or when a GPU build is wanted and none was made here yet.
STAMP="$VENV/.llama-cpp-build"
WANT="${CMAKE_ARGS:-default}"
rebuild_llama() {
  local have
  have=$(cat "$STAMP" 2>/dev/null || true)
  if [ "$have" != "$WANT" ] && { [ -n "$have" ] || [[ "$WANT" == *METAL* || "$WANT" == *CUDA* ]]; }; then
    echo "llama.cpp: rebuilding for $WANT (about 6 minutes on 2 cores)" >&2
    "$PY" -m pip install -q --force-reinstall --no-deps --no-cache-dir \
      "llama-cpp-python==$("$PY" -c 'import llama_cpp; print(llama_cpp.__version__)')"
  fi
  echo "$WANT" > "$STAMP"
}

# bubblewrap makes the sandbox's outer wall (namespaces, read-only binds); without it the
# sandbox falls back to unshare or to node's permission model and the preload alone.
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq "$@") >/dev/null 2>&1
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    (sudo -n apt-get update -qq && sudo -n apt-get install -y -qq "$@") >/dev/null 2>&1
  else
    return 1
  fi
}
if ! command -v bwrap >/dev/null 2>&1; then
  apt_install bubblewrap || echo "warning: could not install bubblewrap; model code runs behind" \
    "unshare or node's permission model only (install the bubblewrap package)" >&2
fi

if [ "${1:-}" = "--test" ]; then
  "$PY" -m pip install -q -e '.[test,train]'
  rebuild_llama
  if ! command -v tmux >/dev/null 2>&1; then
    apt_install tmux || echo "warning: could not install tmux; the tmux test will fail" >&2
  fi
  "$PY" -m logomesh_tui.verify.toolchain
  # The fixture project the project checks are tested on: a real vitest project.
  (cd tests/fixtures/ts-project && npm ci --no-audit --no-fund --loglevel=error)
  "$PY" -m logomesh_tui models pull smollm2-135m gemma-3-270m qwen2.5-coder-0.5b
else
  "$PY" -m pip install -q -e .
  rebuild_llama
  "$PY" -m logomesh_tui.verify.toolchain || echo "warning: TypeScript toolchain not installed (node/npm missing?); refactor needs it" >&2
  "$PY" -m logomesh_tui models pull --default-pool
fi

# Put the command on PATH without touching the system Python: a link in ~/.local/bin, or in
# /usr/local/bin when only that one is on PATH and writable (root in a container).
on_path() { case ":$PATH:" in *":$1:"*) return 0 ;; *) return 1 ;; esac; }
if [ -n "${LOGOMESH_BIN_DIR:-}" ]; then
  BIN_DIR=$LOGOMESH_BIN_DIR
elif ! on_path "$HOME/.local/bin" && on_path /usr/local/bin && [ -w /usr/local/bin ]; then
  BIN_DIR=/usr/local/bin
else
  BIN_DIR=$HOME/.local/bin
fi
mkdir -p "$BIN_DIR"
ln -sf "$VENV/bin/logomesh-tui" "$BIN_DIR/logomesh-tui"
echo "installed: $BIN_DIR/logomesh-tui -> $VENV/bin/logomesh-tui" >&2
if ! on_path "$BIN_DIR"; then
  echo "note: $BIN_DIR is not on your PATH; add it (e.g. echo 'export PATH=\"$BIN_DIR:\$PATH\"' >> ~/.bashrc)" \
       "or run $VENV/bin/logomesh-tui" >&2
fi
