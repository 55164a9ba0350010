// The layers of the training emulator, each with a hand-written forward and
// backward pass (no autograd). Gradients of every layer are checked against
// finite differences in tests/train/test_layers.cpp.
//
// Element-wise work (ReLU, pooling, batch-norm, bias, the loss, scaling the
// GEMM results) runs in FP32, as a vector unit with FP32 arithmetic would;
// the precision policies change only the GEMMs and their operand quantization
// (models/train/gemm_layer.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/train/tensor.hpp"

namespace nibble::train {

class ThreadPool;
class Rng;

/// A trainable tensor with its gradient and the optimizer's momentum buffer.
struct Param {
  std::string name;              ///< "layer.weight", "layer.bias", ...
  std::vector<float> value;      ///< current values
  std::vector<float> grad;       ///< gradient of the mean batch loss, written by backward()
  std::vector<float> velocity;   ///< SGD momentum buffer; AdamW's first moment
  std::vector<float> moment2;    ///< AdamW's second moment (sized by adamw_step on first use)
  bool decay = true;             ///< weight decay applies (weights and clip levels; not biases or BN)
  float floor = -3.4028235e38f;  ///< every update ends with value = max(value, floor) (PACT clips: positive)

  /// Sizes value/grad/velocity to `size` zeros.
  void allocate(std::size_t size) {
    value.assign(size, 0.0f);
    grad.assign(size, 0.0f);
    velocity.assign(size, 0.0f);
  }
};

/// What a forward/backward call may use besides its tensors.
struct StepContext {
  ThreadPool* pool = nullptr;  ///< parallel work (nullptr: run inline)
  bool training = true;        ///< batch statistics and quantizer updates (false: evaluation)
  std::uint64_t step = 0;      ///< optimizer steps taken so far (seeds stochastic rounding)
  std::uint64_t* gemm_macs = nullptr;  ///< when set, every GEMM run adds its multiply-accumulates here

  /// Adds an m x n x k GEMM's MACs to *gemm_macs (called from the layer's thread only).
  void count_gemm(std::size_t m, std::size_t n, std::size_t k) const {
    if (gemm_macs != nullptr) *gemm_macs += static_cast<std::uint64_t>(m) * n * k;
  }
};

/// One layer of a sequential network.
class Layer {
 public:
  explicit Layer(std::string name) : m_name(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return m_name; }
  /// Short kind, e.g. "conv2d".
  virtual std::string kind() const = 0;
  /// Output shape for input shape `in`; std::logic_error if `in` does not fit.
  virtual Shape output_shape(const Shape& in) const = 0;
  /// y = f(x); may cache what backward() needs.
  virtual void forward(const Tensor& x, Tensor& y, const StepContext& ctx) = 0;
  /// Given x, y = f(x) from the last forward() and dL/dy, accumulates nothing:
  /// overwrites the parameters' grad and, if dx != nullptr, writes dL/dx.
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) = 0;
  /// Trainable tensors, in a fixed order.
  virtual std::vector<Param*> params() { return {}; }
  /// Draws initial parameter values.
  virtual void init(Rng& /*rng*/) {}

 private:
  std::string m_name;  ///< unique within the network
};

/// max(x, 0).
class Relu : public Layer {
 public:
  using Layer::Layer;
  std::string kind() const override { return "relu"; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
};

/// Max pooling over k x k windows with stride s and no padding; the gradient
/// goes to the first maximum of each window in row-major order.
class MaxPool2d : public Layer {
 public:
  MaxPool2d(std::string name, std::size_t kernel, std::size_t stride);
  std::string kind() const override { return "maxpool2d"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_kernel;                ///< window side
  std::size_t m_stride;                ///< step between windows
  std::vector<std::uint32_t> m_argmax; ///< per output: index of the chosen input within its sample
};

/// Global average pooling: (n, c, h, w) -> (n, c, 1, 1), the mean of each
/// channel's plane, summed in double in row-major order.
class GlobalAvgPool : public Layer {
 public:
  using Layer::Layer;
  std::string kind() const override { return "globalavgpool"; }
  Shape output_shape(const Shape& in) const override { return Shape{in.n, in.c, 1, 1}; }
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
};

/// (n, c, h, w) -> (n, c*h*w, 1, 1); the data is unchanged.
class Flatten : public Layer {
 public:
  using Layer::Layer;
  std::string kind() const override { return "flatten"; }
  Shape output_shape(const Shape& in) const override { return Shape{in.n, in.per_sample(), 1, 1}; }
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
};

/// A normalization with a learned scale (gamma, init 1) and shift (beta, init
/// 0) per feature, neither decayed: what BatchNorm and LayerNorm share.
class NormLayer : public Layer {
 public:
  std::vector<Param*> params() override { return {&m_gamma, &m_beta}; }
  void init(Rng& rng) override;

 protected:
  NormLayer(std::string name, std::size_t features, float eps);

  float m_eps;    ///< added to the variance
  Param m_gamma;  ///< scale, init 1, no weight decay
  Param m_beta;   ///< shift, init 0, no weight decay
};

/// Batch normalization per channel over (n, h, w), with learned scale and
/// shift. Training uses the batch statistics (biased variance) and updates
/// running averages (momentum 0.1, unbiased variance, as PyTorch); evaluation
/// uses the running averages.
class BatchNorm : public NormLayer {
 public:
  BatchNorm(std::string name, std::size_t channels, float eps = 1e-5f, float momentum = 0.1f);
  std::string kind() const override { return "batchnorm"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
  void init(Rng& rng) override;

 private:
  std::size_t m_channels;               ///< C
  float m_momentum;                     ///< running-average update weight
  std::vector<float> m_running_mean;    ///< evaluation mean
  std::vector<float> m_running_var;     ///< evaluation variance
  std::vector<float> m_inv_std;         ///< per channel 1/sqrt(var + eps) of the last training batch
  std::vector<float> m_xhat;            ///< normalized input of the last training batch
};

/// Mean softmax cross-entropy of logits (n, classes, 1, 1) against labels.
class SoftmaxCrossEntropy {
 public:
  /// Returns the mean loss over the batch and keeps the probabilities.
  double forward(const Tensor& logits, const std::vector<std::uint8_t>& labels);
  /// dL/dlogits of the mean loss: (softmax - onehot) / n.
  void backward(const std::vector<std::uint8_t>& labels, Tensor& dlogits) const;
  /// Softmax of the last forward().
  const Tensor& probabilities() const { return m_prob; }

 private:
  Tensor m_prob;  ///< softmax of the last logits
};

}  // namespace nibble::train
