// AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization",
// ICLR 2019), in PyTorch's formulation (torch.optim.AdamW): fmnist-vit's
// optimizer (TrainConfig::optimizer); tested by hand-worked steps in
// tests/train/test_layers.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "models/train/layers.hpp"

namespace nibble::train {

/// AdamW hyper-parameters (PyTorch's defaults but the weight decay, which
/// PyTorch sets to 0.01).
struct AdamWConfig {
  double beta1 = 0.9;           ///< first-moment decay
  double beta2 = 0.999;         ///< second-moment decay
  double eps = 1e-8;            ///< added to sqrt(v hat)
  double weight_decay = 0.05;   ///< decoupled decay coefficient, on parameters with Param::decay
};

/// One update at step t (1-based), per element, in this order:
///   w -= lr wd w                              (if decay; decoupled from the gradient)
///   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2
///   w -= lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
///   w = max(w, Param::floor)
/// Moments in FP32 (the vector unit's work), the bias corrections in double.
void adamw_step(const std::vector<Param*>& params, const AdamWConfig& config, double lr, std::uint64_t t);

}  // namespace nibble::train
