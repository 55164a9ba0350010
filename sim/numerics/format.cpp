#include "sim/numerics/format.hpp"

#include <array>
#include <stdexcept>
#include <utility>

#include "sim/numerics/block_format.hpp"

namespace nibble::numerics {

namespace {
struct FormatInfo {
  Format format;
  std::string_view name;  ///< a block format's row name in block_format.cpp's table
  int bits;               ///< element bits (block formats: filled from the table)
  bool accumulator_only;
};

constexpr std::array<FormatInfo, 15> kBase{{
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
    {Format::kMxfp4, "mxfp4", 0, false},
    {Format::kNvfp4, "nvfp4", 0, false},
    {Format::kMxfp8E4M3, "mxfp8-e4m3", 0, false},
    {Format::kMxfp8E5M2, "mxfp8-e5m2", 0, false},
    {Format::kBf16, "bf16", 0, false},
}};

/// The block-format row of `format` (nullptr for the per-tensor formats).
const BlockFormat* block_row(Format format) {
  if (static_cast<int>(format) < static_cast<int>(Format::kMxfp4)) return nullptr;
  for (const auto& entry : kBase) {
    if (entry.format == format) return find_block_format(entry.name);
  }
  return nullptr;
}

/// kBase with the block rows' element widths read from the block-format table.
const std::array<FormatInfo, 15>& formats() {
  static const std::array<FormatInfo, 15> table = [] {
    std::array<FormatInfo, 15> out = kBase;
    for (auto& entry : out) {
      if (const BlockFormat* row = block_row(entry.format)) entry.bits = row->element->bits;
    }
    return out;
  }();
  return table;
}

const FormatInfo& info(Format format) {
  for (const auto& entry : formats()) {
    if (entry.format == format) return entry;
  }
  return formats()[0];  // unreachable: every enumerator is in the table
}
}  // namespace

std::string_view format_name(Format format) { return info(format).name; }

std::optional<Format> parse_format(std::string_view name) {
  for (const auto& entry : formats()) {
    if (entry.name == name) return entry.format;
  }
  return std::nullopt;
}

const std::vector<Format>& all_formats() {
  static const std::vector<Format> all = [] {
    std::vector<Format> out;
    for (const auto& entry : formats()) out.push_back(entry.format);
    return out;
  }();
  return all;
}

int format_bits(Format format) { return info(format).bits; }

bool is_accumulator_only(Format format) { return info(format).accumulator_only; }

bool is_block_format(Format format) { return block_row(format) != nullptr; }

int format_quarter_bits(Format format) {
  const BlockFormat* row = block_row(format);
  if (row == nullptr) return 4 * info(format).bits;
  const int scale = 4 * scale_bits(row->scale);
  const int block = static_cast<int>(row->block);
  if (scale % block != 0) throw std::logic_error("format_quarter_bits: a scale share is not a whole quarter bit");
  return 4 * row->element->bits + scale / block;
}

int format_tensor_bits(Format format) {
  const BlockFormat* row = block_row(format);
  return row != nullptr && row->tensor_scale ? 32 : 0;
}

}  // namespace nibble::numerics
