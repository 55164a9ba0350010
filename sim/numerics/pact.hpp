// PACT activation clipping (Choi et al., 2018; IBM's quantizer code): the
// activation is clipped to [0, alpha] and quantized to UINT4,
// scale = alpha / 15. alpha is learned; its straight-through gradient is the
// sum of the incoming gradient where x >= alpha.
//
// Gradient partition (each incoming gradient element goes to exactly one place):
//   x < 0           -> dropped (the clip's flat part below 0)
//   0 <= x < alpha  -> dL/dx (straight-through)
//   x >= alpha      -> dL/dalpha
// (fms_mo's PACT passes x == alpha to both; nibble gives it to alpha only.)
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/int4.hpp"

namespace nibble::numerics {

/// UINT4 parameters for clip value alpha: unsigned, scale = alpha / 15
/// (rounded to float), nearest-even. FormatError unless alpha is positive and finite.
Int4Params pact_int4_params(float alpha);

/// Clips x[0..n) to [0, alpha] and quantizes to UINT4 codes 0..15 (the
/// saturating quantizer does the clipping). Returns the scale used.
float pact_quantize(const float* x, std::size_t n, float alpha, std::int8_t* codes);

/// dL/dalpha = sum of g_i over x_i >= alpha, summed in double in index order.
double pact_alpha_grad(const float* x, const float* g, std::size_t n, float alpha);

/// dL/dx: gx_i = g_i where 0 <= x_i < alpha, else 0.
void pact_input_grad(const float* x, const float* g, std::size_t n, float alpha, float* gx);

/// The clip level that minimizes the squared error of pact_quantize over
/// x[0..n): the initial alpha of a layer, from its first batch. Searched on
/// a grid: amax j / 64 (j = 1..64, amax = the largest finite x), then amax / 1024
/// steps within one coarse step of the best; ties go to the smaller alpha.
/// Returns 0 when no x is positive. Deterministic (sums in double, index order).
float pact_mse_alpha(const float* x, std::size_t n);

}  // namespace nibble::numerics
