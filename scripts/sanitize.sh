#!/usr/bin/env bash
# Runs a GPU test executable under compute-sanitizer (tool: memcheck, racecheck, ...).
# Exits 77 (ctest: skipped) where there is no GPU or no compute-sanitizer.
set -u
tool=$1
shift
cs=$(command -v compute-sanitizer 2>/dev/null || true)
[ -n "$cs" ] || [ ! -x /usr/local/cuda/bin/compute-sanitizer ] || cs=/usr/local/cuda/bin/compute-sanitizer
if [ -z "$cs" ]; then echo "compute-sanitizer not found: skipped"; exit 77; fi
if ! nvidia-smi -L >/dev/null 2>&1; then echo "no GPU: skipped"; exit 77; fi
exec "$cs" --tool "$tool" --error-exitcode 1 "$@"
