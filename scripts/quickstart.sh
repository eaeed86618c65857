#!/usr/bin/env bash
# kconform's main job on a fresh machine: install the Debian packages, build, run the property
# suite on the best backend present (GPU subjects with a GPU, the host twins without), benchmark
# when there is a GPU, and write the per-commit report. Exit status: that of the check.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
cmake --preset default >/dev/null || exit 1
cmake --build --preset default || exit 1
kc=build/default/properties/kconform
sha=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
out=out/$sha
mkdir -p "$out/repros"
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 4 ] && jobs=4
echo "== kconform check ($jobs shards)"
pids=()
for ((i = 0; i < jobs; i++)); do
  "$kc" check --shard "$i/$jobs" --json "$out/check.$i.json" --repro-dir "$out/repros" --quiet &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
  wait "$p" || rc=$?
done
checks=()
for f in "$out"/check.*.json; do checks+=(--check "$f"); done
perf=()
if nvidia-smi -L >/dev/null 2>&1; then
  echo "== kconform bench"
  "$kc" bench --out "$out/perf.json" && perf=(--perf "$out/perf.json")
fi
echo "== kconform report"
"$kc" report "${checks[@]}" "${perf[@]}" --out "reports/$sha"
echo "report: reports/$sha/summary.md"
[ "$rc" -eq 77 ] && rc=0
exit "$rc"
