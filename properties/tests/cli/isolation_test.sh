#!/usr/bin/env bash
# kconform past subjects that crash, abort or hang (kconform_misbehaving: kconform plus the
# test-only subjects of properties/tests/core/misbehaving_subjects*.{cpp,cu}): check, fuzz,
# classify and replay record each as a failing pair with a repro and go on with the next pair;
# JSON records it; the output reaches a redirected stdout. Usage:
#   isolation_test.sh KCONFORM_MISBEHAVING WORKDIR host|gpu
# The gpu half exits 77 where there is no GPU.
set -u
kc=$1
work=$2
mode=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
failures=0

expect_rc() {  # expect_rc WANT description command...  (stdout to out.txt: a file, not a tty)
  local want=$1 what=$2
  shift 2
  "$@" >out.txt 2>err.txt
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $what: exit $rc, want $want"; tail -n 8 out.txt err.txt; failures=$((failures + 1))
  else
    echo "ok: $what (exit $rc)"
  fi
}
expect_grep() {  # expect_grep TEXT FILE description (fixed strings)
  if grep -qF -- "$1" "$2"; then echo "ok: $3"; else echo "FAIL: $3 ('$1' not in $2)"; failures=$((failures + 1)); fi
}
first_repro() { ls "$1"/*.json 2>/dev/null | head -1; }

if [ "$mode" = host ]; then
  # A subject that writes 8 KiB past its output, between two pairs that pass.
  expect_rc 1 "check goes on after a crashing pair" "$kc" check --subject kc.twin.rmsnorm.fp32 \
    --subject test.host.wild_write --subject kc.twin.rmsnorm.hf --property deterministic \
    --json crash.json --repro-dir crash
  expect_grep "3 pairs, 2 passed, 1 failed" out.txt "the pairs after the crash ran"
  expect_grep "crashed: SIGSEGV at output@byte" out.txt \
    "the fault is attributed to the output arena, on a redirected stdout"
  expect_grep "tokens=3 hidden=1 " out.txt "the crash is shrunk to the smallest batch that crashes"
  expect_grep '"passed":false' crash.json "JSON records the failing pair"
  expect_grep 'crashed: SIGSEGV' crash.json "JSON records the crash"
  expect_grep '"subject":"kc.twin.rmsnorm.hf"' crash.json "JSON records the pair after the crash"
  repro=$(first_repro crash)
  if [ -n "$repro" ]; then
    expect_rc 1 "replay of the crash" "$kc" replay "$repro"
    expect_grep "reproduced bit for bit" out.txt "the replayed crash is the recorded one"
    expect_rc 139 "the same repro in process kills kconform (what isolation prevents)" \
      "$kc" replay --in-process "$repro"
  else
    echo "FAIL: no repro of the crash"; failures=$((failures + 1))
  fi

  # A subject that hangs from 2 tokens of 2 elements on: killed after --case-seconds.
  expect_rc 1 "check past a hang" "$kc" check --subject test.host.hang --subject \
    kc.twin.rmsnorm.fp32 --property deterministic --case-seconds 0.3 --repro-dir hang
  expect_grep "2 pairs, 1 passed, 1 failed" out.txt "the pair after the hang ran"
  expect_grep "hung: the case ran for more than 0.3 s" out.txt "the hang is named"
  expect_grep "tokens=2 hidden=2 " out.txt "the hang is shrunk to 2 tokens of 2 elements"
  [ -n "$(first_repro hang)" ] && echo "ok: the hang has a repro" ||
    { echo "FAIL: no repro of the hang"; failures=$((failures + 1)); }

  # fuzz and classify go on past an abort (bf16 rows longer than 1000).
  expect_rc 1 "fuzz past an abort" "$kc" fuzz --seconds 3 --subject test.host.abort \
    --subject kc.twin.rmsnorm.fp32 --property deterministic --round-cases 30 --json fuzz.json \
    --repro-dir fuzz
  expect_grep "crashed: SIGABRT" out.txt "fuzz reports the abort"
  expect_grep '"subject":"kc.twin.rmsnorm.fp32"' fuzz.json "fuzz ran the other pair"
  expect_rc 1 "classify past an abort" "$kc" classify --subject test.host.abort --dtype bf16 \
    --cases 40
  expect_grep "crashed: SIGABRT" out.txt "classify reports the abort"
  expect_grep "test.host.abort implements:" out.txt "classify finishes its matrix"

  # --case-seconds is validated.
  expect_rc 2 "--case-seconds 0" "$kc" check --subject kc.twin.rmsnorm.fp32 --case-seconds 0
  expect_rc 2 "--case-seconds abc" "$kc" check --subject kc.twin.rmsnorm.fp32 --case-seconds abc
  expect_rc 2 "--case-seconds on replay" "$kc" replay --case-seconds -1 x.json
else
  if ! nvidia-smi -L >/dev/null 2>&1; then
    echo "no GPU: skipped"
    exit 77
  fi
  # A kernel that writes 64 KiB past its output: inside the device canary zone.
  expect_rc 1 "a write into the device canary zone" "$kc" check --subject test.gpu.zone_write \
    --property deterministic --repro-dir zone
  expect_grep "in the device canary zone" out.txt "the zone write is reported with its offset"
  # A kernel that writes 64 GiB past its output: an illegal address, the context lost; the next
  # pair runs in a fresh process with a fresh context.
  expect_rc 1 "an illegal address" "$kc" check --subject test.gpu.far_write \
    --subject kc.gpu.rmsnorm.fp32 --property deterministic --json far.json --repro-dir far
  expect_grep "2 pairs, 1 passed, 1 failed" out.txt "the GPU pair after the illegal address ran"
  expect_grep "illegal" out.txt "the sticky error is named"
  expect_grep "tokens=3 " out.txt "the illegal address is shrunk to the smallest batch"
  repro=$(first_repro far)
  if [ -n "$repro" ]; then
    expect_rc 1 "replay of the illegal address" "$kc" replay "$repro"
    expect_grep "reproduced bit for bit" out.txt "the replayed illegal address is the recorded one"
  fi
  # A kernel that never ends.
  expect_rc 1 "a kernel that never ends" "$kc" check --subject test.gpu.hang \
    --subject kc.gpu.rmsnorm.hf --property deterministic --case-seconds 5 --repro-dir ghang
  expect_grep "2 pairs, 1 passed, 1 failed" out.txt "the GPU pair after the hang ran"
  expect_grep "hung: the case ran for more than 5 s" out.txt "the GPU hang is named"
fi

echo "$failures failures"
[ "$failures" -eq 0 ]
