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

design=$src/hw/designs/int4-single-array.yaml
# A simulation whose forked child runs for minutes: the bit-exact check of every op of ResNet-18.
slow_simulate=(simulate --design "$design" --model resnet18 --batch 8 --functional
               --functional-max-macs 1000000000000 --quiet)
# Prints the pid of the first child of $1 once it exists (10 s at most).
wait_for_child() {
  local child
  for _ in $(seq 100); do
    child=$(cat /proc/"$1"/task/*/children 2> /dev/null | awk 'NF { print $1; exit }')
    [ -n "$child" ] && { echo "$child"; return 0; }
    sleep 0.1
  done
  return 1
}

# A 6-point sweep small enough for CI: 3 array sizes x 2 dataflows of the
# 4-bit design on fmnist-cnn, batch 8, plus one point that cannot fit.
write_sweep() {
  cat > sweep.yaml <<YAML
name: cli-test
design: $src/hw/designs/int4-single-array.yaml
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
design: $src/hw/designs/int4-single-array.yaml
parameters:
  array.rows: [64, 256]
workloads:
  - {model: fmnist-mlp, batch: 8}
YAML
    set +e
    "$nibble" sweep sweep.yaml --jobs 2 --out out > out.txt 2> err.txt; rc=$?
    set -e
    [ $rc -eq 1 ] || fail "a sweep with a failed point: exit $rc, expected 1"
    grep -q '2 points, 1 evaluated, 1 failed' out.txt || { cat out.txt; fail "expected one failed point"; }
    grep -q 'p0001: .*array.chunk' out.txt || { cat out.txt; fail "the failed point's message should name array.chunk"; }
    grep -q 'Failed points' out/report.html || fail "report.html should list the failed point"
    ;;
  sweep-failed-exit)
    # Bad input (the design file is missing) is exit 2 before any point runs,
    # naming the sweep file's line; points that fail make it exit 1 with one line
    # on stderr, locally and under MPI, even with --quiet.
    printf 'design: missing-design.yaml\nworkloads:\n  - {model: fmnist-mlp, batch: 8}\n' > missing.yaml
    set +e
    "$nibble" sweep missing.yaml --jobs 2 --out m --quiet 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || { cat err.txt; fail "missing design: exit $rc, expected 2"; }
    grep -q "^nibble: missing.yaml:1: design: '.*missing-design.yaml': cannot open" err.txt ||
      { cat err.txt; fail "the message must name the sweep file, its line and the design"; }
    [ ! -e m/sweep.csv ] || fail "bad input must not write sweep.csv"
    # Every point fails (rows 256 and 512 do not divide the FP16 chunk of 128).
    cat > all-fail.yaml <<YAML
design: $src/hw/designs/int4-single-array.yaml
parameters:
  array.rows: [256, 512]
workloads:
  - {model: fmnist-mlp, batch: 8}
YAML
    runs=("$nibble sweep all-fail.yaml --jobs 2 --out local --quiet")
    if [ "${NIBBLE_TEST_MPI:-0}" = 1 ]; then
      runs+=("mpirun -np 2 $nibble sweep all-fail.yaml --mpi --out mpi --quiet")
    fi
    for run in "${runs[@]}"; do
      set +e
      $run > out.txt 2> err.txt; rc=$?
      set -e
      [ $rc -eq 1 ] || { cat err.txt; fail "$run: every point failed: exit $rc, expected 1"; }
      grep -q '^nibble sweep: 2 of 2 points failed (first: p0000: .*array.chunk.*); every point is in .*/sweep.csv$' err.txt ||
        { cat err.txt; fail "$run: expected the one-line summary"; }
      [ ! -s out.txt ] || fail "$run: --quiet must print nothing on stdout"
    done
    # All points fine: exit 0 (the check is not one that always fails).
    sed 's/\[256, 512\]/[64]/' all-fail.yaml > fine.yaml
    "$nibble" sweep fine.yaml --jobs 1 --out fine --quiet || fail "a sweep with no failed point must exit 0"
    ;;
  orphans)
    # The parent of a forked simulation is killed (SIGKILL, SIGTERM, SIGINT):
    # its child must end too, and no temporary may be left in --out. The
    # functional check of every op of ResNet-18 keeps the child busy for minutes.
    for sig in KILL TERM INT; do
      "$nibble" "${slow_simulate[@]}" --out "o-$sig" 2> /dev/null & pid=$!
      child=$(wait_for_child "$pid") || fail "no simulation child appeared under $pid"
      kill -"$sig" "$pid"
      set +e
      wait "$pid"; rc=$?
      set -e
      [ $rc -ne 0 ] || fail "SIG$sig: the killed run exited 0"
      for _ in $(seq 50); do kill -0 "$child" 2> /dev/null || break; sleep 0.1; done
      if kill -0 "$child" 2> /dev/null; then kill -9 "$child"; fail "SIG$sig: simulation child $child outlived its parent"; fi
      ! ls -A "o-$sig" | grep -q '\.tmp\.' || fail "SIG$sig: temporaries left in o-$sig"
    done
    ;;
  out-locked)
    # Two runs, one --out: the second is refused (exit 2, naming the holder)
    # while the first holds the folder, and allowed once it has ended.
    "$nibble" "${slow_simulate[@]}" --out shared 2> /dev/null & pid=$!
    wait_for_child "$pid" > /dev/null || fail "no simulation child appeared under $pid"
    set +e
    "$nibble" simulate --design "$design" --model fmnist-mlp --batch 8 --out shared --quiet 2> err.txt; rc=$?
    set -e
    kill -TERM "$pid"; wait "$pid" || true
    [ $rc -eq 2 ] || { cat err.txt; fail "second run into a held folder: exit $rc, expected 2"; }
    grep -qx "nibble: shared: --out: another nibble run (pid $pid) is writing into this folder; wait for it to end or choose another --out" \
      err.txt || { cat err.txt; fail "the refusal must name the holder's pid"; }
    [ ! -e shared/summary.json ] || fail "the refused run must not write"
    "$nibble" simulate --design "$design" --model fmnist-mlp --batch 8 --out shared --quiet ||
      fail "once the first run has ended the folder is free"
    [ -s shared/report.html ] || fail "missing shared/report.html"
    ;;
  disk-full)
    # A 40 KiB tmpfs holds the lock, the marker, summary.json (12 KB) and
    # layers.csv (3 KB) but not report.html (35 KB): the run must exit 2 with a
    # clear message and leave none of the three (they are renamed together).
    # Mounting needs root (CI runs as root); elsewhere the case is skipped.
    mkdir -p small
    mount -t tmpfs -o size=40k tmpfs small 2> /dev/null || { echo "skipped: cannot mount a tmpfs"; exit 77; }
    trap 'umount "$work/small"' EXIT
    set +e
    "$nibble" simulate --design "$design" --model fmnist-mlp --batch 8 --out small/o --quiet 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || { cat err.txt; fail "full disk: exit $rc, expected 2"; }
    grep -q '^nibble: small/o/report.html: cannot write: No space left on device (free some space and run again; no output of this run was kept)$' \
      err.txt || { cat err.txt; fail "full disk: expected a message naming the file and the cause"; }
    for f in summary.json layers.csv report.html; do [ ! -e "small/o/$f" ] || fail "half a set: small/o/$f was kept"; done
    ! ls -A small/o | grep -q '\.tmp\.' || fail "temporaries left on the full disk"
    ;;
  time-overflow)
    # SystemC time is 64-bit picoseconds: a run of T cycles fits at a clock
    # period of p ps while T * p <= 2^64 - 1. Three dependent GEMMs, each
    # loading and storing through a DRAM latency of 2^32 cycles, run for T
    # cycles (read at 1 GHz); at p = floor((2^64-1) / T) ps the same run must
    # give the same T, at p + 1 it must be refused (exit 2) naming clock_mhz.
    cat > chain.trace <<TRACE
