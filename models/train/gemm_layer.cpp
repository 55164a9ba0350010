#include "models/train/gemm_layer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/train/parallel.hpp"
#include "models/train/rng.hpp"
#include "sim/numerics/pact.hpp"

namespace nibble::train {

namespace {

using numerics::Format;

bool is_pact(Format f) { return f == Format::kUint4; }
bool is_fp4(Format f) { return f == Format::kFp4 || f == Format::kFp4Radix2; }

/// out (cols x rows) = in (rows x cols) transposed.
void transpose(const float* in, std::size_t rows, std::size_t cols, std::vector<float>& out) {
  out.resize(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  }
}

ConstMatrix cview(const std::vector<float>& v, std::size_t rows, std::size_t cols) {
  if (v.size() < rows * cols) throw std::logic_error("gemm operand smaller than its shape");
  return ConstMatrix{v.data(), rows, cols, cols};
}
Matrix mview(std::vector<float>& v, std::size_t rows, std::size_t cols) {
  v.resize(rows * cols);
  return Matrix{v.data(), rows, cols, cols};
}

void run_tasks(ThreadPool* pool, std::size_t tasks, const std::function<void(std::size_t)>& fn) {
  if (pool != nullptr) {
    pool->parallel_for(tasks, fn);
  } else {
    for (std::size_t t = 0; t < tasks; ++t) fn(t);
  }
}

}  // namespace

LayerArith LayerArith::fp32() { return LayerArith{}; }

// ---- GemmLayer ----------------------------------------------------------------

GemmLayer::GemmLayer(std::string name, const LayerArith& arith, std::size_t weights, std::size_t bias_size,
                     std::size_t fan_in)
    : Layer(std::move(name)), m_arith(arith), m_fan_in(fan_in), m_grads(arith.params, arith.gradscale) {
  // Each operand is quantized once per step, as the trace stores it once: the
  // backward GEMMs read the forward's weights and activations (every precision
  // policy gives them one format, train/policy.cpp).
  if (arith.input_grad.b != arith.forward.b || arith.weight_grad.a != arith.forward.a) {
    throw std::logic_error(this->name() + ": the backward GEMMs read the forward's weight and activation formats");
  }
  m_weight.name = this->name() + ".weight";
  m_weight.allocate(weights);
  if (bias_size > 0) {
    m_bias.name = this->name() + ".bias";
    m_bias.decay = false;
    m_bias.allocate(bias_size);
  }
  if (is_pact(arith.forward.a)) {
    // PACT regularizes the clip level like a weight (Choi et al. 2018).
    m_alpha.name = this->name() + ".pact_alpha";
    m_alpha.allocate(1);
    m_alpha.value[0] = kInitialAlpha;
    m_alpha.floor = kAlphaFloor;
  }
}

std::vector<Param*> GemmLayer::params() {
  std::vector<Param*> out{&m_weight};
  if (!m_bias.value.empty()) out.push_back(&m_bias);
  if (!m_alpha.value.empty()) out.push_back(&m_alpha);
  return out;
}

void GemmLayer::init(Rng& rng) {
  // PyTorch's default for Linear and Conv2d: kaiming_uniform(a = sqrt(5)),
  // i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases alike.
  const double bound = 1.0 / std::sqrt(static_cast<double>(m_fan_in));
  for (float& w : m_weight.value) w = static_cast<float>(rng.uniform(-bound, bound));
  for (float& b : m_bias.value) b = static_cast<float>(rng.uniform(-bound, bound));
  if (!m_alpha.value.empty()) m_alpha.value[0] = kInitialAlpha;
  m_alpha_set = false;
  for (Param* p : params()) std::fill(p->velocity.begin(), p->velocity.end(), 0.0f);
  m_grads = GradientQuantizer(m_arith.params, m_arith.gradscale);
  m_seed = rng.next_u64();
}

Accumulator accumulator_of(const GemmFormats& f, const ArithParams& params) {
  Accumulator acc;
  acc.format = f.acc;
  if (f.acc == Format::kInt32) acc.lsb = fixed_point_lsb(f.a, f.b, params.fp4_bias);
  if (f.acc == Format::kFp16Chunked) acc.chunk = params.chunk;
  if (f.acc == Format::kFp16 || f.acc == Format::kFp16Chunked) {
    acc.products_fp16 = products_are_fp16(f.a, f.b, params.fp4_bias);
    acc.dot = f.dot;
  }
  return acc;
}

Accumulator GemmLayer::accumulator(const GemmFormats& f) const { return accumulator_of(f, m_arith.params); }

Accumulator GemmLayer::accumulator(const GemmFormats& f, const GemmBlockQuant& q) const {
  Accumulator acc = accumulator(f);
  // Block formats sit on the FP32 base (train/policy.cpp): an FP32 accumulator.
  if (acc.format == Format::kFp32) acc.block = block_gemm_length(q);
  return acc;
}

const float* GemmLayer::block_operand(Role role, const float* x, std::size_t rows, std::size_t cols,
                                      bool reduce_along_cols, const StepContext& ctx, std::vector<float>& scratch,
                                      float* scale) const {
  const BlockArith& b = m_arith.block;
  const OperandQuant* q[] = {&b.forward.a,    &b.forward.b,     &b.input_grad.a,
                             &b.input_grad.b, &b.weight_grad.a, &b.weight_grad.b};
  const auto r = static_cast<std::uint64_t>(role);
  // Streams of their own (salted away from the FP4 gradient streams); the
  // Hadamard signs depend on the step only, so both weight-gradient operands share them.
  const std::uint64_t base = derive_seed(m_seed, 0xB10C);
  return quantize_gemm_operand(*q[r], x, rows, cols, reduce_along_cols, derive_seed(base, ctx.step * 8 + r),
                               derive_seed(base, ctx.step * 8 + 7), scratch, scale, ctx.pool);
}

void GemmLayer::quantize_forward(const Tensor& x, const StepContext& ctx) {
  if (!m_alpha.value.empty() && ctx.training && !m_alpha_set) {
    // alpha learns only from the values it clips (its gradient is the sum
    // over x >= alpha) and from weight decay. A fixed initial clip (6) sat
    // above every activation of fmnist-cnn, and so did the first batch's
    // largest activation, the next choice: in fmnist-resnet 1 value in 10^5
    // reached it, alpha stayed near where it started (UINT4 steps of 0.39 to
    // 0.64) and 10 to 21 % of the positive activations rounded to 0
    // (docs/training.md). The clip that minimizes the first
    // batch's quantization error clips some values, so alpha learns in both
    // directions from the first step.
    const float mse_alpha = numerics::pact_mse_alpha(x.data.data(), x.data.size());
    if (mse_alpha > kAlphaFloor) m_alpha.value[0] = mse_alpha;
    m_alpha_set = true;
  }
  const float alpha = m_alpha.value.empty() ? 0.0f : m_alpha.value[0];
  quantize_activations(m_arith.forward.a, x.data.data(), x.data.size(), alpha, m_x, ctx.pool);
  quantize_weights(m_arith.forward.b, m_weight.value.data(), m_weight.value.size(), m_w, ctx.pool);
}

void GemmLayer::quantize_backward(const Tensor& dy, const StepContext& ctx, bool need_input_grad) {
  // GradScale measures dy once per step; both TPR phases use that scale.
  const Format measured = is_fp4(m_arith.weight_grad.b) ? m_arith.weight_grad.b : m_arith.input_grad.a;
  m_finite = m_grads.begin_step(measured, dy.data.data(), dy.data.size());
  m_grads.quantize(m_arith.weight_grad.b, dy.data.data(), dy.data.size(), TprPhase::kEven,
                   derive_seed(m_seed, 2 * ctx.step), m_g_wgrad, ctx.pool);
  if (need_input_grad) {
    const TprPhase phase = m_arith.tpr ? TprPhase::kOdd : TprPhase::kEven;
    m_grads.quantize(m_arith.input_grad.a, dy.data.data(), dy.data.size(), phase,
                     derive_seed(m_seed, 2 * ctx.step + 1), m_g_igrad, ctx.pool);
  }
}

void GemmLayer::activation_ste(const Tensor& x, Tensor& dx) {
  const float alpha = m_alpha.value.empty() ? 0.0f : m_alpha.value[0];
  const double dalpha = activation_backward(m_arith.forward.a, x.data.data(), x.data.size(), alpha, dx.data.data());
  if (!m_alpha.value.empty()) m_alpha.grad[0] = static_cast<float>(dalpha);
}

void GemmLayer::bias_grad(const Tensor& dy, std::size_t plane) {
  if (m_bias.value.empty()) return;
  const std::size_t channels = m_bias.value.size();
  for (std::size_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (std::size_t n = 0; n < dy.shape.n; ++n) {
      const float* p = dy.sample(n) + c * plane;
      for (std::size_t i = 0; i < plane; ++i) sum += p[i];
    }
    m_bias.grad[c] = static_cast<float>(sum);
  }
}

// ---- Linear -------------------------------------------------------------------

Linear::Linear(std::string name, std::size_t in, std::size_t out, bool bias, const LayerArith& arith)
    : GemmLayer(std::move(name), arith, in * out, bias ? out : 0, in), m_in(in), m_out(out) {}

Shape Linear::output_shape(const Shape& in) const {
  if (in.per_sample() != m_in) {
    throw std::logic_error(name() + ": input " + in.str() + " has " + std::to_string(in.per_sample()) +
                           " features per sample, expected " + std::to_string(m_in));
  }
  return Shape{in.n, m_out, 1, 1};
}

void Linear::forward(const Tensor& x, Tensor& y, const StepContext& ctx) {
  const Shape out = output_shape(x.shape);
  const std::size_t n = x.shape.n;
  quantize_forward(x, ctx);
  float block_scale = 1.0f;
  const float* xa = block_operand(Role::kForwardA, m_x.data(), n, m_in, true, ctx, m_block_a, &block_scale);
  const float* wb = block_operand(Role::kForwardB, m_w.data(), m_out, m_in, true, ctx, m_block_b, &block_scale);
  transpose(wb, m_out, m_in, m_wt);
  ctx.count_gemm(n, m_out, m_in);
  gemm(accumulator(m_arith.forward, m_arith.block.forward), ConstMatrix{xa, n, m_in, m_in}, cview(m_wt, m_in, m_out),
       mview(m_tmp, n, m_out), ctx.pool);
  y.resize(out);
  const float scale = m_x.scale * m_w.scale * block_scale;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t o = 0; o < m_out; ++o) {
      y.data[i * m_out + o] = scale * m_tmp[i * m_out + o] + (m_bias.value.empty() ? 0.0f : m_bias.value[o]);
    }
  }
}

