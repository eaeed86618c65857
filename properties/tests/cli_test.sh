#!/usr/bin/env bash
# kconform's command line: exit codes, filters, the repro/replay round trip, fuzz shards and
# their merge, and what happens without a GPU. Usage: cli_test.sh KCONFORM WORKDIR
set -u
kc=$1
work=$2
rm -rf "$work" && mkdir -p "$work/repros" && cd "$work" || exit 1
failures=0
gpu=0
nvidia-smi -L >/dev/null 2>&1 && gpu=1

expect_rc() {  # expect_rc WANT description command...
  local want=$1 what=$2
  shift 2
  "$@" >out.txt 2>err.txt
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $what: exit $rc, want $want"; tail -5 out.txt err.txt; failures=$((failures + 1))
  else
    echo "ok: $what (exit $rc)"
  fi
}
expect_grep() {  # expect_grep TEXT FILE description (fixed strings)
  if grep -qF -- "$1" "$2"; then echo "ok: $3"; else echo "FAIL: $3 ('$1' not in $2)"; failures=$((failures + 1)); fi
}
expect_no_grep() {
  if grep -qF -- "$1" "$2"; then echo "FAIL: $3 ('$1' in $2)"; failures=$((failures + 1)); else echo "ok: $3"; fi
}

expect_rc 0 "help" "$kc" --help
expect_rc 2 "no command" "$kc"
expect_rc 2 "unknown command" "$kc" frobnicate
expect_rc 2 "unknown property" "$kc" check --property nope
expect_rc 2 "no pair matches" "$kc" check --subject no.such.subject
expect_rc 0 "list" "$kc" list
expect_grep "kc.twin.rmsnorm.hf" out.txt "list names the twins"
expect_no_grep "mutant." out.txt "list hides mutants by default"
expect_rc 0 "list --mutants" "$kc" list --mutants
expect_grep "mutant.missing_tail" out.txt "list --mutants shows them"

# A passing pair, with JSON.
expect_rc 0 "check passes" "$kc" check --subject kc.twin.rmsnorm.fp32 --property bounded_error \
  --cases 8 --json pass.json
expect_grep '"passed":true' pass.json "check --json records the pass"
# --dtype: every precision bucket is fp16.
expect_rc 0 "check --dtype fp16" "$kc" check --subject kc.twin.rmsnorm.hf --property bounded_error \
  --dtype fp16 --cases 12 --json fp16.json
expect_grep '"dtype":"fp16"' fp16.json "--dtype fp16 yields fp16 buckets"
expect_no_grep '"dtype":"bf16"' fp16.json "--dtype fp16 yields no bf16 bucket"
expect_no_grep '"dtype":"fp32"' fp16.json "--dtype fp16 yields no fp32 bucket"
# --shard splits the pairs.
expect_rc 0 "check --shard 0/3" "$kc" check --subject kc.twin.rmsnorm.fp32 --cases 3 --shard 0/3
expect_grep "3 pairs" out.txt "shard 0/3 of 7 properties runs 3 pairs"

# A failing pair: exit 1, a repro, and a replay that reproduces it bit for bit.
expect_rc 1 "check fails on a mutant" "$kc" check --mutants --subject mutant.out_of_bounds_write \
  --property bounded_error --cases 3 --repro-dir repros
expect_grep "replay: kconform replay" out.txt "a failure prints its replay command"
repro=$(ls repros/*.json 2>/dev/null | head -1)
if [ -n "$repro" ]; then
  expect_rc 1 "replay still fails" "$kc" replay "$repro"
  expect_grep "reproduced bit for bit" out.txt "replay reproduces the failure bit for bit"
else
  echo "FAIL: no repro written"; failures=$((failures + 1))
fi
expect_rc 2 "replay of a missing file" "$kc" replay does-not-exist.json

# Fuzz: two shards, then their merge.
expect_rc 0 "fuzz shard 0/2" "$kc" fuzz --seconds 2 --backend host --subject kc.twin.rmsnorm.fp32 \
  --property deterministic --shard 0/2 --json f0.json
expect_rc 0 "fuzz shard 1/2" "$kc" fuzz --seconds 2 --backend host --subject kc.twin.rmsnorm.fp32 \
  --property deterministic --shard 1/2 --json f1.json
expect_grep '"shards":2' f0.json "fuzz records its shard"
expect_rc 0 "fuzz --merge" "$kc" fuzz --merge f0.json f1.json --json merged.json
c0=$(grep -o '"cases":[0-9]*' f0.json | head -1 | cut -d: -f2)
c1=$(grep -o '"cases":[0-9]*' f1.json | head -1 | cut -d: -f2)
cm=$(grep -o '"cases":[0-9]*' merged.json | tail -1 | cut -d: -f2)
if [ "$((c0 + c1))" -eq "$cm" ]; then echo "ok: merged cases = $c0 + $c1"; else
  echo "FAIL: merged cases $cm != $c0 + $c1"; failures=$((failures + 1)); fi

# Without a GPU, GPU work is skipped with 77, never passed.
if [ "$gpu" -eq 0 ]; then
  expect_rc 77 "GPU subject without a GPU" "$kc" check --subject kc.gpu.rmsnorm.fp32 --cases 2
  expect_rc 77 "bench without a GPU" "$kc" bench
fi

echo "$failures failures"
[ "$failures" -eq 0 ]
