#include "sim/numerics/sawb.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sim/numerics/error.hpp"

namespace nibble::numerics {

SawbCoefficients sawb_coefficients(int bits) {
  // fms_mo/quant/quantizers.py (foundation-model-stack/fms-model-optimizer).
  switch (bits) {
    case 2: return {3.12, -2.064};
    case 3: return {7.509, -6.892};
    case 4: return {12.68, -12.80};
    case 5: return {17.74, -18.64};
    case 8: return {31.76, -35.04};
    default:
      throw FormatError("sawb bits", "no SAWB coefficients for " + std::to_string(bits) +
                                         " bits; known widths: 2, 3, 4, 5, 8");
  }
}

double sawb_clip(const float* w, std::size_t n, int bits) {
  const SawbCoefficients c = sawb_coefficients(bits);
  double sum_sq = 0.0;
  double sum_abs = 0.0;
  double max_abs = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = w[i];
    if (!std::isfinite(v)) {
      throw FormatError("sawb weights", "weight " + std::to_string(i) + " is " + describe_number(v) +
                                            "; SAWB needs finite weights");
    }
    sum_sq += v * v;
    sum_abs += std::fabs(v);
    max_abs = std::max(max_abs, std::fabs(v));
  }
  if (n == 0 || max_abs == 0.0) return 0.0;
  const double count = static_cast<double>(n);
  const double clip = c.c1 * std::sqrt(sum_sq / count) + c.c2 * (sum_abs / count);
  return clip > 0.0 ? clip : max_abs;
}

Int4Params sawb_int4_params(const float* w, std::size_t n) {
  const double clip = sawb_clip(w, n, 4);
  Int4Params p;
  p.is_signed = true;
  p.rounding = IntRounding::kNearestEven;
  const double scale = clip / 7.0;
  if (scale > std::numeric_limits<float>::max() / 15) {
    throw FormatError("sawb weights", "clip " + describe_number(clip) + " is too large for an INT4 scale");
  }
  p.scale = clip > 0.0 ? static_cast<float>(scale) : 1.0f;
  return p;
}

float sawb_quantize_int4(const float* w, std::size_t n, std::int8_t* codes) {
  const Int4Params p = sawb_int4_params(w, n);
  const Int4Quantizer q(p);
  // Clip at +-7 steps: the same as clipping w to +-clip up to the float
  // rounding of the scale, and it keeps code -8 unused.
  const float limit = 7.0f * p.scale;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = std::min(std::max(w[i], -limit), limit);
    codes[i] = static_cast<std::int8_t>(q.quantize(v));
  }
  return p.scale;
}

}  // namespace nibble::numerics
