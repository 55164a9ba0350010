#include "models/graph/graph.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::models {

namespace {

InputError layer_error(const std::string& layer, const std::string& message) {
  return InputError("", 0, layer, message);
}

std::uint64_t mul(std::uint64_t a, std::uint64_t b, const std::string& layer) {
  const auto product = checked_mul(a, b);
  if (!product) throw layer_error(layer, "sizes overflow 64 bits");
  return *product;
}

std::uint64_t add(std::uint64_t a, std::uint64_t b, const std::string& layer) {
  const auto sum = checked_add(a, b);
  if (!sum) throw layer_error(layer, "sizes overflow 64 bits");
  return *sum;
}

/// Output size of a sliding window: floor((in + 2 pad - dilation (kernel - 1) - 1) / stride) + 1,
/// or rounded up in ceil mode (the last window must still start inside the input or its left
/// padding, PyTorch's rule).
std::uint64_t window_out(std::uint64_t in, std::uint64_t kernel, std::uint64_t stride, std::uint64_t pad,
                         std::uint64_t dilation, bool ceil_mode, const std::string& layer, const char* axis) {
  if (kernel == 0 || stride == 0 || dilation == 0) {
    throw layer_error(layer, std::string("kernel, stride and dilation must be >= 1 (") + axis + ")");
  }
  const std::uint64_t padded = add(in, mul(2, pad, layer), layer);
  const std::uint64_t span = add(mul(dilation, kernel - 1, layer), 1, layer);
  if (padded < span) {
    throw layer_error(layer, std::string("window of ") + std::to_string(span) + " does not fit the " + axis +
                                 " of " + std::to_string(in) + " (padded " + std::to_string(padded) + ")");
  }
  std::uint64_t out = (padded - span) / stride + 1;
  if (ceil_mode && (padded - span) % stride != 0) {
    ++out;
    if ((out - 1) * stride >= in + pad) --out;
  }
  return out;
}

}  // namespace

bool is_gemm_layer(LayerType type) {
  return type == LayerType::kConv || type == LayerType::kLinear || type == LayerType::kMatMul ||
         type == LayerType::kLstm;
}

std::string layer_type_name(LayerType type) {
  switch (type) {
    case LayerType::kInput: return "input";
    case LayerType::kConv: return "conv";
    case LayerType::kLinear: return "linear";
    case LayerType::kMatMul: return "matmul";
    case LayerType::kLstm: return "lstm";
    case LayerType::kEmbedding: return "embedding";
    case LayerType::kBatchNorm: return "batch-norm";
    case LayerType::kLayerNorm: return "layer-norm";
    case LayerType::kActivation: return "activation";
    case LayerType::kPool: return "pool";
    case LayerType::kGlobalPool: return "global-pool";
    case LayerType::kEltwise: return "eltwise";
    case LayerType::kConcat: return "concat";
    case LayerType::kSoftmax: return "softmax";
    case LayerType::kDropout: return "dropout";
    case LayerType::kView: return "view";
    case LayerType::kSlice: return "slice";
    case LayerType::kLoss: return "loss";
  }
  return "?";
}

std::uint64_t shape_elements(const Shape& shape, const std::string& what) {
  std::uint64_t total = 1;
  for (const auto dim : shape) {
    const auto product = checked_mul(total, dim);
    if (!product) throw InputError("", 0, what, "tensor of shape " + shape_text(shape) + " overflows 64 bits");
    total = *product;
  }
  return total;
}

std::string shape_text(const Shape& shape) {
  std::string out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += "x";
    out += std::to_string(shape[i]);
  }
  return out.empty() ? "scalar" : out;
}

Graph::Graph(std::string name, std::uint64_t batch) : m_name(std::move(name)), m_batch(batch) {
  if (batch == 0) throw InputError("", 0, "batch", "expected a batch size >= 1, got 0");
}

