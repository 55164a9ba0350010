// A sequential network of emulator layers, built from a model graph
// (models/graph) so that the emulator trains exactly the network the zoo
// describes and the trace expansion costs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/graph/graph.hpp"
#include "models/train/gemm_layer.hpp"
#include "models/train/layers.hpp"

namespace nibble::train {

/// Layers run in order; activations and their gradients are kept between
/// forward() and backward().
class Network {
 public:
  /// Appends a layer (the input shape of each is the output of the previous).
  void add(std::unique_ptr<Layer> layer);
  /// Draws every layer's initial parameters from one generator seeded `seed`.
  void init(std::uint64_t seed);
  /// Runs all layers on `x`; returns the logits.
  const Tensor& forward(const Tensor& x, const StepContext& ctx);
  /// Backpropagates dL/dlogits through every layer, writing each parameter's
  /// grad. The first layer computes no input gradient (none is needed).
  void backward(const Tensor& dlogits, const StepContext& ctx);
  /// False when the last backward() met inf or NaN in some gradient (GEMM
  /// layers' dL/dy or any parameter gradient): the step should be skipped.
  bool gradients_finite();
  /// Every trainable tensor, layer by layer.
  std::vector<Param*> params();
  const std::vector<std::unique_ptr<Layer>>& layers() const { return m_layers; }
  /// Output shape for input shape `in` (checks every layer).
  Shape output_shape(Shape in) const;

 private:
  std::vector<std::unique_ptr<Layer>> m_layers;  ///< in execution order
  std::vector<Tensor> m_acts;                    ///< [0] input, [i + 1] output of layer i
  std::vector<Tensor> m_grads;                   ///< gradients of the same tensors
};

/// Builds the emulator network for a sequential graph (each layer reads the
/// previous one) ending in a softmax cross-entropy loss. Supported: input,
/// conv (square kernel, equal strides and pads, no groups or dilation),
/// linear, ReLU, max pooling without padding, batch-norm and flatten. Anything
/// else is an InputError naming the layer. `arith[i]` is the arithmetic of
/// graph layer i (models/train/policy.hpp's plan_arithmetic()).
Network build_network(const models::Graph& graph, const std::vector<LayerArith>& arith);

}  // namespace nibble::train
