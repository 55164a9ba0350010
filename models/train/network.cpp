#include "models/train/network.hpp"

#include <cmath>
#include <stdexcept>

#include "models/train/rng.hpp"
#include "sim/common/error.hpp"

namespace nibble::train {

void Network::add(std::unique_ptr<Layer> layer) { m_layers.push_back(std::move(layer)); }

void Network::init(std::uint64_t seed) {
  Rng rng(seed);
  for (auto& layer : m_layers) layer->init(rng);
}

Shape Network::output_shape(Shape in) const {
  for (const auto& layer : m_layers) in = layer->output_shape(in);
  return in;
}

const Tensor& Network::forward(const Tensor& x, const StepContext& ctx) {
  m_acts.resize(m_layers.size() + 1);
  m_acts[0] = x;
  for (std::size_t i = 0; i < m_layers.size(); ++i) m_layers[i]->forward(m_acts[i], m_acts[i + 1], ctx);
  return m_acts.back();
}

void Network::backward(const Tensor& dlogits, const StepContext& ctx) {
  if (m_acts.size() != m_layers.size() + 1) throw std::logic_error("Network::backward before forward");
  m_grads.resize(m_layers.size() + 1);
  m_grads.back() = dlogits;
  for (std::size_t i = m_layers.size(); i-- > 0;) {
    Tensor* dx = i == 0 ? nullptr : &m_grads[i];
    m_layers[i]->backward(m_acts[i], m_acts[i + 1], m_grads[i + 1], dx, ctx);
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

Network build_network(const models::Graph& graph, const std::vector<LayerArith>& arith) {
  using models::LayerType;
  const auto unsupported = [&](const models::Layer& layer, const std::string& what) {
    return InputError("", 0, layer.name,
                      "the training emulator cannot run this " + models::layer_type_name(layer.type) + " layer: " + what);
  };
  if (arith.size() != graph.size()) throw std::logic_error("build_network: one LayerArith per graph layer expected");
  Network net;
  bool saw_loss = false;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const models::Layer& layer = graph.layer(i);
    if (saw_loss) throw unsupported(layer, "layers after the loss");
    if (i == 0) {
      if (layer.type != LayerType::kInput || layer.shape.size() != 4) {
        throw unsupported(layer, "the graph must start with an N x C x H x W input");
      }
      continue;
    }
    if (layer.inputs.size() != 1 || layer.inputs[0] != i - 1) {
      throw unsupported(layer, "only sequential networks (each layer reads the previous one) are supported");
    }
    switch (layer.type) {
      case LayerType::kConv: {
        const auto& p = layer.conv;
        if (p.groups != 1 || p.dilation_h != 1 || p.dilation_w != 1 || p.kernel_h != p.kernel_w ||
            p.stride_h != p.stride_w || p.pad_h != p.pad_w) {
          throw unsupported(layer, "expected a square kernel, equal strides and pads, groups 1, dilation 1");
        }
        const std::uint64_t cin = graph.layer(layer.inputs[0]).shape.at(1);
        net.add(std::make_unique<Conv2d>(layer.name, cin, p.out_channels, p.kernel_h, p.stride_h, p.pad_h, p.bias,
                                         arith[i]));
        break;
      }
      case LayerType::kLinear:
        if (graph.layer(layer.inputs[0]).shape.size() != 2) {
          throw unsupported(layer, "expected an N x features input (flatten first)");
        }
        net.add(std::make_unique<Linear>(layer.name, layer.in_features, layer.shape.back(), layer.bias,
                                         arith[i]));
        break;
      case LayerType::kActivation:
        if (layer.activation != models::ActivationKind::kRelu) throw unsupported(layer, "only ReLU is supported");
        net.add(std::make_unique<Relu>(layer.name));
        break;
      case LayerType::kPool: {
        const auto& p = layer.pool;
        if (p.kind != models::PoolKind::kMax || p.kernel_h != p.kernel_w || p.stride_h != p.stride_w ||
            p.pad_h != 0 || p.pad_w != 0 || p.ceil_mode) {
          throw unsupported(layer, "expected max pooling, square window, equal strides, no padding, floor mode");
        }
        net.add(std::make_unique<MaxPool2d>(layer.name, p.kernel_h, p.stride_h));
        break;
      }
      case LayerType::kBatchNorm:
        net.add(std::make_unique<BatchNorm>(layer.name, layer.shape.at(1)));
        break;
      case LayerType::kView:
        if (layer.shape.size() != 2) throw unsupported(layer, "only a flatten to N x features is supported");
        net.add(std::make_unique<Flatten>(layer.name));
        break;
      case LayerType::kLoss:
        if (layer.shape.size() != 2) throw unsupported(layer, "expected N x classes logits");
        saw_loss = true;
        break;
      default:
        throw unsupported(layer, "no emulator implementation");
    }
  }
  if (!saw_loss) throw InputError("", 0, graph.name(), "the graph has no loss layer; expected softmax cross-entropy");
  return net;
}

}  // namespace nibble::train
