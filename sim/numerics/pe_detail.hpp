// The pieces of a PE that pe_mac (pe.cpp) and pe_dot (dot.cpp) share: operand
// checks, exact products, the int32 saturation and the one rounding add.
// Internal to sim/numerics.
#pragma once

#include <cstdint>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::numerics::detail {

/// FormatError unless the mode/accumulator pair exists (pe_accumulator_supported).
void check_accumulator(const PeArith& arith, PeMode mode);
/// True for the INT4/FP4 modes, whose products are exact fixed-point integers.
bool is_fixed_point_mode(PeMode mode);
/// The exact product of an INT4/FP4 mode as an integer multiple of 2^lsb_exp
/// (int4 x int4: LSB 1; FP4 modes: LSB 4^(1 - bias)). Checks the operand widths.
std::int64_t fixed_product(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits,
                           int* lsb_exp);
/// The exact product of an FP8/FP16/FP32 mode. Checks the operand widths.
FloatValue float_product(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits);
/// Two's complement reading of a 32-bit word.
std::int64_t as_int32(std::uint32_t u);
/// v clamped to the int32 range, as its two's complement pattern.
std::uint32_t saturate_int32(std::int64_t v);
/// The exact term p x 2^lsb_exp as a FloatValue (integer sums have no signed zero).
FloatValue integer_term(std::int64_t p, int lsb_exp);
/// The accumulator word of a floating accumulator (fp16: checks the upper bits are zero).
FloatValue decode_accumulator(Format acc_format, std::uint32_t acc, PeMode mode);
/// acc + term in a floating accumulator (fp16 or fp32), one rounding.
std::uint32_t add_into(Format acc_format, std::uint32_t acc, const FloatValue& term, PeMode mode);

}  // namespace nibble::numerics::detail
