#!/usr/bin/env bash
# Install LogoMesh TUI and what it needs, from the package registries only.
#   ./install.sh          the app, the TypeScript toolchain and the default model pool (4 models)
#   ./install.sh --test   also the test extras, tmux, and the models the tests use
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

# llama.cpp is built from source. A portable x86-64-v3 build: -march=native enables AMX on
# Sapphire Rapids hosts, and llama.cpp's AMX kernels crash there (SIGSEGV in ggml_backend_amx_mul_mat).
if [ "$(uname -m)" = "x86_64" ]; then
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON}"
fi

if [ "${1:-}" = "--test" ]; then
  "$PY" -m pip install -q -e '.[test,train]'
  if ! command -v tmux >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq tmux) >/dev/null 2>&1 || echo "warning: could not install tmux; the tmux test will fail" >&2
  fi
  "$PY" -m logomesh_tui.codepipe.toolchain
  "$PY" -m logomesh_tui models pull smollm2-135m gemma-3-270m
else
  "$PY" -m pip install -q -e .
  "$PY" -m logomesh_tui.codepipe.toolchain || echo "warning: TypeScript toolchain not installed (node/npm missing?); refactor needs it" >&2
  "$PY" -m logomesh_tui models pull --default-pool
fi
