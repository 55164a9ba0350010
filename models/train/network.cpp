#include "models/train/network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/train/attention.hpp"
#include "models/train/layernorm.hpp"
#include "models/train/quant.hpp"
#include "models/train/rng.hpp"
#include "sim/common/error.hpp"

namespace nibble::train {

void Network::add(std::unique_ptr<Layer> layer) { add(std::move(layer), m_nodes.size()); }

std::size_t Network::add(std::unique_ptr<Layer> layer, std::size_t input) {
  if (input > m_nodes.size()) throw std::logic_error("Network::add: input node does not exist yet");
  Node node;
  node.layer = m_layers.size();
  node.inputs = {input};
  m_layers.push_back(std::move(layer));
  m_nodes.push_back(std::move(node));
  return m_nodes.size();
}

std::size_t Network::add_sum(const std::string& name, const std::vector<std::size_t>& inputs) {
  if (inputs.size() < 2) throw std::logic_error("Network::add_sum: " + name + " needs at least two inputs");
  for (const std::size_t i : inputs) {
    if (i > m_nodes.size()) throw std::logic_error("Network::add_sum: " + name + ": input node does not exist yet");
  }
  Node node;
  node.inputs = inputs;
  node.sum = true;
  node.name = name;
  m_nodes.push_back(std::move(node));
  return m_nodes.size();
}

void Network::store_fp16(std::size_t node) {
  if (node > m_nodes.size()) throw std::logic_error("Network::store_fp16: no such node");
  m_fp16.resize(m_nodes.size() + 1, false);
  m_fp16[node] = true;
}

void Network::init(std::uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : m_layers) layer->init(rng);
}

Shape Network::output_shape(Shape in) const {
  std::vector<Shape> shapes{in};
  for (const Node& node : m_nodes) {
    if (node.sum) {
      const Shape s = shapes[node.inputs[0]];
      for (const std::size_t i : node.inputs) {
        if (shapes[i] != s) {
          throw std::logic_error(node.name + ": adds " + s.str() + " and " + shapes[i].str());
        }
      }
      shapes.push_back(s);
    } else {
      shapes.push_back(m_layers[node.layer]->output_shape(shapes[node.inputs[0]]));
    }
  }
  return shapes.back();
}

const Tensor& Network::forward(const Tensor& x, const StepContext& ctx) {
  m_acts.resize(m_nodes.size() + 1);
  m_fp16.resize(m_nodes.size() + 1, false);
  m_acts[0] = x;
  if (m_fp16[0]) round_to_fp16(m_acts[0].data.data(), m_acts[0].data.size(), 1.0f, m_acts[0].data.data());
  for (std::size_t i = 0; i < m_nodes.size(); ++i) {
    const Node& node = m_nodes[i];
    Tensor& y = m_acts[i + 1];
    if (node.sum) {
      const Tensor& a = m_acts[node.inputs[0]];
      y.resize(a.shape);
      std::copy(a.data.begin(), a.data.end(), y.data.begin());
      for (std::size_t j = 1; j < node.inputs.size(); ++j) {
        const Tensor& b = m_acts[node.inputs[j]];
        if (b.shape != a.shape) throw std::logic_error(node.name + ": adds " + a.shape.str() + " and " + b.shape.str());
        for (std::size_t e = 0; e < y.data.size(); ++e) y.data[e] += b.data[e];
      }
    } else {
      m_layers[node.layer]->forward(m_acts[node.inputs[0]], y, ctx);
    }
    if (m_fp16[i + 1]) round_to_fp16(y.data.data(), y.data.size(), 1.0f, y.data.data());
  }
  return m_acts.back();
}

