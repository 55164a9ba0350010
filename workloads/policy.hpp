// Precision policies: which number formats each GEMM layer's operands use in
// each phase of training. Named policies (fp32, fp16, hfp8, int4-fp4, and the
// block-scaled bf16, mxfp8, mxfp4, nvfp4) and a small YAML policy file with
// per-layer overrides (docs/trace-format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/numerics/format.hpp"
#include "workloads/trace.hpp"

namespace nibble::workloads {

using numerics::Format;

/// The precision of one GEMM layer: the formats of its three GEMMs.
enum class Precision {
  kFp32,     ///< fp32 x fp32, fp32 accumulation
  kFp16,     ///< fp16 x fp16, fp32 accumulation (the FP16 baseline accelerator)
  kHfp8,     ///< fp8-e4m3 forward operands, fp8-e5m2 gradients, fp16 accumulation (Sun et al. 2019)
  kInt4Fp4,  ///< int4/uint4 weights and activations, radix-4 fp4 gradients (TPR), fp16 accumulation
  // Block-scaled precisions: the training emulator's block policies of the same
  // names (models/train/block_quant.hpp) as formats of the trace's GEMMs.
  kBf16,     ///< bf16 operands, fp32 accumulation
  kMxfp8,    ///< mxfp8-e4m3 activations and weights, mxfp8-e5m2 gradients, fp32 accumulation
  kMxfp4,    ///< mxfp4 operands (1 x 32 blocks along each GEMM's reduction), fp32 accumulation
  kNvfp4,    ///< nvfp4 operands (16 x 16 weight blocks, 1 x 16 others), fp32 accumulation
};

std::string_view precision_name(Precision precision);  ///< fp32 fp16 hfp8 int4-fp4 bf16 mxfp8 mxfp4 nvfp4
std::optional<Precision> parse_precision(std::string_view name);
const std::vector<std::string>& precision_names();

/// Operand formats of a layer at one precision.
struct PrecisionFormats {
  Format activation;  ///< activations (forward A, weight-grad A); int4 for int4-fp4
  Format weight;      ///< weights (forward B, input-grad B)
  Format gradient;    ///< output gradients dY (input-grad A, weight-grad B)
  Format acc;         ///< accumulator and GEMM output
};
/// The formats of `precision`; `non_negative` picks uint4 for int4-fp4 activations
/// that are known to be >= 0 (after a ReLU, sigmoid or softmax).
PrecisionFormats precision_formats(Precision precision, bool non_negative);
/// True when the precision quantizes dY twice (two-phase rounding: odd powers of
/// four for the input-gradient GEMM, even for the weight-gradient GEMM).
bool uses_two_phase_rounding(Precision precision);
/// True when the precision's operands are blocks along the GEMM's reduction
/// (mxfp8, mxfp4, nvfp4): the weight-gradient GEMM, which reduces over the
/// batch, needs its activations and dY quantized again with blocks along that
/// dimension (the transposed re-quantization), and the input-gradient GEMM,
/// which reduces over the output features, its weights too unless their
/// blocks are square (weights_square_blocks).
bool uses_transposed_requantization(Precision precision);
/// True when the weights are quantized in 16 x 16 blocks that serve both
/// reduction directions (nvfp4, as NVIDIA's recipe does).
bool weights_square_blocks(Precision precision);
/// True when both operands of the weight-gradient GEMM pass a 16-point random
/// Hadamard transform along its reduction before their transposed
/// re-quantization (nvfp4, as NVIDIA's recipe and the emulator's policy do).
bool uses_hadamard(Precision precision);

/// A per-layer override from a policy file, with its location for errors.
struct LayerOverride {
  std::string layer;       ///< layer name in the graph
  Precision precision;     ///< precision for that layer's GEMMs
  std::int64_t line = 0;   ///< line of the key in the policy file
};

struct Policy {
  std::string name = "int4-fp4";               ///< written to the trace's policy line
  Precision base = Precision::kInt4Fp4;        ///< every GEMM layer not covered below
  Precision first_last = Precision::kFp16;     ///< first and last GEMM layers
  /// The first GEMM layers when they differ from first_last (nvfp4: the recipe
  /// keeps only the last layer in BF16); a policy file's `first_last` clears it.
  std::optional<Precision> first;
  std::optional<Precision> conv1x1;            ///< every 1x1 convolution (hfp8 = the paper's FP8 for ResNet-50)
  std::optional<Precision> attention;          ///< every matmul of two activations (attention's QK^T and AV)
  std::vector<LayerOverride> layers;           ///< per-layer precision; wins over everything above
  /// How convolutions get their im2col operand: on chip (the default), or
  /// through DRAM (the lowering of traces before the `im2col=` key, for comparison).
  Im2col im2col = Im2col::kOnChip;
  std::string file;                            ///< the policy file ("" for a named policy)

  /// Format of activations and gradients between GEMMs (vector ops work in it):
  /// fp32 for the fp32 policy, bf16 for the block-scaled ones, fp16 otherwise.
  Format storage() const;
};

/// A named policy: fp32, fp16, hfp8, bf16 (all layers at that precision),
/// int4-fp4 (first and last GEMM layers and the attention matmuls fp16), mxfp8
/// and mxfp4 (first and last bf16) or nvfp4 (last and attention bf16), the roles of the
/// emulator's block policies. Unknown names: InputError (field "policy") with a
/// suggestion.
Policy named_policy(const std::string& name);

/// Reads a YAML policy file. Keys: policy, name, first_last, conv1x1, attention, im2col, layers
/// (a mapping layer -> precision). `cli_policy` is the policy setting if the
/// run has one: it is the base when the file has no `policy` key, and it
/// must agree with the file otherwise. Errors name file:line and key.
Policy read_policy_file(const std::string& path, const std::optional<std::string>& cli_policy);
/// The same from YAML text (tests); `origin` names it in errors.
Policy parse_policy_text(const std::string& text, const std::string& origin,
                         const std::optional<std::string>& cli_policy);

}  // namespace nibble::workloads
