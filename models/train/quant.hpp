// Operand quantization for the GEMMs of the training emulator: every call
// goes to sim/numerics (the one definition of each format); this file only
// decides per tensor *which* quantizer and scale apply, as the accelerator's
// vector unit would before feeding the array.
//
//   activations  uint4: PACT (clip to [0, alpha], alpha learned); int4 (signed
//                inputs, only when a policy file makes a first layer 4-bit): SAWB;
//                fp8/fp16: per-tensor power-of-two scale (see below); fp32: as is.
//   weights      int4: SAWB (clip from E[w^2] and E[|w|], recomputed every step);
//                fp8/fp16: power-of-two scale; fp32: as is.
//   gradients    fp4 / fp4-r2: per-layer GradScale, then FP4 in the TPR phase the
//                GEMM uses; fp8/fp16: power-of-two scale (dynamic loss scaling
//                per tensor); fp32: as is.
//
// Power-of-two scale: s = 2^(ceil(log2(max|x|)) - 4), so max|x/s| is in
// (8, 16] and scaling is exact. It stands for the adjustable exponent bias of
// HFP8 and for (per-tensor, ideal) loss scaling of FP16 gradients. 16 rather
// than the formats' maxima (448, 57344, 65504) keeps products small enough
// for an FP16 accumulator (16 x 16 x K stays below 65504 for typical sums)
// while leaving FP8-e4m3 2^13 and FP8-e5m2 2^20 of range below the maximum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/numerics/format.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/gradscale.hpp"

namespace nibble::train {

class ThreadPool;

/// Arithmetic fixed by the design (or its defaults).
struct ArithParams {
  int fp4_bias = 7;          ///< FP4 exponent bias (sim/numerics default)
  std::size_t chunk = 64;    ///< fp16-chunked accumulators: products per FP16 chunk
  numerics::Fp4Rounding fp4_rounding = numerics::Fp4Rounding::kNearestLog2;  ///< FP4 gradient rounding
};

/// One GEMM operand after quantization.
struct QuantizedOperand {
  numerics::Format format = numerics::Format::kFp32;  ///< format of the values
  std::vector<float> units;    ///< the values the PEs multiply, same layout as the source
  const float* view = nullptr; ///< fp32: the source itself (no copy); it must outlive the use
  float scale = 1.0f;          ///< real value = scale * unit (applied after the GEMM)
  /// Scratch: the INT4/UINT4 codes of the last quantization, kept so that the
  /// next step reuses the storage instead of allocating and zero-filling it.
  std::vector<std::int8_t> int_codes;
  std::vector<std::uint8_t> fp4_codes;  ///< scratch: the FP4 codes of the last quantization, likewise

  /// The values the PEs multiply.
  const float* data() const { return view != nullptr ? view : units.data(); }
};

/// The two roundings of two-phase rounding (TPR).
enum class TprPhase {
  kEven,  ///< onto +-scale x 4^j (the FP4 code values): weight-gradient GEMM
  kOdd,   ///< onto +-scale x 4^j / 2: input-gradient GEMM (same codes, scale halved)
};

/// out[i] = the FP16 value nearest to x[i] * multiplier (ties to even), as a
/// float: sim/numerics' fp16_from_float, vectorized with the F16C conversion
/// when the build has it. `multiplier` must be a power of two (exact).
void round_to_fp16(const float* x, std::size_t n, float multiplier, float* out);

/// Quantizes input activations `x[0..n)` to `format`; `alpha` is the PACT
/// clip (uint4 only). std::logic_error for a format that is not an
/// activation format. With a pool, the element-wise part runs in fixed
/// blocks on its threads (the same codes at any thread count).
void quantize_activations(numerics::Format format, const float* x, std::size_t n, float alpha,
                          QuantizedOperand& out, ThreadPool* pool = nullptr);

/// Straight-through backward of quantize_activations: `grad` holds dL/dx_q on
/// entry and dL/dx on return (zero where the forward clipped); returns
/// dL/dalpha (0 unless PACT).
double activation_backward(numerics::Format format, const float* x, std::size_t n, float alpha, float* grad);

/// Quantizes weights `w[0..n)` to `format` (straight-through backward: dL/dw = dL/dw_q);
/// `pool` as in quantize_activations.
void quantize_weights(numerics::Format format, const float* w, std::size_t n, QuantizedOperand& out,
                      ThreadPool* pool = nullptr);

/// The gradient quantizer of one layer: FP4 with GradScale (state kept
/// across steps) and TPR phases, or a power-of-two-scaled FP8/FP16, or FP32.
class GradientQuantizer {
 public:
  /// `gradscale` false fixes the FP4 scale at 1 (the no-gradscale ablation).
  GradientQuantizer(const ArithParams& params, bool gradscale);

  /// Starts a step: measures dy[0..n) for GradScale (FP4 formats only).
  /// Returns false when dy holds inf or NaN (the step should be skipped).
  bool begin_step(numerics::Format format, const float* dy, std::size_t n);
  /// Quantizes dy[0..n) to `format` in TPR phase `phase` (FP4 only) with the
  /// scale chosen by begin_step(); `seed` seeds stochastic rounding; `pool` as
  /// in quantize_activations.
  void quantize(numerics::Format format, const float* dy, std::size_t n, TprPhase phase, std::uint64_t seed,
                QuantizedOperand& out, ThreadPool* pool = nullptr) const;
  /// The FP4 scale of the current step (1 before the first step or without GradScale).
  float scale() const { return m_scale; }

 private:
  ArithParams m_params;                         ///< bias, rounding
  bool m_enabled;                               ///< GradScale on
  std::unique_ptr<numerics::GradScale> m_state; ///< the layer's GradScale (when enabled)
  float m_scale = 1.0f;                         ///< scale of the current step
};

/// Value of one LSB of the fixed-point product of `a` x `b` units (int32
/// accumulators): 1 for INT4 x INT4, 4^(1-bias) for INT4 x FP4 (2^(1-bias)
/// radix 2). std::logic_error if the pair has no fixed-point PE mode.
double fixed_point_lsb(numerics::Format a, numerics::Format b, int fp4_bias);

/// True when every product of an `a` unit and a `b` unit is an FP16 number
/// (the cheaper exact path of the FP16 accumulator kernel), by enumeration of
/// the 4-bit code books; false for FP8/FP16/FP32 operands.
bool products_are_fp16(numerics::Format a, numerics::Format b, int fp4_bias);

/// True if a PE (or the chunked scheme) accumulates products of `a` x `b` in
/// `acc` (sim/numerics' pe_accumulator_supported, plus fp16-chunked wherever
/// fp16 is supported, plus uint4 wherever int4 is).
bool accumulation_supported(numerics::Format a, numerics::Format b, numerics::Format acc);

}  // namespace nibble::train
