#!/bin/bash
# Runs every command of the ```sh blocks of one documentation page, in order,
# so the guide never shows a command that does not work.
#
# usage: run_doc_commands.sh PAGE.md SOURCE_DIR BUILD_DIR
#
# The commands run in a fresh directory that looks like the repository root
# (build/, hw/, docs/, workloads/, models/, tests/ linked in), so a page can say
# `build/nibble simulate --design hw/designs/int4-train.yaml --out out/sim`.
# Blocks fenced as ```console or ```text are shown, not run.
set -euo pipefail
page=$1
source_dir=$(cd "$2" && pwd)
build_dir=$(cd "$3" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/nibble-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT
for d in hw docs workloads models tests sim; do ln -s "$source_dir/$d" "$work/$d"; done
ln -s "$build_dir" "$work/build"
script="$work/commands.sh"
{
  echo "set -euo pipefail"
  echo "cd '$work'"
  # mpirun as root on one machine, as in CI.
  echo "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1"
  awk '
    /^```sh[[:space:]]*$/ { inblock = 1; next }
    /^```/ && inblock { inblock = 0; print ""; next }
    inblock { print }
  ' "$page"
} > "$script"
commands=$(grep -cvE '^[[:space:]]*(#|$)' "$script" || true)
echo "running $commands command lines from $page"
bash -x "$script"
echo "all commands of $page succeeded"
