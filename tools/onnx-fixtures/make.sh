#!/usr/bin/env bash
# Regenerates test/fixtures/onnx/* with real PyTorch. Makes .venv-fixtures/ (gitignored) at the repository root on
# first use, pinned to the versions the committed fixtures were made with, then runs make_fixtures.py.
#   tools/onnx-fixtures/make.sh            all families
#   tools/onnx-fixtures/make.sh vgg mlp_ln only these
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu selects PyTorch's CPU-only wheel (much smaller download;
# the committed files were made with the PyPI (CUDA) wheel, run on the CPU, so the JSON's torchVersion then differs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv-fixtures"
py="$venv/bin/python"

TORCH=2.15.0
PINS=(onnx==1.23.2 onnxscript==0.7.2 onnx-ir==1.1.0 numpy==2.4.6 ml_dtypes==0.6.0 protobuf==7.36.2)

have() {
  "$py" - "$TORCH" <<'PY' 2>/dev/null
import sys, torch, onnx, onnxscript
sys.exit(0 if torch.__version__.split("+")[0] == sys.argv[1] and onnx.__version__ == "1.23.2" and onnxscript.__version__ == "0.7.2" else 1)
PY
}

if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
fi
if ! have; then
  echo "onnx-fixtures: installing torch==$TORCH ${PINS[*]} into .venv-fixtures (pip, once)…"
  "$py" -m pip install --quiet --disable-pip-version-check ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==$TORCH"
  "$py" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
  have || { echo "onnx-fixtures: pip ran, but .venv-fixtures does not import torch $TORCH / onnx 1.23.2 / onnxscript 0.7.2" >&2; exit 1; }
fi
exec "$py" "$root/tools/onnx-fixtures/make_fixtures.py" "$@"
