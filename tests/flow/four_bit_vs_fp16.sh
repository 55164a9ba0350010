#!/bin/sh
# Regenerates the table of docs/validation.md, "4-bit vs FP16": `nibble compare`
# of hw/designs/int4-train.yaml (A) and hw/designs/fp16-baseline.yaml (B) on
# ResNet-18 and ResNet-50, batch 32, for the shipped designs and a ladder of
# what-if variants, each row adding one change to the row above it.
#
# usage: tests/flow/four_bit_vs_fp16.sh [OUTDIR]   (from the repository root;
#        $NIBBLE names the binary, default build/nibble)
# Prints one markdown table row per run; the runs' outputs stay in OUTDIR
# (default out/four-bit-vs-fp16).
set -eu
nibble=${NIBBLE:-build/nibble}
out=${1:-out/four-bit-vs-fp16}
a=hw/designs/int4-train.yaml
b=hw/designs/fp16-baseline.yaml
no_fp32_adder="--set-a array.accumulators.float=fp16-chunked"
int4_first_last="--policy-file-a tests/flow/data/first-last-int4.yaml"
ideal_dram="--set-a dram.ideal=true --set-b dram.ideal=true"
# 65536 lanes make vector ops nearly free; lanes have area, so B is pinned to
# the 66 x 66 array --iso-area gives it in the rows above instead of resizing.
free_vector="--set-a vector.lanes=65536 --set-b vector.lanes=65536 --set-b array.rows=66 --set-b array.cols=66"

row() {  # row LABEL MODEL FLAGS...
  label=$1 model=$2
  shift 2
  dir=$out/$model-$(echo "$label" | tr -c 'a-z0-9\n' '-')
  # shellcheck disable=SC2068
  text=$("$nibble" compare $a $b --model "$model" --batch 32 --force --out "$dir" $@ 2>/dev/null)
  array=$(echo "$text" | sed -n 's/^B: [^(]*(1 x \([0-9]*x[0-9]*\) .*/\1/p')
  speedup=$(echo "$text" | sed -n 's/^speedup (B.s time \/ A.s): \([^;]*\);.*/\1/p')
  energy=$(echo "$text" | sed -n 's/.*energy ratio (B.s energy \/ A.s): \(.*\)$/\1/p')
  tops=$(echo "$text" | sed -n 's/^tops_per_watt *\([^ ]*\) *\([^ ]*\) .*/\1 | \2/p')
  echo "| $label | $model | $array | $speedup | $energy | $tops |"
}

echo "| variant (each row adds to the one above) | model | B's array | speedup | energy ratio | A TOPS/W | B TOPS/W |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for model in resnet18 resnet50; do
  row "iso-PE (no --iso-area)" $model
  row "shipped designs, --iso-area" $model --iso-area
  row "same, 7 nm table" $model --iso-area --tech 7nm
  row "A: no FP32 adder in the PEs" $model --iso-area $no_fp32_adder
  row "+ A: first/last layers in INT4" $model --iso-area $no_fp32_adder $int4_first_last
  row "+ ideal DRAM (both)" $model --iso-area $no_fp32_adder $int4_first_last $ideal_dram
  row "+ vector ops almost free (both)" $model $no_fp32_adder $int4_first_last $ideal_dram $free_vector
done