std::size_t Graph::find(const std::string& name) const {
  const auto it = m_index.find(name);
  return it == m_index.end() ? m_layers.size() : it->second;
}

std::size_t Graph::push(Layer layer) {
  if (layer.name.empty()) throw std::logic_error("graph layer without a name");
  if (find(layer.name) != m_layers.size()) throw layer_error(layer.name, "a layer of this name already exists");
  for (const auto dim : layer.shape) {
    if (dim == 0) throw layer_error(layer.name, "output shape " + shape_text(layer.shape) + " has a zero dimension");
  }
  shape_elements(layer.shape, layer.name);
  m_index.emplace(layer.name, m_layers.size());
  m_layers.push_back(std::move(layer));
  return m_layers.size() - 1;
}

const Layer& Graph::producer(std::size_t index, const std::string& consumer) const {
  if (index >= m_layers.size()) throw std::logic_error("layer '" + consumer + "' reads a layer not yet added");
  return m_layers[index];
}

std::size_t Graph::add_input(const std::string& name, const Shape& shape) {
  if (shape.empty()) throw layer_error(name, "input needs at least a batch dimension");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kInput;
  layer.shape = shape;
  return push(std::move(layer));
}

std::size_t Graph::add_conv(const std::string& name, std::size_t input, const ConvParams& params) {
  const Layer& in = producer(input, name);
  if (in.shape.size() != 4) {
    throw layer_error(name, "convolution expects an N x C x H x W input, got " + shape_text(in.shape));
  }
  const std::uint64_t n = in.shape[0], c = in.shape[1], h = in.shape[2], w = in.shape[3];
  if (params.groups == 0 || params.out_channels == 0) throw layer_error(name, "groups and filters must be >= 1");
  if (c % params.groups != 0 || params.out_channels % params.groups != 0) {
    throw layer_error(name, "groups (" + std::to_string(params.groups) + ") must divide the input channels (" +
                                std::to_string(c) + ") and the filters (" + std::to_string(params.out_channels) + ")");
  }
  const std::uint64_t e = window_out(h, params.kernel_h, params.stride_h, params.pad_h, params.dilation_h, false, name, "height");
  const std::uint64_t f = window_out(w, params.kernel_w, params.stride_w, params.pad_w, params.dilation_w, false, name, "width");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kConv;
  layer.inputs = {input};
  layer.conv = params;
  layer.bias = params.bias;
  layer.shape = {n, params.out_channels, e, f};
  const std::uint64_t per_group_c = c / params.groups;
  const std::uint64_t window = mul(mul(per_group_c, params.kernel_h, name), params.kernel_w, name);
  layer.gemm = GemmShape{params.groups, mul(mul(n, e, name), f, name), params.out_channels / params.groups, window};
  layer.params = add(mul(params.out_channels, window, name), params.bias ? params.out_channels : 0, name);
  return push(std::move(layer));
}

std::size_t Graph::add_linear(const std::string& name, std::size_t input, std::uint64_t out_features, bool bias) {
  const Layer& in = producer(input, name);
  if (in.shape.size() < 2) throw layer_error(name, "linear layer expects at least N x features, got " + shape_text(in.shape));
  if (out_features == 0) throw layer_error(name, "expected at least 1 output feature");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kLinear;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.shape.back() = out_features;
  layer.in_features = in.shape.back();
  layer.bias = bias;
  const std::uint64_t rows = shape_elements(in.shape, name) / in.shape.back();
  layer.gemm = GemmShape{1, rows, out_features, layer.in_features};
  layer.params = add(mul(out_features, layer.in_features, name), bias ? out_features : 0, name);
  return push(std::move(layer));
}

