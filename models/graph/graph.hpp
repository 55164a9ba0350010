// A network's forward pass as a graph of layers with concrete shapes (batch
// included), which the training-step expansion (workloads/expand.hpp) turns
// into a trace. The zoo (models/zoo), the ONNX importer (models/onnx) and the
// SCALE-Sim reader (workloads/scalesim.hpp) all build graphs through the add_*
// methods below, which infer every output shape and reject impossible ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/graph/conv_window.hpp"

namespace nibble::models {

/// Tensor dimensions, batch first (NCHW for images, N x S x D for sequences).
using Shape = std::vector<std::uint64_t>;

enum class LayerType {
  kInput,          ///< training data; needs no gradient
  kConv,           ///< 2-D convolution (grouped/depthwise when groups > 1), NCHW
  kLinear,         ///< fully connected over the last dimension: rows x in -> rows x out
  kMatMul,         ///< product of two activations, batched over the leading dimensions
  kLstm,           ///< one LSTM layer over a whole sequence: N x T x I -> N x T x H
  kEmbedding,      ///< table lookup of token ids: N x T -> N x T x D (no GEMM)
  kBatchNorm,      ///< batch normalization over channel dimension 1
  kLayerNorm,      ///< layer normalization over the last dimension
  kActivation,     ///< element-wise nonlinearity
  kPool,           ///< max or average pooling window
  kGlobalPool,     ///< average over all spatial positions (also adaptive pooling)
  kEltwise,        ///< element-wise add/sub/mul/div with broadcasting (residual adds)
  kConcat,         ///< concatenation along an axis
  kSoftmax,        ///< softmax along an axis
  kDropout,        ///< random mask multiply (training)
  kView,           ///< reshape/flatten/transpose/squeeze: no work, a new shape
  kSlice,          ///< copy of a part of a tensor (e.g. BERT's [CLS] token)
  kLoss,           ///< softmax cross-entropy over the last dimension (forward + backward)
};

enum class ActivationKind { kRelu, kClip, kSigmoid, kTanh, kGelu };
enum class PoolKind { kMax, kAvg };
enum class EltwiseKind { kAdd, kSub, kMul, kDiv };

/// Convolution parameters (the input shape gives N, C, H, W; the window
/// its strides, padding, dilation and groups).
struct ConvParams : ConvWindow {
  std::uint64_t out_channels = 1;  ///< K, filters
  std::uint64_t kernel_h = 1;      ///< R
  std::uint64_t kernel_w = 1;      ///< S
  bool bias = false;               ///< a bias vector of K values
};

/// Pooling window parameters.
struct PoolParams {
  PoolKind kind = PoolKind::kMax;  ///< max or average
  std::uint64_t kernel_h = 1;      ///< window height
  std::uint64_t kernel_w = 1;      ///< window width
  std::uint64_t stride_h = 1;      ///< vertical stride
  std::uint64_t stride_w = 1;      ///< horizontal stride
  std::uint64_t pad_h = 0;         ///< padding, top and bottom
  std::uint64_t pad_w = 0;         ///< padding, left and right
  bool ceil_mode = false;          ///< output size rounded up (ONNX ceil_mode)
};

/// One GEMM C[m x n] (+)= A[m x k] * B[k x n], repeated `groups` times.
struct GemmShape {
  std::uint64_t groups = 1;  ///< independent GEMMs of this shape
  std::uint64_t m = 0;       ///< rows of A and C
  std::uint64_t n = 0;       ///< columns of B and C
  std::uint64_t k = 0;       ///< reduction length
};

struct Layer {
  std::string name;                  ///< unique within the graph
  LayerType type = LayerType::kInput;  ///< what the layer computes
  std::vector<std::size_t> inputs;   ///< producer layers (always earlier in Graph::layers)
  Shape shape;                       ///< output shape, batch first
  std::uint64_t params = 0;          ///< trainable parameters (weights, biases, norm scales)

  ConvParams conv;                   ///< kConv
  PoolParams pool;                   ///< kPool
  GemmShape gemm;                    ///< kLinear, kMatMul (forward GEMM); kLstm: the input projection
  std::uint64_t in_features = 0;     ///< kLinear, kLstm: K of the input GEMM
  std::uint64_t hidden = 0;          ///< kLstm: hidden size H
  std::uint64_t seq = 0;             ///< kLstm: time steps T
  bool bias = false;                 ///< kConv, kLinear: has a bias vector
  ActivationKind activation = ActivationKind::kRelu;  ///< kActivation
  double clip_min = 0.0;             ///< kActivation kClip: lower bound (>= 0 means non-negative output)
  EltwiseKind eltwise = EltwiseKind::kAdd;  ///< kEltwise
  std::uint64_t eltwise_param_elements = 0;  ///< kEltwise: elements of a trainable operand (a bias)
  std::uint64_t axis = 0;            ///< kConcat, kSoftmax: the axis
  std::uint64_t elements_read = 0;   ///< kPool, kGlobalPool, kSlice: elements the vector unit reads
};

/// True for layers that run GEMMs on the array (conv, linear, matmul, lstm).
bool is_gemm_layer(LayerType type);
/// Lower-case name of a layer type, for messages ("conv", "linear", ...).
std::string layer_type_name(LayerType type);

/// Product of the dimensions; InputError (field `what`) if it overflows 64 bits.
std::uint64_t shape_elements(const Shape& shape, const std::string& what = "shape");
/// "2x3x224x224".
std::string shape_text(const Shape& shape);

/// A forward graph with concrete shapes. The add_* methods check their inputs
/// and throw InputError("", 0, layer name, what was expected) on impossible
/// shapes, so importers can relocate the error to their file and node.
class Graph {
 public:
  Graph(std::string name, std::uint64_t batch);

