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

/// Names without repeats, in first-seen order (an op reads or writes a tensor once).
std::vector<std::string> unique(std::vector<std::string> names) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& name : names) {
    if (seen.insert(name).second) out.push_back(std::move(name));
  }
  return out;
}

/// Builds the op list of one training step; one instance per expansion.
/// Every op names the tensors it reads and writes (docs/trace-format.md,
/// "Tensors"): LAYER.ROLE, e.g. `conv1.y`, `conv1.W.q`, `layer1.0.conv2.dX`.
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
        m_tensor(graph.size()),
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
      if (layer.params == 0) continue;
      // SGD with momentum over the fp32 master weights; the momentum buffer is
      // the optimizer's alone, so it is not named.
      std::vector<std::string> reads = {weights(layer), tensor(layer, "dW")};
      std::vector<std::string> writes = {weights(layer)};
      if (has_bias(layer)) {
        reads.push_back(bias(layer));
        reads.push_back(tensor(layer, "db"));
        writes.push_back(bias(layer));
      }
      vector(layer, Phase::kUpdate, VectorKind::kOptimizer, layer.params, Format::kFp32, Format::kFp32, std::move(reads),
             std::move(writes));
    }
    trace.ops = std::move(m_ops);
    trace.inputs = std::move(m_inputs);
    return trace;
  }

 private:
  // ---- tensor names -----------------------------------------------------------

  /// LAYER.ROLE, e.g. conv1.y: the layer's trace name with commas (list
  /// separators) replaced, so a tensor name stays within 256 + role characters.
  static std::string tensor(const Layer& layer, const std::string& role) {
    return sanitize_tensor_name(sanitize_trace_name(layer.name)) + "." + role;
  }

  /// Declares `name` a step input (it exists before the step's first op) and returns it.
  std::string input(std::string name) {
    if (m_input_set.insert(name).second) m_inputs.push_back(name);
    return name;
  }

  /// The fp32 master weights of a layer with parameters (LSTM: both matrices and the biases).
  std::string weights(const Layer& layer) { return input(tensor(layer, "W")); }
  static bool has_bias(const Layer& layer) {
    return (layer.type == LayerType::kConv || layer.type == LayerType::kLinear) && layer.bias;
  }
  std::string bias(const Layer& layer) { return input(tensor(layer, "b")); }

  /// The copy of activation tensor `index` in `format` that a GEMM reads: the
  /// tensor itself when it is held in that format, else TENSOR.FORMAT (quantize_activation).
  std::string activation_copy(std::size_t index, Format format) const {
    if (m_format[index] == format) return m_tensor[index];
    return sanitize_tensor_name(m_tensor[index] + "." + std::string(numerics::format_name(format)));
  }

  /// The GEMMs' copy of a layer's weights in `format` (forward and input gradient).
  std::string weight_copy(const Layer& layer, Format format) {
    return format == Format::kFp32 ? weights(layer) : tensor(layer, "W.q");
  }

  /// The name of a layer's quantized copy of `gradient` (dY, LSTM dgates) for
  /// the backward GEMM of `phase`: with two-phase rounding one on the odd
  /// powers (input gradient) and one on the even ones (weight gradient); with
  /// block formats the weight gradient's copy has its blocks transposed.
  static std::string gradient_copy(const Layer& layer, const std::string& gradient, Phase phase, bool tpr,
                                   bool requant) {
    if (tpr) return tensor(layer, gradient + (phase == Phase::kInputGrad ? ".odd" : ".even"));
    if (requant && phase == Phase::kWeightGrad) return tensor(layer, gradient + ".q.T");
    return tensor(layer, gradient + ".q");
  }

  // ---- op builders ----------------------------------------------------------

  void vector(const Layer& layer, Phase phase, VectorKind kind, std::uint64_t elements, Format in, Format out,
              std::vector<std::string> reads, std::vector<std::string> writes) {
    if (elements == 0) return;
    TraceOp op;
    op.layer = sanitize_trace_name(layer.name);
    op.kind = OpKind::kVector;
    op.phase = phase;
    op.vector = kind;
    op.elements = elements;
    op.in_format = in;
    op.out_format = out;
    op.reads = unique(std::move(reads));
    op.writes = unique(std::move(writes));
    m_ops.push_back(std::move(op));
  }

  /// A GEMM of `layer`; for a conv layer it carries the forward geometry.
  void gemm(const Layer& layer, Phase phase, const models::GemmShape& shape, Format a, Format b, Format acc,
            std::vector<std::string> reads, std::vector<std::string> writes) {
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
      static_cast<models::ConvWindow&>(g) = layer.conv;
      g.im2col = m_policy.im2col;
      op.conv = g;
      op.kind = g.groups == 1 ? OpKind::kConv : OpKind::kGroupConv;
    } else {
      op.kind = OpKind::kGemm;
    }
    op.reads = unique(std::move(reads));
    op.writes = unique(std::move(writes));
    m_ops.push_back(std::move(op));
  }

  static bool is_gelu(const Layer& layer) { return layer.activation == models::ActivationKind::kGelu; }

  static models::GemmShape input_grad_shape(const models::GemmShape& f) { return {f.groups, f.m, f.k, f.n}; }
  static models::GemmShape weight_grad_shape(const models::GemmShape& f) { return {f.groups, f.k, f.n, f.m}; }

  std::uint64_t elements(std::size_t index) const {
    return models::shape_elements(m_graph.layer(index).shape, m_graph.layer(index).name);
  }

  /// Quantizes the activation tensor `index` to `format` for a GEMM of `layer`,
  /// once per (tensor, format): later GEMMs reading the same copy reuse it.
  /// Returns the copy the GEMM reads.
  std::string quantize_activation(const Layer& layer, std::size_t index, Format format) {
    const std::string copy = activation_copy(index, format);
    if (m_format[index] != format && m_quantized.insert({index, format}).second) {
      vector(layer, Phase::kForward, VectorKind::kQuantize, elements(index), m_format[index], format, {m_tensor[index]},
             {copy});
    }
    return copy;
  }

  /// Returns the weight copy the forward GEMM reads.
  std::string quantize_weights(const Layer& layer, std::uint64_t count, Format format) {
    // Master weights are fp32; the GEMMs read a copy in the weight format.
    const std::string copy = weight_copy(layer, format);
    if (format != Format::kFp32) {
      vector(layer, Phase::kForward, VectorKind::kQuantize, count, Format::kFp32, format, {weights(layer)}, {copy});
    }
    return copy;
  }

  /// Quantizes `gradient` (format `from`, `count` elements) into `copy` for a
  /// backward GEMM of `layer` in `phase`; returns what the GEMM reads.
  std::string quantize_gradient(const Layer& layer, Phase phase, std::uint64_t count, Format from, Format format,
                                const std::string& gradient, const std::string& copy) {
    if (from == format) return gradient;
    vector(layer, phase, VectorKind::kQuantize, count, from, format, {gradient}, {copy});
    return copy;
  }

  /// The transposed re-quantization of activation tensor `index` (from its
  /// stored format) to block format `format`, blocks along the other GEMM
  /// dimension, for the backward GEMM of `layer` in `phase` (docs/trace-format.md,
  /// "Block formats"), into the layer's `copy`, read from `source` (the tensor
  /// itself, or its Hadamard transform: same elements and format); returns `copy`.
  std::string requantize_transposed(const Layer& layer, Phase phase, std::size_t index, Format format,
                                    const std::string& copy, const std::string& source) {
    vector(layer, phase, VectorKind::kQuantize, elements(index), m_format[index], format, {source}, {copy});
    return copy;
  }

  /// With `hadamard`, the 16-point random Hadamard transform of `source` (`count`
  /// elements, format `format`, kept in it) along the weight-gradient GEMM's
  /// reduction into LAYER.NAME, which the re-quantization then reads; else `source`.
  std::string hadamard_of(const Layer& layer, bool hadamard, std::uint64_t count, Format format,
                          const std::string& source, const char* name) {
    if (!hadamard) return source;
    const std::string out = tensor(layer, name);
    vector(layer, Phase::kWeightGrad, VectorKind::kHadamard, count, format, format, {source}, {out});
    return out;
  }

  /// The weight-gradient GEMM's own copy of dY (`dy_tensor`, format `dy`): the second
  /// copy of two-phase rounding or of block formats, or the only one; with
  /// `hadamard`, of dY's transform.
  std::string weight_grad_copy(const Layer& layer, std::uint64_t count, Format dy, Format format,
                               const std::string& dy_tensor, bool tpr, bool requant, bool hadamard) {
    return quantize_gradient(layer, Phase::kWeightGrad, count, dy, format,
                             hadamard_of(layer, hadamard, count, dy, dy_tensor, "dY.H"),
                             gradient_copy(layer, "dY", Phase::kWeightGrad, tpr, requant));
  }

  /// The activation operand `index` of a weight-gradient GEMM in `format`: with block
  /// formats re-quantized with transposed blocks into LAYER.ROLE (with `hadamard`, from
  /// its transform LAYER.TRANSFORMED), else the forward's copy.
  std::string weight_grad_operand(const Layer& layer, std::size_t index, Format format, bool requant, bool hadamard,
                                  const char* role, const char* transformed) {
    if (!requant) return activation_copy(index, format);
    return requantize_transposed(
        layer, Phase::kWeightGrad, index, format, tensor(layer, role),
        hadamard_of(layer, hadamard, elements(index), m_format[index], m_tensor[index], transformed));
  }

  /// A consumer sends back the gradient of its input `input`, held in `gradient`.
  void contribute(std::size_t input, Format format, const std::string& gradient) {
    if (m_requires_grad[input]) m_contributions[input].push_back({format, gradient});
  }

  // ---- forward --------------------------------------------------------------

  void forward(std::size_t i) {
    const Layer& layer = m_graph.layer(i);
    const Format storage = m_storage;
    const auto in_format = [&](std::size_t n = 0) { return m_format[layer.inputs.at(n)]; };
    const auto in_tensor = [&](std::size_t n = 0) { return m_tensor[layer.inputs.at(n)]; };
    std::vector<std::string> all_inputs;
    for (const auto input : layer.inputs) all_inputs.push_back(m_tensor[input]);
    const std::uint64_t out_elements = elements(i);
    const std::string y = tensor(layer, "y");
    m_tensor[i] = y;
    switch (layer.type) {
      case LayerType::kInput:
        // The batch (images, token ids): the layer's name.
        m_tensor[i] = input(sanitize_tensor_name(sanitize_trace_name(layer.name)));
        m_format[i] = storage;
        return;
      case LayerType::kConv:
      case LayerType::kLinear: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        const std::string xq = quantize_activation(layer, x, f.activation);
        const std::string wq =
            quantize_weights(layer, mul(mul(layer.gemm.groups, layer.gemm.n, layer.name), layer.gemm.k, layer.name), f.weight);
        gemm(layer, Phase::kForward, layer.gemm, f.activation, f.weight, f.acc, {xq, wq}, {y});
        // The bias is added in place.
        if (layer.bias) vector(layer, Phase::kForward, VectorKind::kEltwise, out_elements, storage, storage, {y, bias(layer)}, {y});
        m_format[i] = storage;
        return;
      }
      case LayerType::kMatMul: {
        const std::size_t a = layer.inputs[0], b = layer.inputs[1];
        const Format fa = precision_formats(m_precision[i], m_non_negative[a]).activation;
        const PrecisionFormats fb = precision_formats(m_precision[i], m_non_negative[b]);
        const std::string aq = quantize_activation(layer, a, fa);
        const std::string bq = quantize_activation(layer, b, fb.activation);
        gemm(layer, Phase::kForward, layer.gemm, fa, fb.activation, fb.acc, {aq, bq}, {y});
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
        // The loop over time steps is collapsed into one op per kind: they read and
        // write the gates (g) and the recurrent state h, which the step starts from
        // (the state carried over from the previous batch: a step input).
        const std::string g = tensor(layer, "gates"), h = input(tensor(layer, "h"));
        const std::string xq = quantize_activation(layer, x, f.activation);
        const std::string wq = quantize_weights(layer, mul(gates, layer.in_features + layer.hidden, layer.name), f.weight);
        gemm(layer, Phase::kForward, layer.gemm, f.activation, f.weight, f.acc, {xq, wq}, {g});
        std::string hq = h;
        if (fh.activation != storage) {
          hq = tensor(layer, "h.q");
          vector(layer, Phase::kForward, VectorKind::kQuantize, mul(steps, layer.hidden, layer.name), storage,
                 fh.activation, {h}, {hq});
        }
        gemm(layer, Phase::kForward, {layer.seq, layer.shape[0], gates, layer.hidden}, fh.activation, f.weight, f.acc,
             {hq, wq, g}, {g});
        // Per step and sample: 3 sigmoids + 1 tanh on the gates, tanh(c) (5H); gate sums with
        // biases (4H), f*c + i*g (3H) and o*tanh(c) (H).
        vector(layer, Phase::kForward, VectorKind::kActivation, mul(steps, mul(5, layer.hidden, layer.name), layer.name),
               storage, storage, {g}, {g});
        vector(layer, Phase::kForward, VectorKind::kEltwise, mul(steps, mul(8, layer.hidden, layer.name), layer.name),
               storage, storage, {g, weights(layer)}, {y, h});
        m_format[i] = storage;
        return;
      }
      case LayerType::kEmbedding:
        vector(layer, Phase::kForward, VectorKind::kEltwise, layer.elements_read, Format::kFp32, storage,
               {in_tensor(), weights(layer)}, {y});
        break;
      case LayerType::kBatchNorm:
        vector(layer, Phase::kForward, VectorKind::kNorm, out_elements, in_format(), storage, {in_tensor(), weights(layer)},
               {y});
        break;
      case LayerType::kLayerNorm:
        vector(layer, Phase::kForward, VectorKind::kLayerNorm, out_elements, in_format(), storage,
               {in_tensor(), weights(layer)}, {y});
        break;
      case LayerType::kActivation:
        vector(layer, Phase::kForward, is_gelu(layer) ? VectorKind::kGelu : VectorKind::kActivation, out_elements,
               in_format(), storage, {in_tensor()}, {y});
        break;
      case LayerType::kPool:
      case LayerType::kGlobalPool:
        vector(layer, Phase::kForward, VectorKind::kPool, layer.elements_read, in_format(), storage, {in_tensor()}, {y});
        break;
      case LayerType::kEltwise: {
        const std::uint64_t operands = layer.inputs.size() + (layer.eltwise_param_elements > 0 ? 1 : 0);
        std::vector<std::string> reads = all_inputs;
        if (layer.eltwise_param_elements > 0) reads.push_back(weights(layer));
        vector(layer, Phase::kForward, VectorKind::kEltwise,
               mul(out_elements, operands > 1 ? operands - 1 : 1, layer.name), in_format(), storage, std::move(reads), {y});
        break;
      }
      case LayerType::kConcat:
      case LayerType::kDropout:
        vector(layer, Phase::kForward, VectorKind::kEltwise, out_elements, in_format(), storage, all_inputs, {y});
        break;
      case LayerType::kSlice:
        vector(layer, Phase::kForward, VectorKind::kEltwise, layer.elements_read, in_format(), storage, {in_tensor()}, {y});
        break;
      case LayerType::kSoftmax:
        vector(layer, Phase::kForward, VectorKind::kSoftmax, out_elements, in_format(), storage, {in_tensor()}, {y});
        break;
      case LayerType::kView:
        // Same data, another shape: no op, no tensor of its own.
        m_tensor[i] = in_tensor();
        m_format[i] = in_format();
        return;
      case LayerType::kLoss:
        // Softmax cross-entropy forward and backward in one op: the loss and dLogits.
        vector(layer, Phase::kForward, VectorKind::kLoss, out_elements, in_format(), storage,
               {in_tensor(), input(tensor(layer, "labels"))}, {y, tensor(layer, "dX")});
        break;
    }
    m_format[i] = storage;
  }

  // ---- backward -------------------------------------------------------------

  void backward(std::size_t i) {
    const Layer& layer = m_graph.layer(i);
    if (!m_requires_grad[i] || layer.type == LayerType::kInput) return;
    if (layer.type == LayerType::kLoss) {
      // The loss op (forward phase) already produced dLogits.
      contribute(layer.inputs[0], m_storage, tensor(layer, "dX"));
      return;
    }
    const Format storage = m_storage;
    const std::uint64_t out_elements = elements(i);
    // dY: the loss computed it; else the sum of what the consumers sent back; a layer
    // nothing reads (a graph output without a loss) receives it from outside, in storage format.
    Format dy = storage;
    std::string dy_tensor;
    const auto& parts = m_contributions[i];
    if (parts.size() > 1) {
      std::vector<std::string> reads;
      for (const auto& part : parts) reads.push_back(part.tensor);
      dy_tensor = tensor(layer, "dY");
      vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(out_elements, parts.size() - 1, layer.name),
             parts[0].format, storage, std::move(reads), {dy_tensor});
    } else if (parts.size() == 1) {
      dy = parts[0].format;
      dy_tensor = parts[0].tensor;
    } else {
      dy_tensor = input(tensor(layer, "dY"));
    }
    const auto needs = [&](std::size_t n) { return m_requires_grad[layer.inputs.at(n)]; };
    const auto in_tensor = [&](std::size_t n = 0) { return m_tensor[layer.inputs.at(n)]; };
    const std::string dx = tensor(layer, "dX");
    switch (layer.type) {
      case LayerType::kInput:
        return;
      case LayerType::kConv:
      case LayerType::kLinear: {
        const std::size_t x = layer.inputs[0];
        const PrecisionFormats f = precision_formats(m_precision[i], m_non_negative[x]);
        const bool tpr = uses_two_phase_rounding(m_precision[i]);
        const bool requant = uses_transposed_requantization(m_precision[i]);
        const bool hadamard = uses_hadamard(m_precision[i]);
        std::string dy_input_grad;  // the copy of dY the input-gradient GEMM reads
        if (needs(0)) {
          std::string wq = weight_copy(layer, f.weight);
          if (requant && !weights_square_blocks(m_precision[i])) {
            // dX = dY W^T reduces over the output features: the weights again, blocks along them.
            wq = tensor(layer, "W.q.T");
            vector(layer, Phase::kInputGrad, VectorKind::kQuantize,
                   mul(mul(layer.gemm.groups, layer.gemm.n, layer.name), layer.gemm.k, layer.name), Format::kFp32,
                   f.weight, {weights(layer)}, {wq});
          }
          dy_input_grad = quantize_gradient(layer, Phase::kInputGrad, out_elements, dy, f.gradient, dy_tensor,
                                            gradient_copy(layer, "dY", Phase::kInputGrad, tpr, requant));
          const models::GemmShape ig = input_grad_shape(layer.gemm);
          const models::ConvParams& c = layer.conv;
          const bool identity = c.kernel_h == 1 && c.kernel_w == 1 && c.stride_h == 1 && c.stride_w == 1 &&
                                c.pad_h == 0 && c.pad_w == 0;
          if (layer.type == LayerType::kConv && !identity && m_policy.im2col == Im2col::kDram) {
            // col2im: scatter-add dCol (N*E*F x C*R*S) into dX. On chip, the input-gradient
            // GEMM accumulates dX itself (a transposed convolution) and stores dX once.
            const std::string dcol = tensor(layer, "dCol");
            gemm(layer, Phase::kInputGrad, ig, f.gradient, f.weight, f.acc, {dy_input_grad, wq}, {dcol});
            vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(mul(ig.groups, ig.m, layer.name), ig.n, layer.name),
                   storage, storage, {dcol}, {dx});
          } else {
            gemm(layer, Phase::kInputGrad, ig, f.gradient, f.weight, f.acc, {dy_input_grad, wq}, {dx});
          }
          contribute(x, storage, dx);
        }
        const std::string dy_weight_grad = tpr || requant || !needs(0)
                                               ? weight_grad_copy(layer, out_elements, dy, f.gradient, dy_tensor, tpr,
                                                                  requant, hadamard)
                                               : dy_input_grad;
        // dW = X^T dY reduces over the batch: X again, blocks along it (dY's second copy above).
        const std::string xq = weight_grad_operand(layer, x, f.activation, requant, hadamard, "X.T", "X.H");
        gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), f.activation, f.gradient, f.acc,
             {xq, dy_weight_grad}, {tensor(layer, "dW")});
        if (layer.bias) {
          vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, out_elements, dy, Format::kFp32, {dy_tensor},
                 {tensor(layer, "db")});
        }
        return;
      }
      case LayerType::kMatMul: {
        const std::size_t a = layer.inputs[0], b = layer.inputs[1];
        const PrecisionFormats fa = precision_formats(m_precision[i], m_non_negative[a]);
        const PrecisionFormats fb = precision_formats(m_precision[i], m_non_negative[b]);
        const bool tpr = uses_two_phase_rounding(m_precision[i]);
        const bool requant = uses_transposed_requantization(m_precision[i]);
        const bool hadamard = uses_hadamard(m_precision[i]);
        std::string dy_input_grad;
        if (needs(0)) {
          // dA = dY B^T reduces over B's columns: B again, blocks along them.
          const std::string bq =
              requant ? requantize_transposed(layer, Phase::kInputGrad, b, fb.activation, tensor(layer, "B.T"), m_tensor[b])
                      : activation_copy(b, fb.activation);
          dy_input_grad = quantize_gradient(layer, Phase::kInputGrad, out_elements, dy, fa.gradient, dy_tensor,
                                            gradient_copy(layer, "dY", Phase::kInputGrad, tpr, requant));
          const std::string da = tensor(layer, "dA");
          gemm(layer, Phase::kInputGrad, input_grad_shape(layer.gemm), fa.gradient, fb.activation, fa.acc,
               {dy_input_grad, bq}, {da});
          contribute(a, storage, da);
        }
        if (needs(1)) {
          const std::string dy_weight_grad =
              tpr || requant || !needs(0)
                  ? weight_grad_copy(layer, out_elements, dy, fa.gradient, dy_tensor, tpr, requant, hadamard)
                                          : dy_input_grad;
          // dB = A^T dY reduces over A's rows: A again, blocks along them.
          const std::string aq = weight_grad_operand(layer, a, fa.activation, requant, hadamard, "A.T", "A.H");
          const std::string db = tensor(layer, "dB");
          gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), fa.activation, fa.gradient, fa.acc,
               {aq, dy_weight_grad}, {db});
          contribute(b, storage, db);
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
        const std::string g = tensor(layer, "gates"), dg = tensor(layer, "dgates");
        const std::string wq = weight_copy(layer, f.weight);
        vector(layer, Phase::kInputGrad, VectorKind::kActivationGrad, mul(steps, mul(5, hidden, layer.name), layer.name), dy,
               storage, {dy_tensor, g}, {dg});
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(steps, mul(8, hidden, layer.name), layer.name), dy,
               storage, {dy_tensor, dg}, {dg});
        const std::string dg_input_grad = quantize_gradient(layer, Phase::kInputGrad, dgates, storage, f.gradient, dg,
                                                            gradient_copy(layer, "dgates", Phase::kInputGrad, tpr, false));
        // dh_{t-1} = dgates_t * W_hh^T, one dependent step after another: the collapsed
        // loop feeds each step's dh back into the gates gradient of the step before.
        gemm(layer, Phase::kInputGrad, {layer.seq, batch, hidden, gates}, f.gradient, f.weight, f.acc,
             {dg_input_grad, wq}, {dg, dg_input_grad});
        if (needs(0)) {
          gemm(layer, Phase::kInputGrad, input_grad_shape(layer.gemm), f.gradient, f.weight, f.acc, {dg_input_grad, wq},
               {dx});
          contribute(x, storage, dx);
        }
        std::string dg_weight_grad = dg_input_grad;
        if (tpr) {
          dg_weight_grad = quantize_gradient(layer, Phase::kWeightGrad, dgates, storage, f.gradient, dg,
                                             gradient_copy(layer, "dgates", Phase::kWeightGrad, tpr, false));
        }
        const std::string dw = tensor(layer, "dW");
        gemm(layer, Phase::kWeightGrad, weight_grad_shape(layer.gemm), f.activation, f.gradient, f.acc,
             {activation_copy(x, f.activation), dg_weight_grad}, {dw});
        // The hidden states, as the forward recurrent GEMM read them.
        const std::string hs = fh.activation != storage ? tensor(layer, "h.q") : tensor(layer, "y");
        gemm(layer, Phase::kWeightGrad, {1, hidden, gates, steps}, fh.activation, f.gradient, f.acc, {hs, dg_weight_grad},
             {dw});
        // The biases' gradients: sums of dgates.
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, dgates, storage, Format::kFp32, {dg}, {dw});
        return;
      }
      case LayerType::kEmbedding:
        // Scatter-add of dY into the looked-up table rows.
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, layer.elements_read, dy, Format::kFp32,
               {dy_tensor, in_tensor()}, {tensor(layer, "dW")});
        return;
      case LayerType::kBatchNorm:
        // One pass computes dX and the scale/shift gradients (per-channel sums serve both).
        vector(layer, Phase::kInputGrad, VectorKind::kNormGrad, out_elements, dy, storage,
               {dy_tensor, in_tensor(), weights(layer)}, {dx, tensor(layer, "dW")});
        contribute(layer.inputs[0], storage, dx);
        return;
      case LayerType::kLayerNorm:
        // dX needs sums along each row (the normalized dimension); the scale and shift
        // gradients, dgamma = sum dY * xhat and dbeta = sum dY, are sums down the columns
        // (over every row): a different reduction, two accumulations per element.
        if (needs(0)) {
          vector(layer, Phase::kInputGrad, VectorKind::kLayerNormGrad, out_elements, dy, storage,
                 {dy_tensor, in_tensor(), weights(layer)}, {dx});
          contribute(layer.inputs[0], storage, dx);
        }
        vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, mul(out_elements, 2, layer.name), dy, Format::kFp32,
               {dy_tensor, in_tensor()}, {tensor(layer, "dW")});
        return;
      case LayerType::kActivation:
        vector(layer, Phase::kInputGrad, is_gelu(layer) ? VectorKind::kGeluGrad : VectorKind::kActivationGrad,
               out_elements, dy, storage, {dy_tensor, in_tensor()}, {dx});
        contribute(layer.inputs[0], storage, dx);
        return;
      case LayerType::kPool:
      case LayerType::kGlobalPool:
        vector(layer, Phase::kInputGrad, VectorKind::kPoolGrad, layer.elements_read, dy, storage, {dy_tensor, in_tensor()},
               {dx});
        contribute(layer.inputs[0], storage, dx);
        return;
      case LayerType::kEltwise: {
        // Add passes dY through unchanged to an operand of the output's shape; a broadcast
        // operand needs a reduction, and sub/mul/div need an element-wise op per operand
        // (mul and div read the other operands).
        std::uint64_t operands_with_work = 0;
        std::vector<std::string> reads = {dy_tensor}, writes;
        const bool reads_operands = layer.eltwise == models::EltwiseKind::kMul || layer.eltwise == models::EltwiseKind::kDiv;
        for (std::size_t n = 0; n < layer.inputs.size(); ++n) {
          if (reads_operands) reads.push_back(in_tensor(n));
          if (!needs(n)) continue;
          const bool passthrough = (layer.eltwise == models::EltwiseKind::kAdd ||
                                    (layer.eltwise == models::EltwiseKind::kSub && n == 0)) &&
                                   m_graph.layer(layer.inputs[n]).shape == layer.shape;
          if (passthrough) {
            contribute(layer.inputs[n], dy, dy_tensor);
          } else {
            ++operands_with_work;
            writes.push_back(input_gradient(layer, n));
            contribute(layer.inputs[n], storage, writes.back());
          }
        }
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, mul(out_elements, operands_with_work, layer.name), dy,
               storage, std::move(reads), std::move(writes));
        if (layer.eltwise_param_elements > 0) {
          vector(layer, Phase::kWeightGrad, VectorKind::kEltwise, out_elements, dy, Format::kFp32, {dy_tensor},
                 {tensor(layer, "dW")});
        }
        return;
      }
      case LayerType::kConcat:
      case LayerType::kDropout: {
        std::vector<std::string> writes;
        for (std::size_t n = 0; n < layer.inputs.size(); ++n) writes.push_back(input_gradient(layer, n));
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, out_elements, dy, storage, {dy_tensor}, writes);
        for (std::size_t n = 0; n < layer.inputs.size(); ++n) contribute(layer.inputs[n], storage, writes[n]);
        return;
      }
      case LayerType::kSoftmax:
        vector(layer, Phase::kInputGrad, VectorKind::kSoftmaxGrad, out_elements, dy, storage, {dy_tensor, m_tensor[i]},
               {dx});
        contribute(layer.inputs[0], storage, dx);
        return;
      case LayerType::kSlice:
        // The gradient of the whole input: zeros except the slice.
        vector(layer, Phase::kInputGrad, VectorKind::kEltwise, elements(layer.inputs[0]), dy, storage, {dy_tensor}, {dx});
        contribute(layer.inputs[0], storage, dx);
        return;
      case LayerType::kView:
        contribute(layer.inputs[0], dy, dy_tensor);
        return;
      case LayerType::kLoss:  // above
        return;
    }
  }

  /// The gradient a layer with several inputs sends back to input `n`: LAYER.dX<n> (LAYER.dX with one input).
  static std::string input_gradient(const Layer& layer, std::size_t n) {
    return tensor(layer, layer.inputs.size() == 1 ? std::string("dX") : "dX" + std::to_string(n));
  }

  /// A gradient sent back to a producer: its format and the tensor holding it.
  struct Contribution {
    Format format;
    std::string tensor;
  };

  const Graph& m_graph;                            ///< the network
  const Policy& m_policy;                          ///< the precision policy
  Format m_storage;                                ///< format of tensors between GEMMs
  std::vector<Precision> m_precision;              ///< per layer
  std::vector<bool> m_requires_grad;               ///< per layer: output needs a gradient
  std::vector<bool> m_non_negative;                ///< per layer: output >= 0
  std::vector<Format> m_format;                    ///< per layer: format its output is held in
  std::vector<std::string> m_tensor;               ///< per layer: the tensor holding its output
  std::vector<std::vector<Contribution>> m_contributions;  ///< per layer: the gradients sent back to it
  std::set<std::pair<std::size_t, Format>> m_quantized;  ///< activation copies already made
  std::vector<std::string> m_inputs;               ///< step inputs, in order of first use
  std::set<std::string> m_input_set;               ///< the same, for look-ups
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
