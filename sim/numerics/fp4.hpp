// Radix-4 FP4 (Sun et al., NeurIPS 2020): [sign 1 | exponent 3 | mantissa 0].
// Code bit 3 is the sign s, bits 2..0 the exponent field e:
//   e = 0       zero (either sign; the -0 code 0b1000 reads as 0)
//   e = 1..7    (-1)^s x 4^(e - bias) x scale      (radix-2 ablation: 2^(e - bias))
// Default bias 7: the top code is 1 x scale, the smallest 4^-6 x scale.
// Quantization saturates above the top code; below the smallest code it
// rounds to the nearer of 0 and the smallest code (tie -> the code).
// Rounding between codes: nearest in log2 (default) or in value, or
// stochastic. docs/numerics.md says why and derives the errors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "sim/numerics/counter_rng.hpp"

namespace nibble::numerics {

inline constexpr int kFp4DefaultBias = 7;  ///< top code = 1 x scale
inline constexpr int kFp4MinBias = 0;      ///< the bias is a 4-bit configuration field: 0..15
inline constexpr int kFp4MaxBias = 15;

/// Throws FormatError unless kFp4MinBias <= bias <= kFp4MaxBias.
void check_fp4_bias(int bias);

/// How a magnitude between two FP4 levels L < 4L (radix 2: L < 2L) is rounded.
enum class Fp4Rounding : std::uint8_t {
  kNearestLog2,   ///< up iff |x| >= 2L (radix 2: sqrt(2) L), the geometric midpoint; default
  kNearestValue,  ///< up iff |x| >= 2.5L (radix 2: 1.5L), the arithmetic midpoint
  kStochastic,    ///< up with probability (|x| - L) / (4L - L): unbiased in expectation
};

/// Parameters of one FP4 quantizer.
struct Fp4Params {
  float scale = 1.0f;                                ///< multiplies every code; positive and finite
  int bias = kFp4DefaultBias;                        ///< exponent bias, 0..15
  Fp4Rounding rounding = Fp4Rounding::kNearestLog2;  ///< rounding between levels
  bool radix2 = false;                               ///< Format::kFp4Radix2 ablation: levels 2^(e - bias)
  std::uint64_t seed = 0;                            ///< stochastic stream (kStochastic only)
};

/// The code with sign `negative` and exponent field `exponent` (0..7; FormatError otherwise).
std::uint32_t fp4_code(bool negative, int exponent);
/// Sign bit of a code.
inline bool fp4_negative(std::uint32_t code) { return (code & 8u) != 0; }
/// Exponent field (0..7) of a code.
inline int fp4_exponent(std::uint32_t code) { return static_cast<int>(code & 7u); }
/// Real value of a code before the scale: (-1)^s x 4^(e - bias) (radix 2: 2^(e - bias)); 0 when e = 0.
double fp4_value(std::uint32_t code, int bias = kFp4DefaultBias, bool radix2 = false);

/// Left shift the PE applies to the INT4 operand for FP4 code `code`:
/// 2(e - 1) (radix 2: e - 1), in 0..12; 0 for e = 0 (the product is then 0 anyway).
int fp4_shift_amount(std::uint32_t code, bool radix2 = false);
/// The INT4 x FP4 product as the PE computes it, by shifting (no multiply):
/// P = (-1)^s x (a << fp4_shift_amount(code)), 0 when e = 0. a in -8..15
/// (an INT4 or a UINT4 value; FormatError otherwise), so |P| <= 15 x 4^6 =
/// 61440 fits 17 signed bits.
std::int32_t fp4_shift_product(int a, std::uint32_t code, bool radix2 = false);
/// Power of two of P's least significant bit: the real product is P x 2^this,
/// 2(1 - bias) for radix 4 (LSB 4^(1 - bias)), 1 - bias for radix 2.
int fp4_product_lsb_exp(int bias, bool radix2 = false);

/// Quantizes floats to FP4 codes. Every decision compares |x| with exact
/// thresholds precomputed from the scale, so the result is the exact
/// rounding of the real |x| / scale (no division, no rounding error).
/// NaN -> code 0; +-inf -> +-top code. A zero result is always code 0 (+0).
class Fp4Quantizer {
 public:
  /// Throws FormatError for a bias out of range, a NaN/inf/non-positive scale,
  /// or a scale whose top code's value is not a finite float.
  explicit Fp4Quantizer(const Fp4Params& params);

  /// Code of one value; `index` addresses the stochastic stream.
  std::uint8_t quantize(float x, std::uint64_t index = 0) const;
  /// Codes of x[0..n); element i uses stream index first_index + i.
  void quantize(const float* x, std::size_t n, std::uint8_t* codes, std::uint64_t first_index = 0) const;
  /// quantize() then dequantize() in one pass.
  void quantize_dequantize(const float* x, std::size_t n, float* out, std::uint64_t first_index = 0) const;
  /// (-1)^s x level(e) rounded to float (nearest-even); codes 0 and 0b1000 give +0.
  float dequantize(std::uint32_t code) const { return m_values[code & 15u]; }
  /// dequantize() for n codes.
  void dequantize(const std::uint8_t* codes, std::size_t n, float* out) const;

  /// scale x 4^(e - bias) (radix 2: 2^(e - bias)) for e = 1..7, exact; 0 for e = 0.
  double level(int e) const { return m_levels.at(static_cast<std::size_t>(e)); }
  /// The smallest float t such that |x| >= t gives a magnitude of at least e (e = 1..7).
  float threshold(int e) const;
  const Fp4Params& params() const { return m_params; }  ///< as constructed

 private:
  std::uint8_t stochastic_code(float x, std::uint64_t index, const CounterRng& rng) const;

  Fp4Params m_params;                      ///< validated parameters
  std::array<double, 8> m_levels{};        ///< m_levels[e] = level(e), m_levels[0] = 0
  std::array<std::int32_t, 7> m_thresholds{};  ///< bit patterns of threshold(1..7) (<= +inf's)
  std::array<std::int32_t, 7> m_floors{};      ///< bit patterns of the smallest floats >= level(1..7)
  std::array<float, 16> m_values{};        ///< dequantized value of each code
};

}  // namespace nibble::numerics
