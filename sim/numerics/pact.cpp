#include "sim/numerics/pact.hpp"

#include <cmath>
#include <limits>

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

void pact_input_grad(const float* x, const float* g, std::size_t n, float alpha, float* gx) {
  check_alpha(alpha);
  for (std::size_t i = 0; i < n; ++i) gx[i] = (x[i] >= 0.0f && x[i] < alpha) ? g[i] : 0.0f;
}

}  // namespace nibble::numerics
