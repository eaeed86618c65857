#!/bin/sh
# scripts/fetch_flashinfer.sh [DIR] [VERSION]
# Fetches FlashInfer's headers for the optional peer (never committed, never fetched by the
# build): downloads the flashinfer-python wheel with pip (no install, no dependencies), unpacks
# its include tree into DIR/include (default .peers/flashinfer, ignored by git) and prints the
# configure line. VERSION pins the wheel (default: the newest on the index). With
# KC_FETCH_OFFLINE=1 nothing is downloaded: the newest wheel already in DIR/wheel is unpacked.
set -eu
dir=${1:-.peers/flashinfer}
version=${2:-}
spec=flashinfer-python${version:+==$version}
mkdir -p "$dir/wheel"
[ -n "${KC_FETCH_OFFLINE:-}" ] || python3 -m pip download --no-deps --only-binary=:all: -d "$dir/wheel" "$spec"
wheel=$(ls -t "$dir"/wheel/flashinfer_python-*.whl | head -n 1)
got=$(basename "$wheel" | sed 's/^flashinfer_python-\([^-]*\)-.*/\1/')
rm -rf "$dir/include" "$dir/unpacked"
python3 - "$wheel" "$dir/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith("flashinfer/data/include/")])
PY
mv "$dir/unpacked/flashinfer/data/include" "$dir/include"
rm -rf "$dir/unpacked"
test -f "$dir/include/flashinfer/norm.cuh" || { echo "no flashinfer/norm.cuh in $wheel" >&2; exit 1; }
echo "FlashInfer $got headers in $dir/include. Configure with:"
echo "  cmake --preset default -DKC_FLASHINFER_INCLUDE=$(cd "$dir/include" && pwd) -DKC_FLASHINFER_VERSION=$got"