void Linear::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext& ctx) {
  const std::size_t n = x.shape.n;
  if (dy.shape != Shape{n, m_out, 1, 1}) throw std::logic_error(name() + ": dy has shape " + dy.shape.str());
  bias_grad(dy, 1);
  quantize_backward(dy, ctx, dx != nullptr);

  // Weight gradient dW (O x I) = dY^T (O x N) . X (N x I), k = n.
  const QuantizedOperand& xw = m_x;
  // Block formats re-quantize both operands along the batch, the reduction here.
  float wblock = 1.0f;
  const float* gw = block_operand(Role::kWeightGradB, m_g_wgrad.data(), n, m_out, false, ctx, m_block_b, &wblock);
  const float* xwq = block_operand(Role::kWeightGradA, xw.data(), n, m_in, false, ctx, m_block_a, &wblock);
  transpose(gw, n, m_out, m_gt);
  ctx.count_gemm(m_out, m_in, n);
  gemm(accumulator(m_arith.weight_grad, m_arith.block.weight_grad), cview(m_gt, m_out, n), ConstMatrix{xwq, n, m_in, m_in},
       Matrix{m_weight.grad.data(), m_out, m_in, m_in}, ctx.pool);
  const float wscale = m_g_wgrad.scale * xw.scale * wblock;
  for (float& g : m_weight.grad) g *= wscale;

  if (dx == nullptr) return;
  // Input gradient dX (N x I) = dY (N x O) . W (O x I), k = o.
  const QuantizedOperand& wi = m_w;
  dx->resize(x.shape);
  float iblock = 1.0f;
  const float* gi = block_operand(Role::kInputGradA, m_g_igrad.data(), n, m_out, true, ctx, m_block_a, &iblock);
  const float* wiq = block_operand(Role::kInputGradB, wi.data(), m_out, m_in, false, ctx, m_block_b, &iblock);
  ctx.count_gemm(n, m_in, m_out);
  gemm(accumulator(m_arith.input_grad, m_arith.block.input_grad), ConstMatrix{gi, n, m_out, m_out}, ConstMatrix{wiq, m_out, m_in, m_in},
       Matrix{dx->data.data(), n, m_in, m_in}, ctx.pool);
  const float iscale = m_g_igrad.scale * wi.scale * iblock;
  for (float& g : dx->data) g *= iscale;
  activation_ste(x, *dx);
}

