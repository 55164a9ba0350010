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
};

/// Canonical lower-case name used in every file nibble reads or writes:
/// int4 uint4 fp4 fp4-r2 fp8-e4m3 fp8-e5m2 fp16 fp32 int32 fp16-chunked.
std::string_view format_name(Format format);
/// Inverse of format_name(); nullopt for an unknown name.
std::optional<Format> parse_format(std::string_view name);
/// Every format, in declaration order (for messages listing the valid names).
const std::vector<Format>& all_formats();
/// Storage width of one element in bits (accumulators: their register width).
int format_bits(Format format);
/// True for formats that only make sense as an accumulator (int32, fp16-chunked).
bool is_accumulator_only(Format format);

}  // namespace nibble::numerics
