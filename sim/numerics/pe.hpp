// What one processing element computes, bit for bit. The SystemC model, the
// RTL co-simulation and the training emulator all call (or are checked
// against) these functions; there is no second definition anywhere.
//
// Accumulator words are 32-bit patterns:
//   int32        two's complement, saturating at [-2^31, 2^31 - 1]. For the
//                INT4 x FP4 modes it holds a fixed-point number whose LSB is
//                4^(1 - fp4_bias) (see fp4_shift_product).
//   fp16         IEEE binary16 bits in the low 16 bits (upper 16 bits zero).
//   fp32         IEEE binary32 bits.
// FP8 operands use their layout's default bias (fp8.hpp). Rounding, NaN and
// signed-zero rules, and which mode/accumulator pairs exist: docs/numerics.md.
#pragma once

#include <cstdint>

#include "sim/numerics/format.hpp"

namespace nibble::numerics {

/// The operand formats one PE multiplies. A is the streamed operand, B the
/// stationary one (docs/timing.md).
enum class PeMode : std::uint8_t {
  kInt4xInt4,  ///< forward GEMM: INT4 activations x INT4 weights -> exact integer product
  kFp4xInt4,   ///< input-gradient GEMM: A = FP4 gradient, B = INT4 weight -> shift of B
  kInt4xFp4,   ///< weight-gradient GEMM: A = INT4 activation, B = FP4 gradient -> shift of A
  kFp8xFp8,    ///< HFP8 PE: FP8 x FP8 fused multiply-add
  kFp16xFp16,  ///< FP16 PE: FP16 x FP16 fused multiply-add
  kFp32xFp32,  ///< FP32 PE: FP32 x FP32 fused multiply-add
  /// Block-FP4 PE (block_dot.hpp): MXFP4 x MXFP4, E2M1 products of a 32-element
  /// block summed exactly, the two E8M0 scales applied once per block. A block
  /// mode: pe_mac has no single product for it; numerics::block_dot_accumulate does it.
  kMxfp4,
  kNvfp4,      ///< Block-FP4 PE: NVFP4 x NVFP4, 16-element blocks, two UE4M3 scales per block (a block mode)
  kBf16xBf16,  ///< BF16 PE: BF16 x BF16 fused multiply-add (the product is exact in FP32)
};

/// Arithmetic parameters of a PE, fixed per design (and per op for `acc`).
struct PeArith {
  Format acc = Format::kInt32;      ///< accumulator: kInt32, kFp16 or kFp32
  int fp4_bias = 7;                 ///< FP4 exponent bias (docs/numerics.md)
  Format fp8_a = Format::kFp8E4M3;  ///< FP8 layout of A in kFp8xFp8
  Format fp8_b = Format::kFp8E4M3;  ///< FP8 layout of B in kFp8xFp8
  bool a_unsigned = false;          ///< A holds UINT4 codes 0..15 (post-ReLU activations) in kInt4xInt4 and kInt4xFp4
};

/// Lower-case name of a mode for messages and files: int4xint4 fp4xint4
/// int4xfp4 fp8xfp8 fp16xfp16 fp32xfp32 mxfp4 nvfp4 bf16xbf16.
const char* pe_mode_name(PeMode mode);
/// True if some PE has this mode/accumulator pair (docs/numerics.md, "PE
/// arithmetic"): INT4/FP4 modes accumulate in int32, fp16 or fp32; FP8 and
/// FP16 modes in fp16 or fp32; FP32 mode in fp32 only; the block modes in
/// fp16 or fp32 (block_dot_accumulate rounds each block into either); BF16
/// in fp32 only (mixed-precision BF16 training accumulates in FP32).
bool pe_accumulator_supported(PeMode mode, Format acc);
/// True for the block modes (kMxfp4, kNvfp4): whole blocks, block_dot_accumulate.
bool pe_block_mode(PeMode mode);

/// One multiply-accumulate: returns acc + a*b in the accumulator format of
/// `arith`, rounded once (round-to-nearest-even) for floating accumulators and
/// saturated for int32. `a_bits`/`b_bits` are the operands' codes in the
/// formats the mode names (4-bit codes in the low bits). Throws FormatError
/// for a mode/accumulator pair no PE implements.
std::uint32_t pe_mac(const PeArith& arith, PeMode mode, std::uint32_t acc, std::uint32_t a_bits,
                     std::uint32_t b_bits);

}  // namespace nibble::numerics