std::size_t Graph::add_matmul(const std::string& name, std::size_t a, std::size_t b) {
  const Layer& la = producer(a, name);
  const Layer& lb = producer(b, name);
  if (la.shape.empty() || lb.shape.empty()) {
    throw layer_error(name, "matmul expects operands of at least 1 dimension, got " + shape_text(la.shape) + " and " +
                                shape_text(lb.shape));
  }
  // numpy.matmul: a 1-D A is a row vector (1 x k), a 1-D B a column vector (k x 1); the
  // added dimension is dropped from the output. The leading (batch) dimensions broadcast.
  const bool vec_a = la.shape.size() == 1, vec_b = lb.shape.size() == 1;
  const std::uint64_t m = vec_a ? 1 : la.shape[la.shape.size() - 2], k = la.shape.back();
  const std::uint64_t kb = vec_b ? lb.shape[0] : lb.shape[lb.shape.size() - 2], n = vec_b ? 1 : lb.shape.back();
  if (k != kb) {
    throw layer_error(name, "inner dimensions differ: " + shape_text(la.shape) + " x " + shape_text(lb.shape));
  }
  const Shape batch_a(la.shape.begin(), la.shape.end() - (vec_a ? 1 : 2));
  const Shape batch_b(lb.shape.begin(), lb.shape.end() - (vec_b ? 1 : 2));
  const std::size_t rank = std::max(batch_a.size(), batch_b.size());
  Shape batch(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::uint64_t da = i + batch_a.size() >= rank ? batch_a[i + batch_a.size() - rank] : 1;
    const std::uint64_t db = i + batch_b.size() >= rank ? batch_b[i + batch_b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      throw layer_error(name, "batch dimensions cannot be broadcast: " + shape_text(la.shape) + " x " +
                                  shape_text(lb.shape));
    }
    batch[i] = std::max(da, db);
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kMatMul;
  layer.inputs = {a, b};
  const std::uint64_t batches = shape_elements(batch, name);
  if (shape_elements(batch_b, name) == 1) {
    // B shared by every batch of A: one GEMM with the batches stacked into M.
    layer.gemm = GemmShape{1, mul(batches, m, name), n, k};
  } else {
    // One GEMM per batch element (per (sample, head) in attention); a broadcast A is re-read.
    layer.gemm = GemmShape{batches, m, n, k};
  }
  layer.shape = batch;
  if (!vec_a) layer.shape.push_back(m);
  if (!vec_b) layer.shape.push_back(n);
  if (layer.shape.empty()) layer.shape.push_back(1);  // vector . vector: one value
  return push(std::move(layer));
}

std::size_t Graph::add_lstm(const std::string& name, std::size_t input, std::uint64_t hidden) {
  const Layer& in = producer(input, name);
  if (in.shape.size() != 3) throw layer_error(name, "LSTM expects an N x T x features input, got " + shape_text(in.shape));
  if (hidden == 0) throw layer_error(name, "expected a hidden size >= 1");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kLstm;
  layer.inputs = {input};
  layer.shape = {in.shape[0], in.shape[1], hidden};
  layer.in_features = in.shape[2];
  layer.hidden = hidden;
  layer.seq = in.shape[1];
  const std::uint64_t gates = mul(4, hidden, name);
  layer.gemm = GemmShape{1, mul(in.shape[0], in.shape[1], name), gates, layer.in_features};
  // W_ih (4H x I) + W_hh (4H x H) + b_ih + b_hh (4H each), as PyTorch's nn.LSTM.
  layer.params = mul(gates, add(add(layer.in_features, hidden, name), 2, name), name);
  return push(std::move(layer));
}

std::size_t Graph::add_embedding(const std::string& name, std::size_t input, std::uint64_t rows, std::uint64_t width,
                                 std::uint64_t tables) {
  const Layer& in = producer(input, name);
  if (rows == 0 || width == 0 || tables == 0) throw layer_error(name, "embedding needs rows, width and tables >= 1");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kEmbedding;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.shape.push_back(width);
  layer.params = mul(rows, width, name);
  layer.elements_read = mul(shape_elements(layer.shape, name), tables, name);
  return push(std::move(layer));
}

std::size_t Graph::add_batch_norm(const std::string& name, std::size_t input) {
  const Layer& in = producer(input, name);
  if (in.shape.size() < 2) throw layer_error(name, "batch norm expects N x C x ..., got " + shape_text(in.shape));
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kBatchNorm;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.params = mul(2, in.shape[1], name);
  return push(std::move(layer));
}

std::size_t Graph::add_layer_norm(const std::string& name, std::size_t input) {
  const Layer& in = producer(input, name);
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kLayerNorm;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.params = mul(2, in.shape.back(), name);
  return push(std::move(layer));
}

std::size_t Graph::add_activation(const std::string& name, std::size_t input, ActivationKind kind, double clip_min) {
  const Layer& in = producer(input, name);
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kActivation;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.activation = kind;
  layer.clip_min = clip_min;
  return push(std::move(layer));
}

std::size_t Graph::add_pool(const std::string& name, std::size_t input, const PoolParams& params) {
  const Layer& in = producer(input, name);
  if (in.shape.size() != 4) throw layer_error(name, "pooling expects an N x C x H x W input, got " + shape_text(in.shape));
  if (params.pad_h * 2 > params.kernel_h || params.pad_w * 2 > params.kernel_w) {
    throw layer_error(name, "padding must be at most half the pooling window");
  }
  const std::uint64_t e = window_out(in.shape[2], params.kernel_h, params.stride_h, params.pad_h, 1, params.ceil_mode, name, "height");
  const std::uint64_t f = window_out(in.shape[3], params.kernel_w, params.stride_w, params.pad_w, 1, params.ceil_mode, name, "width");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kPool;
  layer.inputs = {input};
  layer.pool = params;
  layer.shape = {in.shape[0], in.shape[1], e, f};
  // Work of the vector unit: every window position of every output, padding included.
  layer.elements_read = mul(mul(shape_elements(layer.shape, name), params.kernel_h, name), params.kernel_w, name);
  return push(std::move(layer));
}

std::size_t Graph::add_global_pool(const std::string& name, std::size_t input, std::uint64_t out_h, std::uint64_t out_w) {
  const Layer& in = producer(input, name);
  if (in.shape.size() != 4) throw layer_error(name, "pooling expects an N x C x H x W input, got " + shape_text(in.shape));
  if (out_h == 0 || out_w == 0) throw layer_error(name, "pooled size must be >= 1");
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kGlobalPool;
  layer.inputs = {input};
  layer.shape = {in.shape[0], in.shape[1], out_h, out_w};
  // Adaptive pooling reads each input once when the sizes divide (and when the output
  // is larger than the input, PyTorch repeats inputs: then each output reads at least one).
  layer.elements_read = std::max(shape_elements(in.shape, name), shape_elements(layer.shape, name));
  return push(std::move(layer));
}

std::size_t Graph::add_eltwise(const std::string& name, EltwiseKind kind, const std::vector<std::size_t>& inputs,
                               const Shape& param_shape) {
  if (inputs.empty()) throw std::logic_error("eltwise layer '" + name + "' without inputs");
  std::vector<Shape> shapes;
  for (const auto index : inputs) shapes.push_back(producer(index, name).shape);
  if (!param_shape.empty()) shapes.push_back(param_shape);
  // Numpy broadcasting: align on the right, each dimension equal or 1.
  std::size_t rank = 0;
  for (const auto& shape : shapes) rank = std::max(rank, shape.size());
  Shape out(rank, 1);
  for (const auto& shape : shapes) {
    for (std::size_t i = 0; i < shape.size(); ++i) {
      const std::size_t at = rank - shape.size() + i;
      if (shape[i] == out[at] || shape[i] == 1) continue;
      if (out[at] != 1) {
        std::string all;
        for (const auto& s : shapes) all += (all.empty() ? "" : ", ") + shape_text(s);
        throw layer_error(name, "shapes cannot be broadcast together: " + all);
      }
      out[at] = shape[i];
    }
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kEltwise;
  layer.inputs = inputs;
  layer.shape = out;
  layer.eltwise = kind;
  if (!param_shape.empty()) {
    layer.eltwise_param_elements = shape_elements(param_shape, name);
    layer.params = layer.eltwise_param_elements;
  }
  return push(std::move(layer));
}

std::size_t Graph::add_concat(const std::string& name, const std::vector<std::size_t>& inputs, std::uint64_t axis) {
  if (inputs.empty()) throw std::logic_error("concat layer '" + name + "' without inputs");
  Shape out = producer(inputs[0], name).shape;
  if (axis >= out.size()) throw layer_error(name, "axis " + std::to_string(axis) + " out of range for " + shape_text(out));
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const Shape& other = producer(inputs[i], name).shape;
    bool ok = other.size() == out.size();
    for (std::size_t d = 0; ok && d < other.size(); ++d) ok = d == axis || other[d] == out[d];
    if (!ok) throw layer_error(name, "cannot concatenate " + shape_text(out) + " and " + shape_text(other) + " on axis " + std::to_string(axis));
    out[axis] = add(out[axis], other[axis], name);
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kConcat;
  layer.inputs = inputs;
  layer.shape = out;
  layer.axis = axis;
  return push(std::move(layer));
}

std::size_t Graph::add_softmax(const std::string& name, std::size_t input, std::uint64_t axis) {
  const Layer& in = producer(input, name);
  if (axis >= in.shape.size()) throw layer_error(name, "axis " + std::to_string(axis) + " out of range for " + shape_text(in.shape));
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kSoftmax;
  layer.inputs = {input};
  layer.shape = in.shape;
  layer.axis = axis;
  return push(std::move(layer));
}

std::size_t Graph::add_dropout(const std::string& name, std::size_t input) {
  const Layer& in = producer(input, name);
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kDropout;
  layer.inputs = {input};
  layer.shape = in.shape;
  return push(std::move(layer));
}

std::size_t Graph::add_view(const std::string& name, std::size_t input, const Shape& shape, bool any_size) {
  const Layer& in = producer(input, name);
  if (!any_size && shape_elements(shape, name) != shape_elements(in.shape, name)) {
    throw layer_error(name, "cannot view " + shape_text(in.shape) + " as " + shape_text(shape) + " (element counts differ)");
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kView;
  layer.inputs = {input};
  layer.shape = shape;
  return push(std::move(layer));
}

std::size_t Graph::add_flatten(const std::string& name, std::size_t input) {
  const Layer& in = producer(input, name);
  return add_view(name, input, Shape{in.shape[0], shape_elements(in.shape, name) / in.shape[0]});
}

std::size_t Graph::add_slice(const std::string& name, std::size_t input, const Shape& shape) {
  const Layer& in = producer(input, name);
  if (shape_elements(shape, name) > shape_elements(in.shape, name)) {
    throw layer_error(name, "slice " + shape_text(shape) + " is larger than its input " + shape_text(in.shape));
  }
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kSlice;
  layer.inputs = {input};
  layer.shape = shape;
  layer.elements_read = shape_elements(shape, name);
  return push(std::move(layer));
}

std::size_t Graph::add_loss(const std::string& name, std::size_t input) {
  const Layer& in = producer(input, name);
  Layer layer;
  layer.name = name;
  layer.type = LayerType::kLoss;
  layer.inputs = {input};
  layer.shape = in.shape;
  return push(std::move(layer));
}

std::vector<bool> requires_grad(const Graph& graph) {
  std::vector<bool> out(graph.size(), false);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Layer& layer = graph.layer(i);
    bool needs = layer.params > 0;
    for (const auto input : layer.inputs) needs = needs || out[input];
    // A token-id input of an embedding carries no gradient, but the table does.
    out[i] = needs;
  }
  return out;
}

std::vector<bool> non_negative(const Graph& graph) {
  std::vector<bool> out(graph.size(), false);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Layer& layer = graph.layer(i);
    const auto all_inputs = [&] {
      if (layer.inputs.empty()) return false;
      for (const auto input : layer.inputs) {
        if (!out[input]) return false;
      }
      return true;
    };
    switch (layer.type) {
      case LayerType::kActivation:
        out[i] = layer.activation == ActivationKind::kRelu || layer.activation == ActivationKind::kSigmoid ||
                 (layer.activation == ActivationKind::kClip && layer.clip_min >= 0.0);
        break;
      case LayerType::kSoftmax:
        out[i] = true;
        break;
      // Sign-preserving data movement and averaging keep a non-negative tensor non-negative.
      case LayerType::kPool:
      case LayerType::kGlobalPool:
      case LayerType::kView:
      case LayerType::kSlice:
      case LayerType::kConcat:
      case LayerType::kDropout:
        out[i] = all_inputs();
        break;
      case LayerType::kEltwise:
        out[i] = (layer.eltwise == EltwiseKind::kAdd || layer.eltwise == EltwiseKind::kMul) &&
                 layer.eltwise_param_elements == 0 && all_inputs();
        break;
      default:
        out[i] = false;
    }
  }
  return out;
}

std::vector<std::vector<std::size_t>> consumers(const Graph& graph) {
  std::vector<std::vector<std::size_t>> out(graph.size());
  for (std::size_t i = 0; i < graph.size(); ++i) {
    for (const auto input : graph.layer(i).inputs) {
      // Layer i is appended to its inputs' lists in increasing i, so a repeat (x + x) can
      // only be the last entry: checking it keeps a tensor read by n layers linear in n.
      if (out[input].empty() || out[input].back() != i) out[input].push_back(i);
    }
  }
  return out;
}

std::vector<bool> first_gemm_layers(const Graph& graph) {
  // upstream[i]: some GEMM layer feeds layer i's output (including layer i itself).
  std::vector<bool> upstream(graph.size(), false), first(graph.size(), false);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Layer& layer = graph.layer(i);
    bool before = false;
    for (const auto input : layer.inputs) before = before || upstream[input];
    const bool gemm = is_gemm_layer(layer.type);
    first[i] = gemm && !before;
    upstream[i] = before || gemm;
  }
  return first;
}

