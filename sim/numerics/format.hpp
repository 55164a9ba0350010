// The names of nibble's number formats. This header is the vocabulary shared
// by traces, design files, the SystemC model and the training emulator; the
// arithmetic of each format lives beside it in sim/numerics.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::numerics {

enum class Format {
  kInt4,         ///< signed two's complement, -8..7, per-tensor scale
  kUint4,        ///< unsigned 0..15 (post-ReLU activations), per-tensor scale
  kFp4,          ///< radix-4 FP4 [1 sign, 3 exponent, 0 mantissa]: +-4^(e-bias) x scale
  kFp4Radix2,    ///< same bits, radix 2: +-2^(e-bias) x scale (ablation only)
  kFp8E4M3,      ///< HFP8 forward format [1,4,3]
  kFp8E5M2,      ///< HFP8 gradient format [1,5,2]
  kFp16,         ///< IEEE binary16
  kFp32,         ///< IEEE binary32
  kInt32,        ///< exact integer / fixed-point accumulator
  kFp16Chunked,  ///< accumulator: chunks summed in FP16, chunk sums in FP32
  // Block-scaled formats: rows of sim/numerics/block_format.hpp's table, whose
  // name each one carries (elements, scale format and block length come from there).
  kMxfp4,        ///< OCP MXFP4: e2m1 elements, an E8M0 scale per 32
  kNvfp4,        ///< NVFP4: e2m1 elements, a UE4M3 scale per 16, an FP32 scale per tensor
  kMxfp8E4M3,    ///< OCP MXFP8: e4m3 elements, an E8M0 scale per 32
  kMxfp8E5M2,    ///< OCP MXFP8: e5m2 elements, an E8M0 scale per 32
  kBf16,         ///< bfloat16 (the table's row without a scale)
};

/// Canonical lower-case name used in every file nibble reads or writes:
/// int4 uint4 fp4 fp4-r2 fp8-e4m3 fp8-e5m2 fp16 fp32 int32 fp16-chunked, and
/// the block-format table's names mxfp4 nvfp4 mxfp8-e4m3 mxfp8-e5m2 bf16.
std::string_view format_name(Format format);
/// Inverse of format_name(); nullopt for an unknown name.
std::optional<Format> parse_format(std::string_view name);
/// Every format, in declaration order (for messages listing the valid names).
const std::vector<Format>& all_formats();
/// Storage width of one element in bits, scales not included (accumulators:
/// their register width; block formats: the element's code, 4 for mxfp4).
int format_bits(Format format);
/// Storage of one element in quarter bits, its share of the block scale
/// included: 4 x format_bits, plus 4 x scale bits / block for a block format
/// (mxfp4 17 = 4 bits + 8 bits per 32, nvfp4 18 = 4 + 8 per 16, mxfp8 33).
/// Exact for every table row: scale bits x 4 is a multiple of the block length.
int format_quarter_bits(Format format);
/// Bits stored once per tensor above the block scales: 32 (NVFP4's FP32 tensor scale), else 0.
int format_tensor_bits(Format format);
/// True for the block-scaled rows (mxfp4 nvfp4 mxfp8-e4m3 mxfp8-e5m2 bf16).
bool is_block_format(Format format);
/// True for formats that only make sense as an accumulator (int32, fp16-chunked).
bool is_accumulator_only(Format format);

}  // namespace nibble::numerics
