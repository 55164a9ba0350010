#include "workloads/expand.hpp"

#include <set>
#include <stdexcept>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::workloads {

using models::Graph;
using models::Layer;
using models::LayerType;

namespace {

std::uint64_t mul(std::uint64_t a, std::uint64_t b, const std::string& layer) {
  const auto p = checked_mul(a, b);
  if (!p) throw InputError("", 0, layer, "element counts overflow 64 bits");
  return *p;
}

/// Builds the op list of one training step; one instance per expansion.
class Expander {
 public:
  Expander(const Graph& graph, const Policy& policy)
      : m_graph(graph),
        m_policy(policy),
        m_storage(policy.storage()),
        m_precision(layer_precisions(graph, policy)),
        m_requires_grad(models::requires_grad(graph)),
        m_non_negative(models::non_negative(graph)),
        m_format(graph.size(), policy.storage()),
        m_contributions(graph.size()) {}

  Trace run() {
    Trace trace;
    trace.model = sanitize_trace_name(m_graph.name());
    trace.batch = m_graph.batch();
    trace.policy = m_policy.name;
    for (std::size_t i = 0; i < m_graph.size(); ++i) forward(i);
    for (std::size_t i = m_graph.size(); i-- > 0;) backward(i);
    for (std::size_t i = 0; i < m_graph.size(); ++i) {
      const Layer& layer = m_graph.layer(i);
      if (layer.params > 0) vector(layer, Phase::kUpdate, VectorKind::kOptimizer, layer.params, Format::kFp32, Format::kFp32);
    }
    trace.ops = std::move(m_ops);
    return trace;
  }

 private:
  // ---- op builders ----------------------------------------------------------

  void vector(const Layer& layer, Phase phase, VectorKind kind, std::uint64_t elements, Format in, Format out) {
    if (elements == 0) return;
    TraceOp op;
    op.layer = sanitize_trace_name(layer.name);
    op.kind = OpKind::kVector;
    op.phase = phase;
    op.vector = kind;
    op.elements = elements;
    op.in_format = in;
    op.out_format = out;
    m_ops.push_back(std::move(op));
  }

  /// A GEMM of `layer`; for a conv layer it carries the forward geometry.
  void gemm(const Layer& layer, Phase phase, const models::GemmShape& shape, Format a, Format b, Format acc) {
    TraceOp op;
    op.layer = sanitize_trace_name(layer.name);
    op.phase = phase;
    op.m = shape.m;
    op.n = shape.n;
    op.k = shape.k;
    op.groups = shape.groups;
    op.a_format = a;
    op.b_format = b;
    op.acc_format = acc;
    // C leaves the core rounded to the storage format (docs/trace-format.md, "Storage format").
    if (m_storage != acc) op.store_format = m_storage;
    if (layer.type == LayerType::kConv) {
      const models::Shape& in = m_graph.layer(layer.inputs[0]).shape;
      ConvGeometry g;
      g.n = in[0];
      g.c = in[1];
      g.h = in[2];
      g.w = in[3];
      g.k = layer.conv.out_channels;
      g.r = layer.conv.kernel_h;
      g.s = layer.conv.kernel_w;
      g.stride_h = layer.conv.stride_h;
      g.stride_w = layer.conv.stride_w;
      g.pad_h = layer.conv.pad_h;
      g.pad_w = layer.conv.pad_w;
      g.dilation_h = layer.conv.dilation_h;
      g.dilation_w = layer.conv.dilation_w;
      g.groups = layer.conv.groups;
      g.im2col = m_policy.im2col;
      op.conv = g;
      op.kind = g.groups == 1 ? OpKind::kConv : OpKind::kGroupConv;
    } else {
      op.kind = OpKind::kGemm;
    }
    m_ops.push_back(std::move(op));
  }

  static bool is_gelu(const Layer& layer) { return layer.activation == models::ActivationKind::kGelu; }

  static models::GemmShape input_grad_shape(const models::GemmShape& f) { return {f.groups, f.m, f.k, f.n}; }
  static models::GemmShape weight_grad_shape(const models::GemmShape& f) { return {f.groups, f.k, f.n, f.m}; }

  std::uint64_t elements(std::size_t index) const {
    return models::shape_elements(m_graph.layer(index).shape, m_graph.layer(index).name);
  }