void Network::backward(const Tensor& dlogits, const StepContext& ctx) {
  if (m_acts.size() != m_nodes.size() + 1) throw std::logic_error("Network::backward before forward");
  m_grads.resize(m_nodes.size() + 1);
  m_has_grad.assign(m_nodes.size() + 1, false);
  m_grads.back() = dlogits;
  m_has_grad.back() = true;
  // Adds `g` into node `to`'s gradient (the first contribution is copied).
  const auto contribute = [&](std::size_t to, const Tensor& g) {
    if (!m_needs_grad[to]) return;  // nothing upstream learns
    if (!m_has_grad[to]) {
      m_grads[to].resize(g.shape);
      std::copy(g.data.begin(), g.data.end(), m_grads[to].data.begin());
      m_has_grad[to] = true;
      return;
    }
    for (std::size_t e = 0; e < g.data.size(); ++e) m_grads[to].data[e] += g.data[e];
  };
  // A node needs a gradient when a parameter lies upstream of it: the input
  // and parameter-free layers reading only it (patch extraction) need none.
  m_needs_grad.assign(m_nodes.size() + 1, false);
  for (std::size_t i = 0; i < m_nodes.size(); ++i) {
    const Node& node = m_nodes[i];
    bool needs = !node.sum && !m_layers[node.layer]->params().empty();
    for (const std::size_t in : node.inputs) needs = needs || m_needs_grad[in];
    m_needs_grad[i + 1] = needs;
  }
  for (std::size_t i = m_nodes.size(); i-- > 0;) {
    const Node& node = m_nodes[i];
    if (!m_has_grad[i + 1]) continue;  // nothing downstream reads this node
    const Tensor& dy = m_grads[i + 1];
    if (node.sum) {
      for (const std::size_t in : node.inputs) contribute(in, dy);
      continue;
    }
    const std::size_t in = node.inputs[0];
    Tensor* dx = m_needs_grad[in] ? &m_dx : nullptr;
    m_layers[node.layer]->backward(m_acts[in], m_acts[i + 1], dy, dx, ctx);
    if (dx != nullptr) contribute(in, m_dx);
  }
}

