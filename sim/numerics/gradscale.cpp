#include "sim/numerics/gradscale.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sim/numerics/error.hpp"

namespace nibble::numerics {

GradScale::GradScale(const GradScaleParams& params) : m_params(params), m_scale(params.initial_scale) {
  check_fp4_bias(params.fp4_bias);
  if (!(params.decay >= 0.0 && params.decay < 1.0)) {
    throw FormatError("gradscale decay", "must be in [0, 1), got " + describe_number(params.decay));
  }
  if (!(params.initial_scale > 0.0f) || !std::isfinite(params.initial_scale)) {
    throw FormatError("gradscale initial scale",
                      "must be a positive finite number, got " + describe_number(params.initial_scale));
  }
}

GradScaleStep GradScale::update(const float* g, std::size_t n) {
  ++m_steps;
  GradScaleStep step;
  float amax = 0.0f;
  bool nonfinite = false;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(g[i]);
    if (!(a <= std::numeric_limits<float>::max())) {
      nonfinite = true;  // inf, or NaN (every comparison with NaN is false)
    } else if (a > amax) {
      amax = a;
    }
  }
  step.amax = amax;
  if (nonfinite) {
    ++m_nonfinite_steps;
    step.nonfinite = true;
    step.scale = m_scale;
    return step;
  }
  if (amax == 0.0f) {
    step.all_zero = true;
    step.scale = m_scale;
    return step;
  }
  m_running_max = std::max(static_cast<double>(amax), m_params.decay * m_running_max);
  const int top_exp = 2 * (7 - m_params.fp4_bias);  // top code = 2^top_exp x scale
  double scale = std::ldexp(m_running_max, -top_exp);
  if (m_params.power_of_two) {
    int e = 0;
    const double m = std::frexp(scale, &e);  // scale = m x 2^e, m in [0.5, 1)
    scale = std::ldexp(1.0, m == 0.5 ? e - 1 : e);
  }
  const double lowest = std::ldexp(1.0, -125);  // the odd TPR phase's scale / 2 stays a normal float
  const double highest = std::ldexp(1.0, 126 - top_exp);  // the top code stays <= 2^126
  scale = std::min(std::max(scale, lowest), highest);
  m_scale = static_cast<float>(scale);  // power of two, or the float nearest r / 4^(7 - bias)
  step.scale = m_scale;
  return step;
}

Fp4Params GradScale::fp4_params() const {
  Fp4Params p;
  p.scale = m_scale;
  p.bias = m_params.fp4_bias;
  p.rounding = Fp4Rounding::kNearestLog2;
  return p;
}

}  // namespace nibble::numerics
