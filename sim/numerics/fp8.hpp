// The two HFP8 layouts (Sun et al., NeurIPS 2019): [1,4,3] for the forward
// pass and [1,5,2] for gradients, bit by bit with a configurable exponent
// bias. Choices (docs/numerics.md, "FP8"):
//   fp8-e4m3  default bias 7; no infinities; S.1111.111 is NaN; overflow and
//             inf saturate to +-max (448 at bias 7), as the OCP E4M3 format.
//   fp8-e5m2  default bias 15; IEEE-like: exponent 31 is inf/NaN; overflow
//             rounds to +-inf (max 57344 at bias 15).
// Both round to nearest, ties to even, with subnormals.
#pragma once

#include <cstdint>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/format.hpp"

namespace nibble::numerics {

/// One FP8 layout with its bias.
struct Fp8Spec {
  Format layout = Format::kFp8E4M3;  ///< kFp8E4M3 or kFp8E5M2
  int bias = 7;                      ///< exponent bias, 0 .. 2^exp_bits - 1
};

/// IEEE-style default bias 2^(exp_bits-1) - 1: 7 for e4m3, 15 for e5m2. FormatError for a non-FP8 layout.
int fp8_default_bias(Format layout);
/// The layout with its default bias.
Fp8Spec fp8_default_spec(Format layout);
/// Field widths, bias and specials of `spec`; FormatError for a non-FP8 layout or a bias out of range.
FloatSpec fp8_float_spec(const Fp8Spec& spec);

/// Nearest FP8 pattern to `value` (ties to even); NaN -> canonical NaN (0x7F e4m3, 0x7E e5m2).
std::uint8_t fp8_from_float(float value, const Fp8Spec& spec);
/// Nearest FP8 pattern to a double, rounded once.
std::uint8_t fp8_from_double(double value, const Fp8Spec& spec);
/// Exact value of an FP8 pattern (every one is a float for biases in range).
float fp8_to_float(std::uint8_t bits, const Fp8Spec& spec);

}  // namespace nibble::numerics
