// The block dot-product unit of an MX / NVFP4 PE, bit for bit: the products
// of two blocks' element codes are exact integers on a fixed-point grid
// (E2M1 x E2M1: multiples of 2^-2, at most 36 in magnitude) summed exactly in
// an adder tree, the two block scales applied once per block, and the block's
// value added into the accumulator with one rounding (fp32 or any binary
// float accumulator). NVFP4's per-tensor scales multiply the finished dot
// product, outside this unit. The SystemC functional path and the emulator's
// exact checks call this; docs/numerics.md, "Block dot product", derives the
// widths.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/block_format.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::numerics {

/// One block operand: `n` element codes of `format` and the block's scale code.
struct BlockOperand {
  const BlockFormat* format = nullptr;  ///< the operand's block format (MX or NVFP4, not bf16)
  const std::uint32_t* codes = nullptr; ///< n element codes
  std::uint32_t scale = 0;              ///< the block's scale code
};

/// Width in bits of the exact fixed-point sum of `n` products of `a` x `b`
/// element codes, sign included (E2M1 x E2M1, n = 32: 14 bits).
int block_dot_sum_bits(const ElementFormat& a, const ElementFormat& b, std::size_t n);

/// The exact fixed-point sum of products of one block pair: returns the
/// integer sum; `lsb_exp` receives the power of two of its LSB (E2M1 x E2M1: -2).
/// FormatError when block_dot_sum_bits() exceeds 54 (e5m2 and bf16 elements) or
/// a format has no block scale.
std::int64_t block_dot_fixed(const BlockOperand& a, const BlockOperand& b, std::size_t n, int* lsb_exp);

/// acc + (sum of a_i x b_i) x scale_a x scale_b, the block's exact value
/// rounded once into the accumulator format `acc_spec` (nearest-even; `acc`
/// holds that format's bits). A NaN scale gives the canonical NaN.
std::uint64_t block_dot_accumulate(std::uint64_t acc, const BlockOperand& a, const BlockOperand& b, std::size_t n,
                                   const FloatSpec& acc_spec = kFp32Spec);

/// The block format a block PE mode multiplies: mxfp4 (kMxfp4), nvfp4
/// (kNvfp4); FormatError for a mode that is not a block mode.
const BlockFormat& pe_block_format(PeMode mode);

/// A run of whole blocks along one reduction, as a block PE row (or a chain
/// of them) adds it: block i covers elements [i x B, min(n, (i + 1) x B)) of
/// the codes (B = format.block, the last block may be partial) and carries
/// scales a_scales[i], b_scales[i]; the blocks are added into `acc` one after
/// another, each by block_dot_accumulate (docs/timing.md, "Block-FP4 PEs").
std::uint64_t block_dot_run(std::uint64_t acc, const BlockFormat& format, const std::uint32_t* a_codes,
                            const std::uint32_t* a_scales, const std::uint32_t* b_codes,
                            const std::uint32_t* b_scales, std::size_t n, const FloatSpec& acc_spec = kFp32Spec);

}  // namespace nibble::numerics
