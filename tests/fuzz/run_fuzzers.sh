#!/bin/sh
# Runs every libFuzzer target built in BUILD (make fuzz) for RUNS executions or
# SECONDS seconds, whichever comes first, and prints executions, coverage and
# executions per second per target; TARGET names after SECONDS run only those
# (one at a time on a loaded machine). Exit status 1 if any target crashed,
# hung (> FUZZ_TIMEOUT seconds, default 1) or leaked. libFuzzer's timeout is
# wall-clock time: on a machine loaded far beyond its cores, re-run a
# timeout-* artifact alone (`BUILD/fuzz/NAME FILE` prints "Executed ... in N ms")
# before taking it for a hang.
# New crashers are left in BUILD/fuzz/artifacts/<target>/: add them to
# tests/fuzz/regressions/<target>/ once fixed.
set -u
BUILD=${1:?usage: run_fuzzers.sh BUILD RUNS SECONDS [TARGET...]}
RUNS=${2:-1000000}
SECONDS_EACH=${3:-120}
if [ $# -ge 3 ]; then shift 3; else shift $#; fi
ONLY="$*"
TARGETS="$BUILD/fuzz/targets.txt"
[ -f "$TARGETS" ] || { echo "no fuzz targets in $BUILD (configure with -DNIBBLE_FUZZ=ON)"; exit 2; }
failed=0
printf '%-22s %12s %8s %8s %7s  %s\n' target executions cov features exec/s result
while read -r name regressions seeds; do
  case " ${ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
  work="$BUILD/fuzz/work/$name"
  artifacts="$BUILD/fuzz/artifacts/$name/"
  mkdir -p "$work" "$artifacts"
  # Seeds are copied: libFuzzer adds new inputs to its first corpus folder.
  for s in $seeds; do
    if [ -d "$s" ]; then find "$s" -type f -exec cp {} "$work"/ \; ; elif [ -f "$s" ]; then cp "$s" "$work"/; fi
  done
  [ -d "$regressions" ] && find "$regressions" -type f -exec cp {} "$work"/ \;
  log="$BUILD/fuzz/$name.log"
  "$BUILD/fuzz/$name" -runs="$RUNS" -max_total_time="$SECONDS_EACH" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (rc $rc, see $log and $artifacts)"; failed=1; fi
  printf '%-22s %12s %8s %8s %7s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${rate:-?}" "$result"
done < "$TARGETS"
exit $failed
