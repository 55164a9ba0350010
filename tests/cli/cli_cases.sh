#!/bin/bash
# End-to-end cases of the `nibble` command that need the whole binary: the
# sweep command locally, under MPI and resumed; `nibble report`; the main job;
# the CLI's conventions (help, version, suggestions, exit codes).
#
# usage: cli_cases.sh CASE NIBBLE SOURCE_DIR WORK_DIR
set -euo pipefail
case_name=$1
nibble=$2
src=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

fail() { echo "FAIL: $*" >&2; exit 1; }

# A 6-point sweep small enough for CI: 3 array sizes x 2 dataflows of the
# 4-bit design on fmnist-cnn, batch 8, plus one point that cannot fit.
write_sweep() {
  cat > sweep.yaml <<YAML
name: cli-test
design: $src/hw/designs/int4-train.yaml
parameters:
  array.rows: [32, 64, 128]
  array.dataflow: [ws, os]
workloads:
  - {model: fmnist-cnn, batch: 8}
YAML
}

case "$case_name" in
  sweep-mpi-matches-local)
    write_sweep
    "$nibble" sweep sweep.yaml --jobs 2 --out local --quiet
    mpirun -np 2 "$nibble" sweep sweep.yaml --mpi --out mpi --quiet
    cmp local/sweep.csv mpi/sweep.csv || fail "MPI sweep.csv differs from the local one"
    cmp local/report.html mpi/report.html || fail "MPI report.html differs from the local one"
    rows=$(($(wc -l < local/sweep.csv) - 1))
    [ "$rows" -eq 6 ] || fail "expected 6 points, got $rows"
    ok=$(grep -c ',ok,' local/sweep.csv)
    [ "$ok" -eq 6 ] || fail "expected 6 ok points, got $ok"
    ;;
  sweep-resume)
    write_sweep
    "$nibble" sweep sweep.yaml --jobs 2 --out full --quiet
    cp -r full resumed
    rm resumed/points/p0002.json resumed/points/p0005.json resumed/sweep.csv
    "$nibble" sweep sweep.yaml --jobs 1 --out resumed --resume > resumed.txt
    grep -q '6 points, 6 evaluated, 0 failed, 4 reused' resumed.txt || { cat resumed.txt; fail "expected 4 reused points"; }
    cmp full/sweep.csv resumed/sweep.csv || fail "resumed sweep.csv differs"
    ;;
  sweep-bad-point)
    # rows 256 does not divide the design's FP16 chunk of 128: that point fails, the others run.
    cat > sweep.yaml <<YAML
design: $src/hw/designs/int4-train.yaml
parameters:
  array.rows: [64, 256]
workloads:
  - {model: fmnist-mlp, batch: 8}
YAML
    "$nibble" sweep sweep.yaml --jobs 2 --out out > out.txt
    grep -q '2 points, 1 evaluated, 1 failed' out.txt || { cat out.txt; fail "expected one failed point"; }
    grep -q 'p0001: .*array.chunk' out.txt || { cat out.txt; fail "the failed point's message should name array.chunk"; }
    grep -q 'Failed points' out/report.html || fail "report.html should list the failed point"
    ;;
  report-rerenders-sweep)
    write_sweep
    "$nibble" sweep sweep.yaml --jobs 2 --out s --quiet
    cp s/report.html original.html
    rm s/report.html
    "$nibble" report s > /dev/null
    cmp original.html s/report.html || fail "re-rendered sweep page differs from the original"
    ;;
  main-job)
    "$nibble" run --out out --train-subset 1000 --quiet > out.txt
    tail -n 1 out.txt | grep -q '^open out/report.html' || { cat out.txt; fail "last line must say where to look"; }
    for f in report.html summary.json commands.txt compare/summary.json compare/a/layers.csv compare/b/report.html \
             train-fp32/summary.json train-int4-fp4/summary.json; do
      [ -s "out/$f" ] || fail "missing out/$f"
    done
    grep -q 'speedup (B time / A time)' out.txt || fail "the table must have the speedup"
    grep -q 'accuracy fmnist-mlp int4-fp4' out.txt || fail "the table must have the int4-fp4 accuracy"
    grep -q '(iso-area)' out.txt || fail "B must be resized to A's area"
    for side in A B; do
      grep -q "Units over the whole step: $side, " out/report.html || fail "the main page lacks the timeline of $side"
    done
    cp out/report.html original.html
    "$nibble" report out > /dev/null
    cmp original.html out/report.html || fail "nibble report must re-render the same page"
    ;;
  conventions)
    "$nibble" --version | grep -Eq '^nibble [0-9]+\.[0-9]+' || fail "--version"
    for c in run numerics trace simulate train compare cosim scalesim sweep report; do
      "$nibble" "$c" --help > help.txt || fail "$c --help exited non-zero"
      grep -A1 '^example:' help.txt | grep -q "^  nibble $c" || fail "$c --help has no example"
    done
    set +e
    "$nibble" simulte --help 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "unknown command: exit $rc, expected 2"
    grep -q "did you mean 'simulate'" err.txt || fail "no suggestion for a misspelled command"
    set +e
    "$nibble" simulate --desing x.yaml 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "unknown flag: exit $rc, expected 2"
    grep -q -- "--design" err.txt || fail "no suggestion for a misspelled flag"
    set +e
    "$nibble" sweep missing.yaml --out o 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "missing sweep file: exit $rc, expected 2"
    grep -q '^nibble: missing.yaml' err.txt || { cat err.txt; fail "the message must start with the file"; }
    ;;
  timeline-flag)
    # --timeline takes none, layers or ops; anything else is a usage error (exit 2) naming the flag.
    for c in "simulate --design $src/hw/designs/int4-train.yaml" \
             "compare $src/hw/designs/int4-train.yaml $src/hw/designs/fp16-baseline.yaml"; do
      for bad in fast OPS ""; do
        set +e
        "$nibble" $c --model fmnist-mlp --timeline "$bad" --out o 2> err.txt; rc=$?
        set -e
        [ $rc -eq 2 ] || fail "$c --timeline '$bad': exit $rc, expected 2"
        grep -q -- "--timeline: expected none, layers or ops, got '$bad'" err.txt || { cat err.txt; fail "message"; }
      done
      set +e
      "$nibble" $c --model fmnist-mlp --out o --timeline 2> err.txt; rc=$?
      set -e
      [ $rc -eq 2 ] || fail "$c --timeline without a value: exit $rc, expected 2"
      grep -q -- "--timeline: missing value" err.txt || { cat err.txt; fail "message without a value"; }
    done
    [ ! -e o ] || fail "a bad --timeline must not create the output directory"
    "$nibble" simulate --help | grep -q -- "--timeline none|layers|ops" || fail "simulate --help lacks --timeline"
    "$nibble" simulate --design "$src/hw/designs/int4-train.yaml" --model fmnist-mlp --timeline=layers --out s --quiet
    grep -q '"detail": "layers"' s/timeline.json || fail "--timeline=layers must write layers detail"
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
echo "ok: $case_name"
