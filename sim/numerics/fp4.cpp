#include "sim/numerics/fp4.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "sim/numerics/counter_rng.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {

namespace {
/// Two's complement reading of a 32-bit word, without implementation-defined conversions.
std::int32_t to_signed(std::uint32_t u) {
  return u < 0x80000000u ? static_cast<std::int32_t>(u) : -static_cast<std::int32_t>(~u) - 1;
}

/// log2 of the radix.
int radix_log2(bool radix2) { return radix2 ? 1 : 2; }

/// The smallest float f >= 0 for which `at_least(f)` holds, `at_least` being
/// monotone and true at +inf; `guess` is within a few ulps of the answer.
template <typename Predicate>
float smallest_float_where(double guess, Predicate at_least) {
  const float inf = std::numeric_limits<float>::infinity();
  // Clamped: converting a double beyond the float range is undefined behaviour.
  float f = static_cast<float>(std::min(guess, static_cast<double>(std::numeric_limits<float>::max())));
  while (!at_least(f)) f = std::nextafter(f, inf);
  while (f > 0.0f && at_least(std::nextafter(f, 0.0f))) f = std::nextafter(f, 0.0f);
  return f;
}
}  // namespace

void check_fp4_bias(int bias) {
  if (bias < kFp4MinBias || bias > kFp4MaxBias) {
    throw FormatError("fp4 bias", "must be a whole number in [" + std::to_string(kFp4MinBias) + ", " +
                                      std::to_string(kFp4MaxBias) + "] (a 4-bit field), got " +
                                      std::to_string(bias));
  }
}

std::uint32_t fp4_code(bool negative, int exponent) {
  if (exponent < 0 || exponent > 7) {
    throw FormatError("fp4 exponent", "must be in [0, 7], got " + std::to_string(exponent));
  }
  return (negative ? 8u : 0u) | static_cast<std::uint32_t>(exponent);
}

double fp4_value(std::uint32_t code, int bias, bool radix2) {
  check_fp4_bias(bias);
  const int e = fp4_exponent(code);
  if (e == 0) return 0.0;
  const double magnitude = std::ldexp(1.0, (e - bias) * radix_log2(radix2));
  return fp4_negative(code) ? -magnitude : magnitude;
}

int fp4_shift_amount(std::uint32_t code, bool radix2) {
  const int e = fp4_exponent(code);
  return e == 0 ? 0 : (e - 1) * radix_log2(radix2);
}

std::int32_t fp4_shift_product(int a, std::uint32_t code, bool radix2) {
  if (a < -8 || a > 15) {
    throw FormatError("int4 operand", "must be in [-8, 7] (int4) or [0, 15] (uint4), got " + std::to_string(a));
  }
  if (fp4_exponent(code) == 0) return 0;
  // The sign- (int4) or zero-extended (uint4) operand shifted left as the
  // hardware's shifter does: |a| << 12 <= 15 x 2^12 < 2^16, so the two's
  // complement result is exactly a x 2^shift.
  const std::int32_t shifted = to_signed(static_cast<std::uint32_t>(a) << fp4_shift_amount(code, radix2));
  return fp4_negative(code) ? -shifted : shifted;
}

int fp4_product_lsb_exp(int bias, bool radix2) {
  check_fp4_bias(bias);
  return (1 - bias) * radix_log2(radix2);
}

Fp4Quantizer::Fp4Quantizer(const Fp4Params& params) : m_params(params) {
  check_fp4_bias(params.bias);
  const float s = params.scale;
  if (!(s > 0.0f) || !std::isfinite(s)) {
    throw FormatError("fp4 scale", "must be a positive finite number, got " + describe_number(s));
  }
  const int step = radix_log2(params.radix2);
  m_levels[0] = 0.0;
  for (int e = 1; e <= 7; ++e) {
    m_levels[static_cast<std::size_t>(e)] = std::ldexp(static_cast<double>(s), (e - params.bias) * step);  // exact
  }
  if (m_levels[7] > std::numeric_limits<float>::max()) {
    throw FormatError("fp4 scale", "the top code's value " + std::string(params.radix2 ? "2" : "4") + "^(7 - " +
                                       std::to_string(params.bias) + ") x " + describe_number(s) +
                                       " exceeds the float range");
  }

  // Threshold e separates magnitude e - 1 from e. Each predicate is exact in
  // double: levels are a float times a power of two, so their sums and
  // products (at most 48 significant bits) are exact, and so is f * f.
  for (int e = 1; e <= 7; ++e) {
    const double lo = m_levels[static_cast<std::size_t>(e - 1)];
    const double hi = m_levels[static_cast<std::size_t>(e)];
    float t = 0.0f;
    if (e == 1 || params.rounding != Fp4Rounding::kNearestLog2) {
      // Nearest in value (also between 0 and the smallest code, where log2 has no midpoint).
      const double mid = (lo + hi) / 2;
      t = smallest_float_where(mid, [mid](float f) { return static_cast<double>(f) >= mid; });
    } else {
      // Nearest in log2: |x| >= sqrt(lo x hi)  <=>  |x|^2 >= lo x hi.
      const double product = lo * hi;
      t = smallest_float_where(std::sqrt(product), [product](float f) {
        return static_cast<double>(f) * static_cast<double>(f) >= product;
      });
    }
    std::uint32_t bits = 0;
    std::memcpy(&bits, &t, sizeof bits);
    m_thresholds[static_cast<std::size_t>(e - 1)] = static_cast<std::int32_t>(bits);
    // For stochastic rounding: |x| >= level(e) exactly <=> |x| >= the smallest float >= level(e).
    const float f = smallest_float_where(hi, [hi](float v) { return static_cast<double>(v) >= hi; });
    std::memcpy(&bits, &f, sizeof bits);
    m_floors[static_cast<std::size_t>(e - 1)] = static_cast<std::int32_t>(bits);
  }

  for (std::uint32_t code = 0; code < 16; ++code) {
    const int e = fp4_exponent(code);
    const float v = fp32_value(fp32_from_double(m_levels[static_cast<std::size_t>(e)]));
    m_values[code] = (e != 0 && fp4_negative(code)) ? -v : v;
  }
}

