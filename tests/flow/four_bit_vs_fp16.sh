#!/bin/sh
# Regenerates the table of docs/validation.md, "4-bit vs FP16": `nibble compare`
# of a 4-bit design (A) and hw/designs/fp16-baseline.yaml (B) on ResNet-18 and
# ResNet-50 (and MobileNetV2, BERT-base), batch 32: the shipped hw/designs/int4-train.yaml, then a ladder
# from the earlier one-array design (hw/designs/int4-single-array.yaml) to the
# shipped one, then what-if variants of the shipped one, each adding one change
# to the row above it.
#
# usage: tests/flow/four_bit_vs_fp16.sh [OUTDIR]   (from the repository root;
#        $NIBBLE names the binary, default build/nibble)
# Prints one markdown table row per run; the runs' outputs stay in OUTDIR
# (default out/four-bit-vs-fp16).
set -eu
nibble=${NIBBLE:-build/nibble}
out=${1:-out/four-bit-vs-fp16}
shipped=hw/designs/int4-train.yaml
single=hw/designs/int4-single-array.yaml
b=hw/designs/fp16-baseline.yaml
# int4-train with MAC PEs instead of dot-product PEs: a 128 x 128 INT4/FP4 array (the same 16,384
# multipliers) beside the FP16 unit.
mac_pes="--set-a matrix_units.int.rows=128 --set-a matrix_units.int.dot_product=1"
int4_first_last="--policy-file-a tests/flow/data/first-last-int4.yaml"
ideal_dram="--set-a dram.ideal=true --set-b dram.ideal=true"

row() {  # row LABEL MODEL A FLAGS...   (sets $array to B's array)
  label=$1 model=$2 a=$3
  shift 3
  dir=$out/$model-$(echo "$label" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | tr -s '-' | sed 's/^-//; s/-$//')
  # shellcheck disable=SC2068
  text=$("$nibble" compare $a $b --model "$model" --batch 32 --force --out "$dir" $@ 2>/dev/null)
  array=$(echo "$text" | sed -n 's/^B: [^(]*(1 x \([0-9]*x[0-9]*\) .*/\1/p')
  speedup=$(echo "$text" | sed -n 's/^speedup (B.s time \/ A.s): \([^;]*\);.*/\1/p')
  energy=$(echo "$text" | sed -n 's/.*energy ratio (B.s energy \/ A.s): \(.*\)$/\1/p')
  tops=$(echo "$text" | sed -n 's/^tops_per_watt *\([^ ]*\) *\([^ ]*\) .*/\1 | \2/p')
  echo "| $label | $model | $array | $speedup | $energy | $tops |"
}

echo "| variant | model | B's array | speedup | energy ratio | A TOPS/W | B TOPS/W |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for model in resnet18 resnet50; do
  row "iso-PE (no \`--iso-area\`)" $model $shipped
  row "**shipped designs, \`--iso-area\`**" $model $shipped --iso-area
  row "same, 7 nm table (\`--tech 7nm\`)" $model $shipped --iso-area --tech 7nm
  row "ladder 1: int4-single-array" $model $single --iso-area --set-a mapper=search
  row "ladder 2: + FP16 layers on a 32x32 FP16 unit" $model $shipped --iso-area $mac_pes
  row "ladder 3: + dot-product PEs (N = 4) = shipped" $model $shipped --iso-area
  row "what-if: + first/last layers in INT4" $model $shipped --iso-area $int4_first_last
  row "what-if: + ideal DRAM (both)" $model $shipped --iso-area $int4_first_last $ideal_dram
  # 65536 lanes make vector ops nearly free; lanes have area, so B keeps the array the row above gave it.
  rows=${array%x*} cols=${array#*x}
  row "what-if: + vector ops almost free (both)" $model $shipped $int4_first_last $ideal_dram \
    --set-a vector.lanes=65536 --set-b vector.lanes=65536 --set-b array.rows="$rows" --set-b array.cols="$cols"
done
# Two more networks, the shipped designs and the one-array design only: a network of depthwise
# convolutions and a transformer (its attention matmuls in FP16 under int4-fp4).
for model in mobilenet_v2 bert-base; do
  row "**shipped designs, \`--iso-area\`**" $model $shipped --iso-area
  row "ladder 1: int4-single-array" $model $single --iso-area --set-a mapper=search
done
