#include "models/train/attention.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "models/train/parallel.hpp"
#include "models/train/rng.hpp"

namespace nibble::train {

namespace {

using numerics::Format;

bool is_fp4(Format f) { return f == Format::kFp4 || f == Format::kFp4Radix2; }

/// PACT clip of UINT4 attention probabilities: softmax outputs lie in [0, 1],
/// so a fixed clip of 1 never clips and needs no learned level.
float clip_of(Format f) { return f == Format::kUint4 ? 1.0f : 0.0f; }

void run_tasks(ThreadPool* pool, std::size_t tasks, const std::function<void(std::size_t)>& fn) {
  if (pool != nullptr) {
    pool->parallel_for(tasks, fn);
  } else {
    for (std::size_t t = 0; t < tasks; ++t) fn(t);
  }
}

/// Where group g = n*H + h of a batched operand starts, and its row stride.
struct GroupView {
  std::size_t sample_stride = 0;  ///< elements between samples
  std::size_t head_stride = 0;    ///< elements between heads of a sample
  std::size_t ld = 0;             ///< elements between rows
  std::size_t offset(std::size_t g, std::size_t heads) const { return (g / heads) * sample_stride + (g % heads) * head_stride; }
};

/// The T x d slice of head h in an (N*T) x D token tensor.
GroupView tokens_view(std::size_t tokens, std::size_t width, std::size_t head_dim) {
  return GroupView{tokens * width, head_dim, width};
}
/// Group-contiguous rows x cols blocks.
GroupView block_view(std::size_t heads, std::size_t rows, std::size_t cols) {
  return GroupView{heads * rows * cols, rows * cols, cols};
}

/// Quantizes an activation operand, or points at `fallback` when it already
/// holds the same format.
const QuantizedOperand& activation_operand(Format f, const float* x, std::size_t n, const QuantizedOperand& fallback,
                                           QuantizedOperand& scratch) {
  if (fallback.format == f) return fallback;
  quantize_activations(f, x, n, clip_of(f), scratch);
  return scratch;
}

void scale_all(float* x, std::size_t n, float s) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= s;
}

}  // namespace

// ---- Patchify -----------------------------------------------------------------

Patchify::Patchify(std::string name, std::size_t patch) : Layer(std::move(name)), m_patch(patch) {
  if (patch == 0) throw std::logic_error("patchify: patch must be >= 1");
}

Shape Patchify::output_shape(const Shape& in) const {
  if (in.c != 1 || in.h % m_patch != 0 || in.w % m_patch != 0) {
    throw std::logic_error(name() + ": input " + in.str() + " is not 1 channel of whole " + std::to_string(m_patch) +
                           "-pixel patches");
  }
  return Shape{in.n * (in.h / m_patch) * (in.w / m_patch), m_patch * m_patch, 1, 1};
}

void Patchify::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.resize(output_shape(x.shape));
  const std::size_t p = m_patch, cols = x.shape.w / p, tokens = (x.shape.h / p) * cols;
  for (std::size_t n = 0; n < x.shape.n; ++n) {
    const float* img = x.sample(n);
    for (std::size_t t = 0; t < tokens; ++t) {
      float* out = y.sample(n * tokens + t);
      const std::size_t y0 = (t / cols) * p, x0 = (t % cols) * p;
      for (std::size_t i = 0; i < p; ++i) {
        for (std::size_t j = 0; j < p; ++j) out[i * p + j] = img[(y0 + i) * x.shape.w + x0 + j];
      }
    }
  }
}

void Patchify::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  dx->resize(x.shape);
  const std::size_t p = m_patch, cols = x.shape.w / p, tokens = (x.shape.h / p) * cols;
  for (std::size_t n = 0; n < x.shape.n; ++n) {
    float* img = dx->sample(n);
    for (std::size_t t = 0; t < tokens; ++t) {
      const float* g = dy.sample(n * tokens + t);
      const std::size_t y0 = (t / cols) * p, x0 = (t % cols) * p;
      for (std::size_t i = 0; i < p; ++i) {
        for (std::size_t j = 0; j < p; ++j) img[(y0 + i) * x.shape.w + x0 + j] = g[i * p + j];
      }
    }
  }
}

