#include "models/train/network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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
    if (to == 0) return;  // the input needs no gradient
    if (!m_has_grad[to]) {
      m_grads[to].resize(g.shape);
      std::copy(g.data.begin(), g.data.end(), m_grads[to].data.begin());
      m_has_grad[to] = true;
      return;
    }
    for (std::size_t e = 0; e < g.data.size(); ++e) m_grads[to].data[e] += g.data[e];
  };
  for (std::size_t i = m_nodes.size(); i-- > 0;) {
    const Node& node = m_nodes[i];
    if (!m_has_grad[i + 1]) continue;  // nothing downstream reads this node
    const Tensor& dy = m_grads[i + 1];
    if (node.sum) {
      for (const std::size_t in : node.inputs) contribute(in, dy);
      continue;
    }
    const std::size_t in = node.inputs[0];
    Tensor* dx = in == 0 ? nullptr : &m_dx;
    m_layers[node.layer]->backward(m_acts[in], m_acts[i + 1], dy, dx, ctx);
    if (dx != nullptr) contribute(in, m_dx);
  }
}

bool Network::gradients_finite() {
  for (const auto& layer : m_layers) {
    const auto* g = dynamic_cast<const GemmLayer*>(layer.get());
    if (g != nullptr && !g->gradients_finite()) return false;
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
        stored_fp16 = arith[i].forward.acc == numerics::Format::kFp16;  // the GEMM writes its accumulator's format
        break;
      }
      case LayerType::kLinear:
        single_input();
        if (graph.layer(layer.inputs[0]).shape.size() != 2) {
          throw unsupported(layer, "expected an N x features input (flatten first)");
        }
        node = net.add(std::make_unique<Linear>(layer.name, layer.in_features, layer.shape.back(), layer.bias,
                                                arith[i]),
                       in);
        stored_fp16 = arith[i].forward.acc == numerics::Format::kFp16;
        break;
      case LayerType::kActivation:
        single_input();
        if (layer.activation != models::ActivationKind::kRelu) throw unsupported(layer, "only ReLU is supported");
        node = net.add(std::make_unique<Relu>(layer.name), in);
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
      case LayerType::kView:
        single_input();
        if (layer.shape.size() != 2) throw unsupported(layer, "only a flatten to N x features is supported");
        node = net.add(std::make_unique<Flatten>(layer.name), in);
        stored_fp16 = false;  // a view moves no data: the input's format stays
        break;
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
