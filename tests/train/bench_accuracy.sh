#!/bin/sh
# `make bench-accuracy`: the accuracy figures of docs/validation.md ("Accuracy" and
# "4-bit formats side by side"). Trains fmnist-cnn with fp32, int4-fp4, int4-fp4-all,
# the three ablations, int4-fp4 on the shipped 4-bit design (hw/designs/int4-train.yaml:
# fp16-chunked accumulators) and the block-scaled and 8/16-bit formats (mxfp4, nvfp4,
# mxfp8, bf16); fmnist-resnet (batch norm, residuals: TPR's effect on a batch-norm
# network) and fmnist-vit (a transformer) with fp32, int4-fp4, int4-fp4-all, the three
# ablations, mxfp4 and nvfp4; and fmnist-mlp with fp32, int4-fp4 and int4-fp4-all
# (every layer 4-bit), for each seed, then prints one Markdown table of final test
# accuracies (mean over the seeds).
#
#   tests/train/bench_accuracy.sh [NIBBLE [OUT]]
#   environment: ACC_EPOCHS (10), ACC_SEEDS ("1 2 3"), ACC_THREADS (2),
#                ACC_CNN_POLICIES, ACC_RESNET_POLICIES, ACC_VIT_POLICIES,
#                ACC_MLP_POLICIES (override the lists; empty: none)
#
# A run whose OUT/<model>-<policy>-s<seed>/summary.json exists is not repeated,
# so an interrupted benchmark resumes; delete OUT to start over (needed after
# changing the emulator). Hours on two cores: not part of CI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nibble=${1:-build/nibble}
out=${2:-build/bench-accuracy}
epochs=${ACC_EPOCHS:-10}
seeds=${ACC_SEEDS:-"1 2 3"}
threads=${ACC_THREADS:-2}
ablations="int4-fp4-all int4-fp4-no-tpr int4-fp4-radix2 int4-fp4-no-gradscale"
cnn_policies=${ACC_CNN_POLICIES-"fp32 int4-fp4 $ablations int4-fp4@int4-train mxfp4 nvfp4 mxfp8 bf16"}
resnet_policies=${ACC_RESNET_POLICIES-"fp32 int4-fp4 $ablations mxfp4 nvfp4"}
vit_policies=${ACC_VIT_POLICIES-"fp32 int4-fp4 $ablations mxfp4 nvfp4"}
mlp_policies=${ACC_MLP_POLICIES-"fp32 int4-fp4 int4-fp4-all"}
models="fmnist-cnn fmnist-resnet fmnist-vit fmnist-mlp"

policies_of() {  # model -> its policy list
  case "$1" in
    fmnist-cnn) echo "$cnn_policies" ;;
    fmnist-resnet) echo "$resnet_policies" ;;
    fmnist-vit) echo "$vit_policies" ;;
    fmnist-mlp) echo "$mlp_policies" ;;
  esac
}

run() {  # model policy seed
  dir="$out/$1-$2-s$3"
  if [ -f "$dir/summary.json" ]; then
    echo "bench-accuracy: $1 $2 seed $3: kept $dir/summary.json" >&2
    return
  fi
  case "$2" in
    int4-fp4@int4-train) set -- "$1" int4-fp4 "$3" --design "$here/../../hw/designs/int4-train.yaml" ;;
  esac
  model=$1 policy=$2 seed=$3
  shift 3
  echo "bench-accuracy: $model $policy seed $seed ($epochs epochs)" >&2
  "$nibble" train --model "$model" --policy "$policy" --epochs "$epochs" --seed "$seed" \
    --threads "$threads" --force --out "$dir" "$@"
}

for seed in $seeds; do
  for model in $models; do
    for policy in $(policies_of "$model"); do run "$model" "$policy" "$seed"; done
  done
done

accuracy() {  # summary.json -> test accuracy
  sed -n 's/^  "test_accuracy": \([-0-9.e+]*\),*$/\1/p' "$1"
}
seconds() {
  sed -n 's/^  "seconds": \([-0-9.e+]*\),*$/\1/p' "$1"
}

echo
echo "Final test accuracy (%) after $epochs epochs; mean over seeds $seeds."
echo
printf '| model | policy |'
for seed in $seeds; do printf ' seed %s |' "$seed"; done
printf ' mean | vs fp32 | train s/epoch (seed %s) |\n' "$(echo $seeds | cut -d' ' -f1)"
printf '| --- | --- |'
for seed in $seeds; do printf ' ---: |'; done
printf ' ---: | ---: | ---: |\n'
for model in $models; do
  policies=$(policies_of "$model")
  [ -n "$policies" ] || continue
  base=""
  for policy in $policies; do
    values=""
    for seed in $seeds; do values="$values $(accuracy "$out/$model-$policy-s$seed/summary.json")"; done
    first=$(echo $seeds | cut -d' ' -f1)
    secs=$(seconds "$out/$model-$policy-s$first/summary.json")
    line=$(echo "$values" | awk -v m="$model" -v p="$policy" -v base="$base" -v secs="$secs" -v e="$epochs" '{
      s = 0; row = "| " m " | " p " |";
      for (i = 1; i <= NF; i++) { s += $i; row = row sprintf(" %.2f |", $i) }
      mean = s / NF;
      delta = (base == "") ? "" : sprintf("%+.2f", mean - base);
      printf "%s %.2f | %s | %.0f |\n", row, mean, delta, secs / e }')
    echo "$line"
    if [ -z "$base" ]; then base=$(echo "$values" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.6f", s / NF }'); fi
  done
done