// ---- PositionEmbedding --------------------------------------------------------

PositionEmbedding::PositionEmbedding(std::string name, std::size_t tokens, std::size_t width)
    : Layer(std::move(name)), m_tokens(tokens), m_width(width) {
  m_pos.name = this->name() + ".weight";
  m_pos.decay = false;
  m_pos.allocate(tokens * width);
}

Shape PositionEmbedding::output_shape(const Shape& in) const {
  if (in.per_sample() != m_width || in.n % m_tokens != 0) {
    throw std::logic_error(name() + ": input " + in.str() + " is not whole samples of " + std::to_string(m_tokens) +
                           " tokens of " + std::to_string(m_width));
  }
  return in;
}

void PositionEmbedding::init(Rng& rng) {
  for (float& v : m_pos.value) v = static_cast<float>(0.02 * rng.normal());
}

void PositionEmbedding::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.resize(output_shape(x.shape));
  const std::size_t block = m_tokens * m_width;
  for (std::size_t i = 0; i < x.data.size(); ++i) y.data[i] = x.data[i] + m_pos.value[i % block];
}

void PositionEmbedding::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  const std::size_t block = m_tokens * m_width, samples = x.shape.n / m_tokens;
  for (std::size_t e = 0; e < block; ++e) {
    double sum = 0.0;
    for (std::size_t n = 0; n < samples; ++n) sum += dy.data[n * block + e];
    m_pos.grad[e] = static_cast<float>(sum);
  }
  if (dx != nullptr) *dx = dy;
}

// ---- TokensToChannels ---------------------------------------------------------

TokensToChannels::TokensToChannels(std::string name, std::size_t tokens) : Layer(std::move(name)), m_tokens(tokens) {}

Shape TokensToChannels::output_shape(const Shape& in) const {
  if (in.n % m_tokens != 0) {
    throw std::logic_error(name() + ": " + in.str() + " is not whole samples of " + std::to_string(m_tokens) + " tokens");
  }
  return Shape{in.n / m_tokens, in.per_sample(), m_tokens, 1};
}

void TokensToChannels::forward(const Tensor& x, Tensor& y, const StepContext&) {
  const Shape out = output_shape(x.shape);
  y.resize(out);
  const std::size_t d = out.c, t = m_tokens;
  for (std::size_t n = 0; n < out.n; ++n) {
    for (std::size_t i = 0; i < t; ++i) {
      for (std::size_t c = 0; c < d; ++c) y.data[(n * d + c) * t + i] = x.data[(n * t + i) * d + c];
    }
  }
}

void TokensToChannels::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  dx->resize(x.shape);
  const std::size_t d = x.shape.per_sample(), t = m_tokens, samples = x.shape.n / t;
  for (std::size_t n = 0; n < samples; ++n) {
    for (std::size_t i = 0; i < t; ++i) {
      for (std::size_t c = 0; c < d; ++c) dx->data[(n * t + i) * d + c] = dy.data[(n * d + c) * t + i];
    }
  }
}

// ---- MultiHeadAttention -------------------------------------------------------

/// One batched GEMM: for every group g, C_g (m x n) = A_g (m x k) B_g (k x n).
struct MultiHeadAttention::Batched {
  std::size_t groups = 0, m = 0, n = 0, k = 0;
  const float* a = nullptr;
  GroupView av;
  const float* b = nullptr;
  GroupView bv;
  float* c = nullptr;
  GroupView cv;
};

MultiHeadAttention::MultiHeadAttention(std::string name, const AttentionSpec& spec)
    : Layer(std::move(name)),
      m_spec(spec),
      m_q(std::make_unique<Linear>(spec.q, spec.width, spec.width, true, spec.q_arith)),
      m_k(std::make_unique<Linear>(spec.k, spec.width, spec.width, true, spec.k_arith)),
      m_v(std::make_unique<Linear>(spec.v, spec.width, spec.width, true, spec.v_arith)),
      m_s_grads(spec.scores.params, spec.scores.gradscale),
      m_c_grads(spec.context.params, spec.context.gradscale) {
  if (spec.heads == 0 || spec.tokens == 0 || spec.width % spec.heads != 0) {
    throw std::logic_error("attention: width must be a multiple of the head count");
  }
}

