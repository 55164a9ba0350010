// Two-phase rounding (TPR, Sun et al., NeurIPS 2020): the same gradient
// tensor is quantized twice, once onto the even powers of two (+-scale x 4^j,
// used by one backward GEMM) and once onto the odd powers (+-scale x 4^j / 2,
// used by the other). The odd phase is the even quantizer with the scale
// halved, so the PE sees ordinary FP4 codes in both phases and only the odd
// phase's result is worth half its code's value. Halved rather than doubled:
// GradScale maps the largest gradient to the even phase's top code, so a
// doubled odd grid's top code (twice that) would never be used.
//
// With nearest-in-log2 rounding the two phases always land on the two powers
// of two that bracket |x| (one at or below, one above): their errors have
// opposite signs for every element. docs/numerics.md ("TPR") derives what
// that does and does not do to the bias.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/fp4.hpp"

namespace nibble::numerics {

/// The odd phase's parameters: scale / 2 and a stochastic seed derived from
/// the even one (so stochastic phases are independent). FormatError for
/// radix 2 (its odd grid would equal the even grid) or a scale below 2^-125
/// (its half would not be a normal float).
Fp4Params tpr_odd_params(const Fp4Params& even);

/// Quantizes one tensor onto both TPR phases.
class TprQuantizer {
 public:
  /// `even` describes the even phase; the odd phase is tpr_odd_params(even).
  explicit TprQuantizer(const Fp4Params& even);

  const Fp4Quantizer& even() const { return m_even; }  ///< grid +-scale x 4^j
  const Fp4Quantizer& odd() const { return m_odd; }    ///< grid +-scale x 4^j / 2

  /// Both phases' codes of x[0..n); either output may be null to skip that phase.
  void quantize(const float* x, std::size_t n, std::uint8_t* even_codes, std::uint8_t* odd_codes,
                std::uint64_t first_index = 0) const;
  /// Both phases dequantized (the odd values include the factor 1/2); either output may be null.
  void quantize_dequantize(const float* x, std::size_t n, float* even_out, float* odd_out,
                           std::uint64_t first_index = 0) const;

 private:
  Fp4Quantizer m_even;  ///< even phase
  Fp4Quantizer m_odd;   ///< odd phase: scale halved
};

}  // namespace nibble::numerics