// ---- Conv2d -------------------------------------------------------------------

Conv2d::Conv2d(std::string name, std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
               std::size_t stride, std::size_t pad, bool bias, const LayerArith& arith)
    : GemmLayer(std::move(name), arith, out_channels * in_channels * kernel * kernel, bias ? out_channels : 0,
                in_channels * kernel * kernel),
      m_cin(in_channels),
      m_cout(out_channels),
      m_kernel(kernel),
      m_stride(stride),
      m_pad(pad) {
  if (kernel == 0 || stride == 0) throw std::logic_error("conv2d: kernel and stride must be >= 1");
}

Shape Conv2d::output_shape(const Shape& in) const {
  if (in.c != m_cin) {
    throw std::logic_error(name() + ": input has " + std::to_string(in.c) + " channels, expected " +
                           std::to_string(m_cin));
  }
  if (in.h + 2 * m_pad < m_kernel || in.w + 2 * m_pad < m_kernel) {
    throw std::logic_error(name() + ": input " + in.str() + " smaller than the kernel");
  }
  return Shape{in.n, m_cout, (in.h + 2 * m_pad - m_kernel) / m_stride + 1,
               (in.w + 2 * m_pad - m_kernel) / m_stride + 1};
}

void Conv2d::forward(const Tensor& x, Tensor& y, const StepContext& ctx) {
  const Shape out = output_shape(x.shape);
  const Shape& in = x.shape;
  const std::size_t pq = out.plane();
  const std::size_t npq = in.n * pq;
  const std::size_t crs = m_cin * m_kernel * m_kernel;
  quantize_forward(x, ctx);

  // im2col: cols[(c, r, s)][(n, p, q)], one task per sample (disjoint columns).
  m_cols.resize(crs * npq);
  const float* xu = m_x.data();
  run_tasks(ctx.pool, in.n, [&](std::size_t n) {
    for (std::size_t c = 0; c < m_cin; ++c) {
      for (std::size_t r = 0; r < m_kernel; ++r) {
        for (std::size_t s = 0; s < m_kernel; ++s) {
          float* dst = m_cols.data() + ((c * m_kernel + r) * m_kernel + s) * npq + n * pq;
          const float* src = xu + (n * m_cin + c) * in.plane();
          for (std::size_t p = 0; p < out.h; ++p) {
            const std::ptrdiff_t yy = static_cast<std::ptrdiff_t>(p * m_stride + r) - static_cast<std::ptrdiff_t>(m_pad);
            for (std::size_t q = 0; q < out.w; ++q) {
              const std::ptrdiff_t xx =
                  static_cast<std::ptrdiff_t>(q * m_stride + s) - static_cast<std::ptrdiff_t>(m_pad);
              const bool inside = yy >= 0 && yy < static_cast<std::ptrdiff_t>(in.h) && xx >= 0 &&
                                  xx < static_cast<std::ptrdiff_t>(in.w);
              dst[p * out.w + q] = inside ? src[static_cast<std::size_t>(yy) * in.w + static_cast<std::size_t>(xx)] : 0.0f;
            }
          }
        }
      }
    }
  });

  float block_scale = 1.0f;
  const float* wq = block_operand(Role::kForwardB, m_w.data(), m_cout, crs, true, ctx, m_block_b, &block_scale);
  const float* cq = block_operand(Role::kForwardA, m_cols.data(), crs, npq, false, ctx, m_block_a, &block_scale);
  ctx.count_gemm(m_cout, npq, crs);
  gemm(accumulator(m_arith.forward, m_arith.block.forward), ConstMatrix{wq, m_cout, crs, crs}, ConstMatrix{cq, crs, npq, npq},
       mview(m_result, m_cout, npq), ctx.pool);
  y.resize(out);
  const float scale = m_x.scale * m_w.scale * block_scale;
  run_tasks(ctx.pool, in.n, [&](std::size_t n) {
    for (std::size_t k = 0; k < m_cout; ++k) {
      const float bias = m_bias.value.empty() ? 0.0f : m_bias.value[k];
      const float* src = m_result.data() + k * npq + n * pq;
      float* dst = y.data.data() + (n * m_cout + k) * pq;
      for (std::size_t i = 0; i < pq; ++i) dst[i] = scale * src[i] + bias;
    }
  });
}