  /// Quantizes the activation tensor `tensor` to `format` for a GEMM of `layer`,
  /// once per (tensor, format): later GEMMs reading the same copy reuse it.
  void quantize_activation(const Layer& layer, std::size_t tensor, Format format) {
    if (m_format[tensor] == format) return;
    if (!m_quantized.insert({tensor, format}).second) return;
    vector(layer, Phase::kForward, VectorKind::kQuantize, elements(tensor), m_format[tensor], format);
  }

  void quantize_weights(const Layer& layer, std::uint64_t count, Format format) {
    // Master weights are fp32; the GEMMs read a copy in the weight format.
    if (format != Format::kFp32) vector(layer, Phase::kForward, VectorKind::kQuantize, count, Format::kFp32, format);
  }

  /// Quantizes dY (format `dy`, `count` elements) for a backward GEMM of `layer` in `phase`.
  void quantize_gradient(const Layer& layer, Phase phase, std::uint64_t count, Format dy, Format format) {
    if (dy != format) vector(layer, phase, VectorKind::kQuantize, count, dy, format);
  }

  /// The transposed re-quantization of activation tensor `tensor` (from its
  /// stored format) to block format `format`, blocks along the other GEMM
  /// dimension, for the backward GEMM of `layer` in `phase` (docs/trace-format.md, "Block formats").
  void requantize_transposed(const Layer& layer, Phase phase, std::size_t tensor, Format format) {
    vector(layer, phase, VectorKind::kQuantize, elements(tensor), m_format[tensor], format);
  }

  void contribute(std::size_t input, Format format) {
    if (m_requires_grad[input]) m_contributions[input].push_back(format);
  }

  // ---- forward --------------------------------------------------------------

