#include "sim/numerics/int4.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "sim/numerics/counter_rng.hpp"
#include "sim/numerics/error.hpp"

namespace nibble::numerics {

namespace {
// Adding 1.5 x 2^52 to a double of magnitude below 2^51 leaves no fraction
// bits, so the FPU's default round-to-nearest-even rounds it to an integer;
// subtracting restores the magnitude exactly. Vectorizes, unlike nearbyint()
// on baseline x86-64. Needs the default rounding mode and no -ffast-math.
constexpr double kRoundMagic = 6755399441055744.0;

/// round-half-even(clamp(q, lo, hi)); NaN -> 0. Clamping to integer bounds
/// before rounding equals rounding then clamping.
inline double round_clamped(double q, double lo, double hi) {
  q = (q == q) ? q : 0.0;
  q = q > hi ? hi : q;
  q = q < lo ? lo : q;
  return (q + kRoundMagic) - kRoundMagic;
}
}  // namespace

std::uint32_t int4_bits(int value) {
  if (value < -8 || value > 7) {
    throw FormatError("int4 value", "must be in [-8, 7], got " + std::to_string(value));
  }
  return static_cast<std::uint32_t>(value) & 0xFu;
}

int int4_value(std::uint32_t bits) {
  const int v = static_cast<int>(bits & 0xFu);
  return v >= 8 ? v - 16 : v;
}

Int4Quantizer::Int4Quantizer(const Int4Params& params)
    : m_params(params), m_min(params.is_signed ? -8 : 0), m_max(params.is_signed ? 7 : 15) {
  const float s = params.scale;
  if (!(s > 0.0f) || !std::isfinite(s)) {
    throw FormatError("int4 scale", "must be a positive finite number, got " + describe_number(s));
  }
  if (static_cast<double>(s) * 15.0 > std::numeric_limits<float>::max()) {
    throw FormatError("int4 scale", "must be at most FLT_MAX / 15 so every code's value is a finite float, got " +
                                        describe_number(s));
  }
}

int Int4Quantizer::stochastic_code(float x, std::uint64_t index, const CounterRng& rng) const {
  double q = static_cast<double>(x) / static_cast<double>(m_params.scale);
  if (q != q) return 0;
  q = q > m_max ? m_max : q;
  q = q < m_min ? m_min : q;
  const double floor_q = std::floor(q);
  const double frac = q - floor_q;  // exact: |q| <= 15
  const double u = static_cast<double>(rng.uniform24(index)) * 0x1p-24;
  return static_cast<int>(floor_q) + (u < frac ? 1 : 0);
}

int Int4Quantizer::quantize(float x, std::uint64_t index) const {
  if (m_params.rounding == IntRounding::kStochastic) return stochastic_code(x, index, CounterRng(m_params.seed));
  return static_cast<int>(
      round_clamped(static_cast<double>(x) / static_cast<double>(m_params.scale), m_min, m_max));
}

void Int4Quantizer::quantize(const float* x, std::size_t n, std::int8_t* codes, std::uint64_t first_index) const {
  if (m_params.rounding == IntRounding::kStochastic) {
    const CounterRng rng(m_params.seed);
    for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<std::int8_t>(stochastic_code(x[i], first_index + i, rng));
    return;
  }
  const double s = m_params.scale;
  const double lo = m_min;
  const double hi = m_max;
  for (std::size_t i = 0; i < n; ++i) {
    codes[i] = static_cast<std::int8_t>(static_cast<int>(round_clamped(static_cast<double>(x[i]) / s, lo, hi)));
  }
}

void Int4Quantizer::quantize_dequantize(const float* x, std::size_t n, float* out, std::uint64_t first_index) const {
  const float scale = m_params.scale;
  if (m_params.rounding == IntRounding::kStochastic) {
    const CounterRng rng(m_params.seed);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<float>(stochastic_code(x[i], first_index + i, rng)) * scale;
    }
    return;
  }
  const double s = scale;
  const double lo = m_min;
  const double hi = m_max;
  for (std::size_t i = 0; i < n; ++i) {
    // Through int so that a value rounding to code 0 gives +0, as dequantize(0) does.
    const int code = static_cast<int>(round_clamped(static_cast<double>(x[i]) / s, lo, hi));
    out[i] = static_cast<float>(code) * scale;
  }
}

void Int4Quantizer::dequantize(const std::int8_t* codes, std::size_t n, float* out) const {
  const float scale = m_params.scale;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(codes[i]) * scale;
}

}  // namespace nibble::numerics