nibble-trace 3
model chain
batch 1
policy int4-fp4
ops 3
gemm l1 forward m=4 n=4 k=4 groups=1 a=int4 b=int4 acc=int32 out=int4
gemm l2 forward m=4 n=4 k=4 groups=1 a=int4 b=int4 acc=int32 out=int4
gemm l3 forward m=4 n=4 k=4 groups=1 a=int4 b=int4 acc=int32 out=int4
TRACE
    slow=(--set dram.ideal=false --set dram.latency_cycles=4294967296)
    cycles() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_cycles"])' "$1/summary.json"; }
    "$nibble" simulate --design "$src/hw/designs/test-4x4.yaml" --trace chain.trace "${slow[@]}" --out fast --quiet
    t=$(cycles fast)
    read -r below above limit < <(python3 -c 'import sys; t = int(sys.argv[1]); p = (2**64 - 1) // t
assert p <= 10**9, "the run is too short to reach the limit above the slowest clock"
print(repr(1e6 / p), repr(1e6 / (p + 1)), (2**64 - 1) // (p + 1))' "$t")
    "$nibble" simulate --design "$src/hw/designs/test-4x4.yaml" --trace chain.trace "${slow[@]}" \
      --set clock_mhz="$below" --out below --quiet || fail "at the last period that fits the run must succeed"
    [ "$(cycles below)" = "$t" ] || fail "at the last period that fits: $(cycles below) cycles, expected $t"
    set +e
    "$nibble" simulate --design "$src/hw/designs/test-4x4.yaml" --trace chain.trace "${slow[@]}" \
      --set clock_mhz="$above" --out above --quiet 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || { cat err.txt; fail "one picosecond more per cycle: exit $rc, expected 2"; }
    [ "$limit" -lt "$t" ] || fail "test arithmetic: the limit $limit at p + 1 must be below $t"
    grep -q "clock_mhz: the simulation runs past cycle $limit, the last one SystemC's time (2^64 ps) holds" err.txt ||
      { cat err.txt; fail "the refusal must name clock_mhz and the limit"; }
    ;;
  unbounded-work)
    # Small inputs that ask for unbounded work or memory are refused before
    # they run (exit 2, naming the flag that raises the limit or the file).
    refused() {  # refused PATTERN COMMAND...: exit 2 and PATTERN on stderr, within the test's timeout
      local pattern=$1; shift
      set +e
      "$nibble" "$@" 2> err.txt; rc=$?
      set -e
      [ $rc -eq 2 ] || { cat err.txt; fail "$*: exit $rc, expected 2"; }
      grep -q -- "$pattern" err.txt || { cat err.txt; fail "$*: expected '$pattern'"; }
      ! grep -q 'internal error' err.txt || fail "$*: internal error for an input"
    }
    header='nibble-trace 3
model big
batch 1
policy int4-fp4
ops 1'
    printf '%s\ngemm g forward m=4 n=4 k=4 groups=1000000000000 a=int4 b=int4 acc=int32 out=int4\n' "$header" > groups.trace
    printf '%s\ngemm g forward m=1048576 n=1048576 k=1048576 groups=1 a=int4 b=int4 acc=int32 out=int4\n' "$header" > huge.trace
    refused 'nibble: --max-steps: the simulation would take more than 100000000 engine steps' \
      simulate --design "$design" --trace groups.trace --out o --quiet
    refused '--max-steps: the simulation would take more than' simulate --design "$design" --trace huge.trace --out o --quiet
    refused '--max-steps: the simulation would take more than' \
      simulate --design "$design" --model fmnist-mlp --batch 2147483648 --out o --quiet
    refused '--max-steps: the simulation would take more than' \
      compare "$design" "$src/hw/designs/fp16-baseline.yaml" --trace groups.trace --out c --quiet
    refused 'nibble: /dev/zero: larger than 256 MiB, the most nibble reads from such a file' \
      simulate --design "$design" --trace /dev/zero --out o --quiet
    # The limit is the flag's: a lower one refuses fmnist-mlp, which runs by default.
    refused '--max-steps: the simulation would take more than 10 engine steps' \
      simulate --design "$design" --model fmnist-mlp --batch 8 --max-steps 10 --out o --quiet
    "$nibble" simulate --design "$design" --model fmnist-mlp --batch 8 --out o --quiet || fail "fmnist-mlp must run by default"
    ;;
  cosim-wave)
    # --wave writes to DIR/.NAME.tmp.PID.EXT and renames it once complete: a
    # killed run leaves nothing under the final name; a name that cannot be
    # written is exit 2 naming it (a missing folder before the run, a folder in
    # the way at the rename), and no temporary is left.
    "$nibble" cosim --rows 4 --cols 4 --ops 20 --wave ok.vcd --quiet > /dev/null
    head -1 ok.vcd | grep -q '^\$version' || fail "ok.vcd is not a VCD"
    "$nibble" cosim --rows 4 --cols 4 --ops 100000000 --wave killed.vcd --quiet > /dev/null 2>&1 & pid=$!
    for _ in $(seq 100); do ls -A | grep -q "^\.killed\.tmp\.$pid\.vcd$" && break; sleep 0.1; done
    ls -A | grep -q "^\.killed\.tmp\.$pid\.vcd$" || { kill -9 $pid; fail "no temporary waveform appeared"; }
    kill -9 $pid; wait $pid || true
    [ ! -e killed.vcd ] || fail "a killed run left killed.vcd under its final name"
    rm ".killed.tmp.$pid.vcd"  # SIGKILL leaves its temporary; only the final name matters
    cosim_refused() {  # cosim_refused WAVE MESSAGE
      set +e
      "$nibble" cosim --rows 4 --cols 4 --ops 20 --wave "$1" --quiet > /dev/null 2> err.txt; rc=$?
      set -e
      [ $rc -eq 2 ] || { cat err.txt; fail "--wave $1: exit $rc, expected 2"; }
      grep -qx -- "$2" err.txt || { cat err.txt; fail "--wave $1: expected '$2'"; }
    }
    cosim_refused missing/w.vcd 'nibble: missing/w.vcd: --wave: cannot write: No such file or directory'
    mkdir in-the-way.fst
    cosim_refused in-the-way.fst 'nibble: in-the-way.fst: --wave: cannot write: Is a directory'
    ! ls -A | grep -q '\.tmp\.' || { ls -A; fail "temporaries left"; }
    ;;
  cosim-wave-full-disk)
    # A waveform that cannot be written to its end is exit 2 naming the file
    # and the cause, with no waveform and no temporary left, and no hang
    # (Verilator's own VCD writer hung here; each run is bounded by `timeout`).
    # A VCD run stops at the first failed write (so 10^8 ops end at once); the
    # FST writer ignores failed writes, so an FST run goes to its end (300 ops,
    # a 3.6 MB file) and the cut file is found then. The file size limit
    # (ulimit -f, SIGXFSZ ignored so that the write fails with EFBIG) fills the
    # "disk" without root; a 256 KiB tmpfs gives the real ENOSPC where mounting
    # is allowed (CI runs as root).
    full_disk() {  # full_disk WAVE OPS MESSAGE [ULIMIT_KIB]
      set +e
      (if [ -n "${4:-}" ]; then ulimit -f "$4"; trap '' XFSZ; fi
       exec timeout 120 "$nibble" cosim --rows 4 --cols 4 --ops "$2" --wave "$1" --quiet) > /dev/null 2> err.txt
      rc=$?
      set -e
      [ $rc -eq 2 ] || { cat err.txt; fail "--wave $1 on a full disk: exit $rc, expected 2"; }
      grep -qx -- "$3" err.txt || { cat err.txt; fail "--wave $1 on a full disk: expected '$3'"; }
      [ ! -e "$1" ] || fail "a waveform that could not be written was kept as $1"
      ! ls -A "$(dirname "$1")" | grep -q '\.tmp\.' || { ls -A "$(dirname "$1")"; fail "temporaries left"; }
    }
    fst_cut='cannot write: the FST writer left the file cut short (a full disk or a file size limit?); no output of this run was kept'
    full_disk limited.vcd 100000000 'nibble: limited.vcd: --wave: cannot write: File too large (the file size limit, ulimit -f, was reached; no output of this run was kept)' 256
    full_disk limited.fst 300 "nibble: limited.fst: --wave: $fst_cut" 256
    mkdir -p small
    if mount -t tmpfs -o size=256k tmpfs small 2> /dev/null; then
      trap 'umount "$work/small"' EXIT
      full_disk small/w.vcd 100000000 'nibble: small/w.vcd: --wave: cannot write: No space left on device (free some space and run again; no output of this run was kept)'
      full_disk small/w.fst 300 "nibble: small/w.fst: --wave: $fst_cut"
      [ -z "$(ls -A small)" ] || { ls -A small; fail "the full disk was left holding files"; }
    else
      echo "no tmpfs (not root): the size limit alone"
    fi
    # The check passes a whole FST (the same run with room).
    "$nibble" cosim --rows 4 --cols 4 --ops 300 --wave whole.fst --quiet > /dev/null
    [ -s whole.fst ] || fail "a whole FST was not kept"
    ;;
  cosim-wave-interrupted)
    # SIGINT and SIGTERM during `cosim --wave` remove the temporary waveform
    # (and the FST writer's NAME.hier beside it) and end the process by the same
    # signal (exit status 128 + its number, as the shell reports it): no
    # waveform, complete or not, is left.
    for run in INT:vcd TERM:vcd INT:fst TERM:fst; do
      sig=${run%:*} ext=${run#*:}
      "$nibble" cosim --rows 4 --cols 4 --ops 100000000 --wave run.$ext --quiet > /dev/null 2>&1 & pid=$!
      temp=.run.tmp.$pid.$ext
      for _ in $(seq 200); do [ -s "$temp" ] && break; sleep 0.05; done
      [ -s "$temp" ] || { kill -9 $pid; fail "SIG$sig: no temporary waveform appeared"; }
      kill -$sig $pid
      set +e
      timeout 60 tail --pid=$pid -f /dev/null || { kill -9 $pid; fail "SIG$sig: the run did not end"; }
      wait $pid; rc=$?
      set -e
      [ $rc -eq $((128 + $(kill -l $sig))) ] || fail "SIG$sig: exit $rc, expected $((128 + $(kill -l $sig)))"
      [ ! -e run.$ext ] || fail "SIG$sig: an interrupted run left run.$ext"
      ! ls -A | grep -q '\.tmp\.' || { ls -A; fail "SIG$sig: an interrupted run left temporaries"; }
    done
    ;;
  sweep-max-steps)
    # --max-steps bounds every point as it bounds `simulate`. fmnist-mlp at batch
    # 8 takes S32 engine steps on 32 rows and fewer on 128 (measured with
    # `simulate --max-steps`: the least budget that runs); at S32 - 1 the
    # 32-row point fails with the refusal in its record and the sweep exits 1
    # with its one line; the 128-row point runs. The budget is part of the
    # resume key: back at the default nothing is reused.
    steps() {  # the least --max-steps that lets `simulate` run fmnist-mlp b8 on ROWS rows
      local lo=1 hi=100000 mid
      while [ $lo -lt $hi ]; do
        mid=$(((lo + hi) / 2))
        if "$nibble" simulate --design "$design" --set array.rows=$1 --model fmnist-mlp --batch 8 --max-steps $mid \
             --out s --force --quiet 2> /dev/null; then hi=$mid; else lo=$((mid + 1)); fi
      done
      echo $lo
    }
    s32=$(steps 32); s128=$(steps 128)
    echo "fmnist-mlp b8: $s32 engine steps on 32 rows, $s128 on 128"
    [ "$s128" -lt "$s32" ] || fail "expected fewer steps on 128 rows ($s128) than on 32 ($s32)"
    printf 'design: %s\nparameters:\n  array.rows: [32, 128]\nworkloads:\n  - {model: fmnist-mlp, batch: 8}\n' \
      "$design" > steps.yaml
    set +e
    "$nibble" sweep steps.yaml --jobs 2 --out o --max-steps $((s32 - 1)) > out.txt 2> err.txt; rc=$?
    set -e
    [ $rc -eq 1 ] || { cat out.txt err.txt; fail "a point over --max-steps: exit $rc, expected 1"; }
    refusal="--max-steps: the simulation would take more than $((s32 - 1)) engine steps (GEMM folds and vector chunks), reached at op [0-9]* ([^)]*); raise --max-steps to run it anyway"
    grep -qx "nibble sweep: 1 of 2 points failed (first: p0000: $refusal); every point is in o/sweep.csv" err.txt ||
      { cat err.txt; fail "expected the one-line summary naming p0000 and the refusal"; }
    grep -q '2 points, 1 evaluated, 1 failed, 0 reused' out.txt || { cat out.txt; fail "expected 1 of 2 points failed"; }
    grep -q "\"error\": *\"$refusal\"" o/points/p0000.json || { cat o/points/p0000.json; fail "p0000's record lacks the refusal"; }
    [ "$(grep -c ',ok,' o/sweep.csv)" -eq 1 ] || { cat o/sweep.csv; fail "expected the 128-row point ok"; }
    "$nibble" sweep steps.yaml --jobs 2 --out o --max-steps $s32 --resume > out.txt
    grep -q '2 points, 2 evaluated, 0 failed, 0 reused' out.txt || { cat out.txt; fail "at S32 both must run, none reused"; }
    "$nibble" sweep steps.yaml --jobs 2 --out o --resume > out.txt
    grep -q '2 points, 2 evaluated, 0 failed, 0 reused' out.txt || { cat out.txt; fail "another --max-steps must not reuse points"; }
    # --point-timeout bounds MPI ranks only: without --mpi it is a usage error.
    set +e
    "$nibble" sweep steps.yaml --out p --point-timeout 5 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] && grep -qx 'nibble sweep: --point-timeout applies to --mpi only: local points run in this process'"'"'s children' err.txt ||
      { cat err.txt; fail "--point-timeout without --mpi: exit $rc, expected 2 and the message"; }
    ;;
  sweep-mpi-stopped-rank)
    # Rank 1 is stopped while it holds a point. A rank sends a point's result
    # only after reaping the point's simulation child, so: SIGSTOP rank 1, wait
    # until every one of its threads is stopped (only then can nothing change
    # behind our back), and look at its children. A child (running, or exited
    # and not yet reaped) means a point taken and its result not sent: leave
    # rank 1 stopped. No child means it is between points: SIGCONT, try again.
    # Rank 0 must give rank 1 up after --point-timeout, finish the other 5
    # points itself, and end with exit 1 naming the rank and its point, with
    # those 5 stored for a local --resume. Under load rank 1 may also be given
    # up before we catch it (a point slower than the timeout): the outcome to
    # check is the same.
    # Points long enough that rank 1 spends most of its time holding one (a
    # ResNet-50 step at batch 64, about 0.2 s each, against 0.03 s for the
    # other cases' fmnist-cnn, which let an idle machine finish the whole
    # sweep before rank 1 was caught: exit 0). Should the sweep still end
    # before rank 1 is caught, the scenario did not happen: run it again.
    write_sweep
    sed -i 's/{model: fmnist-cnn, batch: 8}/{model: resnet50, batch: 64}/' sweep.yaml
    for attempt in 1 2 3 4 5; do
      rm -rf mpi err.txt
      mpirun -np 2 "$nibble" sweep sweep.yaml --mpi --out mpi --quiet --point-timeout 10 2> err.txt & mpid=$!
      # OpenMPI's mpirun starts the ranks as its children (rank 1's own children
      # share its environment, so only direct children are looked at).
      rank1=
      for _ in $(seq 400); do
        for p in $(cat /proc/$mpid/task/*/children 2> /dev/null); do
          tr '\0' '\n' < /proc/$p/environ 2> /dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && rank1=$p
        done
        [ -n "$rank1" ] && break; sleep 0.05
      done
      [ -n "$rank1" ] || { kill -9 $mpid; fail "rank 1 did not appear"; }
      all_stopped() {  # every thread of $1 in state T (t: traced; Z/X: exiting)
        local stat line state
        for stat in /proc/"$1"/task/*/stat; do
          read -r line < "$stat" 2> /dev/null || continue
          state=${line##*) }; state=${state%% *}
          case $state in T|t|Z|X) ;; *) return 1 ;; esac
        done
      }
      caught=
      while kill -0 $mpid 2> /dev/null && kill -STOP "$rank1" 2> /dev/null; do
        for _ in $(seq 2000); do all_stopped "$rank1" && break; done
        all_stopped "$rank1" || { kill -9 $mpid; fail "rank 1 did not stop"; }
        children=$(cat /proc/"$rank1"/task/*/children 2> /dev/null || true)
        [ -n "${children// /}" ] && { caught=1; break; }
        kill -CONT "$rank1" 2> /dev/null || true
        sleep 0.01
      done
      if [ -n "$caught" ]; then echo "rank 1 (pid $rank1) stopped holding a point"; break; fi
      echo "rank 1 (pid $rank1) not caught holding a point"
      timeout 120 tail --pid=$mpid -f /dev/null || { kill -9 $mpid "$rank1" 2> /dev/null; fail "the sweep hung"; }
      set +e; wait $mpid; rc=$?; set -e
      [ $rc -eq 0 ] || break  # given up before caught (a point slower than the timeout): the same outcome
      echo "attempt $attempt: the sweep ended before rank 1 was caught; again"
    done
    if [ -n "$caught" ]; then
      if ! timeout 120 tail --pid=$mpid -f /dev/null; then
        kill -9 $mpid "$rank1" 2> /dev/null || true
        fail "the sweep hung with a stopped rank"
      fi
      set +e; wait $mpid; rc=$?; set -e
    fi
    kill -9 "$rank1" 2> /dev/null || true
    [ $rc -eq 1 ] || { cat err.txt; fail "a sweep with a stopped rank: exit $rc, expected 1"; }
    grep -qx 'nibble sweep: MPI rank 1 did not finish point p000[0-5] within --point-timeout 10 s (stopped or hung)' err.txt ||
      { cat err.txt; fail "expected the stopped rank and its point named"; }
    grep -qx 'nibble sweep: the 5 points done are kept in mpi/points: run the sweep again with --resume' err.txt ||
      { cat err.txt; fail "expected the 5 other points kept"; }
    point=$(grep -o 'point p000[0-5]' err.txt | head -1 | cut -d' ' -f2)
    [ ! -e "mpi/points/$point.json" ] || fail "the stopped rank's point $point was stored"
    [ "$(ls mpi/points | wc -l)" -eq 5 ] || { ls mpi/points; fail "expected the 5 other points stored"; }
    "$nibble" sweep sweep.yaml --jobs 2 --out mpi --resume > resumed.txt
    grep -q '6 points, 6 evaluated, 0 failed, 5 reused' resumed.txt || { cat resumed.txt; fail "expected 5 reused points"; }
    ;;
  sweep-stale-resume)
    # A stored point is reused only when nothing it depends on changed: the
    # design file's bytes, the technology table (--tech), nibble's version.
    cp "$design" design.yaml
    cat > sweep.yaml <<YAML
design: design.yaml
parameters:
  array.rows: [32, 64]
workloads:
  - {model: fmnist-mlp, batch: 8}
YAML
    "$nibble" sweep sweep.yaml --jobs 2 --out s --quiet
    cp s/sweep.csv first.csv
    "$nibble" sweep sweep.yaml --jobs 2 --out s --resume > out.txt
    grep -q '2 points, 2 evaluated, 0 failed, 2 reused' out.txt || { cat out.txt; fail "unchanged inputs: expected 2 reused"; }
    sed -i 's/^clock_mhz: 1000 /clock_mhz: 500 /' design.yaml
    grep -q '^clock_mhz: 500 ' design.yaml || fail "the test's edit of the design did not apply"
    "$nibble" sweep sweep.yaml --jobs 2 --out s --resume > out.txt
    grep -q '2 points, 2 evaluated, 0 failed, 0 reused' out.txt || { cat out.txt; fail "edited design: nothing may be reused"; }
    cmp -s first.csv s/sweep.csv && fail "edited design (half the clock): sweep.csv must change"
    "$nibble" sweep sweep.yaml --jobs 2 --out s --resume --tech 7nm > out.txt
    grep -q '0 reused' out.txt || { cat out.txt; fail "another --tech: nothing may be reused"; }
    # A stored point holding a value that is not a number is evaluated again.
    "$nibble" sweep sweep.yaml --jobs 2 --out s --quiet
    cp s/sweep.csv clean.csv
    sed -i '/"energy_per_step_j"/{n;s/"[^"]*"/"banana"/}' s/points/p0000.json
    grep -q banana s/points/p0000.json || fail "the test could not corrupt p0000.json"
    sed -i '/"seconds_per_step"/{n;s/"[^"]*"/"nan"/}' s/points/p0001.json
    grep -q '"nan"' s/points/p0001.json || fail "the test could not corrupt p0001.json"
    "$nibble" sweep sweep.yaml --jobs 2 --out s --resume > out.txt
    grep -q '0 reused' out.txt || { cat out.txt; fail "corrupted point files must not be reused"; }
    ! grep -q 'banana\|nan' s/sweep.csv || fail "a corrupted value reached sweep.csv"
    cmp clean.csv s/sweep.csv || fail "the recomputed sweep.csv differs"
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
             rapid-like/summary.json rapid-like/report.html mxfp4-train/summary.json nvfp4-train/summary.json \
             train-fp32/summary.json train-int4-fp4/summary.json; do
      [ -s "out/$f" ] || fail "missing out/$f"
    done
    grep -q 'speedup (B time / A time)' out.txt || fail "the table must have the speedup"
    grep -q 'accuracy fmnist-mlp int4-fp4' out.txt || fail "the table must have the int4-fp4 accuracy"
    grep -q '(iso-area)' out.txt || fail "B must be resized to A's area"
    # rapid-like: its own row, at its own area and 7 nm table, in HFP8, compared with A only.
    grep -q 'not resized to A' out.txt || { cat out.txt; fail "the table must say what rapid-like is compared with"; }
    grep -q '^  rapid-like  *7nm, 4 .* hfp8 ' out.txt || { cat out.txt; fail "the table must have rapid-like's row"; }
    grep -q '"others"' out/summary.json || fail "summary.json must hold the other designs"
    grep -q 'nibble simulate --design .*rapid-like.yaml .*--policy hfp8' out/commands.txt || fail "commands.txt lacks rapid-like"
    # The block-scaled recipes on their own chips, each in its own format.
    grep -q '^  mxfp4-train .* mxfp4 ' out.txt || { cat out.txt; fail "the table must have mxfp4-train's row"; }
    grep -q '^  nvfp4-train .* nvfp4 ' out.txt || { cat out.txt; fail "the table must have nvfp4-train's row"; }
    for side in A B; do
      grep -q "Units over the whole step: $side, " out/report.html || fail "the main page lacks the timeline of $side"
    done
    cp out/report.html original.html
    "$nibble" report out > /dev/null
    cmp original.html out/report.html || fail "nibble report must re-render the same page"
    ;;
  training-networks)
    # The zoo's copies of the networks the training emulator trains simulate end to end;
    # per-sample forward MACs as derived in tests/models/test_zoo.cpp.
    for m in fmnist-resnet:9345920 fmnist-vit:7702656; do
      name=${m%%:*}
      "$nibble" simulate --design "$src/hw/designs/int4-single-array.yaml" --model "$name" --batch 32 --out "$name" --quiet
      [ -s "$name/summary.json" ] && [ -s "$name/report.html" ] || fail "$name: missing outputs"
      grep -q "\"model\": \"$name\"" "$name/summary.json" || fail "$name: summary.json names another model"
      "$nibble" trace --model "$name" --batch 1 --stats > "$name.json"
      grep -q "\"forward_macs\": ${m##*:}," "$name.json" || { cat "$name.json"; fail "$name: forward MACs"; }
    done
    # The ViT trains with AdamW by default; a misspelled optimizer is an input error.
    "$nibble" train --model fmnist-vit --policy int4-fp4 --epochs 1 --batch 16 --train-subset 32 --test-subset 20 \
      --out vit-train --quiet
    grep -q '"optimizer": "adamw"' vit-train/summary.json || fail "fmnist-vit: not trained with AdamW"
    grep -q 'blocks.0.attn.scores,fp16,fp16,fp32' vit-train/layers.csv || fail "fmnist-vit: attention not in FP16"
    set +e
    "$nibble" train --model fmnist-vit --optimizer adam --out bad 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] && grep -q -- "--optimizer: unknown optimizer 'adam'" err.txt || fail "bad --optimizer: exit $rc"
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
  numerics-quantize)
    q() { "$nibble" numerics quantize "$@"; }
    expect() {  # expect "WHAT" EXPECTED ACTUAL
      [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
    }
    # MXFP4: amax 7 = 1.75 x 2^2 -> shared exponent 0, 7 saturates to 6; 1.25 ties 1 and 1.5 -> 1 (even).
    expect "mxfp4" "6 1 0.5 -2" "$(echo 7 1.25 0.3 -2 | q --format mxfp4 | tr '\n' ' ' | sed 's/ $//')"
    expect "mxfp4 codes" "block 0 scale 0x7F 1|0x7 6|0x2 1|0x1 0.5|0xC -2" \
      "$(echo 7 1.25 0.3 -2 | q --format mxfp4 --codes | tr '\n' '|' | sed 's/|$//')"
    # 33 numbers: 32 x 0.1 (shared exponent -4 - 2 = -6: 6.4 -> 6 x 2^-6), then a block of its own.
    out=$( (for i in $(seq 32); do echo 0.1; done; echo 7) | q --format mxfp4)
    expect "partial block count" 33 "$(echo "$out" | wc -l)"
    expect "first block" 0.09375 "$(echo "$out" | sort -u | head -n 1)"
    expect "last block" 6 "$(echo "$out" | tail -n 1)"
    # MXFP8 E4M3: amax 1000 -> shared 9 - 8 = 1, 500 saturates to 448 -> 896.
    expect "mxfp8-e4m3" "896 2" "$(echo 1000 2 | q --format mxfp8-e4m3 | tr '\n' ' ' | sed 's/ $//')"
    expect "mxint8" "1 0.296875 -1" "$(echo 1 0.3 -1 | q --format mxint8 | tr '\n' ' ' | sed 's/ $//')"
    # BF16: 1 + 2^-8 ties to 1; 1 + 3 x 2^-8 goes up to 1 + 2^-6; inf stays.
    expect "bf16" "1 1.015625 inf" "$(echo 1.00390625 1.01171875 inf | q --format bf16 | tr '\n' ' ' | sed 's/ $//')"
    # NVFP4: T = FP32(1/2688); block scale UE4M3(1/(6T)) = 448 (0x7E); 0.4 x 6 = 2.4 -> 2.
    expect "nvfp4 codes" "tensor-scale 0x39C30C31 0.00037202381645329297|block 0 scale 0x7E 448|0x7 6|0x4 2|0x9 -0.5" \
      "$(echo 1 0.4 -0.1 | q --format nvfp4 --codes | tr '\n' '|' | sed 's/|$//')"
    # Stochastic rounding: 1.25 in a block of max 4 lands on 1 or 1.5, the same for the same seed.
    nums=$(for i in $(seq 64); do if [ $((i % 32)) -eq 1 ]; then echo 4; else echo 1.25; fi; done)
    a=$(echo "$nums" | q --format mxfp4 --rounding stochastic --seed 3)
    b=$(echo "$nums" | q --format mxfp4 --rounding stochastic --seed 3)
    c=$(echo "$nums" | q --format mxfp4 --rounding stochastic --seed 4)
    [ "$a" = "$b" ] || fail "stochastic rounding differs between runs with one seed"
    [ "$a" != "$c" ] || fail "stochastic rounding ignores the seed"
    expect "stochastic values" "1 1.5 4" "$(echo "$a" | sort -u | tr '\n' ' ' | sed 's/ $//')"
    # Bad input: exit 2, the message names the position.
    set +e
    printf '1 2\n3 x\n' | q --format mxfp4 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "non-number: exit $rc, expected 2"
    grep -q "^nibble: <stdin>:2: number 4: 'x' is not a number" err.txt || { cat err.txt; fail "non-number message"; }
    set +e
    echo 1 nan | q --format nvfp4 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "NaN for nvfp4: exit $rc, expected 2"
    grep -q "number 2: 'nan': nvfp4 has no code for NaN" err.txt || { cat err.txt; fail "NaN message"; }
    set +e
    echo 1 | q --format mxfp5 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "unknown format: exit $rc, expected 2"
    grep -q "did you mean 'mxfp4'" err.txt || { cat err.txt; fail "unknown format message"; }
    set +e
    echo 1 | q --format mxfp4 --seed x 2> err.txt; rc=$?
    set -e
    [ $rc -eq 2 ] || fail "bad seed: exit $rc, expected 2"
    ;;
  stdout-full)
    # Every command's stdout, checked write by write and at the final flush:
    # /dev/full takes nothing, so each must exit 2 with a one-line message.
    expect_full() {
      set +e
      "$nibble" "$@" > /dev/full 2> err.txt; rc=$?
      set -e
      [ $rc -eq 2 ] || { cat err.txt; fail "$* > /dev/full: exit $rc, expected 2"; }
      grep -qx 'nibble: standard output: cannot write: No space left on device (is the disk full or the file closed?)' \
        err.txt || { cat err.txt; fail "$* > /dev/full: no message naming standard output"; }
    }
    expect_full trace --model resnet18
    expect_full trace --model resnet18 --stats
    expect_full trace --list-models
    expect_full numerics
    expect_full --version
    expect_full --help
    expect_full simulate --help
    expect_full simulate --design "$design" --model fmnist-mlp --batch 8 --out sim
    # Nothing written to stdout, or written to a real file: exit 0, so the check
    # is not one that always fails.
    "$nibble" simulate --design "$design" --model fmnist-mlp --batch 8 --out sim --quiet > /dev/full ||
      fail "simulate --quiet prints nothing, so /dev/full must not fail it"
    "$nibble" numerics > numerics.txt || fail "numerics into a file exited non-zero"
    [ -s numerics.txt ] || fail "numerics wrote nothing"
    ;;
  timeline-flag)
    # --timeline takes none, layers or ops; anything else is a usage error (exit 2) naming the flag.
    for c in "simulate --design $src/hw/designs/int4-single-array.yaml" \
             "compare $src/hw/designs/int4-single-array.yaml $src/hw/designs/fp16-baseline.yaml"; do
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
    "$nibble" simulate --design "$src/hw/designs/int4-single-array.yaml" --model fmnist-mlp --timeline=layers --out s --quiet
    grep -q '"detail": "layers"' s/timeline.json || fail "--timeline=layers must write layers detail"
    ;;
  scalesim-lean)
    # `nibble scalesim` runs in libexec/nibble-scalesim, a program without the
    # libraries that command does not use (docs/cli.md, "Start-up"): the front
    # must send it there, and it must write what the full program writes.
    libexec=$(dirname "$nibble")/libexec
    LD_DEBUG=files "$nibble" scalesim --help > /dev/null 2> loaded.txt
    grep -q 'file=libsystemc' loaded.txt || fail "nibble scalesim did not run a program that loads SystemC"
    ! grep -Eq 'file=lib(mpi|protobuf|onnx|boost)' loaded.txt || fail "nibble scalesim loaded MPI, protobuf, ONNX or Boost"
    LD_DEBUG=files "$nibble" simulate --help > /dev/null 2> loaded.txt
    grep -q 'file=libsystemc' loaded.txt || fail "nibble simulate did not run the full program"
    for cfg in scale.cfg scale_user.cfg; do
      for args in "-t $src/hw/designs/scalesim/published.csv" "-t $src/workloads/scalesim/fmnist_cnn_conv.csv" \
                  "-t missing.csv" "" "--bogus"; do
        for prog in nibble-core nibble-scalesim; do
          rm -rf out
          set +e
          # shellcheck disable=SC2086
          "$libexec/$prog" scalesim -c "$src/hw/designs/scalesim/$cfg" $args -p out > "$prog.txt" 2>&1
          echo "exit $?" >> "$prog.txt"
          set -e
          cat out/*/COMPUTE_REPORT.csv >> "$prog.txt" 2> /dev/null || true
        done
        cmp -s nibble-core.txt nibble-scalesim.txt || { diff nibble-core.txt nibble-scalesim.txt; fail "$cfg $args: nibble-scalesim differs"; }
        case $args in
          *published.csv | *fmnist_cnn_conv.csv)
            grep -q '^exit 0$' nibble-scalesim.txt || fail "$cfg $args: exit status"
            grep -q '^LayerID, Total Cycles' nibble-scalesim.txt || fail "$cfg $args: no report written" ;;
          *) grep -q '^exit 2$' nibble-scalesim.txt || fail "$cfg $args: bad input must exit 2" ;;
        esac
      done
    done
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
echo "ok: $case_name"
