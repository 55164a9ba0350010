#include "sim/numerics/tpr.hpp"

#include <cmath>
#include <limits>

#include "sim/numerics/counter_rng.hpp"
#include "sim/numerics/error.hpp"

namespace nibble::numerics {

Fp4Params tpr_odd_params(const Fp4Params& even) {
  if (even.radix2) {
    throw FormatError("tpr radix", "two-phase rounding needs radix-4 FP4: with radix 2 the odd grid 2 x 2^j "
                                   "is the even grid");
  }
  Fp4Params odd = even;
  // Halved, not doubled: GradScale puts the largest gradient at the even
  // phase's top code, so with a doubled scale the odd phase's top code
  // (2 x top) lay a whole octave above every gradient and was never used (its
  // largest used value was a quarter of its range). Halving gives the same
  // grid of odd powers, one code lower: the top code (top / 2) takes the
  // largest gradients and all 7 magnitudes are used.
  if (!(even.scale >= 2.0f * std::numeric_limits<float>::min())) {
    throw FormatError("fp4 scale", "the odd TPR phase needs scale / 2 to be a normal float, got scale " +
                                       describe_number(even.scale));
  }
  odd.scale = even.scale * 0.5f;  // exact: the result is a normal float
  odd.seed = derived_seed(even.seed, 0x7470722D6F6464ull);  // "tpr-odd"
  return odd;
}

TprQuantizer::TprQuantizer(const Fp4Params& even) : m_even(even), m_odd(tpr_odd_params(even)) {}

void TprQuantizer::quantize(const float* x, std::size_t n, std::uint8_t* even_codes, std::uint8_t* odd_codes,
                            std::uint64_t first_index) const {
  if (even_codes != nullptr) m_even.quantize(x, n, even_codes, first_index);
  if (odd_codes != nullptr) m_odd.quantize(x, n, odd_codes, first_index);
}

void TprQuantizer::quantize_dequantize(const float* x, std::size_t n, float* even_out, float* odd_out,
                                       std::uint64_t first_index) const {
  if (even_out != nullptr) m_even.quantize_dequantize(x, n, even_out, first_index);
  if (odd_out != nullptr) m_odd.quantize_dequantize(x, n, odd_out, first_index);
}

}  // namespace nibble::numerics