  const std::string& name() const { return m_name; }
  std::uint64_t batch() const { return m_batch; }
  const std::vector<Layer>& layers() const { return m_layers; }
  const Layer& layer(std::size_t index) const { return m_layers.at(index); }
  std::size_t size() const { return m_layers.size(); }
  /// Room for `layers` layers (importers that know their node count).
  void reserve(std::size_t layers) {
    m_layers.reserve(layers);
    m_index.reserve(layers);
  }
  /// Index of the layer called `name`, or size() if none (constant time).
  std::size_t find(const std::string& name) const;

  std::size_t add_input(const std::string& name, const Shape& shape);
  std::size_t add_conv(const std::string& name, std::size_t input, const ConvParams& params);
  /// Linear layer over the last dimension of `input`, `out_features` outputs.
  std::size_t add_linear(const std::string& name, std::size_t input, std::uint64_t out_features, bool bias);
  /// a[..., m, k] x b[..., k, n] as numpy.matmul: leading dimensions broadcast (groups = their
  /// product, or the batches stacked into m when b has none), 1-D operands are vectors.
  std::size_t add_matmul(const std::string& name, std::size_t a, std::size_t b);
  /// LSTM over input N x T x I, hidden size H; weights 4H x I and 4H x H, two biases of 4H (PyTorch).
  std::size_t add_lstm(const std::string& name, std::size_t input, std::uint64_t hidden);
  /// Token ids N x T -> N x T x width, from `tables` summed tables of `rows` total rows.
  std::size_t add_embedding(const std::string& name, std::size_t input, std::uint64_t rows,
                            std::uint64_t width, std::uint64_t tables);
  std::size_t add_batch_norm(const std::string& name, std::size_t input);
  std::size_t add_layer_norm(const std::string& name, std::size_t input);
  std::size_t add_activation(const std::string& name, std::size_t input, ActivationKind kind,
                             double clip_min = 0.0);
  std::size_t add_pool(const std::string& name, std::size_t input, const PoolParams& params);
  /// Average over H x W to out_h x out_w (1 x 1: global pooling; 6 x 6: AlexNet's adaptive pool).
  std::size_t add_global_pool(const std::string& name, std::size_t input, std::uint64_t out_h = 1,
                              std::uint64_t out_w = 1);
  /// Element-wise op of activations with numpy broadcasting; `param_shape` non-empty adds a
  /// trainable operand of that shape (a bias) broadcast against the activation.
  std::size_t add_eltwise(const std::string& name, EltwiseKind kind, const std::vector<std::size_t>& inputs,
                          const Shape& param_shape = {});
  std::size_t add_concat(const std::string& name, const std::vector<std::size_t>& inputs, std::uint64_t axis);
  std::size_t add_softmax(const std::string& name, std::size_t input, std::uint64_t axis);
  std::size_t add_dropout(const std::string& name, std::size_t input);
  /// A new shape for the same elements (reshape, flatten, transpose, squeeze). With
  /// `any_size` the element count may change: only the SCALE-Sim import uses that, to
  /// run rows that do not chain as one network.
  std::size_t add_view(const std::string& name, std::size_t input, const Shape& shape, bool any_size = false);
  /// Flatten everything after the batch dimension.
  std::size_t add_flatten(const std::string& name, std::size_t input);
  /// Copy of `shape`-sized part of the input (e.g. token 0 of N x S x D -> N x D).
  std::size_t add_slice(const std::string& name, std::size_t input, const Shape& shape);
  std::size_t add_loss(const std::string& name, std::size_t input);

 private:
  std::size_t push(Layer layer);
  const Layer& producer(std::size_t index, const std::string& consumer) const;

  std::string m_name;            ///< network name
  std::uint64_t m_batch;         ///< training batch size N
  std::vector<Layer> m_layers;   ///< in topological (execution) order
  /// Layer name -> index: find() and the duplicate check in push() stay O(1), so building
  /// a graph of n layers is linear (a linear search made a 100,000-node ONNX import take 33 s).
  std::unordered_map<std::string, std::size_t> m_index;
};

/// Per layer: does its output need a gradient (it or an upstream layer has parameters)?
std::vector<bool> requires_grad(const Graph& graph);
/// Per layer: is its output known to be >= 0 (after ReLU, sigmoid, softmax, through pooling and views)?
std::vector<bool> non_negative(const Graph& graph);
/// Per layer: the layers that read its output, in order.
std::vector<std::vector<std::size_t>> consumers(const Graph& graph);
/// Per layer: is it a GEMM layer with no GEMM layer upstream (first) / downstream (last)?
std::vector<bool> first_gemm_layers(const Graph& graph);
std::vector<bool> last_gemm_layers(const Graph& graph);
/// Forward MACs of one layer (0 for non-GEMM layers), overflow-checked.
std::uint64_t forward_macs(const Layer& layer);
/// Sum of forward MACs over the graph, overflow-checked.
std::uint64_t forward_macs(const Graph& graph);
/// The GEMMs a layer's forward pass runs (conv as implicit GEMM, LSTM as two).
std::vector<GemmShape> forward_gemms(const Layer& layer);

}  // namespace nibble::models