  void forward(std::size_t i) {
    const Layer& layer = m_graph.layer(i);
    const Format storage = m_storage;
    const auto in_format = [&](std::size_t n = 0) { return m_format[layer.inputs.at(n)]; };
    const std::uint64_t out_elements = elements(i);
    switch (layer.type) {
      case LayerType::kInput:
        m_format[i] = storage;
        return;
      case LayerType::kConv:
      case LayerType::kLinear: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        quantize_activation(layer, x, f.activation);
        quantize_weights(layer, mul(mul(layer.gemm.groups, layer.gemm.n, layer.name), layer.gemm.k, layer.name), f.weight);
        gemm(layer, Phase::kForward, layer.gemm, f.activation, f.weight, f.acc);
        if (layer.bias) vector(layer, Phase::kForward, VectorKind::kEltwise, out_elements, storage, storage);
        m_format[i] = storage;
        return;
      }
      case LayerType::kMatMul: {
        const std::size_t a = layer.inputs[0], b = layer.inputs[1];
        const Format fa = precision_formats(m_precision[i], m_non_negative[a]).activation;
        const PrecisionFormats fb = precision_formats(m_precision[i], m_non_negative[b]);
        quantize_activation(layer, a, fa);
        quantize_activation(layer, b, fb.activation);
        gemm(layer, Phase::kForward, layer.gemm, fa, fb.activation, fb.acc);
        m_format[i] = storage;
        return;
      }
      case LayerType::kLstm: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        // The hidden state h = o * tanh(c) is signed.
        const PrecisionFormats fh = precision_formats(m_precision[i], false);
        const std::uint64_t gates = layer.gemm.n;  // 4H
        const std::uint64_t steps = mul(layer.shape[0], layer.seq, layer.name);  // N*T
        quantize_activation(layer, x, f.activation);
        quantize_weights(layer, mul(gates, layer.in_features + layer.hidden, layer.name), f.weight);
        gemm(layer, Phase::kForward, layer.gemm, f.activation, f.weight, f.acc);
        if (fh.activation != storage) {
          vector(layer, Phase::kForward, VectorKind::kQuantize, mul(steps, layer.hidden, layer.name), storage, fh.activation);
        }
        gemm(layer, Phase::kForward, {layer.seq, layer.shape[0], gates, layer.hidden}, fh.activation, f.weight, f.acc);
        // Per step and sample: 3 sigmoids + 1 tanh on the gates, tanh(c) (5H); gate sums with
        // biases (4H), f*c + i*g (3H) and o*tanh(c) (H).
        vector(layer, Phase::kForward, VectorKind::kActivation, mul(steps, mul(5, layer.hidden, layer.name), layer.name), storage, storage);
        vector(layer, Phase::kForward, VectorKind::kEltwise, mul(steps, mul(8, layer.hidden, layer.name), layer.name), storage, storage);
        m_format[i] = storage;
        return;
      }
      case LayerType::kEmbedding:
        vector(layer, Phase::kForward, VectorKind::kEltwise, layer.elements_read, Format::kFp32, storage);
        break;
      case LayerType::kBatchNorm:
        vector(layer, Phase::kForward, VectorKind::kNorm, out_elements, in_format(), storage);
        break;
      case LayerType::kLayerNorm:
        vector(layer, Phase::kForward, VectorKind::kLayerNorm, out_elements, in_format(), storage);
        break;
      case LayerType::kActivation:
        vector(layer, Phase::kForward, is_gelu(layer) ? VectorKind::kGelu : VectorKind::kActivation, out_elements,
               in_format(), storage);
        break;
      case LayerType::kPool:
      case LayerType::kGlobalPool:
        vector(layer, Phase::kForward, VectorKind::kPool, layer.elements_read, in_format(), storage);
        break;
      case LayerType::kEltwise: {
        const std::uint64_t operands = layer.inputs.size() + (layer.eltwise_param_elements > 0 ? 1 : 0);
        vector(layer, Phase::kForward, VectorKind::kEltwise,
               mul(out_elements, operands > 1 ? operands - 1 : 1, layer.name), in_format(), storage);
        break;
      }
      case LayerType::kConcat:
      case LayerType::kDropout:
        vector(layer, Phase::kForward, VectorKind::kEltwise, out_elements, in_format(), storage);
        break;
      case LayerType::kSlice:
        vector(layer, Phase::kForward, VectorKind::kEltwise, layer.elements_read, in_format(), storage);
        break;
      case LayerType::kSoftmax:
        vector(layer, Phase::kForward, VectorKind::kSoftmax, out_elements, in_format(), storage);
        break;
      case LayerType::kView:
        m_format[i] = in_format();
        return;
      case LayerType::kLoss:
        vector(layer, Phase::kForward, VectorKind::kLoss, out_elements, in_format(), storage);
        break;
    }
    m_format[i] = storage;
  }

  // ---- backward -------------------------------------------------------------

  void backward(std::size_t i) {
    const Layer& layer = m_graph.layer(i);
    if (!m_requires_grad[i] || layer.type == LayerType::kInput) return;
    const Format storage = m_storage;
    const std::uint64_t out_elements = elements(i);
    // dY: the loss computed it; else the sum of what the consumers sent back; a layer
    // nothing reads (a graph output without a loss) receives it from outside, in storage format.
    Format dy = storage;
    const auto& parts = m_contributions[i];
    if (parts.size() > 1) {
      vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(out_elements, parts.size() - 1, layer.name), parts[0], storage);
    } else if (parts.size() == 1) {
      dy = parts[0];
    }
    const auto needs = [&](std::size_t n) { return m_requires_grad[layer.inputs.at(n)]; };
    switch (layer.type) {
      case LayerType::kInput:
        return;
      case LayerType::kConv:
      case LayerType::kLinear: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        const bool tpr = uses_two_phase_rounding(m_precision[i]);
        const bool requant = uses_transposed_requantization(m_precision[i]);
        if (needs(0)) {
          if (requant && !weights_square_blocks(m_precision[i])) {
            // dX = dY W^T reduces over the output features: the weights again, blocks along them.
            vector(layer, Phase::kInputGrad, VectorKind::kQuantize,
                   mul(mul(layer.gemm.groups, layer.gemm.n, layer.name), layer.gemm.k, layer.name), Format::kFp32,
                   f.weight);
          }
          quantize_gradient(layer, Phase::kInputGrad, out_elements, dy, f.gradient);
          const models::GemmShape ig = input_grad_shape(layer.gemm);
          gemm(layer, Phase::kInputGrad, ig, f.gradient, f.weight, f.acc);
          const models::ConvParams& c = layer.conv;
          const bool identity = c.kernel_h == 1 && c.kernel_w == 1 && c.stride_h == 1 && c.stride_w == 1 &&
                                c.pad_h == 0 && c.pad_w == 0;
          if (layer.type == LayerType::kConv && !identity && m_policy.im2col == Im2col::kDram) {
            // col2im: scatter-add dCol (N*E*F x C*R*S) into dX. On chip, the input-gradient
            // GEMM accumulates dX itself (a transposed convolution) and stores dX once.
            vector(layer, Phase::kInputGrad, VectorKind::kEltwise,
                   mul(mul(ig.groups, ig.m, layer.name), ig.n, layer.name), storage, storage);
          }
          contribute(x, storage);
        }
        if (tpr || requant || !needs(0)) quantize_gradient(layer, Phase::kWeightGrad, out_elements, dy, f.gradient);
        // dW = X^T dY reduces over the batch: X again, blocks along it (dY's second copy above).
        if (requant) requantize_transposed(layer, Phase::kWeightGrad, x, f.activation);
        gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), f.activation, f.gradient, f.acc);
        if (layer.bias) vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, out_elements, dy, Format::kFp32);
        return;
      }
      case LayerType::kMatMul: {
        const std::size_t a = layer.inputs[0], b = layer.inputs[1];
        const PrecisionFormats fa = precision_formats(m_precision[i], m_non_negative[a]);
        const PrecisionFormats fb = precision_formats(m_precision[i], m_non_negative[b]);
        const bool tpr = uses_two_phase_rounding(m_precision[i]);
        const bool requant = uses_transposed_requantization(m_precision[i]);
        if (needs(0)) {
          // dA = dY B^T reduces over B's columns: B again, blocks along them.
          if (requant) requantize_transposed(layer, Phase::kInputGrad, b, fb.activation);
          quantize_gradient(layer, Phase::kInputGrad, out_elements, dy, fa.gradient);
          gemm(layer, Phase::kInputGrad, input_grad_shape(layer.gemm), fa.gradient, fb.activation, fa.acc);
          contribute(a, storage);
        }
        if (needs(1)) {
          if (tpr || requant || !needs(0)) quantize_gradient(layer, Phase::kWeightGrad, out_elements, dy, fa.gradient);
          // dB = A^T dY reduces over A's rows: A again, blocks along them.
          if (requant) requantize_transposed(layer, Phase::kWeightGrad, a, fa.activation);
          gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), fa.activation, fa.gradient, fa.acc);
          contribute(b, storage);
        }
        return;
      }
      case LayerType::kLstm: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        const PrecisionFormats fh = precision_formats(m_precision[i], false);
        const bool tpr = uses_two_phase_rounding(m_precision[i]);
        const std::uint64_t gates = layer.gemm.n, hidden = layer.hidden, batch = layer.shape[0];
        const std::uint64_t steps = mul(batch, layer.seq, layer.name);
        const std::uint64_t dgates = mul(steps, gates, layer.name);
        vector(layer, Phase::kInputGrad, VectorKind::kActivationGrad, mul(steps, mul(5, hidden, layer.name), layer.name), dy, storage);
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(steps, mul(8, hidden, layer.name), layer.name), dy, storage);
        quantize_gradient(layer, Phase::kInputGrad, dgates, storage, f.gradient);
        // dh_{t-1} = dgates_t * W_hh^T, one dependent step after another.
        gemm(layer, Phase::kInputGrad, {layer.seq, batch, hidden, gates}, f.gradient, f.weight, f.acc);
        if (needs(0)) {
          gemm(layer, Phase::kInputGrad, input_grad_shape(layer.gemm), f.gradient, f.weight, f.acc);
          contribute(x, storage);
        }
        if (tpr) quantize_gradient(layer, Phase::kWeightGrad, dgates, storage, f.gradient);
        gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), f.activation, f.gradient, f.acc);
        gemm(layer, Phase::kWeightGrad, {1, hidden, gates, steps}, fh.activation, f.gradient, f.acc);
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, dgates, storage, Format::kFp32);
        return;
      }
      case LayerType::kEmbedding:
        // Scatter-add of dY into the looked-up table rows.
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, layer.elements_read, dy, Format::kFp32);
        return;
      case LayerType::kBatchNorm:
        // One pass computes dX and the scale/shift gradients (per-channel sums serve both).
        vector(layer, Phase::kInputGrad, VectorKind::kNormGrad, out_elements, dy, storage);
        contribute(layer.inputs[0], storage);
        return;
      case LayerType::kLayerNorm:
        // dX needs sums along each row (the normalized dimension); the scale and shift
        // gradients, dgamma = sum dY * xhat and dbeta = sum dY, are sums down the columns
        // (over every row): a different reduction, two accumulations per element.
        if (needs(0)) {
          vector(layer, Phase::kInputGrad, VectorKind::kLayerNormGrad, out_elements, dy, storage);
          contribute(layer.inputs[0], storage);
        }
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, mul(out_elements, 2, layer.name), dy, Format::kFp32);
        return;
      case LayerType::kActivation:
        vector(layer, Phase::kInputGrad, is_gelu(layer) ? VectorKind::kGeluGrad : VectorKind::kActivationGrad,
               out_elements, dy, storage);
        contribute(layer.inputs[0], storage);
        return;
      case LayerType::kPool:
      case LayerType::kGlobalPool:
        vector(layer, Phase::kInputGrad, VectorKind::kPoolGrad, layer.elements_read, dy, storage);
        contribute(layer.inputs[0], storage);
        return;
      case LayerType::kEltwise: {
        // Add passes dY through unchanged to an operand of the output's shape; a broadcast
        // operand needs a reduction, and sub/mul/div need an element-wise op per operand.
        std::uint64_t operands_with_work = 0;
        for (std::size_t n = 0; n < layer.inputs.size(); ++n) {
          if (!needs(n)) continue;
          const bool passthrough = (layer.eltwise == models::EltwiseKind::kAdd ||
                                    (layer.eltwise == models::EltwiseKind::kSub && n == 0)) &&
                                   m_graph.layer(layer.inputs[n]).shape == layer.shape;
          if (passthrough) {
            contribute(layer.inputs[n], dy);
          } else {
            ++operands_with_work;
            contribute(layer.inputs[n], storage);
          }
        }
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(out_elements, operands_with_work, layer.name), dy,
               storage);
        if (layer.eltwise_param_elements > 0) {
          vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, out_elements, dy, Format::kFp32);
        }
        return;
      }
      case LayerType::kConcat:
      case LayerType::kDropout:
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, out_elements, dy, storage);
        for (const auto input : layer.inputs) contribute(input, storage);
        return;
      case LayerType::kSoftmax:
        vector(layer, Phase::kInputGrad, VectorKind::kSoftmaxGrad, out_elements, dy, storage);
        contribute(layer.inputs[0], storage);
        return;
      case LayerType::kSlice:
        // The gradient of the whole input: zeros except the slice.
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, elements(layer.inputs[0]), dy, storage);
        contribute(layer.inputs[0], storage);
        return;
      case LayerType::kView:
        contribute(layer.inputs[0], dy);
        return;
      case LayerType::kLoss:
        // The loss op (forward phase) already produced dLogits.
        contribute(layer.inputs[0], storage);
        return;
    }
  }

  const Graph& m_graph;                            ///< the network
  const Policy& m_policy;                          ///< the precision policy
  Format m_storage;                                ///< format of tensors between GEMMs
  std::vector<Precision> m_precision;              ///< per layer
  std::vector<bool> m_requires_grad;               ///< per layer: output needs a gradient
  std::vector<bool> m_non_negative;                ///< per layer: output >= 0
  std::vector<Format> m_format;                    ///< per layer: format its output is held in
  std::vector<std::vector<Format>> m_contributions;  ///< per layer: formats of the gradients sent back to it
  std::set<std::pair<std::size_t, Format>> m_quantized;  ///< activation copies already made
  std::vector<TraceOp> m_ops;                      ///< the trace, in order
};

}  // namespace

