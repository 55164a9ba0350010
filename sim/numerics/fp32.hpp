// IEEE 754 binary32 (FP32) as bit patterns: the pass-through format of the
// FP32 PE and the accumulator of the chunked FP16 scheme. The add and fused
// multiply-add follow the same exact-then-round-once rules as fp16.hpp, so
// NaNs are canonical (0x7FC00000) whatever the host does with payloads.
#pragma once

#include <cstdint>

namespace nibble::numerics {

inline constexpr std::uint32_t kFp32CanonicalNan = 0x7FC00000;  ///< the NaN nibble produces
inline constexpr std::uint32_t kFp32Inf = 0x7F800000;           ///< +inf

/// The bit pattern of a float.
std::uint32_t fp32_bits(float value);
/// The float with bit pattern `bits`.
float fp32_value(std::uint32_t bits);
/// Nearest FP32 to a double, ties to even, rounded once; NaN -> 0x7FC00000.
std::uint32_t fp32_from_double(double value);
/// a + b rounded once; NaN rules as fp16_add.
std::uint32_t fp32_add(std::uint32_t a, std::uint32_t b);
/// acc + a x b, product exact, one rounding; inf x 0 -> canonical NaN.
std::uint32_t fp32_fma(std::uint32_t acc, std::uint32_t a, std::uint32_t b);

}  // namespace nibble::numerics
