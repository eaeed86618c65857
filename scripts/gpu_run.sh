#!/usr/bin/env bash
# One GPU session on the GPU host (see the README, "GPU runs"): build, run the gpu-labelled tests
# (compute-sanitizer included), then the benchmarks; logs and JSON go to $OUT.
# Usage: scripts/gpu_run.sh [tests|bench|ncu|peers|all[,...]] [benchmark filter] [peers args]
#   e.g. scripts/gpu_run.sh tests,bench 'BM_Copy|BM_Decode/0/2/' --quick
set -uo pipefail
mode=${1:-all}
filter=${2:-.}
peer_args=${3:-}
has() { case ",$mode," in *",$1,"*|*",all,"*) return 0;; esac; return 1; }
out=${OUT:-/tmp/kc_out}
mkdir -p "$out"
build=/tmp/kc_build
if [ -d .deps ] && ls .deps/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/deps && for f in .deps/*.deb; do dpkg -x "$f" /tmp/deps; done
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv;
  nvcc --version | tail -2; } > "$out/env.txt" 2>&1
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=/tmp/deps/usr \
      -DCMAKE_CUDA_ARCHITECTURES=90a > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" -j 16 > "$out/build.log" 2>&1 || { grep -E 'error' "$out/build.log" | head -30; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
rc=0
if has tests; then
  ctest --test-dir "$build" -L gpu --output-on-failure -j 1 > "$out/ctest_gpu.log" 2>&1 || rc=1
  grep -E 'tests passed|Passed|Failed|Skipped|\*\*\*' "$out/ctest_gpu.log" | tail -25
fi
if has bench; then
  "$build/bench/rmsnorm_bench" --benchmark_filter="$filter" --benchmark_min_time=0.05s \
      --benchmark_out="$out/bench.json" --benchmark_out_format=json > "$out/bench.log" 2>&1 || rc=1
  grep -E 'BM_' "$out/bench.log" | awk '{ printf "%-60s", $1; for (i = 2; i <= NF; i++) if ($i ~ /GBps|pct_copy|us_per_call/) printf " %s", $i; print "" }' | tail -80
fi
if has ncu; then
  # Stall reasons and duration of one decode launch (1 x 1024 bf16) and memory throughput of one
  # bandwidth launch (fp16, 4096); caches and clocks as the benchmark sees them.
  ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  for f in 'BM_Decode/0/2/1/1024/1' 'BM_Bandwidth/0/1/4096'; do
    "$ncu" --kernel-name regex:norm_rows --launch-skip 3 --launch-count 1 --cache-control none \
        --clock-control none --section SpeedOfLight --section WarpStateStats --section LaunchStats \
        --section Occupancy --section MemoryWorkloadAnalysis \
        "$build/bench/rmsnorm_bench" --benchmark_filter="$f" --benchmark_min_time=0.01s \
        > "$out/ncu_$(echo "$f" | tr '/' '_').txt" 2>&1 || rc=1
    grep -E 'Duration|Stall|Throughput|Registers|Achieved Occupancy|Warp Cycles|Issued' \
        "$out/ncu_$(echo "$f" | tr '/' '_').txt" | head -30
  done
fi
if has peers; then
  PYTHONUNBUFFERED=1 python3 bench/torch_peers.py --out "$out/perf_torch.json" $peer_args \
      > "$out/peers.log" 2>&1 || rc=1
  tail -40 "$out/peers.log"
fi
echo "total: $(( $(date +%s) - start )) s, rc=$rc"
exit $rc
