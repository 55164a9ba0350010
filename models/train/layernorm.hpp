// Transformer element-wise layers of the training emulator: layer
// normalization and GELU, with hand-written backward passes checked against
// finite differences in tests/train/test_layers.cpp. Vector-unit work: FP32
// values, statistics summed in double in a fixed order. Used by fmnist-vit.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "models/train/layers.hpp"

namespace nibble::train {

/// Layer normalization over each sample's c x h x w features (a token's
/// features when tokens are the samples), with a learned per-feature scale
/// and shift: y = gamma (x - mean) / sqrt(var + eps) + beta, biased variance,
/// the same in training and evaluation (no running statistics), as PyTorch.
class LayerNorm : public NormLayer {
 public:
  LayerNorm(std::string name, std::size_t features, float eps = 1e-5f);
  std::string kind() const override { return "layernorm"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_features;          ///< D = c x h x w of a sample
  std::vector<float> m_inv_std;    ///< per sample 1/sqrt(var + eps) of the last forward
  std::vector<float> m_xhat;       ///< normalized input of the last forward
};

/// GELU, the exact (erf) form: y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2,
/// dy/dx = Phi(x) + x phi(x); computed in double, stored in FP32.
class Gelu : public Layer {
 public:
  using Layer::Layer;
  std::string kind() const override { return "gelu"; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
};

}  // namespace nibble::train