Shape MultiHeadAttention::output_shape(const Shape& in) const {
  if (in.per_sample() != m_spec.width || in.n % m_spec.tokens != 0) {
    throw std::logic_error(name() + ": input " + in.str() + " is not whole samples of " +
                           std::to_string(m_spec.tokens) + " tokens of " + std::to_string(m_spec.width));
  }
  return in;
}

std::vector<Param*> MultiHeadAttention::params() {
  std::vector<Param*> out;
  for (Linear* l : {m_q.get(), m_k.get(), m_v.get()}) {
    for (Param* p : l->params()) out.push_back(p);
  }
  return out;
}

void MultiHeadAttention::init(Rng& rng) {
  m_q->init(rng);
  m_k->init(rng);
  m_v->init(rng);
  m_s_grads = GradientQuantizer(m_spec.scores.params, m_spec.scores.gradscale);
  m_c_grads = GradientQuantizer(m_spec.context.params, m_spec.context.gradscale);
  m_seed = rng.next_u64();
}

bool MultiHeadAttention::gradients_finite() const {
  return m_finite && m_q->gradients_finite() && m_k->gradients_finite() && m_v->gradients_finite();
}

void MultiHeadAttention::run(const Batched& b, const GemmFormats& f, const StepContext& ctx) const {
  const Accumulator acc = accumulator_of(f, m_spec.scores.params);
  ctx.count_gemm(b.groups * b.m, b.n, b.k);
  run_tasks(ctx.pool, b.groups, [&](std::size_t g) {
    gemm(acc, ConstMatrix{b.a + b.av.offset(g, m_spec.heads), b.m, b.k, b.av.ld},
         ConstMatrix{b.b + b.bv.offset(g, m_spec.heads), b.k, b.n, b.bv.ld},
         Matrix{b.c + b.cv.offset(g, m_spec.heads), b.m, b.n, b.cv.ld}, nullptr);
  });
}

