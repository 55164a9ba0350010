// `nibble numerics quantize`: numbers on standard input through one of
// nibble's formats, printed back dequantized (or as codes and scales), so a
// user can check a quantizer against the spec or another implementation by
// hand. Block formats take blocks in input order; the last partial block is
// a block of its own. docs/cli.md and docs/numerics.md define the output.
#include "sim/cli/cmd_numerics_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/text.hpp"
#include "sim/numerics/block_format.hpp"
#include "sim/numerics/fp32.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/gradscale.hpp"
#include "sim/numerics/int4.hpp"

namespace nibble::cli {

namespace {

using namespace nibble::numerics;

constexpr const char* kStdin = "<stdin>";

/// The per-tensor-scaled 4-bit formats that predate the block table.
const std::vector<std::string>& tensor_formats() {
  static const std::vector<std::string> names{"int4", "uint4", "fp4", "fp4-r2"};
  return names;
}

std::vector<std::string> all_format_names() {
  std::vector<std::string> out;
  for (const auto& f : block_formats()) out.emplace_back(f.name);
  for (const auto& n : tensor_formats()) out.push_back(n);
  return out;
}

std::string hex(std::uint64_t value, int bits) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out = "0x";
  for (int d = (bits + 3) / 4 - 1; d >= 0; --d) out += kDigits[(value >> (4 * d)) & 15u];
  return out;
}

/// Whether `format` can carry NaN and infinities through (MX: the NaN block
/// scale; bf16: its own inf and NaN). The per-tensor formats and NVFP4 have no
/// code for them, so such an input is an error rather than a silent number.
bool allows_nonfinite(const BlockFormat* format) {
  return format != nullptr && !format->tensor_scale;
}

/// Reads whitespace-separated numbers from `in`, each rounded to FP32.
std::vector<float> read_numbers(std::istream& in, const std::string& format_name, bool nonfinite_ok) {
  std::vector<float> out;
  std::string line;
  std::int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream words(line);
    std::string token;
    while (words >> token) {
      const std::string field = "number " + std::to_string(out.size() + 1);
      std::string lower = token;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      const std::string bare = (!lower.empty() && (lower[0] == '-' || lower[0] == '+')) ? lower.substr(1) : lower;
      double value = 0.0;
      if (bare == "nan") {
        value = std::numeric_limits<double>::quiet_NaN();
      } else if (const auto parsed = parse_double(token)) {
        value = *parsed;
      } else {
        throw InputError(kStdin, line_no, field, "'" + token + "' is not a number");
      }
      if (!std::isfinite(value) && !nonfinite_ok) {
        throw InputError(kStdin, line_no, field,
                         "'" + token + "': " + format_name + " has no code for NaN or infinity");
      }
      const float f = fp32_value(fp32_from_double(value));
      if (std::isfinite(value) && !std::isfinite(f)) {
        throw InputError(kStdin, line_no, field, "'" + token + "' is beyond the FP32 range (inputs are read as FP32)");
      }
      out.push_back(f);
    }
  }
  return out;
}

void print_block_format(const BlockFormat& format, const std::vector<float>& x, BlockRounding rounding,
                        std::uint64_t seed, bool codes) {
  const std::size_t n = x.size();
  const BlockShape shape{1, format.block};
  const BlockQuantized q = block_quantize(format, x.data(), 1, n, n, shape, rounding, seed);
  std::string out;
  if (!codes) {
    for (std::size_t j = 0; j < n; ++j) out += format_double(block_value(format, q, 0, j)) + "\n";
    std::cout << out;
    return;
  }
  if (format.tensor_scale) {
    out += "tensor-scale " + hex(fp32_bits(q.tensor_scale), 32) + " " + format_double(q.tensor_scale) + "\n";
  }
  const int scale_bits = format.scale == ScaleKind::kUe4m3 ? 7 : 8;
  for (std::size_t j = 0; j < n; ++j) {
    if (format.scale != ScaleKind::kNone && j % format.block == 0) {
      const std::uint32_t s = q.scales[j / format.block];
      out += "block " + std::to_string(j / format.block) + " scale " + hex(s, scale_bits) + " " +
             format_double(scale_value(format.scale, s)) + "\n";
    }
    const std::uint32_t c = q.codes[j];
    out += hex(c, format.element->bits) + " " + format_double(element_value(*format.element, c)) + "\n";
  }
  std::cout << out;
}