bool Network::gradients_finite() {
  for (const auto& layer : m_layers) {
    const auto* g = dynamic_cast<const GemmLayer*>(layer.get());
    if (g != nullptr && !g->gradients_finite()) return false;
    const auto* a = dynamic_cast<const MultiHeadAttention*>(layer.get());
    if (a != nullptr && !a->gradients_finite()) return false;
  }
  for (const Param* p : params()) {
    for (const float v : p->grad) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

std::vector<Param*> Network::params() {
  std::vector<Param*> out;
  for (auto& layer : m_layers) {
    for (Param* p : layer->params()) out.push_back(p);
  }
  return out;
}

namespace {

/// The graph layers of one multi-head self-attention (models/zoo's
/// self_attention()): Q, K, V linears reading one input, their head views, the
/// QK^T matmul, an optional scale, the softmax, the PV matmul and the view
/// merging the heads. Returns the index of that last view, or 0 when the
/// layers from `q` on are not this pattern.
std::size_t attention_end(const models::Graph& graph, std::size_t q) {
  using models::LayerType;
  const auto type_at = [&](std::size_t i, LayerType t) { return i < graph.size() && graph.layer(i).type == t; };
  if (!type_at(q, LayerType::kLinear) || !type_at(q + 1, LayerType::kLinear) || !type_at(q + 2, LayerType::kLinear)) {
    return 0;
  }
  const auto& in = graph.layer(q).inputs;
  if (graph.layer(q + 1).inputs != in || graph.layer(q + 2).inputs != in || graph.layer(in.at(0)).shape.size() != 3) {
    return 0;
  }
  for (std::size_t v = q + 3; v < q + 6; ++v) {
    if (!type_at(v, LayerType::kView) || graph.layer(v).inputs != std::vector<std::size_t>{v - 3}) return 0;
  }
  std::size_t i = q + 6;
  if (!type_at(i, LayerType::kMatMul) || graph.layer(i).inputs != std::vector<std::size_t>{q + 3, q + 4}) return 0;
  ++i;
  if (type_at(i, LayerType::kEltwise) && graph.layer(i).eltwise == models::EltwiseKind::kMul) ++i;
  if (!type_at(i, LayerType::kSoftmax) || graph.layer(i).inputs != std::vector<std::size_t>{i - 1}) return 0;
  ++i;
  if (!type_at(i, LayerType::kMatMul) || graph.layer(i).inputs != std::vector<std::size_t>{i - 1, q + 5}) return 0;
  ++i;
  if (!type_at(i, LayerType::kView) || graph.layer(i).shape != graph.layer(in.at(0)).shape) return 0;
  return i;
}

}  // namespace

Network build_network(const models::Graph& graph, const std::vector<LayerArith>& arith, numerics::Format storage) {
  using models::LayerType;
  const auto unsupported = [&](const models::Layer& layer, const std::string& what) {
    return InputError("", 0, layer.name,
                      "the training emulator cannot run this " + models::layer_type_name(layer.type) + " layer: " + what);
  };
  if (arith.size() != graph.size()) throw std::logic_error("build_network: one LayerArith per graph layer expected");
  const bool fp16 = storage == numerics::Format::kFp16;
  if (!fp16 && storage != numerics::Format::kFp32) {
    throw std::logic_error("build_network: storage must be fp32 or fp16");
  }
  Network net;
  std::vector<std::size_t> node_of(graph.size(), 0);  // graph layer -> network node
  std::size_t last = 0;
  bool saw_loss = false;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const models::Layer& layer = graph.layer(i);
    if (saw_loss) throw unsupported(layer, "layers after the loss");
    if (i == 0) {
      if (layer.type != LayerType::kInput || layer.shape.size() != 4) {
        throw unsupported(layer, "the graph must start with an N x C x H x W input");
      }
      if (fp16) net.store_fp16(0);
      continue;
    }
    if (layer.type == LayerType::kInput) throw unsupported(layer, "only one input is supported");
    const std::size_t in = layer.inputs.empty() ? 0 : node_of.at(layer.inputs[0]);
    const auto single_input = [&] {
      if (layer.inputs.size() != 1) throw unsupported(layer, "expected one input");
    };
    bool stored_fp16 = fp16;  // vector ops write the storage format
    std::size_t node = 0;
    switch (layer.type) {
      case LayerType::kConv: {
        single_input();
        const auto& p = layer.conv;
        if (p.groups != 1 || p.dilation_h != 1 || p.dilation_w != 1 || p.kernel_h != p.kernel_w ||
            p.stride_h != p.stride_w || p.pad_h != p.pad_w) {
          throw unsupported(layer, "expected a square kernel, equal strides and pads, groups 1, dilation 1");
        }
        const std::uint64_t cin = graph.layer(layer.inputs[0]).shape.at(1);
        node = net.add(std::make_unique<Conv2d>(layer.name, cin, p.out_channels, p.kernel_h, p.stride_h, p.pad_h,
                                                p.bias, arith[i]),
                       in);
        // The GEMM result leaves the core in the storage format (the trace's out=),
        // whatever it was accumulated in: FP32 sums of the FP16 layers are rounded too.
        stored_fp16 = fp16;
        break;
      }
      case LayerType::kLinear:
        single_input();
        if (const std::size_t end = attention_end(graph, i); end != 0) {
          // Q, K, V and the attention matmuls become one layer; the graph's
          // layers up to the merged heads all map to its node.
          const models::Shape& qh = graph.layer(i + 3).shape;  // N x H x T x d
          AttentionSpec spec;
          spec.width = layer.shape.back();
          spec.heads = qh.at(1);
          spec.tokens = qh.at(2);
          spec.q = layer.name;
          spec.k = graph.layer(i + 1).name;
          spec.v = graph.layer(i + 2).name;
          spec.q_arith = arith[i];
          spec.k_arith = arith[i + 1];
          spec.v_arith = arith[i + 2];
          spec.scores = arith[i + 6];
          spec.context = arith[end - 1];
          spec.store_fp16 = fp16;
          node = net.add(std::make_unique<MultiHeadAttention>(graph.layer(end).name, spec), in);
          stored_fp16 = fp16;  // the context GEMM's result, in the storage format
          if (stored_fp16) net.store_fp16(node);
          for (std::size_t j = i; j <= end; ++j) node_of[j] = node;
          last = node;
          i = end;
          continue;
        }
        if (graph.layer(layer.inputs[0]).shape.size() != 2 && graph.layer(layer.inputs[0]).shape.size() != 3) {
          throw unsupported(layer, "expected an N x features or N x tokens x features input");
        }
        node = net.add(std::make_unique<Linear>(layer.name, layer.in_features, layer.shape.back(), layer.bias,
                                                arith[i]),
                       in);
        stored_fp16 = fp16;  // as Conv2d: the GEMM result in the storage format
        break;
      case LayerType::kActivation:
        single_input();
        if (layer.activation == models::ActivationKind::kGelu) {
          node = net.add(std::make_unique<Gelu>(layer.name), in);
          break;
        }
        if (layer.activation != models::ActivationKind::kRelu) throw unsupported(layer, "only ReLU and GELU are supported");
        node = net.add(std::make_unique<Relu>(layer.name), in);
        break;
      case LayerType::kLayerNorm:
        single_input();
        node = net.add(std::make_unique<LayerNorm>(layer.name, layer.shape.back()), in);
        break;
      case LayerType::kPool: {
        single_input();
        const auto& p = layer.pool;
        if (p.kind != models::PoolKind::kMax || p.kernel_h != p.kernel_w || p.stride_h != p.stride_w ||
            p.pad_h != 0 || p.pad_w != 0 || p.ceil_mode) {
          throw unsupported(layer, "expected max pooling, square window, equal strides, no padding, floor mode");
        }
        node = net.add(std::make_unique<MaxPool2d>(layer.name, p.kernel_h, p.stride_h), in);
        break;
      }
      case LayerType::kGlobalPool:
        single_input();
        if (layer.shape.size() != 4 || layer.shape[2] != 1 || layer.shape[3] != 1) {
          throw unsupported(layer, "only global average pooling to 1 x 1 is supported");
        }
        node = net.add(std::make_unique<GlobalAvgPool>(layer.name), in);
        break;
      case LayerType::kBatchNorm:
        single_input();
        node = net.add(std::make_unique<BatchNorm>(layer.name, layer.shape.at(1)), in);
        break;
      case LayerType::kEltwise: {
        const models::Shape& xs = graph.layer(layer.inputs.at(0)).shape;
        if (layer.eltwise == models::EltwiseKind::kAdd && layer.inputs.size() == 1 && xs.size() == 3 &&
            layer.eltwise_param_elements == xs[1] * xs[2]) {
          // A learned T x D operand added to every sample's tokens: the position embedding.
          node = net.add(std::make_unique<PositionEmbedding>(layer.name, xs[1], xs[2]), in);
          break;
        }
        if (layer.eltwise != models::EltwiseKind::kAdd || layer.inputs.size() < 2) {
          throw unsupported(layer, "only adds of two or more activations are supported");
        }
        std::vector<std::size_t> inputs;
        for (const std::size_t g : layer.inputs) {
          if (graph.layer(g).shape != layer.shape) throw unsupported(layer, "expected inputs of equal shapes");
          inputs.push_back(node_of.at(g));
        }
        node = net.add_sum(layer.name, inputs);
        break;
      }
      case LayerType::kView: {
        single_input();
        const models::Shape& xs = graph.layer(layer.inputs[0]).shape;
        const models::Shape& ys = layer.shape;
        stored_fp16 = false;  // a view moves no data: the input's format stays
        if (xs.size() == 4 && ys.size() == 3 && xs[1] == 1) {
          // N x 1 x H x W -> N x T x p*p: patches of p x p pixels.
          const auto p = static_cast<std::uint64_t>(std::lround(std::sqrt(static_cast<double>(ys[2]))));
          if (p == 0 || p * p != ys[2] || xs[2] % p != 0 || xs[3] % p != 0 || (xs[2] / p) * (xs[3] / p) != ys[1]) {
            throw unsupported(layer, "expected square patches tiling the image");
          }
          node = net.add(std::make_unique<Patchify>(layer.name, p), in);
          break;
        }
        if (xs.size() == 3 && ys.size() == 4 && ys[1] == xs[2] && ys[2] == xs[1] && ys[3] == 1) {
          // N x T x D seen as N x D x T x 1 (before the mean over tokens).
          node = net.add(std::make_unique<TokensToChannels>(layer.name, xs[1]), in);
          break;
        }
        if (layer.shape.size() != 2) throw unsupported(layer, "only a flatten to N x features is supported");
        node = net.add(std::make_unique<Flatten>(layer.name), in);
        break;
      }
      case LayerType::kLoss:
        single_input();
        if (layer.shape.size() != 2) throw unsupported(layer, "expected N x classes logits");
        if (in != last) throw unsupported(layer, "the loss must read the last layer");
        saw_loss = true;
        continue;
      default:
        throw unsupported(layer, "no emulator implementation");
    }
    if (stored_fp16) net.store_fp16(node);
    node_of[i] = node;
    last = node;
  }
  if (!saw_loss) throw InputError("", 0, graph.name(), "the graph has no loss layer; expected softmax cross-entropy");
  return net;
}

}  // namespace nibble::train
