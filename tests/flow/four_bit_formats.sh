#!/bin/sh
# Regenerates the table of docs/validation.md, "4-bit formats side by side": one
# training step of ResNet-18 and BERT-base, batch 32, under each number format on
# the design built for it (`nibble simulate`, 45 nm table):
#   radix-4 FP4 (Sun et al.)  policy int4-fp4 on hw/designs/int4-train.yaml
#   MXFP4                     policy mxfp4    on hw/designs/mxfp4-train.yaml
#   NVFP4                     policy nvfp4    on hw/designs/nvfp4-train.yaml
#   MXFP8                     policy mxfp8    on fp16-baseline with BF16 PEs, MXFP8 in one
#                                             pass of its 9-bit slices (unsupported: multi-pass)
#   BF16                      policy bf16     on fp16-baseline with BF16 PEs
#   FP16 (reference)          policy fp16     on hw/designs/fp16-baseline.yaml
#
# usage: tests/flow/four_bit_formats.sh [OUTDIR]   (from the repository root;
#        $NIBBLE names the binary, default build/nibble)
# Prints one markdown table row per run; the runs' outputs stay in OUTDIR
# (default out/four-bit-formats).
set -eu
nibble=${NIBBLE:-build/nibble}
out=${1:-out/four-bit-formats}
bf16_chip="--set array.pe_kind=bf16"

# A number of summary.json (the first "KEY": VALUE in the file).
field() { sed -n "s/^ *\"$2\": \([-0-9.e+]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

row() {  # row LABEL MODEL DESIGN POLICY FLAGS...
  label=$1 model=$2 design=$3 policy=$4
  shift 4
  dir=$out/$model-$policy
  # shellcheck disable=SC2068
  "$nibble" simulate --design "$design" --model "$model" --batch 32 --policy "$policy" --force --out "$dir" \
    --timeline none $@ >/dev/null 2>&1
  s=$dir/summary.json
  chip=$(basename "$design" .yaml)
  [ $# -gt 0 ] && chip="$chip, BF16 PEs"
  echo "$label|$model|$chip|$(field "$s" total_cycles)|$(field "$s" utilization)|$(field "$s" energy_per_step_j)|$(field "$s" area_mm2)" |
    awk -F'|' '{ printf "| %s | %s | %s | %.2f M | %.1f %% | %.3f | %.1f |\n", $1, $2, $3, $4 / 1e6, $5 * 100, $6, $7 }'
}

echo "| format | model | design | cycles per step | utilization | energy per step (J) | area (mm^2) |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
for model in resnet18 bert-base; do
  row "radix-4 FP4 (int4-fp4)" $model hw/designs/int4-train.yaml int4-fp4
  row "MXFP4" $model hw/designs/mxfp4-train.yaml mxfp4
  row "NVFP4" $model hw/designs/nvfp4-train.yaml nvfp4
  row "MXFP8" $model hw/designs/fp16-baseline.yaml mxfp8 $bf16_chip --set array.unsupported=multi-pass
  row "BF16" $model hw/designs/fp16-baseline.yaml bf16 $bf16_chip
  row "FP16 (reference)" $model hw/designs/fp16-baseline.yaml fp16
done