void Conv2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) {
  const Shape& in = x.shape;
  const Shape& out = y.shape;
  if (dy.shape != out) throw std::logic_error(name() + ": dy has shape " + dy.shape.str());
  const std::size_t pq = out.plane();
  const std::size_t npq = in.n * pq;
  const std::size_t rs = m_kernel * m_kernel;
  const std::size_t crs = m_cin * rs;
  bias_grad(dy, pq);
  quantize_backward(dy, ctx, dx != nullptr);

  // Weight gradient dW^T (CRS x K) = cols (CRS x NPQ) . dY rows (NPQ x K), k = (n, p, q).
  const QuantizedOperand* xw = &m_x;
  m_grows.resize(npq * m_cout);
  run_tasks(ctx.pool, in.n, [&](std::size_t n) {
    for (std::size_t k = 0; k < m_cout; ++k) {
      const float* src = m_g_wgrad.data() + (n * m_cout + k) * pq;
      for (std::size_t i = 0; i < pq; ++i) m_grows[(n * pq + i) * m_cout + k] = src[i];
    }
  });
  float wblock = 1.0f;
  const float* cq = block_operand(Role::kWeightGradA, m_cols.data(), crs, npq, true, ctx, m_block_a, &wblock);
  const float* gq = block_operand(Role::kWeightGradB, m_grows.data(), npq, m_cout, false, ctx, m_block_b, &wblock);
  ctx.count_gemm(crs, m_cout, npq);
  gemm(accumulator(m_arith.weight_grad, m_arith.block.weight_grad), ConstMatrix{cq, crs, npq, npq}, ConstMatrix{gq, npq, m_cout, m_cout},
       mview(m_result, crs, m_cout), ctx.pool);
  const float wscale = m_g_wgrad.scale * xw->scale * wblock;
  for (std::size_t k = 0; k < m_cout; ++k) {
    for (std::size_t j = 0; j < crs; ++j) m_weight.grad[k * crs + j] = wscale * m_result[j * m_cout + k];
  }

  if (dx == nullptr) return;
  // Input gradient as the trace expansion runs it: the column gradient
  // dCol^T (CRS x NPQ) = W^T (CRS x K) . dY (K x NPQ), k = output channel,
  // then col2im scatters dCol into dX, adding in the accumulator's format.
  const QuantizedOperand& wi = m_w;
  float iblock = 1.0f;
  const float* wiq = block_operand(Role::kInputGradB, wi.data(), m_cout, crs, false, ctx, m_block_b, &iblock);
  m_wt.resize(crs * m_cout);
  for (std::size_t k = 0; k < m_cout; ++k) {
    for (std::size_t j = 0; j < crs; ++j) m_wt[j * m_cout + k] = wiq[k * crs + j];
  }
  m_gk.resize(m_cout * npq);
  run_tasks(ctx.pool, in.n, [&](std::size_t n) {
    for (std::size_t k = 0; k < m_cout; ++k) {
      const float* src = m_g_igrad.data() + (n * m_cout + k) * pq;
      std::copy(src, src + pq, m_gk.data() + k * npq + n * pq);
    }
  });
  const float* gkq = block_operand(Role::kInputGradA, m_gk.data(), m_cout, npq, false, ctx, m_block_a, &iblock);
  const Accumulator acc = accumulator(m_arith.input_grad, m_arith.block.input_grad);
  ctx.count_gemm(crs, npq, m_cout);
  gemm(acc, cview(m_wt, crs, m_cout), ConstMatrix{gkq, m_cout, npq, npq}, mview(m_result, crs, npq), ctx.pool);
  dx->zeros(in);
  // col2im, one task per sample. Each dX element receives its contributions
  // in (r, s) row-major order, starting from +0 (the loops over r and s are
  // outside the loops over positions).
  run_tasks(ctx.pool, in.n, [&](std::size_t n) {
    for (std::size_t c = 0; c < m_cin; ++c) {
      float* plane = dx->data.data() + (n * m_cin + c) * in.plane();
      for (std::size_t r = 0; r < m_kernel; ++r) {
        for (std::size_t s = 0; s < m_kernel; ++s) {
          const float* src = m_result.data() + ((c * m_kernel + r) * m_kernel + s) * npq + n * pq;
          for (std::size_t p = 0; p < out.h; ++p) {
            const std::ptrdiff_t yy = static_cast<std::ptrdiff_t>(p * m_stride + r) - static_cast<std::ptrdiff_t>(m_pad);
            if (yy < 0 || yy >= static_cast<std::ptrdiff_t>(in.h)) continue;
            float* row = plane + static_cast<std::size_t>(yy) * in.w;
            const float* from = src + p * out.w;
            if (m_stride == 1) {
              // x = q + s - pad: the valid q form one contiguous run.
              const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(s) - static_cast<std::ptrdiff_t>(m_pad);
              const std::ptrdiff_t q0 = std::max<std::ptrdiff_t>(0, -shift);
              const std::ptrdiff_t q1 = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(out.w),
                                                                 static_cast<std::ptrdiff_t>(in.w) - shift);
              if (q1 > q0) {
                add_rounded(acc, row + q0 + shift, from + q0, static_cast<std::size_t>(q1 - q0));
              }
            } else {
              for (std::size_t q = 0; q < out.w; ++q) {
                const std::ptrdiff_t xx =
                    static_cast<std::ptrdiff_t>(q * m_stride + s) - static_cast<std::ptrdiff_t>(m_pad);
                if (xx >= 0 && xx < static_cast<std::ptrdiff_t>(in.w)) {
                  add_rounded(acc, row + xx, from + q, 1);
                }
              }
            }
          }
        }
      }
    }
  });
  const float iscale = m_g_igrad.scale * wi.scale * iblock;
  for (float& v : dx->data) v *= iscale;
  activation_ste(x, *dx);
}

}  // namespace nibble::train
