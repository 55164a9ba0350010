// Block-scaled GEMM operands in the training emulator (OCP MX, NVFP4, BF16):
// which format, block shape, rounding and Hadamard transform each operand of
// each of a layer's three GEMMs uses, and the fake quantization that turns a
// GEMM operand matrix into the values the PEs multiply. The formats
// themselves are sim/numerics/block_format.hpp's table; blocks always run
// along the GEMM's reduction dimension, so the weight-gradient GEMM, which
// reduces over the batch (and positions), re-quantizes its operands along
// that axis (the transposed re-quantization).
//
// Named block policies (docs/training.md, "Block-scaled policies"):
//   mxfp4  every GEMM operand of the forward, input-gradient and weight-gradient
//          GEMMs in MXFP4 (1 x 32 blocks along the reduction, nearest-even);
//          first and last GEMM layers BF16; FP32 accumulation
//   nvfp4  NVIDIA's recipe: weights in 16 x 16 blocks, activations and
//          gradients in 1 x 16 blocks, stochastic rounding on gradients, a
//          16-point random Hadamard transform on both weight-gradient operands;
//          last GEMM layer BF16; FP32 accumulation
//   mxfp8  MXFP8: e4m3 activations and weights, e5m2 gradients; first and last BF16
//   bf16   every GEMM operand BF16
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/train/parallel.hpp"
#include "sim/numerics/block_format.hpp"

namespace YAML {
class Node;
}  // namespace YAML

namespace nibble::train {

/// How one GEMM operand is quantized.
struct OperandQuant {
  const numerics::BlockFormat* format = nullptr;  ///< nullptr: FP32 (the operand is used as it is)
  bool two_d = false;       ///< 16 x 16 blocks (NVFP4 weights) instead of 1-D blocks along the reduction
  numerics::BlockRounding rounding = numerics::BlockRounding::kNearestEven;  ///< element rounding
  bool hadamard = false;    ///< 16-point random Hadamard transform along the reduction first

  bool operator==(const OperandQuant& o) const {
    return format == o.format && two_d == o.two_d && rounding == o.rounding && hadamard == o.hadamard;
  }
};

/// The two operands of one GEMM (A streamed, B stationary, as LayerArith's formats).
struct GemmBlockQuant {
  OperandQuant a;  ///< A operand
  OperandQuant b;  ///< B operand
};

/// Block quantization of a layer's three GEMMs; all default: none (the
/// layer's LayerArith formats apply).
struct BlockArith {
  GemmBlockQuant forward;      ///< A = activations, B = weights
  GemmBlockQuant input_grad;   ///< A = output gradient, B = weights
  GemmBlockQuant weight_grad;  ///< A = activations, B = output gradient (operand roles; see gemm_layer.hpp)
  /// True when any operand is block-quantized.
  bool active() const;
};

/// One layer's block arithmetic from a policy file, with its location for errors.
struct BlockLayerOverride {
  std::string layer;      ///< layer name in the graph
  BlockArith arith;       ///< that layer's operands (the file's roles over `middle`)
  std::int64_t line = 0;  ///< line of the key in the policy file
};

/// A block policy: the arithmetic of first, middle and last GEMM layers, and
/// per-layer overrides from a policy file (which win).
struct BlockPolicy {
  std::string name;    ///< mxfp4 nvfp4 mxfp8 bf16 (fp32: a file's section without a named start)
  BlockArith first;    ///< the first GEMM layer
  BlockArith middle;   ///< every other GEMM layer
  BlockArith last;     ///< the last GEMM layer
  std::vector<BlockLayerOverride> layers;  ///< per layer, from a policy file
  std::string file;    ///< the policy file ("" for a named policy)
  /// The matmuls of two activations (attention's QK^T and PV) when not `middle`: nvfp4
  /// keeps them BF16 as NVIDIA's recipe does (the trace's named policy sets the same).
  std::optional<BlockArith> attention;
};

/// Names of the block policies, in a fixed order.
const std::vector<std::string>& block_policy_names();
/// The block policy `name`; nullopt for another name.
std::optional<BlockPolicy> named_block_policy(const std::string& name);
/// One --help line per block policy (each ends with a newline).
std::string block_policy_summary();
/// Reads a policy file's `block:` section (`node`, at `line` of `file`):
/// `policy:` a named block policy to start from (else `start`, else FP32
/// everywhere); `first:`, `middle:`, `last:` and `layers: {NAME: ...}`, each a
/// mapping of roles (forward.activation, forward.weight, input_grad.gradient,
/// input_grad.weight, weight_grad.activation, weight_grad.gradient) to
/// {format, blocks: 1d|16x16, rounding: nearest-even|stochastic, hadamard}.
/// InputError with file:line:key for anything else.
BlockPolicy parse_block_policy(const YAML::Node& node, const std::string& file, std::int64_t line,
                               const std::optional<BlockPolicy>& start);

/// Fake-quantizes a GEMM operand: x is rows x cols row-major (row stride
/// `cols`); the GEMM reduces along its columns (`reduce_along_cols`) or its
/// rows. Returns x itself when q.format is null, else `scratch` holding the
/// units (code x block scale) the PEs multiply; `*scale` is multiplied by the
/// tensor scale (NVFP4; 1 for MX and BF16). With q.hadamard the reduction
/// axis is first transformed 16 elements at a time by H16 x diag(signs) / 4,
/// the signs drawn from `hadamard_seed` per reduction index (both operands of
/// a GEMM must use the same seed: the transforms then cancel in the product;
/// a last partial group of fewer than 16 is left as it is). Stochastic
/// rounding uses `seed`. Bands of blocks run as `pool` tasks when given (the
/// same bits at any thread count).
const float* quantize_gemm_operand(const OperandQuant& q, const float* x, std::size_t rows, std::size_t cols,
                                   bool reduce_along_cols, std::uint64_t seed, std::uint64_t hadamard_seed,
                                   std::vector<float>& scratch, float* scale, ThreadPool* pool = nullptr);

/// The block length B when the GEMM `g` runs on block dot-product PEs
/// bit for bit as numerics::block_dot_run (models/train/gemm.hpp, "fp32,
/// block"): both operands block-scaled with the same block length along the
/// reduction (16 x 16 weight blocks are whole blocks along it) and the exact
/// in-block sum of their units at most 24 significant bits wide, so FP32 sums
/// it exactly (mxfp4, nvfp4, mxfp6-*, mxint8). 0 otherwise (BF16 operands,
/// MXFP8's E4M3 / E5M2, mixed block lengths): the ordinary FP32 GEMM.
std::size_t block_gemm_length(const GemmBlockQuant& g);

/// The 16-point transform of quantize_gemm_operand on one strided group:
/// v[k x stride] for k < 16 replaced by (H16 diag(s) v) / 4, s_k = +-1 from
/// sign bits `signs` (bit k).
void hadamard16(float* v, std::size_t stride, std::uint32_t signs);

}  // namespace nibble::train