float Fp4Quantizer::threshold(int e) const {
  const std::uint32_t bits = static_cast<std::uint32_t>(m_thresholds.at(static_cast<std::size_t>(e - 1)));
  return fp32_value(bits);
}

std::uint8_t Fp4Quantizer::stochastic_code(float x, std::uint64_t index, const CounterRng& rng) const {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  const auto a = static_cast<std::int32_t>(bits & 0x7FFFFFFFu);
  if (a > 0x7F800000) return 0;  // NaN
  std::size_t e = 0;  // the level at or below |x|: count of levels |x| reaches
  for (std::size_t k = 0; k < 7; ++k) e += (a >= m_floors[k]) ? 1 : 0;
  // Up with probability (y - lo) / (hi - lo). Written without branches (the
  // outcome is a coin flip no predictor can learn); at e = 7 the width is 0,
  // "up" gives 8 and the min saturates it back to 7.
  const double y = std::fabs(static_cast<double>(x));
  const double lo = m_levels[e];
  const double width = e < 7 ? m_levels[e + 1] - lo : 0.0;
  const double u = static_cast<double>(rng.uniform24(index)) * 0x1p-24;
  const std::uint32_t up = (y - lo) > u * width ? 1u : 0u;
  const std::uint32_t magnitude = std::min<std::uint32_t>(static_cast<std::uint32_t>(e) + up, 7u);
  const std::uint32_t sign = magnitude != 0 ? ((bits >> 28) & 8u) : 0u;
  return static_cast<std::uint8_t>(sign | magnitude);
}

std::uint8_t Fp4Quantizer::quantize(float x, std::uint64_t index) const {
  std::uint8_t code = 0;
  if (m_params.rounding == Fp4Rounding::kStochastic) return stochastic_code(x, index, CounterRng(m_params.seed));
  quantize(&x, 1, &code, index);
  return code;
}

void Fp4Quantizer::quantize(const float* x, std::size_t n, std::uint8_t* codes, std::uint64_t first_index) const {
  if (m_params.rounding == Fp4Rounding::kStochastic) {
    const CounterRng rng(m_params.seed);
    for (std::size_t i = 0; i < n; ++i) codes[i] = stochastic_code(x[i], first_index + i, rng);
    return;
  }
  // Non-negative floats order like their bit patterns read as integers, so
  // the magnitude is the count of thresholds |x|'s bits reach: integer
  // compares the compiler vectorizes. NaN patterns exceed +inf's and give 0.
  const std::array<std::int32_t, 7> t = m_thresholds;
  constexpr std::int32_t kInfBits = 0x7F800000;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &x[i], sizeof bits);
    const auto a = static_cast<std::int32_t>(bits & 0x7FFFFFFFu);
    std::int32_t e = 0;
    for (std::size_t k = 0; k < 7; ++k) e += (a >= t[k]) ? 1 : 0;
    e = (a > kInfBits) ? 0 : e;
    const std::uint32_t sign = (bits >> 28) & 8u;
    codes[i] = static_cast<std::uint8_t>(e != 0 ? (sign | static_cast<std::uint32_t>(e)) : 0u);
  }
}

void Fp4Quantizer::quantize_dequantize(const float* x, std::size_t n, float* out, std::uint64_t first_index) const {
  constexpr std::size_t kBlock = 1024;  // codes on the stack, then the table look-up
  std::uint8_t codes[kBlock];
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t count = std::min(kBlock, n - start);
    quantize(x + start, count, codes, first_index + start);
    dequantize(codes, count, out + start);
  }
}

void Fp4Quantizer::dequantize(const std::uint8_t* codes, std::size_t n, float* out) const {
  for (std::size_t i = 0; i < n; ++i) out[i] = m_values[codes[i] & 15u];
}

}  // namespace nibble::numerics
