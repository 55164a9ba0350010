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
  if (std::isfinite(even.scale) && even.scale > std::numeric_limits<float>::max() / 2) {
    throw FormatError("fp4 scale", "the odd TPR phase needs 2 x scale finite, got scale " +
                                       describe_number(even.scale));
  }
  odd.scale = even.scale * 2.0f;  // exact: a power-of-two multiple
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
