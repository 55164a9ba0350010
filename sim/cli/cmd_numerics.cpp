// `nibble numerics`: the number formats of 4-bit training shown bit for bit:
// the 16 INT4 codes, the radix-4 FP4 code book, and the quantization error
// of INT4 and of FP4 (both TPR phases and their average) on Gaussian samples.
// Everything comes from sim/numerics; the output is deterministic for a seed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/cmd_numerics_quantize.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/text.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/gradscale.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/quant_error.hpp"
#include "sim/numerics/sawb.hpp"
#include "sim/numerics/tpr.hpp"

namespace nibble::cli {

namespace {

using namespace nibble::numerics;

constexpr std::uint64_t kMaxSamples = 100000000;  // 10^8: about 2 GB of working arrays

std::string bits4(std::uint32_t code) {
  std::string out;
  for (int b = 3; b >= 0; --b) out += ((code >> b) & 1u) ? '1' : '0';
  return out;
}

/// N(0, 1) samples by Box-Muller from mt19937_64 (whose output the C++ standard
/// fixes), so the samples do not depend on the standard library's distributions.
std::vector<float> gaussian_samples(std::uint64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double two_pi = 6.283185307179586;
  std::vector<float> x(n);
  for (std::uint64_t i = 0; i < n; i += 2) {
    const double u1 = static_cast<double>((rng() >> 11) + 1) * 0x1p-53;  // (0, 1]: log is finite
    const double u2 = static_cast<double>(rng() >> 11) * 0x1p-53;        // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    x[i] = static_cast<float>(r * std::cos(two_pi * u2));
    if (i + 1 < n) x[i + 1] = static_cast<float>(r * std::sin(two_pi * u2));
  }
  return x;
}

void print_int4_table() {
  std::cout << "INT4 codes: 4-bit two's complement (int4) or unsigned (uint4, post-ReLU activations);\n"
               "value = code x scale, quantization saturates at the end codes.\n\n";
  std::cout << "  bits  int4  uint4      bits  int4  uint4\n";
  for (std::uint32_t code = 0; code < 8; ++code) {
    std::cout << "  " << bits4(code) << "  " << pad_left(std::to_string(int4_value(code)), 4) << "  "
              << pad_left(std::to_string(code), 5) << "      " << bits4(code + 8) << "  "
              << pad_left(std::to_string(int4_value(code + 8)), 4) << "  " << pad_left(std::to_string(code + 8), 5)
              << "\n";
  }
}

std::string fp4_cell(std::uint32_t code) {
  const int e = fp4_exponent(code);
  const char* sign = fp4_negative(code) ? "-" : "+";
  std::string value;
  if (e == 0) {
    value = fp4_negative(code) ? "0 (-0 reads as 0)" : "0";
  } else {
    value = std::string(fp4_negative(code) ? "-" : "") + "4^" + std::to_string(e - kFp4DefaultBias) + " = " +
            format_double(fp4_value(code));
  }
  return bits4(code) + "  " + sign + "  " + std::to_string(e) + "  " + pad_right(value, 28);
}

void print_fp4_table() {
  std::cout << "Radix-4 FP4 code book: bit 3 sign s, bits 2..0 exponent e, bias " << kFp4DefaultBias
            << ";\nvalue = (-1)^s x 4^(e - " << kFp4DefaultBias
            << ") x scale, e = 0 is zero. Above the top code values saturate;\nbelow the smallest they go to the "
               "nearer of 0 and the smallest code.\n\n";
  const std::string header = "bits  s  e  " + pad_right("value / scale", 28);
  std::cout << "  " << header << "  " << header.substr(0, header.find("scale") + 5) << "\n";
  for (std::uint32_t code = 0; code < 8; ++code) {
    std::string line = "  " + fp4_cell(code) + "  " + fp4_cell(code + 8);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
}

struct Row {
  std::string name;    ///< quantizer
  std::string scale;   ///< how its scale was chosen
  QuantError error;    ///< against the samples
};

void print_error_table(std::uint64_t n, std::uint64_t seed) {
  const std::vector<float> x = gaussian_samples(n, seed);
  std::vector<float> q(n);
  std::vector<float> q_odd(n);
  std::vector<Row> rows;

  // INT4 weights with the SAWB clip (4-bit coefficients): scale = clip / 7.
  const double clip = sawb_clip(x.data(), n, 4);
  const Int4Params sawb = sawb_int4_params(x.data(), n);
  {
    std::vector<std::int8_t> codes(n);
    sawb_quantize_int4(x.data(), n, codes.data());
    Int4Quantizer(sawb).dequantize(codes.data(), n, q.data());
    rows.push_back({"int4, SAWB clip", "clip " + format_fixed(clip, 4) + " = 7 x " + format_fixed(sawb.scale, 5),
                    quant_error(x.data(), q.data(), n)});
  }
  // INT4 with the clip at max |x|: no clipping error, coarser steps.
  float amax = 0.0f;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  if (amax > 0.0f) {
    Int4Params p;
    p.scale = amax / 7.0f;
    Int4Quantizer(p).quantize_dequantize(x.data(), n, q.data());
    rows.push_back({"int4, max clip", "clip " + format_fixed(amax, 4) + " = 7 x " + format_fixed(p.scale, 5),
                    quant_error(x.data(), q.data(), n)});
  }
  // FP4 with GradScale (nearest in log2): the largest sample maps to the top code.
  GradScale gradscale;
  const GradScaleStep step = gradscale.update(x.data(), n);
  const TprQuantizer tpr(gradscale.fp4_params());
  tpr.quantize_dequantize(x.data(), n, q.data(), q_odd.data());
  // Six significant digits (printf %g), as the table has always printed them.
  const std::string scale = format_sig(step.scale, 6);
  const std::string top = "top code " + scale + " >= max " + format_fixed(step.amax, 3);
  rows.push_back({"fp4 even phase", "GradScale " + scale + ": " + top, quant_error(x.data(), q.data(), n)});
  rows.push_back({"fp4 odd phase", "scale " + scale + " / 2: grid " + scale + " x 4^j / 2",
                  quant_error(x.data(), q_odd.data(), n)});
  std::vector<float> average(n);
  for (std::uint64_t i = 0; i < n; ++i) average[i] = (q[i] + q_odd[i]) / 2;
  rows.push_back({"fp4 TPR average", "(even + odd) / 2, per element", quant_error(x.data(), average.data(), n)});
  Fp4Params by_value = gradscale.fp4_params();
  by_value.rounding = Fp4Rounding::kNearestValue;
  Fp4Quantizer(by_value).quantize_dequantize(x.data(), n, q.data());
  rows.push_back({"fp4 even, nearest value", "as even phase; up at 2.5L, not 2L", quant_error(x.data(), q.data(), n)});

  std::cout << "Quantization error on " << n << " samples of N(0, 1), seed " << seed << "\n\n";
  std::cout << "  quantizer                scale                                 rel. RMS  rel. bias   zeros\n";
  for (const auto& row : rows) {
    std::cout << "  " << pad_right(row.name, 23) << "  " << pad_right(row.scale, 36) << "  "
              << pad_left(format_fixed(row.error.rel_rms, 4), 8) << "  "
              << pad_left(format_fixed_signed(row.error.rel_bias, 4), 9) << "  "
              << pad_left(format_fixed(100.0 * row.error.zero_fraction, 1), 5) << "%\n";
  }
  std::cout << "\n  rel. RMS  = sqrt(sum (q - x)^2 / sum x^2)\n"
               "  rel. bias = sum sign(x) (q - x) / sum |x|   (> 0: quantized magnitudes are larger)\n"
               "  zeros     = share of nonzero samples quantized to 0\n"
               "  The two TPR phases bracket every |x| by the powers of two around it (docs/numerics.md).\n";
}

int run_numerics(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "quantize") return run_numerics_quantize({args.begin() + 1, args.end()});
  std::uint64_t samples = 100000;
  std::uint64_t seed = 1;
  ArgParser parser("nibble numerics", "[--samples N] [--seed S] | quantize --format F ...",
                   "Prints the number formats of 4-bit training as sim/numerics defines them, bit for bit:\n"
                   "the 16 INT4 codes, the radix-4 FP4 code book, and the quantization error (relative RMS\n"
                   "and bias) of INT4 and of FP4 with two-phase rounding on N(0, 1) samples. The output is\n"
                   "the same for the same seed. Formats and choices: docs/numerics.md.\n"
                   "`nibble numerics quantize --help`: quantize numbers from standard input in any format\n"
                   "(MXFP4, NVFP4, the rest of OCP MX, BF16, INT4, FP4).",
                   "nibble numerics --samples 1000000 --seed 7");
  parser.option("--samples", "N", "Gaussian samples for the error table (default 100000, at most 10^8)", &samples, 1);
  parser.option("--seed", "S", "seed of the samples (default 1)", &seed);
  parser.parse(args);
  if (samples > kMaxSamples) {
    throw UsageError("--samples: at most " + std::to_string(kMaxSamples) + ", got " + std::to_string(samples));
  }

  std::cout << "nibble numerics: the formats of 4-bit training (Sun et al., NeurIPS 2020), bit for bit\n\n";
  print_int4_table();
  std::cout << "\n";
  print_fp4_table();
  std::cout << "\n";
  print_error_table(samples, seed);
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("numerics", 80, "the INT4 and FP4 formats, bit for bit, and their quantization error", run_numerics);

}  // namespace nibble::cli
