#!/usr/bin/env bash
# Set up the project in .venv: CPU torch first (any other torch pulls GB of CUDA), then the package.
# Usage: ./setup.sh [--dev]   (--dev adds test tools, Playwright and Debian's Chromium for browser tests)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
# Export the pinned encoder to ONNX now (once; its weights' sha256 checked first), so the first question does not
# wait for it: questions then run on onnxruntime without importing torch.
.venv/bin/python -c "from embeddings.encoder import load_encoder; load_encoder()"
