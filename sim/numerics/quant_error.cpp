#include "sim/numerics/quant_error.hpp"

#include <cmath>

namespace nibble::numerics {

QuantError quant_error(const float* x, const float* q, std::size_t n) {
  QuantError out;
  double sum_sq_err = 0.0;
  double sum_sq = 0.0;
  double sum_signed_err = 0.0;
  double sum_abs = 0.0;
  std::size_t nonzero = 0;
  std::size_t flushed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double xi = x[i];
    const double qi = q[i];
    if (!std::isfinite(xi) || !std::isfinite(qi)) continue;
    const double err = qi - xi;
    sum_sq_err += err * err;
    sum_sq += xi * xi;
    sum_abs += std::fabs(xi);
    if (xi != 0.0) {
      sum_signed_err += xi > 0 ? err : -err;
      ++nonzero;
      if (qi == 0.0) ++flushed;
    }
    ++out.count;
  }
  if (sum_sq > 0.0) {
    out.rel_rms = std::sqrt(sum_sq_err / sum_sq);
    out.rel_bias = sum_signed_err / sum_abs;
  }
  if (nonzero > 0) out.zero_fraction = static_cast<double>(flushed) / static_cast<double>(nonzero);
  return out;
}

}  // namespace nibble::numerics
