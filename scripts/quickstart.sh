#!/usr/bin/env bash
# kconform's main job on a fresh machine: install the Debian packages, build, run the CPU
# conformance suite and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default -L cpu