std::vector<Precision> layer_precisions(const Graph& graph, const Policy& policy) {
  const auto first = models::first_gemm_layers(graph);
  const auto last = models::last_gemm_layers(graph);
  std::vector<Precision> out(graph.size(), policy.base);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const Layer& layer = graph.layer(i);
    if (first[i] && !last[i] && policy.first) {
      out[i] = *policy.first;
    } else if (first[i] || last[i]) {
      out[i] = policy.first_last;
    } else if (policy.attention && layer.type == LayerType::kMatMul) {
      out[i] = *policy.attention;
    } else if (policy.conv1x1 && layer.type == LayerType::kConv && layer.conv.kernel_h == 1 && layer.conv.kernel_w == 1) {
      out[i] = *policy.conv1x1;
    }
  }
  std::vector<std::string> gemm_names;
  for (const auto& layer : graph.layers()) {
    if (models::is_gemm_layer(layer.type)) gemm_names.push_back(layer.name);
  }
  for (const auto& o : policy.layers) {
    const std::size_t index = graph.find(o.layer);
    if (index == graph.size()) {
      const std::string suggestion = closest_match(o.layer, gemm_names);
      throw InputError(policy.file, o.line, "layers." + o.layer,
                       "no layer of this name in " + graph.name() +
                           (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
    }
    if (!models::is_gemm_layer(graph.layer(index).type)) {
      throw InputError(policy.file, o.line, "layers." + o.layer,
                       "this is a " + models::layer_type_name(graph.layer(index).type) +
                           " layer; precisions apply to layers with GEMMs (conv, linear, matmul, lstm)");
    }
    out[index] = o.precision;
  }
  return out;
}

Trace expand_training_step(const Graph& graph, const Policy& policy) { return Expander(graph, policy).run(); }

}  // namespace nibble::workloads
