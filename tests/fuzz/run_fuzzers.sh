#!/bin/sh
# Runs every libFuzzer target built in BUILD (make fuzz) for RUNS executions or
# SECONDS seconds, whichever comes first, and prints executions and coverage
# per target. Exit status 1 if any target crashed, hung (> 1 s) or leaked.
# New crashers are left in BUILD/fuzz/artifacts/<target>/: add them to
# tests/fuzz/regressions/<target>/ once fixed.
set -u
BUILD=${1:?usage: run_fuzzers.sh BUILD RUNS SECONDS}
RUNS=${2:-1000000}
SECONDS_EACH=${3:-120}
TARGETS="$BUILD/fuzz/targets.txt"
[ -f "$TARGETS" ] || { echo "no fuzz targets in $BUILD (configure with -DNIBBLE_FUZZ=ON)"; exit 2; }
failed=0
printf '%-22s %12s %8s %8s  %s\n' target executions cov features result
while read -r name regressions seeds; do
  work="$BUILD/fuzz/work/$name"
  artifacts="$BUILD/fuzz/artifacts/$name/"
  mkdir -p "$work" "$artifacts"
  # Seeds are copied: libFuzzer adds new inputs to its first corpus folder.
  for s in $seeds; do
    if [ -d "$s" ]; then find "$s" -type f -exec cp {} "$work"/ \; ; elif [ -f "$s" ]; then cp "$s" "$work"/; fi
  done
  [ -d "$regressions" ] && find "$regressions" -type f -exec cp {} "$work"/ \;
  log="$BUILD/fuzz/$name.log"
  "$BUILD/fuzz/$name" -runs="$RUNS" -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  if [ $rc -eq 0 ]; then result=ok; else result="FAILED (rc $rc, see $log and $artifacts)"; failed=1; fi
  printf '%-22s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done < "$TARGETS"
exit $failed
