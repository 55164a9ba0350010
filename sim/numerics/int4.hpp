// INT4 (and UINT4) with a per-tensor scale: value = code x scale, codes
// -8..7 (4-bit two's complement) or 0..15 (unsigned, for post-ReLU
// activations). Quantization saturates; rounding is to nearest with ties to
// even, or stochastic with a seeded, index-addressed random stream.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/counter_rng.hpp"

namespace nibble::numerics {

/// How a value between two codes is rounded.
enum class IntRounding : std::uint8_t {
  kNearestEven,  ///< nearest code; a tie goes to the even code (2.5 -> 2, 3.5 -> 4)
  kStochastic,   ///< up with probability frac(x / scale) (24 random bits), unbiased in expectation
};

/// Parameters of one INT4 quantizer.
struct Int4Params {
  float scale = 1.0f;                             ///< step between codes; positive and finite
  bool is_signed = true;                          ///< codes -8..7 (true) or 0..15 (false)
  IntRounding rounding = IntRounding::kNearestEven;  ///< rounding rule
  std::uint64_t seed = 0;                         ///< stochastic stream (kStochastic only)
};

/// The 4-bit two's complement pattern of `value` in -8..7 (e.g. -1 -> 0b1111).
/// Throws FormatError outside -8..7.
std::uint32_t int4_bits(int value);
/// The value of the low 4 bits of `bits` read as two's complement (-8..7).
int int4_value(std::uint32_t bits);

/// Quantizes floats to INT4/UINT4 codes. Exact definition, for x finite:
///   code = clamp(round(x / scale), lo, hi)
/// with x / scale the exact real quotient (computed in double, where it is
/// exact enough that every tie and every bound is decided correctly).
/// +-inf saturate to hi / lo; NaN gives code 0.
class Int4Quantizer {
 public:
  /// Throws FormatError when the scale is NaN, inf, <= 0, or so large that hi x scale is not a finite float.
  explicit Int4Quantizer(const Int4Params& params);

  /// Code of one value; `index` addresses the stochastic stream (ignored for nearest-even).
  int quantize(float x, std::uint64_t index = 0) const;
  /// Codes of x[0..n) into codes[0..n); element i uses stream index first_index + i.
  void quantize(const float* x, std::size_t n, std::int8_t* codes, std::uint64_t first_index = 0) const;
  /// quantize() then dequantize() in one pass ("fake quantization"): out[i] = code x scale.
  void quantize_dequantize(const float* x, std::size_t n, float* out, std::uint64_t first_index = 0) const;
  /// code x scale rounded to float (exact when the scale has at most 20 significant bits).
  float dequantize(int code) const { return static_cast<float>(code) * m_params.scale; }
  /// dequantize() for n codes.
  void dequantize(const std::int8_t* codes, std::size_t n, float* out) const;

  int min_code() const { return m_min; }  ///< -8 or 0
  int max_code() const { return m_max; }  ///< 7 or 15
  const Int4Params& params() const { return m_params; }  ///< as constructed

 private:
  int stochastic_code(float x, std::uint64_t index, const CounterRng& rng) const;

  Int4Params m_params;  ///< validated parameters
  int m_min;            ///< smallest code
  int m_max;            ///< largest code
};

}  // namespace nibble::numerics
