// IEEE 754 binary16 (FP16), bit by bit: [sign 1 | exponent 5, bias 15 |
// fraction 10]. Conversions round to nearest, ties to even, with subnormals
// (smallest 2^-24 = 0x0001), +-inf and NaN; the add and fused multiply-add
// round the exact result once. Integer operations on the bit patterns only
// (binary_float.hpp): no _Float16, no host FP16 conversion instruction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nibble::numerics {

inline constexpr std::uint16_t kFp16CanonicalNan = 0x7E00;  ///< the NaN nibble produces (sign 0, quiet)
inline constexpr std::uint16_t kFp16Inf = 0x7C00;           ///< +inf (0xFC00 is -inf)
inline constexpr std::uint16_t kFp16Max = 0x7BFF;           ///< 65504, the largest finite value
inline constexpr std::uint16_t kFp16MinNormal = 0x0400;     ///< 2^-14
inline constexpr std::uint16_t kFp16MinSubnormal = 0x0001;  ///< 2^-24

/// Nearest FP16 to `value` (ties to even); |value| >= 65520 -> +-inf; NaN -> 0x7E00.
std::uint16_t fp16_from_float(float value);
/// Nearest FP16 to `value`, rounded once from the double (not through float).
std::uint16_t fp16_from_double(double value);
/// The exact value of an FP16 pattern as a float (every FP16 value is a float); NaN -> quiet NaN.
float fp16_to_float(std::uint16_t bits);
/// The exact value as a double.
double fp16_to_double(std::uint16_t bits);
/// True for the 2046 NaN patterns (exponent 31, fraction != 0).
bool fp16_is_nan(std::uint16_t bits);

/// a + b rounded once (nearest-even). NaN in -> 0x7E00; inf + -inf -> 0x7E00;
/// x + (-x) -> +0; -0 + -0 -> -0.
std::uint16_t fp16_add(std::uint16_t a, std::uint16_t b);
/// acc + a x b with the product exact and one rounding (fused); inf x 0 -> 0x7E00,
/// otherwise the NaN and zero rules of fp16_add.
std::uint16_t fp16_fma(std::uint16_t acc, std::uint16_t a, std::uint16_t b);

/// Converts n floats to FP16 patterns (fp16_from_float each).
void fp16_from_floats(const float* in, std::size_t n, std::uint16_t* out);
/// Converts n FP16 patterns to floats (exact).
void fp16_to_floats(const std::uint16_t* in, std::size_t n, float* out);

}  // namespace nibble::numerics
