#include "sim/numerics/pact.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sim/numerics/error.hpp"

namespace nibble::numerics {

namespace {
void check_alpha(float alpha) {
  if (!(alpha > 0.0f) || !std::isfinite(alpha)) {
    throw FormatError("pact alpha", "must be a positive finite number, got " + describe_number(alpha));
  }
}
}  // namespace

Int4Params pact_int4_params(float alpha) {
  check_alpha(alpha);
  Int4Params p;
  p.is_signed = false;
  p.rounding = IntRounding::kNearestEven;
  p.scale = alpha / 15.0f;
  if (!(p.scale > 0.0f)) {
    throw FormatError("pact alpha", "alpha / 15 underflows to zero for alpha " + describe_number(alpha));
  }
  return p;
}

float pact_quantize(const float* x, std::size_t n, float alpha, std::int8_t* codes) {
  const Int4Quantizer q(pact_int4_params(alpha));
  q.quantize(x, n, codes);
  return q.params().scale;
}

double pact_alpha_grad(const float* x, const float* g, std::size_t n, float alpha) {
  check_alpha(alpha);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] >= alpha) sum += g[i];
  }
  return sum;
}

float pact_mse_alpha(const float* x, std::size_t n) {
  // Only positive finite values matter: zeros quantize exactly, and a
  // negative value's error (its own square) does not depend on alpha.
  std::vector<float> pos;
  float amax = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] > 0.0f && x[i] <= std::numeric_limits<float>::max()) {
      pos.push_back(x[i]);
      amax = std::max(amax, x[i]);
    }
  }
  if (pos.empty()) return 0.0f;
  std::vector<float> q(pos.size());
  const auto error = [&](float alpha) {
    const Int4Quantizer quantizer(pact_int4_params(alpha));
    quantizer.quantize_dequantize(pos.data(), pos.size(), q.data());
    double sum = 0.0;
    for (std::size_t i = 0; i < pos.size(); ++i) {
      const double d = static_cast<double>(pos[i]) - static_cast<double>(q[i]);
      sum += d * d;
    }
    return sum;
  };
  constexpr int kCoarse = 64;  // coarse grid: amax j / 64
  constexpr int kFine = 16;    // fine steps per coarse step
  float best = amax;
  double best_error = std::numeric_limits<double>::infinity();
  const auto consider = [&](double alpha_d) {
    const auto alpha = static_cast<float>(alpha_d);
    if (!(alpha > 0.0f) || !(alpha / 15.0f > 0.0f)) return;
    const double e = error(alpha);
    if (e < best_error || (e == best_error && alpha < best)) {
      best_error = e;
      best = alpha;
    }
  };
  const double step = static_cast<double>(amax) / kCoarse;
  for (int j = 1; j <= kCoarse; ++j) consider(step * j);
  const double centre = best;
  for (int j = -kFine + 1; j < kFine; ++j) {
    if (j != 0) consider(centre + step * j / kFine);
  }
  return best;
}

void pact_input_grad(const float* x, const float* g, std::size_t n, float alpha, float* gx) {
  check_alpha(alpha);
  for (std::size_t i = 0; i < n; ++i) gx[i] = (x[i] >= 0.0f && x[i] < alpha) ? g[i] : 0.0f;
}

}  // namespace nibble::numerics
