#include "sim/numerics/format.hpp"

#include <array>
#include <utility>

namespace nibble::numerics {

namespace {
struct FormatInfo {
  Format format;
  std::string_view name;
  int bits;
  bool accumulator_only;
};

constexpr std::array<FormatInfo, 10> kFormats{{
    {Format::kInt4, "int4", 4, false},
    {Format::kUint4, "uint4", 4, false},
    {Format::kFp4, "fp4", 4, false},
    {Format::kFp4Radix2, "fp4-r2", 4, false},
    {Format::kFp8E4M3, "fp8-e4m3", 8, false},
    {Format::kFp8E5M2, "fp8-e5m2", 8, false},
    {Format::kFp16, "fp16", 16, false},
    {Format::kFp32, "fp32", 32, false},
    {Format::kInt32, "int32", 32, true},
    {Format::kFp16Chunked, "fp16-chunked", 16, true},
}};

const FormatInfo& info(Format format) {
  for (const auto& entry : kFormats) {
    if (entry.format == format) return entry;
  }
  return kFormats[0];  // unreachable: every enumerator is in the table
}
}  // namespace

std::string_view format_name(Format format) { return info(format).name; }

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& entry : kFormats) {
    if (entry.name == name) return entry.format;
  }
  return std::nullopt;
}

const std::vector<Format>& all_formats() {
  static const std::vector<Format> formats = [] {
    std::vector<Format> out;
    for (const auto& entry : kFormats) out.push_back(entry.format);
    return out;
  }();
  return formats;
}

int format_bits(Format format) { return info(format).bits; }

bool is_accumulator_only(Format format) { return info(format).accumulator_only; }

}  // namespace nibble::numerics
