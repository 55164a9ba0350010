// How far a quantized tensor is from the original, in the two numbers a
// numerics researcher reads first: relative RMS error and relative magnitude
// bias. Sums run in double in index order, so results are reproducible.
#pragma once

#include <cstddef>

namespace nibble::numerics {

/// Error of q against x over the elements where both are finite.
struct QuantError {
  double rel_rms = 0.0;       ///< sqrt(sum (q - x)^2 / sum x^2)
  double rel_bias = 0.0;      ///< sum sign(x) (q - x) / sum |x|: > 0 when magnitudes grow
  double zero_fraction = 0.0; ///< share of nonzero x whose q is 0 (flushed)
  std::size_t count = 0;      ///< elements compared
};

/// Compares q[0..n) with x[0..n); a tensor with sum x^2 = 0 gives zeros.
QuantError quant_error(const float* x, const float* q, std::size_t n);

}  // namespace nibble::numerics
