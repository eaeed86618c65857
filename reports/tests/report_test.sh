#!/usr/bin/env bash
# kconform report from recorded JSON (reports/tests/data: a real check run on the twins and real
# H100 benchmark rows): the files, the tables, the targets, and the baseline diff, which must
# flag every planted regression (a pair now failing, a worse max ULP, bandwidth -20%, decode
# +20%) and nothing when a report is compared with itself. Usage: report_test.sh KCONFORM DATA WORK
set -u
kc=$1
data=$2
work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; failures=$((failures + 1)); fi; }

"$kc" report --check "$data/check_base.json" --perf "$data/perf_base.json" --out base >out.txt 2>&1
check "[ $? -eq 0 ]" "report from recorded JSON"
for f in env.json precision.json perf.json summary.md; do
  check "[ -s base/$f ]" "base/$f written"
done
check "grep -qF '## Conformance' base/summary.md" "summary has the conformance section"
check "grep -qF 'kc.twin.rmsnorm.hf | bf16 |' base/summary.md" "summary has the precision table"
check "grep -qF 'Device-to-device copy' base/summary.md" "summary states the copy ceiling"
check "grep -qE '^\| kconform \| rmsnorm.fp32 \| bf16 \| [0-9]+ \(' base/summary.md" "bandwidth table row"
check "grep -qF 'Targets of the rmsnorm family' base/summary.md" "targets section (from the family)"
check "grep -qF '\"bucket\":\"hidden<=' base/precision.json" "precision.json per hidden bucket"
check "grep -qF '\"conformance\"' base/precision.json" "precision.json records pass/fail per pair"
check "grep -qF 'p99_ulp' base/precision.json" "precision.json has p99"
if command -v gnuplot >/dev/null 2>&1; then
  check "[ -s base/rmsnorm_bandwidth_bf16.png ] && [ -s base/precision_hist.png ]" "plots rendered"
fi

"$kc" report --check "$data/check_base.json" --perf "$data/perf_base.json" --baseline base \
  --out same --strict >out.txt 2>&1
check "[ $? -eq 0 ]" "a report against itself passes --strict"
check "grep -qF 'No regression beyond noise' same/summary.md" "no regression against itself"

"$kc" report --check "$data/check_regressed.json" --perf "$data/perf_regressed.json" --baseline base \
  --out now --strict >out.txt 2>&1
check "[ $? -eq 1 ]" "planted regressions fail --strict"
check "grep -qF '**REGRESSION** conformance kc.twin.' now/summary.md" "conformance regression flagged"
check "grep -qF '**REGRESSION** precision kc.twin.' now/summary.md" "precision regression flagged"
check "grep -qF '**REGRESSION** bandwidth rmsnorm.fp32 bf16' now/summary.md" "bandwidth regression flagged"
check "grep -qF '**REGRESSION** decode rmsnorm.fp32 bf16 1x1024' now/summary.md" "decode regression flagged"
n=$(grep -c 'REGRESSION' now/summary.md)
check "[ $n -eq 4 ]" "exactly the 4 planted regressions flagged ($n)"

printf 'A planted analysis line.\n' > notes.md
"$kc" report --check "$data/check_base.json" --perf "$data/perf_base.json" --notes notes.md \
  --out noted >out.txt 2>&1
check "[ $? -eq 0 ]" "report with --notes"
check "grep -A2 -F '### Why' noted/summary.md | grep -qF 'A planted analysis line.'" \
  "the notes follow the target list under 'Why'"
"$kc" report --check "$data/check_base.json" --notes missing.md --out unnoted >out.txt 2>&1
check "[ $? -eq 2 ] && [ ! -e unnoted ]" "unreadable notes: usage error, nothing written"
sed 's|"executable":"rmsnorm_bench"|"executable":"/planted/build/dir/rmsnorm_bench"|' \
  "$data/perf_base.json" > perf_abs.json
check "grep -qF '/planted/build/dir/' perf_abs.json" "planted an absolute executable path"
"$kc" report --perf perf_abs.json --out scrubbed >out.txt 2>&1
check "grep -qF '\"executable\":\"rmsnorm_bench\"' scrubbed/perf.json && \
       ! grep -qF '/planted/' scrubbed/perf.json" \
  "perf.json names the benchmark executable without its directory"

# FlashInfer peer rows (real H100 rows of rmsnorm.fp32 bf16, ours and FlashInfer 0.7.2.post1).
"$kc" report --perf "$data/perf_flashinfer.json" --out fi >out.txt 2>&1
check "[ $? -eq 0 ]" "report with FlashInfer rows"
check "grep -qE '^\| flashinfer \| rmsnorm.fp32 \| bf16 \| [0-9]+ \(' fi/summary.md" \
  "FlashInfer bandwidth row in the table"
check "grep -qE '/ [0-9.]+ flashinfer \|' fi/summary.md" "decode table against FlashInfer (the best peer there)"
check "grep -qE 'PDL on: kconform is faster than the best peer at \*\*[0-9]+ of 25\*\* shapes; than flashinfer at [0-9]+ of 25' \
  fi/summary.md" "every FlashInfer decode shape compared (25, PDL on as recorded)"
check "grep -qE 'than flashinfer at [0-9]+ of 5 shapes' fi/summary.md" "every FlashInfer bandwidth shape compared (5)"

echo "$failures failures"
[ "$failures" -eq 0 ]