void print_tensor_format(const std::string& name, const std::vector<float>& x, BlockRounding rounding,
                         std::uint64_t seed, bool codes) {
  const std::size_t n = x.size();
  float amax = 0.0f;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  std::vector<double> values(n);
  std::vector<std::uint32_t> code_list(n);
  double scale = 1.0;
  if (name == "int4" || name == "uint4") {
    Int4Params p;
    p.is_signed = name == "int4";
    // The whole input's max maps to the top code (no clipping).
    p.scale = amax > 0.0f ? fp32_value(fp32_from_double(static_cast<double>(amax) / (p.is_signed ? 7.0 : 15.0)))
                          : 1.0f;
    p.rounding = rounding == BlockRounding::kStochastic ? IntRounding::kStochastic : IntRounding::kNearestEven;
    p.seed = seed;
    const Int4Quantizer quantizer(p);
    for (std::size_t i = 0; i < n; ++i) {
      const int c = quantizer.quantize(x[i], i);
      code_list[i] = p.is_signed ? int4_bits(c) : static_cast<std::uint32_t>(c);
      values[i] = static_cast<double>(c) * static_cast<double>(p.scale);
    }
    scale = p.scale;
  } else {
    // FP4: GradScale's scale for this input (the top code covers max |x|).
    GradScaleParams gp;
    gp.decay = 0.0;
    GradScale gradscale(gp);
    gradscale.update(x.data(), n);
    Fp4Params p = gradscale.fp4_params();
    p.radix2 = name == "fp4-r2";
    if (rounding == BlockRounding::kStochastic) p.rounding = Fp4Rounding::kStochastic;
    p.seed = seed;
    const Fp4Quantizer quantizer(p);
    for (std::size_t i = 0; i < n; ++i) {
      code_list[i] = quantizer.quantize(x[i], i);
      values[i] = fp4_value(code_list[i], p.bias, p.radix2) * static_cast<double>(p.scale);
    }
    scale = p.scale;
  }
  std::string out;
  if (codes) out += "scale " + format_double(scale) + "\n";
  for (std::size_t i = 0; i < n; ++i) {
    out += codes ? hex(code_list[i], 4) + " " + format_double(values[i] / scale) + "\n"
                 : format_double(values[i]) + "\n";
  }
  std::cout << out;
}

}  // namespace

int run_numerics_quantize(const std::vector<std::string>& args) {
  std::string format_name;
  std::string rounding_name = "nearest-even";
  std::uint64_t seed = 1;
  bool codes = false;
  ArgParser parser(
      "nibble numerics quantize", "--format F [--rounding nearest-even|stochastic] [--seed S] [--codes] < numbers",
      "Reads whitespace-separated numbers from standard input (each rounded to FP32), quantizes them in\n"
      "format F and prints the dequantized values, one per line, in input order. Block formats take\n"
      "blocks of the format's length in input order; a last partial block is a block of its own.\n"
      "nvfp4's FP32 tensor scale comes from the whole input, and so do the per-tensor scales of int4,\n"
      "uint4 (max |x| on the top code) and fp4, fp4-r2 (GradScale). --codes prints the codes instead:\n"
      "per block a line 'block K scale CODE VALUE', then 'CODE VALUE' per element (VALUE before the\n"
      "block scale); nvfp4 starts with 'tensor-scale BITS VALUE', int4/fp4 with 'scale VALUE'.\n"
      "Formats: " + block_format_names() + ", int4, uint4, fp4, fp4-r2 (docs/numerics.md).",
      "echo 7 1.25 0.3 -2 | nibble numerics quantize --format mxfp4");
  parser.option("--format", "F", "the format (required)", &format_name);
  parser.option("--rounding", "R", "nearest-even (default) or stochastic", &rounding_name);
  parser.option("--seed", "S", "seed of stochastic rounding (default 1)", &seed);
  parser.flag("--codes", "print codes and scales instead of values", &codes);
  parser.parse(args);
  if (format_name.empty()) throw UsageError("--format: required; one of " + block_format_names() + ", int4, uint4, fp4, fp4-r2");
  const BlockFormat* block = find_block_format(format_name);
  const bool tensor = std::find(tensor_formats().begin(), tensor_formats().end(), format_name) != tensor_formats().end();
  if (block == nullptr && !tensor) {
    const std::string guess = closest_match(format_name, all_format_names());
    throw UsageError("--format: unknown format '" + format_name + "'" +
                     (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + "; one of " + block_format_names() +
                     ", int4, uint4, fp4, fp4-r2");
  }
  const auto rounding = parse_block_rounding(rounding_name);
  if (!rounding) {
    throw UsageError("--rounding: must be nearest-even or stochastic, got '" + rounding_name + "'");
  }
  const std::vector<float> x = read_numbers(std::cin, format_name, allows_nonfinite(block));
  if (block != nullptr) {
    print_block_format(*block, x, *rounding, seed, codes);
  } else {
    print_tensor_format(format_name, x, *rounding, seed, codes);
  }
  return kExitOk;
}

}  // namespace nibble::cli
