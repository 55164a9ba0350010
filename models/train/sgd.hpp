// Stochastic gradient descent with momentum and weight decay, and the
// learning-rate schedule of every training run.
#pragma once

#include <cstdint>
#include <vector>

#include "models/train/layers.hpp"

namespace nibble::train {

/// SGD hyper-parameters.
struct SgdConfig {
  double lr = 0.05;             ///< peak learning rate
  double momentum = 0.9;        ///< heavy-ball momentum
  double weight_decay = 5e-4;   ///< L2 coefficient, on parameters with Param::decay
};

/// One update, PyTorch's formulation: g' = grad + wd * w (if decay),
/// v = momentum * v + g', w -= lr * v, then w = max(w, Param::floor). All in
/// FP32 (the vector unit's work).
void sgd_step(const std::vector<Param*>& params, const SgdConfig& config, double lr);

/// Cosine annealing without restarts over the whole run, per step:
/// lr(t) = peak * (1 + cos(pi * t / total)) / 2 for step t = 0 .. total-1,
/// so the first step uses the peak rate and the last a rate near zero.
double cosine_lr(double peak, std::uint64_t step, std::uint64_t total_steps);

/// The same after a linear warm-up (Goyal et al. 2017, "Accurate, Large
/// Minibatch SGD"): steps t = 0 .. warmup-1 use peak * (t + 1) / warmup, the
/// remaining total - warmup steps follow cosine_lr over their own count.
/// warmup 0 is cosine_lr.
double warmup_cosine_lr(double peak, std::uint64_t step, std::uint64_t warmup, std::uint64_t total_steps);

}  // namespace nibble::train
