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

/// A directed acyclic graph of layers run in index order: node 0 is the
/// input, every other node a layer reading one earlier node or an element-wise
/// sum of several (a residual add). Activations and their gradients are kept
/// between forward() and backward(). A node read by several others (a
/// residual branch point) receives the sum of their gradients, added in
/// descending order of the reading node (fixed, so runs are reproducible).
class Network {
 public:
  /// Appends a layer reading the previous node (a sequential network).
  void add(std::unique_ptr<Layer> layer);
  /// Appends a layer reading node `input`; returns the new node's index.
  std::size_t add(std::unique_ptr<Layer> layer, std::size_t input);
  /// Appends the element-wise sum of `inputs` (equal shapes, summed in FP32 in
  /// the given order); returns the new node's index.
  std::size_t add_sum(const std::string& name, const std::vector<std::size_t>& inputs);
  /// Rounds node `node`'s output to FP16 (round-to-nearest-even) after every
  /// forward: the activation is stored in FP16 between layers, as the trace's
  /// storage format says (workloads/policy.hpp). Node 0 is the input.
  void store_fp16(std::size_t node);
  /// Draws every layer's initial parameters from one generator seeded `seed`.
  void init(std::uint64_t seed);
  /// Runs all layers on `x`; returns the logits (the last node's output).
  const Tensor& forward(const Tensor& x, const StepContext& ctx);
  /// Backpropagates dL/dlogits through every layer, writing each parameter's
  /// grad. Layers reading the input, or only parameter-free layers between it
  /// and them, compute no input gradient (none is needed).
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
  /// One node after the input.
  struct Node {
    std::size_t layer = 0;             ///< index into m_layers (sum nodes: unused)
    std::vector<std::size_t> inputs;   ///< nodes read (one for a layer, two or more for a sum)
    bool sum = false;                  ///< element-wise sum of the inputs instead of a layer
    std::string name;                  ///< sum nodes: for messages
  };
  std::vector<std::unique_ptr<Layer>> m_layers;  ///< layers in node order
  std::vector<Node> m_nodes;                     ///< [i] is node i + 1
  std::vector<bool> m_fp16;                      ///< per node (0 = input): output stored in FP16
  std::vector<Tensor> m_acts;                    ///< per node: its output ([0] the input)
  std::vector<Tensor> m_grads;                   ///< gradients of the same tensors
  std::vector<bool> m_has_grad;                  ///< m_grads[i] holds a gradient of this backward()
  std::vector<bool> m_needs_grad;                ///< per node: some parameter lies upstream (else no gradient)
  Tensor m_dx;                                   ///< scratch: a layer's input gradient before it is added
};

/// Builds the emulator network for a graph (a DAG: residual adds allowed)
/// ending in a softmax cross-entropy loss. Supported: input, conv (square
/// kernel, equal strides and pads, no groups or dilation), linear, ReLU, max
/// pooling without padding, global average pooling, batch-norm, flatten and
/// element-wise adds of equal shapes. Anything else is an InputError naming
/// the layer. `arith[i]` is the arithmetic of graph layer i
/// (models/train/policy.hpp's plan_arithmetic()). With `storage` fp16 every
/// activation between layers is rounded to FP16 (the input, every vector op's
/// output, and GEMM outputs accumulated in FP16); GEMM outputs of an FP32 or
/// int32 accumulator are kept as they are, as the trace says.
Network build_network(const models::Graph& graph, const std::vector<LayerArith>& arith,
                      numerics::Format storage = numerics::Format::kFp32);

}  // namespace nibble::train
