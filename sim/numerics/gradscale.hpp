// GradScale (Sun et al., NeurIPS 2020): a per-layer gradient scale that moves
// each layer's gradients into the FP4 range, recomputed every step. One
// GradScale object per layer holds that layer's state.
//
// Update rule, each step, from the layer's incoming gradient tensor g:
//   amax  = max |g_i| over the finite elements
//   r     = max(amax, decay x r_previous)         (running max; decay 0 = this step's max)
//   scale = r / 4^(7 - bias)                       (the FP4 top code then equals r)
//           rounded UP to a power of two when power_of_two is set (default),
//           so the top code is in [r, 2r): the largest gradient still maps to
//           the top code under nearest-in-log2 rounding, and scaling is an
//           exponent shift in hardware.
// Non-finite gradients (any inf or NaN): scale and running max unchanged, the
// step is reported (nonfinite = true) so the caller can skip the update, as
// dynamic loss scaling does. All-zero gradients: nothing to measure, scale
// unchanged. The scale is clamped to [2^-125, 2^(112 + 2 bias)] so both TPR
// phases' code books stay finite normal floats.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/numerics/fp4.hpp"

namespace nibble::numerics {

/// Parameters of one layer's GradScale.
struct GradScaleParams {
  int fp4_bias = kFp4DefaultBias;  ///< bias of the FP4 format the scale serves
  double decay = 0.0;              ///< running-max decay per step, in [0, 1)
  bool power_of_two = true;        ///< round the scale up to a power of two
  float initial_scale = 1.0f;      ///< scale before the first informative step; positive, finite
};

/// What one update saw and chose.
struct GradScaleStep {
  float scale = 1.0f;      ///< scale to quantize this step's gradient with
  float amax = 0.0f;       ///< largest finite |g_i| (0 for an empty or all-zero tensor)
  bool nonfinite = false;  ///< the tensor held inf or NaN: scale kept, skip this update
  bool all_zero = false;   ///< every element was +-0 (or the tensor was empty): scale kept
};

/// One layer's gradient scale, updated once per training step.
class GradScale {
 public:
  /// Throws FormatError for a bias out of range, decay outside [0, 1) or a bad initial scale.
  explicit GradScale(const GradScaleParams& params = {});

  /// Applies the update rule to g[0..n) and returns the scale for this step.
  GradScaleStep update(const float* g, std::size_t n);

  float scale() const { return m_scale; }                    ///< current scale
  double running_max() const { return m_running_max; }       ///< r after the last informative step
  std::uint64_t steps() const { return m_steps; }            ///< update() calls
  std::uint64_t nonfinite_steps() const { return m_nonfinite_steps; }  ///< steps with inf/NaN
  /// FP4 parameters (nearest-in-log2, this layer's bias) with the current scale: the even TPR phase.
  Fp4Params fp4_params() const;

 private:
  GradScaleParams m_params;          ///< validated parameters
  float m_scale;                     ///< current scale
  double m_running_max = 0.0;        ///< r
  std::uint64_t m_steps = 0;         ///< update() calls
  std::uint64_t m_nonfinite_steps = 0;  ///< updates that saw inf or NaN
};

}  // namespace nibble::numerics
