#!/usr/bin/env bash
# kconform's command line: exit codes, filters, the repro/replay round trip, fuzz shards and
# their merge, and what happens without a GPU. Usage: cli_test.sh KCONFORM WORKDIR
set -u
kc=$1
here=$(cd "$(dirname "$0")" && pwd)
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
expect_grep "control.rmsnorm.hf" out.txt "list --mutants shows the controls"
expect_grep "rmsnorm      fused_add_rmsnorm" out.txt "list names each op's family"

# Strict input: every option validated up front (exit 2, naming the option and the rule).
expect_rc 2 "negative --cases" "$kc" check --subject kc.twin.rmsnorm.fp32 --cases -3
expect_grep "--cases -3" err.txt "names the option and value"
expect_rc 2 "--cases not a number" "$kc" check --subject kc.twin.rmsnorm.fp32 --cases 12abc
expect_rc 2 "--seed not a number" "$kc" check --subject kc.twin.rmsnorm.fp32 --seed xyz
expect_rc 2 "--seconds negative" "$kc" check --subject kc.twin.rmsnorm.fp32 --seconds -1
expect_rc 2 "--shard out of range" "$kc" check --subject kc.twin.rmsnorm.fp32 --shard 3/3
expect_rc 2 "--level unknown" "$kc" check --subject kc.twin.rmsnorm.fp32 --level fast
expect_rc 2 "unknown option" "$kc" check --subject kc.twin.rmsnorm.fp32 --casess 3
expect_grep "unknown option --casess" err.txt "names the unknown option"
expect_rc 2 "a flag given a value" "$kc" check --subject kc.twin.rmsnorm.fp32 --quiet=yes
expect_rc 2 "--dtype unknown" "$kc" check --subject kc.twin.rmsnorm.fp32 --dtype fp8
expect_rc 2 "--op unknown" "$kc" check --op layernorm
expect_rc 2 "--json in a missing directory" "$kc" check --subject kc.twin.rmsnorm.fp32 --cases 2 \
  --json no/such/dir/out.json
expect_grep "--json: cannot write no/such/dir/out.json" err.txt "names the --json path"
: > blocker
expect_rc 2 "--repro-dir that cannot be created" "$kc" check --subject kc.twin.rmsnorm.fp32 \
  --cases 2 --repro-dir blocker/repros
expect_grep "--repro-dir blocker/repros" err.txt "names the --repro-dir path"
# --subject is exact: a prefix of a name selects nothing (and says so); globs when asked.
expect_rc 2 "--subject is exact" "$kc" check --subject kc.twin.rmsnorm --cases 2
expect_rc 0 "--subject glob" "$kc" check --subject 'kc.twin.rmsnorm.*' --property deterministic \
  --cases 2
expect_grep "3 pairs, 3 passed" out.txt "the glob selects the three rmsnorm twins"
expect_no_grep "Using configuration" out.txt "RapidCheck's own seed line is not printed"
expect_no_grep "Using configuration" err.txt "RapidCheck's own seed line is not printed (stderr)"

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

# A failing pair: exit 1, a repro (into a directory created as needed), and a replay that
# reproduces it bit for bit.
expect_rc 1 "check fails on a mutant" "$kc" check --mutants --subject mutant.out_of_bounds_write \
  --property bounded_error --cases 3 --repro-dir new/repros
expect_grep "replay: kconform replay" out.txt "a failure prints its replay command"
repro=$(ls new/repros/*.json 2>/dev/null | head -1)
if [ -n "$repro" ]; then
  expect_rc 1 "replay still fails" "$kc" replay "$repro"
  expect_grep "reproduced bit for bit" out.txt "replay reproduces the failure bit for bit"
else
  echo "FAIL: no repro written"; failures=$((failures + 1))
fi
expect_rc 2 "replay of a missing file" "$kc" replay does-not-exist.json
# Version 1 repros (the norm family's parameters at the top level) replay as the same case.
data=$here/data
expect_rc 0 "a version-1 repro replays" "$kc" replay "$data/repro_v1.json"
expect_grep "passes now (ok)" out.txt "the version-1 repro's case runs"
if [ -n "$repro" ]; then
  # A repro edited into a case kconform cannot materialise, or with a broken field, is an
  # invalid repro (exit 2), never a pass.
  sed 's/"num_tokens": [0-9]*/"num_tokens": 1099511627776/' "$repro" > huge.json
  expect_rc 2 "repro with num_tokens 2^40" "$kc" replay huge.json
  expect_grep "invalid repro" err.txt "says invalid repro"
  sed 's/"seed": "0x/"seed": "0xzz/' "$repro" > badseed.json
  expect_rc 2 "repro with a bad seed" "$kc" replay badseed.json
  expect_grep "seed" err.txt "names the seed field"
  sed 's/"hidden": [0-9]*/"hidden": "many"/' "$repro" > badhidden.json
  expect_rc 2 "repro with a non-integer parameter" "$kc" replay badhidden.json
  sed 's/"row_classes": \[/"row_classes": ["purple", /' "$repro" > badclass.json
  expect_rc 2 "repro with an unknown class" "$kc" replay badclass.json
  expect_grep "purple" err.txt "names the unknown class"
  # Every field is named with its value and the rule.
  sed 's/"hidden": [0-9]*/"hidden": -5/' "$repro" > neghidden.json
  expect_rc 2 "repro with a negative hidden" "$kc" replay neghidden.json
  expect_grep "-5 columns" err.txt "says the columns are negative"
  sed '0,/"in_place": false/s//"in_place": 3/' "$repro" > badbool.json
  expect_rc 2 "repro with a non-boolean in_place" "$kc" replay badbool.json
  expect_grep "field tensors[0].in_place = 3: want true or false" err.txt "names the field, value and rule"
  sed 's/"dtype": "[a-z0-9]*"/"dtype": 16/' "$repro" > baddtype.json
  expect_rc 2 "repro with a numeric dtype" "$kc" replay baddtype.json
  expect_grep "field dtype = 16: want a string" err.txt "names the dtype field"
fi
# Without --repro-dir, repros go to ./repros (created).
rm -rf repros
expect_rc 1 "default repro dir" "$kc" check --mutants --subject mutant.missing_tail \
  --property bounded_error --cases 20
if ls repros/*.json >/dev/null 2>&1; then echo "ok: repro written into ./repros"; else
  echo "FAIL: no repro in ./repros"; failures=$((failures + 1)); fi

# classify: the mutant that normalises the rounded sum's scale with the fp32 sum's variance is
# the legacy_mixed profile and nothing else; a twin is its own profile.
expect_rc 1 "classify a mutant" "$kc" classify --subject mutant.legacy_mixed_as_fp32_sum \
  --dtype bf16 --cases 40
expect_grep "implements: fused_add_rmsnorm.legacy_mixed" out.txt \
  "legacy_mixed_as_fp32_sum classifies as fused_add_rmsnorm.legacy_mixed only"
expect_rc 0 "classify a twin" "$kc" classify --subject kc.twin.rmsnorm.hf --dtype bf16 --cases 40
expect_grep "implements: rmsnorm.hf" out.txt "the hf twin classifies as rmsnorm.hf only"
expect_rc 2 "classify without a subject" "$kc" classify

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
