// What one dot-product PE computes, bit for bit: N products formed exactly,
// summed exactly (the adder tree of a tensor core or of Sun et al.'s
// shifter + adder-tree + one-rounder INT4 x FP4 unit), and the sum added into
// the incoming accumulator word with one rounding. pe_dot(..., n = 1) is
// pe_mac bit for bit; for n > 1 it rounds (or saturates) once per N products
// where n chained pe_mac calls round n times. docs/numerics.md, "Dot-product PE".
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/pe.hpp"

namespace nibble::numerics {

/// Largest N a dot-product PE may have (the design key array.dot_product's bound).
inline constexpr std::size_t kMaxDotProduct = 64;

/// acc + sum_i a_bits[i] x b_bits[i] in the accumulator format of `arith`:
/// the products and their sum are exact, the final add rounds once
/// (round-to-nearest-even) for fp16/fp32 accumulators and saturates once for
/// int32. Operand words and mode/accumulator pairs as pe_mac (FormatError for
/// the same inputs); FormatError for n == 0 or n > kMaxDotProduct.
std::uint32_t pe_dot(const PeArith& arith, PeMode mode, std::uint32_t acc, const std::uint32_t* a_bits,
                     const std::uint32_t* b_bits, std::size_t n);

}  // namespace nibble::numerics