void MultiHeadAttention::forward(const Tensor& x, Tensor& y, const StepContext& ctx) {
  const Shape out = output_shape(x.shape);
  const std::size_t t = m_spec.tokens, h = m_spec.heads, d = m_spec.width / h;
  const std::size_t groups = (x.shape.n / t) * h;
  const GroupView tok = tokens_view(t, m_spec.width, d);
  m_q->forward(x, m_qy, ctx);
  m_k->forward(x, m_ky, ctx);
  m_v->forward(x, m_vy, ctx);
  // As between layers: every GEMM result leaves the core in the storage format.
  if (m_spec.store_fp16) {
    for (Tensor* tensor : {&m_qy, &m_ky, &m_vy}) {
      round_to_fp16(tensor->data.data(), tensor->data.size(), 1.0f, tensor->data.data());
    }
  }
  const GemmFormats& sf = m_spec.scores.forward;
  quantize_activations(sf.a, m_qy.data.data(), m_qy.data.size(), clip_of(sf.a), m_qa, ctx.pool);
  quantize_activations(sf.b, m_ky.data.data(), m_ky.data.size(), clip_of(sf.b), m_kb, ctx.pool);
  // K_g^T (d x T) per group: the stationary operand of QK^T.
  m_t.resize(groups * d * t);
  run_tasks(ctx.pool, groups, [&](std::size_t g) {
    const float* k = m_kb.data() + tok.offset(g, h);
    float* kt = m_t.data() + g * d * t;
    for (std::size_t i = 0; i < t; ++i) {
      for (std::size_t j = 0; j < d; ++j) kt[j * t + i] = k[i * tok.ld + j];
    }
  });
  m_p.resize(groups * t * t);
  run(Batched{groups, t, t, d, m_qa.data(), tok, m_t.data(), block_view(h, d, t), m_p.data(), block_view(h, t, t)}, sf,
      ctx);
  // Softmax of each row of S / sqrt(d), its maximum subtracted first so that
  // exp() never overflows; sums in double, in column order.
  // The scores S (the operands' scales applied) leave the core in the storage format.
  scale_all(m_p.data(), m_p.size(), m_qa.scale * m_kb.scale);
  if (m_spec.store_fp16) round_to_fp16(m_p.data(), m_p.size(), 1.0f, m_p.data());
  const double logit_scale = 1.0 / std::sqrt(static_cast<double>(d));
  run_tasks(ctx.pool, groups, [&](std::size_t g) {
    for (std::size_t i = 0; i < t; ++i) {
      float* row = m_p.data() + (g * t + i) * t;
      const float top = *std::max_element(row, row + t);
      double sum = 0.0;
      for (std::size_t j = 0; j < t; ++j) {
        const double e = std::exp((static_cast<double>(row[j]) - top) * logit_scale);
        row[j] = static_cast<float>(e);
        sum += e;
      }
      const double inv = 1.0 / sum;
      for (std::size_t j = 0; j < t; ++j) row[j] = static_cast<float>(row[j] * inv);
    }
  });
  if (m_spec.store_fp16) round_to_fp16(m_p.data(), m_p.size(), 1.0f, m_p.data());
  const GemmFormats& cf = m_spec.context.forward;
  quantize_activations(cf.a, m_p.data(), m_p.size(), clip_of(cf.a), m_pa, ctx.pool);
  quantize_activations(cf.b, m_vy.data.data(), m_vy.data.size(), clip_of(cf.b), m_vb, ctx.pool);
  y.resize(out);
  run(Batched{groups, t, d, t, m_pa.data(), block_view(h, t, t), m_vb.data(), tok, y.data.data(), tok}, cf, ctx);
  scale_all(y.data.data(), y.data.size(), m_pa.scale * m_vb.scale);
}

