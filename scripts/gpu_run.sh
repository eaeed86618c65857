#!/usr/bin/env bash
# One GPU session on the GPU host (see the README, "GPU runs"): build, then any of
#   tests  every gpu-labelled ctest (bitwise twin checks, the property suite against the GPU
#          subjects, GPU calibration mutants, regression replays, compute-sanitizer)
#   check  kconform check on the GPU subjects, 8 shards in parallel, JSON for the report
#   bench  the benchmark binary alone (our rows; filter as the second argument)
#   kbench kconform bench: our rows and the PyTorch peers, merged (the report's perf.json)
#   peers  the PyTorch peers alone (third argument: their options, e.g. --quick; families from
#          $KC_PEER_FAMILIES, default rmsnorm)
#   fi     the FlashInfer peer alone: its ctests (verbose) and kconform check on its subjects
#   classify  kconform classify of every FlashInfer subject and of kc.gpu.* subjects named in
#          $KC_CLASSIFY (default kc.gpu.fused_add_rmsnorm.hf)
#   ab     A/B of kernel variants (below)
#   ncu    Nsight Compute sections of one decode and one bandwidth launch ($KC_NCU: filters)
#   peerncu  the same for the torch.compile kernels of decode shapes ($KC_PEER_NCU: shapes of
#          bench/torch_kernels.py), with their Triton source and cubins
# FlashInfer: when .peers/flashinfer/include holds its headers (scripts/fetch_flashinfer.sh; carry
# that folder to the GPU host), the build includes the FlashInfer peer (version from
# $KC_FLASHINFER_VERSION): its gpu/peer ctests run under tests, its subjects under check, its
# benchmark rows under bench and kbench.
# Logs and JSON are written under $KC_LOGS and packed into $OUT/gpu_<modes>.tar.gz at the end
# (the device tool returns at most 8 files). env.json describes the GPU host for the report.
# Usage: scripts/gpu_run.sh MODES[,...] [benchmark filter] [peers args]
#   e.g. scripts/gpu_run.sh tests,check; scripts/gpu_run.sh bench 'BM_Copy|BM_Decode/0/2/'
# ab: KC_AB holds space-separated patch files (variants kept out of the product: a branch's
# `git diff main` saved under bench/notes/ or a carried folder); each is applied to a copy of
# this tree, built (the benchmark only) and run with the same filter as this tree's benchmark
# (mode bench), in the same session; ab.txt lists every row side by side (us per call for
# decode rows, % of the copy measured in the same process for bandwidth rows). KC_AB_FAMILY
# names the family benchmark (default rmsnorm).
set -uo pipefail
mode=${1:-tests}
filter=${2:-.}
peer_args=${3:-}
has() { case ",$mode," in *",$1,"*) return 0;; esac; return 1; }
out=${KC_LOGS:-/tmp/kc_logs}
mkdir -p "$out"
pack() {
  [ -n "${OUT:-}" ] && tar -czf "$OUT/gpu_$(echo "$mode" | tr ',' '_').tar.gz" -C "$out" . 2>/dev/null
}
trap pack EXIT
trap 'echo "stopped: time limit"; exit 124' TERM  # (timeout 500 scripts/gpu_run.sh ...)
build=/tmp/kc_build
if [ -d .deps ] && ls .deps/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/deps && for f in .deps/*.deb; do dpkg -x "$f" /tmp/deps; done
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv;
  nvcc --version | tail -2; } > "$out/env.txt" 2>&1
start=$(date +%s)
peer=()
fi_include=$PWD/.peers/flashinfer/include
if [ -f "$fi_include/flashinfer/norm.cuh" ]; then
  peer=(-DKC_FLASHINFER_INCLUDE="$fi_include" -DKC_FLASHINFER_VERSION="${KC_FLASHINFER_VERSION:-unknown}")
fi
# KC_EXTRA_SUBJECTS / KC_EXTRA_LIBRARIES: a user's own subjects (README, "Your own kernel as a
# subject"), built into this run's kconform.
extra=()
[ -n "${KC_EXTRA_SUBJECTS:-}" ] && extra+=("-DKC_EXTRA_SUBJECTS=$KC_EXTRA_SUBJECTS")
[ -n "${KC_EXTRA_LIBRARIES:-}" ] && extra+=("-DKC_EXTRA_LIBRARIES=$KC_EXTRA_LIBRARIES")
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=/tmp/deps/usr \
      -DCMAKE_CUDA_ARCHITECTURES=90a -DKC_LIBFUZZER=OFF "${peer[@]}" "${extra[@]}" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
# KC_BUILD_TARGETS (e.g. rmsnorm_bench) builds those targets alone, for runs that need no more.
cmake --build "$build" -j 16 ${KC_BUILD_TARGETS:+--target $KC_BUILD_TARGETS} > "$out/build.log" 2>&1 || { grep -E 'error' "$out/build.log" | head -30; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
rc=0
if has tests; then
  # The property ctests are independent processes; the sanitizer runs are slow but small.
  # KC_CTEST_REGEX / KC_CTEST_EXCLUDE narrow the gpu ctests (e.g. exclude the sanitizer runs).
  ctest --test-dir "$build" -L gpu --output-on-failure -j 8 --timeout 400 \
      ${KC_CTEST_REGEX:+-R "$KC_CTEST_REGEX"} ${KC_CTEST_EXCLUDE:+-E "$KC_CTEST_EXCLUDE"} \
      > "$out/ctest_gpu.log" 2>&1 || rc=1
  grep -E 'tests passed|tests failed|\(Failed|\(Subprocess|\(Timeout|Total Test' "$out/ctest_gpu.log" | tail -25
  grep -E 'mutant\.gpu\.|caught by' "$out/ctest_gpu.log" | head -12
  if [ ${#peer[@]} -gt 0 ]; then
    # The peer's ctests again, verbose: per-pair case counts (n/a included) and the measured
    # premises of its bound.
    ctest --test-dir "$build" -L peer -V -j 8 --timeout 400 > "$out/ctest_peer.log" 2>&1 || rc=1
    grep -E '^[0-9]+: \[1/1\]|relative error|batch_size 0|under capture' "$out/ctest_peer.log" | head -40
  fi
fi
kc="$build/properties/kconform"
if has fi && [ ${#peer[@]} -gt 0 ]; then
  ctest --test-dir "$build" -L peer -V -j 8 --timeout 400 > "$out/ctest_peer.log" 2>&1 || rc=1
  grep -E 'tests passed|tests failed|\(Failed|relative error|under capture' "$out/ctest_peer.log" | tail -12
  "$kc" check --subject 'flashinfer.*' --cases 500 --json "$out/check.flashinfer.json" \
      --repro-dir "$out/repros" --quiet > "$out/check.flashinfer.log" 2>&1 || rc=1
  tail -n 20 "$out/check.flashinfer.log"
fi
if has classify; then
  subjects="${KC_CLASSIFY:-kc.gpu.fused_add_rmsnorm.hf}"
  [ ${#peer[@]} -gt 0 ] && subjects="$subjects $("$kc" list | awk '/^flashinfer\./ {print $1}')"
  for s in $subjects; do
    "$kc" classify --subject "$s" --cases 60 --json "$out/classify.$s.json" \
        > "$out/classify.$s.log" 2>&1
    tail -n 1 "$out/classify.$s.log"
  done
fi
if has check; then
  t0=$(date +%s)
  pids=()
  for i in 0 1 2 3 4 5 6 7; do
    "$kc" check --shard "$i/8" --json "$out/check.$i.json" --repro-dir "$out/repros" --quiet \
        > "$out/check.$i.log" 2>&1 &
    pids+=($!)
  done
  crc=0
  for p in "${pids[@]}"; do wait "$p" || crc=1; done
  [ "$crc" -ne 0 ] && rc=1
  echo "check: 8 shards, status $crc, $(( $(date +%s) - t0 )) s"
  if [ ${#peer[@]} -gt 0 ]; then
    "$kc" check --subject 'flashinfer.*' --cases 500 --json "$out/check.flashinfer.json" \
        --repro-dir "$out/repros" --quiet > "$out/check.flashinfer.log" 2>&1 || rc=1
    tail -n 20 "$out/check.flashinfer.log"
  fi
  tail -q -n 2 "$out"/check.*.log | grep -v '^$' | head -16
fi
if has kbench; then
  "$kc" bench --out "$out/perf.json" > "$out/kbench.log" 2>&1 || rc=1
  tail -5 "$out/kbench.log"
fi
if has check || has kbench; then
  # This host's env.json (GPU, driver, toolkit, flags) for a report written elsewhere.
  "$kc" report --out "$out/report_env" --commit "${KC_COMMIT:-unknown}" > "$out/report_env.log" 2>&1 || true
fi
if has bench; then
  "$build/bench/${KC_AB_FAMILY:-rmsnorm}_bench" --benchmark_filter="$filter" --benchmark_min_time=0.05s \
      --benchmark_out="$out/bench.json" --benchmark_out_format=json > "$out/bench.log" 2>&1 || rc=1
  grep -E 'BM_' "$out/bench.log" | awk '{ printf "%-60s", $1; for (i = 2; i <= NF; i++) if ($i ~ /GBps|pct_copy|us_per_call/) printf " %s", $i; print "" }' | tail -80
fi
if has ab; then
  files=("$out/bench.json")
  names=("default")
  i=0
  fam=${KC_AB_FAMILY:-rmsnorm}
  for patch in ${KC_AB:-}; do
    i=$((i + 1))
    src=/tmp/kc_ab_src_$i
    tree=/tmp/kc_ab_$i
    rm -rf "$src" && mkdir -p "$src" && tar -cf - --exclude=./build --exclude=./.git . | tar -xf - -C "$src"
    (cd "$src" && patch -p1 -s < "$OLDPWD/$patch") > "$out/ab_patch_$i.log" 2>&1 ||
      { echo "ab: $patch does not apply"; rc=1; continue; }
    cmake -S "$src" -B "$tree" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=/tmp/deps/usr \
          -DCMAKE_CUDA_ARCHITECTURES=90a > "$out/ab_configure_$i.log" 2>&1 &&
      cmake --build "$tree" -j 16 --target "${fam}_bench" > "$out/ab_build_$i.log" 2>&1 ||
      { echo "ab: variant $patch did not build"; rc=1; continue; }
    "$tree/bench/${fam}_bench" --benchmark_filter="$filter" --benchmark_min_time=0.05s \
        --benchmark_out="$out/bench_ab_$i.json" --benchmark_out_format=json \
        > "$out/bench_ab_$i.log" 2>&1 || rc=1
    files+=("$out/bench_ab_$i.json")
    names+=("$(basename "$patch")")
  done
  python3 - "${#files[@]}" "${files[@]}" "${names[@]}" > "$out/ab.txt" <<'PY'
import json, sys
n = int(sys.argv[1]); files = sys.argv[2:2 + n]; names = sys.argv[2 + n:]
runs = [{b["name"]: b for b in json.load(open(f))["benchmarks"]} for f in files]
print("%-46s" % "benchmark" + "".join("%24s" % x[:23] for x in names))
for name in runs[0]:
    key = "us_per_call" if "Decode" in name else "pct_copy"
    vals = [r.get(name, {}).get(key) for r in runs]
    print("%-46s" % name.replace("/manual_time", "")[:46] +
          "".join("%24s" % ("-" if v is None else "%.3f" % v) for v in vals))
PY
  cat "$out/ab.txt"
fi
ncu_sections=(--section SpeedOfLight --section WarpStateStats --section LaunchStats
              --section Occupancy --section MemoryWorkloadAnalysis --section InstructionStats
              --section SchedulerStats --section SourceCounters --import-source no)
ncu_bin() { command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1; }
# One profiled launch: its report ($1.ncu-rep), the details page ($1.txt) and the source page
# ($1_sass.csv: per-instruction executed counts and stall samples).
ncu_report() {
  local name=$1; shift
  "$(ncu_bin)" --launch-count 1 --cache-control none --clock-control none "${ncu_sections[@]}" \
      -f -o "$out/$name" "$@" > "$out/$name.log" 2>&1 || { tail -5 "$out/$name.log"; rc=1; return; }
  "$(ncu_bin)" -i "$out/$name.ncu-rep" --page details > "$out/$name.txt" 2>&1
  "$(ncu_bin)" -i "$out/$name.ncu-rep" --page source --csv --print-source sass \
      > "$out/${name}_sass.csv" 2>&1 || true
  echo "== $name"
  grep -E 'Duration|Registers Per|Block Size|Grid Size|Executed Inst|Issued Warp|Warp Cycles Per Issued' \
      "$out/$name.txt" | head -12
}
if has ncu; then
  # Stall reasons, instruction counts and duration of launches named by benchmark filters
  # ($KC_NCU, space-separated; default one decode launch, 1 x 1024 bf16, and one bandwidth
  # launch, fp16 4096); caches and clocks as the benchmark sees them.
  for f in ${KC_NCU:-BM_Decode/0/2/1/1024/1 BM_Bandwidth/0/1/4096}; do
    ncu_report "ncu_$(echo "$f" | tr '/' '_')" --kernel-name regex:norm_rows --launch-skip 3 \
        "$build/bench/rmsnorm_bench" --benchmark_filter="$f" --benchmark_min_time=0.01s
  done
fi
if has peerncu; then
  # The same for the kernels torch.compile runs at decode shapes ($KC_PEER_NCU, space-separated
  # op/dtype/TOKENSxHIDDEN of bench/torch_kernels.py), with their Triton source, launch
  # metadata and cubins (triton_cache.tar.gz).
  export TORCHINDUCTOR_CACHE_DIR=/tmp/kc_inductor TRITON_CACHE_DIR=/tmp/kc_inductor/triton
  for s in ${KC_PEER_NCU:-rmsnorm.hf/bf16/1x1024}; do
    ncu_report "peerncu_$(echo "$s" | tr '/.' '__')" --nvtx --nvtx-include kc_profile/ \
        --launch-skip 2 python3 bench/torch_kernels.py "$s"
  done
  tar -czf "$out/triton_cache.tar.gz" -C /tmp/kc_inductor . 2>/dev/null || true
fi
if has peers; then
  PYTHONUNBUFFERED=1 python3 bench/torch_peers.py --out "$out/perf_torch.json" --families ${KC_PEER_FAMILIES:-rmsnorm} $peer_args \
      > "$out/peers.log" 2>&1 || rc=1
  tail -40 "$out/peers.log"
fi
echo "total: $(( $(date +%s) - start )) s, rc=$rc"
exit $rc