std::vector<bool> last_gemm_layers(const Graph& graph) {
  const auto users = consumers(graph);
  std::vector<bool> downstream(graph.size(), false), last(graph.size(), false);
  for (std::size_t i = graph.size(); i-- > 0;) {
    bool after = false;
    for (const auto user : users[i]) after = after || downstream[user];
    const bool gemm = is_gemm_layer(graph.layer(i).type);
    last[i] = gemm && !after;
    downstream[i] = after || gemm;
  }
  return last;
}

std::vector<GemmShape> forward_gemms(const Layer& layer) {
  switch (layer.type) {
    case LayerType::kConv:
    case LayerType::kLinear:
    case LayerType::kMatMul:
      return {layer.gemm};
    case LayerType::kLstm: {
      // Input projection for all steps at once, then T dependent recurrent steps.
      const std::uint64_t batch = layer.shape[0];
      return {layer.gemm, GemmShape{layer.seq, batch, layer.gemm.n, layer.hidden}};
    }
    default:
      return {};
  }
}

std::uint64_t forward_macs(const Layer& layer) {
  std::uint64_t total = 0;
  for (const auto& gemm : forward_gemms(layer)) {
    total = add(total, mul(mul(mul(gemm.groups, gemm.m, layer.name), gemm.n, layer.name), gemm.k, layer.name), layer.name);
  }
  return total;
}

std::uint64_t forward_macs(const Graph& graph) {
  std::uint64_t total = 0;
  for (const auto& layer : graph.layers()) total = add(total, forward_macs(layer), layer.name);
  return total;
}

}  // namespace nibble::models