void MultiHeadAttention::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                                  const StepContext& ctx) {
  const std::size_t t = m_spec.tokens, h = m_spec.heads, d = m_spec.width / h;
  const std::size_t groups = (x.shape.n / t) * h;
  if (dy.shape != x.shape || m_p.size() != groups * t * t) throw std::logic_error(name() + ": backward without forward");
  const GroupView tok = tokens_view(t, m_spec.width, d);
  const GroupView sq = block_view(h, t, t);
  // Transposes each group's rows x cols block of `src` (view `v`) into m_t.
  const auto transpose_groups = [&](const float* src, const GroupView& v, std::size_t rows, std::size_t cols) {
    m_t.resize(groups * rows * cols);
    run_tasks(ctx.pool, groups, [&](std::size_t g) {
      const float* s = src + v.offset(g, h);
      float* o = m_t.data() + g * rows * cols;
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) o[j * rows + i] = s[i * v.ld + j];
      }
    });
  };
  // The output gradient of one matmul, quantized for both backward GEMMs
  // (GradScale measured once; TPR odd phase for the input gradient).
  const auto quantize_grad = [&](GradientQuantizer& q, const LayerArith& a, const float* g, std::size_t n,
                                 std::uint64_t stream) {
    const Format measured = is_fp4(a.weight_grad.b) ? a.weight_grad.b : a.input_grad.a;
    m_finite = q.begin_step(measured, g, n) && m_finite;
    q.quantize(a.weight_grad.b, g, n, TprPhase::kEven, derive_seed(m_seed, 4 * ctx.step + stream), m_gw, ctx.pool);
    q.quantize(a.input_grad.a, g, n, a.tpr ? TprPhase::kOdd : TprPhase::kEven,
               derive_seed(m_seed, 4 * ctx.step + stream + 1), m_gi, ctx.pool);
  };
  m_finite = true;

  // PV: dP = dC V^T (input gradient), dV = P^T dC (weight gradient).
  const LayerArith& ca = m_spec.context;
  quantize_grad(m_c_grads, ca, dy.data.data(), dy.data.size(), 0);
  const QuantizedOperand& vi = activation_operand(ca.input_grad.b, m_vy.data.data(), m_vy.data.size(), m_vb, m_tmp);
  transpose_groups(vi.data(), tok, t, d);
  m_dp.resize(groups * t * t);
  run(Batched{groups, t, t, d, m_gi.data(), tok, m_t.data(), block_view(h, d, t), m_dp.data(), sq}, ca.input_grad, ctx);
  scale_all(m_dp.data(), m_dp.size(), m_gi.scale * vi.scale);
  const QuantizedOperand& pw = activation_operand(ca.weight_grad.a, m_p.data(), m_p.size(), m_pa, m_tmp);
  const float pw_scale = pw.scale;
  transpose_groups(pw.data(), sq, t, t);
  m_dv.resize(m_vy.shape);
  run(Batched{groups, t, d, t, m_t.data(), sq, m_gw.data(), tok, m_dv.data.data(), tok}, ca.weight_grad, ctx);
  scale_all(m_dv.data.data(), m_dv.data.size(), pw_scale * m_gw.scale);
  activation_backward(ca.forward.b, m_vy.data.data(), m_vy.data.size(), clip_of(ca.forward.b), m_dv.data.data());
  activation_backward(ca.forward.a, m_p.data(), m_p.size(), clip_of(ca.forward.a), m_dp.data());

  // Softmax backward: dS = P (dP - sum_j dP_j P_j), times the 1/sqrt(d) of the logits.
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  run_tasks(ctx.pool, groups, [&](std::size_t g) {
    for (std::size_t i = 0; i < t; ++i) {
      const float* p = m_p.data() + (g * t + i) * t;
      float* row = m_dp.data() + (g * t + i) * t;
      double dot = 0.0;
      for (std::size_t j = 0; j < t; ++j) dot += static_cast<double>(row[j]) * p[j];
      for (std::size_t j = 0; j < t; ++j) row[j] = static_cast<float>(p[j] * (row[j] - dot) * inv_sqrt_d);
    }
  });

  // QK^T: dQ = dS K (input gradient), dK = dS^T Q (weight gradient).
  const LayerArith& sa = m_spec.scores;
  quantize_grad(m_s_grads, sa, m_dp.data(), m_dp.size(), 2);
  const QuantizedOperand& ki = activation_operand(sa.input_grad.b, m_ky.data.data(), m_ky.data.size(), m_kb, m_tmp);
  m_dq.resize(m_qy.shape);
  run(Batched{groups, t, d, t, m_gi.data(), sq, ki.data(), tok, m_dq.data.data(), tok}, sa.input_grad, ctx);
  scale_all(m_dq.data.data(), m_dq.data.size(), m_gi.scale * ki.scale);
  transpose_groups(m_gw.data(), sq, t, t);
  const QuantizedOperand& qw = activation_operand(sa.weight_grad.a, m_qy.data.data(), m_qy.data.size(), m_qa, m_tmp);
  m_dk.resize(m_ky.shape);
  run(Batched{groups, t, d, t, m_t.data(), sq, qw.data(), tok, m_dk.data.data(), tok}, sa.weight_grad, ctx);
  scale_all(m_dk.data.data(), m_dk.data.size(), m_gw.scale * qw.scale);
  activation_backward(sa.forward.a, m_qy.data.data(), m_qy.data.size(), clip_of(sa.forward.a), m_dq.data.data());
  activation_backward(sa.forward.b, m_ky.data.data(), m_ky.data.size(), clip_of(sa.forward.b), m_dk.data.data());

  // The projections; dx = dx_q + dx_k + dx_v, added in that order.
  m_v->backward(x, m_vy, m_dv, dx != nullptr ? &m_dxv : nullptr, ctx);
  m_k->backward(x, m_ky, m_dk, dx != nullptr ? &m_dxk : nullptr, ctx);
  m_q->backward(x, m_qy, m_dq, dx, ctx);
  if (dx == nullptr) return;
  for (std::size_t i = 0; i < dx->data.size(); ++i) dx->data[i] = (dx->data[i] + m_dxk.data[i]) + m_dxv.data[i];
}

}  // namespace nibble::train
