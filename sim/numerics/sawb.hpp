// SAWB weight clipping (statistics-aware weight binning, IBM): the clip value
//   clip = c1 x sqrt(E[w^2]) + c2 x E[|w|]
// recomputed per tensor each step, with coefficients fitted per bit width
// (foundation-model-stack/fms-model-optimizer, fms_mo/quant/quantizers.py).
// INT4 weights then use the symmetric grid: w clipped to [-clip, clip],
// scale = clip / 7, codes -7..7 (code -8 unused, so the grid is symmetric
// and zero is exact).
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/int4.hpp"

namespace nibble::numerics {

/// c1 and c2 of one bit width.
struct SawbCoefficients {
  double c1;  ///< weight of sqrt(E[w^2])
  double c2;  ///< weight of E[|w|] (negative)
};

/// The coefficients for `bits` in {2, 3, 4, 5, 8}; FormatError for any other width.
SawbCoefficients sawb_coefficients(int bits);

/// The SAWB clip of w[0..n) for `bits`, moments summed in double in index order.
/// When the formula gives clip <= 0 (tensors whose magnitudes are nearly all
/// equal: for 4 bits c1 + c2 = -0.12 < 0), the clip is max |w| instead.
/// Returns 0 for an empty or all-zero tensor. FormatError for an unknown
/// width or a non-finite weight (naming its index).
double sawb_clip(const float* w, std::size_t n, int bits);

/// INT4 parameters for SAWB-clipped weights: signed, scale = clip / 7
/// (rounded to float), nearest-even. An all-zero tensor gets scale 1.
Int4Params sawb_int4_params(const float* w, std::size_t n);

/// Clips w[0..n) to [-clip, clip] and quantizes with sawb_int4_params():
/// codes in -7..7. Returns the scale used (dequantized w = code x scale).
float sawb_quantize_int4(const float* w, std::size_t n, std::int8_t* codes);

}  // namespace nibble::numerics
