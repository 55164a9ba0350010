#include "models/train/layers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "models/train/parallel.hpp"

namespace nibble::train {

namespace {

void check_same(const Tensor& a, const Shape& shape, const std::string& what) {
  if (a.shape != shape) {
    throw std::logic_error(what + ": tensor is " + a.shape.str() + ", expected " + shape.str());
  }
}

}  // namespace

// ---- ReLU -------------------------------------------------------------------

void Relu::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.resize(x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) y.data[i] = x.data[i] > 0.0f ? x.data[i] : 0.0f;
}

void Relu::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  check_same(dy, x.shape, name() + " backward");
  dx->resize(x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) dx->data[i] = x.data[i] > 0.0f ? dy.data[i] : 0.0f;
}

// ---- max pooling --------------------------------------------------------------

MaxPool2d::MaxPool2d(std::string name, std::size_t kernel, std::size_t stride)
    : Layer(std::move(name)), m_kernel(kernel), m_stride(stride) {
  if (kernel == 0 || stride == 0) throw std::logic_error("maxpool: kernel and stride must be >= 1");
}

Shape MaxPool2d::output_shape(const Shape& in) const {
  if (in.h < m_kernel || in.w < m_kernel) {
    throw std::logic_error(name() + ": input " + in.str() + " smaller than the " + std::to_string(m_kernel) +
                           "x" + std::to_string(m_kernel) + " window");
  }
  return Shape{in.n, in.c, (in.h - m_kernel) / m_stride + 1, (in.w - m_kernel) / m_stride + 1};
}

void MaxPool2d::forward(const Tensor& x, Tensor& y, const StepContext&) {
  const Shape out = output_shape(x.shape);
  y.resize(out);
  m_argmax.resize(out.numel());
  const Shape& in = x.shape;
  for (std::size_t n = 0; n < in.n; ++n) {
    for (std::size_t c = 0; c < in.c; ++c) {
      const std::size_t in_base = (n * in.c + c) * in.plane();
      const std::size_t out_base = (n * out.c + c) * out.plane();
      for (std::size_t oy = 0; oy < out.h; ++oy) {
        for (std::size_t ox = 0; ox < out.w; ++ox) {
          float best = -std::numeric_limits<float>::infinity();
          std::size_t best_at = (oy * m_stride) * in.w + ox * m_stride;
          for (std::size_t ky = 0; ky < m_kernel; ++ky) {
            for (std::size_t kx = 0; kx < m_kernel; ++kx) {
              const std::size_t at = (oy * m_stride + ky) * in.w + ox * m_stride + kx;
              const float v = x.data[in_base + at];
              if (v > best) {  // strict: the first maximum wins
                best = v;
                best_at = at;
              }
            }
          }
          y.data[out_base + oy * out.w + ox] = best;
          m_argmax[out_base + oy * out.w + ox] = static_cast<std::uint32_t>(c * in.plane() + best_at);
        }
      }
    }
  }
}

void MaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  check_same(dy, y.shape, name() + " backward");
  dx->zeros(x.shape);
  const std::size_t out_per_sample = y.shape.per_sample();
  for (std::size_t n = 0; n < y.shape.n; ++n) {
    float* dxs = dx->sample(n);
    const float* dys = dy.sample(n);
    const std::uint32_t* arg = m_argmax.data() + n * out_per_sample;
    // Windows may overlap when stride < kernel, hence +=.
    for (std::size_t i = 0; i < out_per_sample; ++i) dxs[arg[i]] += dys[i];
  }
}

// ---- global average pooling -------------------------------------------------

void GlobalAvgPool::forward(const Tensor& x, Tensor& y, const StepContext&) {
  const std::size_t plane = x.shape.plane();
  y.resize(output_shape(x.shape));
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    const float* p = x.data.data() + i * plane;
    double sum = 0.0;
    for (std::size_t j = 0; j < plane; ++j) sum += p[j];
    y.data[i] = static_cast<float>(sum / static_cast<double>(plane));
  }
}

void GlobalAvgPool::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  check_same(dy, y.shape, name() + " backward");
  const std::size_t plane = x.shape.plane();
  const float inv = 1.0f / static_cast<float>(plane);
  dx->resize(x.shape);
  for (std::size_t i = 0; i < dy.data.size(); ++i) {
    const float g = dy.data[i] * inv;
    std::fill(dx->data.begin() + static_cast<std::ptrdiff_t>(i * plane),
              dx->data.begin() + static_cast<std::ptrdiff_t>((i + 1) * plane), g);
  }
}

// ---- flatten ------------------------------------------------------------------

void Flatten::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.shape = output_shape(x.shape);
  y.data = x.data;
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  dx->shape = x.shape;
  dx->data = dy.data;
}

// ---- batch normalization ----------------------------------------------------

NormLayer::NormLayer(std::string name, std::size_t features, float eps) : Layer(std::move(name)), m_eps(eps) {
  m_gamma.name = this->name() + ".weight";
  m_beta.name = this->name() + ".bias";
  m_gamma.decay = false;
  m_beta.decay = false;
  m_gamma.allocate(features);
  m_beta.allocate(features);
  std::fill(m_gamma.value.begin(), m_gamma.value.end(), 1.0f);
}

void NormLayer::init(Rng&) {
  std::fill(m_gamma.value.begin(), m_gamma.value.end(), 1.0f);
  std::fill(m_beta.value.begin(), m_beta.value.end(), 0.0f);
}

BatchNorm::BatchNorm(std::string name, std::size_t channels, float eps, float momentum)
    : NormLayer(std::move(name), channels, eps), m_channels(channels), m_momentum(momentum) {
  m_running_mean.assign(channels, 0.0f);
  m_running_var.assign(channels, 1.0f);
}

Shape BatchNorm::output_shape(const Shape& in) const {
  if (in.c != m_channels) {
    throw std::logic_error(name() + ": input has " + std::to_string(in.c) + " channels, expected " +
                           std::to_string(m_channels));
  }
  return in;
}

void BatchNorm::init(Rng& rng) {
  NormLayer::init(rng);
  std::fill(m_running_mean.begin(), m_running_mean.end(), 0.0f);
  std::fill(m_running_var.begin(), m_running_var.end(), 1.0f);
}

void BatchNorm::forward(const Tensor& x, Tensor& y, const StepContext& ctx) {
  const Shape& s = x.shape;
  output_shape(s);
  y.resize(s);
  const std::size_t plane = s.plane();
  const std::size_t count = s.n * plane;
  if (ctx.training) {
    if (count < 2) throw std::logic_error(name() + ": batch statistics need at least 2 values per channel");
    m_inv_std.assign(m_channels, 0.0f);
    m_xhat.resize(x.data.size());
  }
  for (std::size_t c = 0; c < m_channels; ++c) {
    float mean;
    float inv_std;
    if (ctx.training) {
      // Two passes in double: the statistics of a few thousand FP32 values.
      double sum = 0.0;
      for (std::size_t n = 0; n < s.n; ++n) {
        const float* p = x.data.data() + (n * s.c + c) * plane;
        for (std::size_t i = 0; i < plane; ++i) sum += p[i];
      }
      const double mu = sum / static_cast<double>(count);
      double sq = 0.0;
      for (std::size_t n = 0; n < s.n; ++n) {
        const float* p = x.data.data() + (n * s.c + c) * plane;
        for (std::size_t i = 0; i < plane; ++i) sq += (p[i] - mu) * (p[i] - mu);
      }
      const double var = sq / static_cast<double>(count);
      mean = static_cast<float>(mu);
      inv_std = static_cast<float>(1.0 / std::sqrt(var + m_eps));
      m_inv_std[c] = inv_std;
      const double unbiased = sq / static_cast<double>(count - 1);
      m_running_mean[c] = (1.0f - m_momentum) * m_running_mean[c] + m_momentum * mean;
      m_running_var[c] = (1.0f - m_momentum) * m_running_var[c] + m_momentum * static_cast<float>(unbiased);
    } else {
      mean = m_running_mean[c];
      inv_std = 1.0f / std::sqrt(m_running_var[c] + m_eps);
    }
    const float g = m_gamma.value[c];
    const float b = m_beta.value[c];
    for (std::size_t n = 0; n < s.n; ++n) {
      const std::size_t base = (n * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) {
        const float xhat = (x.data[base + i] - mean) * inv_std;
        if (ctx.training) m_xhat[base + i] = xhat;
        y.data[base + i] = g * xhat + b;
      }
    }
  }
}

void BatchNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  const Shape& s = x.shape;
  check_same(dy, s, name() + " backward");
  if (m_xhat.size() != x.data.size()) throw std::logic_error(name() + ": backward without a training forward");
  const std::size_t plane = s.plane();
  const double count = static_cast<double>(s.n * plane);
  if (dx != nullptr) dx->resize(s);
  for (std::size_t c = 0; c < m_channels; ++c) {
    double sum_dy = 0.0;
    double sum_dy_xhat = 0.0;
    for (std::size_t n = 0; n < s.n; ++n) {
      const std::size_t base = (n * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) {
        sum_dy += dy.data[base + i];
        sum_dy_xhat += static_cast<double>(dy.data[base + i]) * m_xhat[base + i];
      }
    }
    m_beta.grad[c] = static_cast<float>(sum_dy);
    m_gamma.grad[c] = static_cast<float>(sum_dy_xhat);
    if (dx == nullptr) continue;
    // dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat)).
    const float scale = m_gamma.value[c] * m_inv_std[c];
    const float mean_dy = static_cast<float>(sum_dy / count);
    const float mean_dy_xhat = static_cast<float>(sum_dy_xhat / count);
    for (std::size_t n = 0; n < s.n; ++n) {
      const std::size_t base = (n * s.c + c) * plane;
      for (std::size_t i = 0; i < plane; ++i) {
        dx->data[base + i] = scale * (dy.data[base + i] - mean_dy - m_xhat[base + i] * mean_dy_xhat);
      }
    }
  }
}

// ---- softmax cross-entropy --------------------------------------------------

double SoftmaxCrossEntropy::forward(const Tensor& logits, const std::vector<std::uint8_t>& labels) {
  const Shape& s = logits.shape;
  if (labels.size() != s.n) throw std::logic_error("loss: " + std::to_string(labels.size()) + " labels for " +
                                                   std::to_string(s.n) + " samples");
  const std::size_t classes = s.per_sample();
  m_prob.resize(s);
  double total = 0.0;
  for (std::size_t n = 0; n < s.n; ++n) {
    const float* z = logits.sample(n);
    float* p = m_prob.sample(n);
    float zmax = z[0];
    for (std::size_t j = 1; j < classes; ++j) zmax = std::max(zmax, z[j]);
    double denom = 0.0;
    for (std::size_t j = 0; j < classes; ++j) denom += std::exp(static_cast<double>(z[j] - zmax));
    const double log_denom = std::log(denom);
    for (std::size_t j = 0; j < classes; ++j) {
      p[j] = static_cast<float>(std::exp(static_cast<double>(z[j] - zmax) - log_denom));
    }
    if (labels[n] >= classes) throw std::logic_error("loss: label out of range");
    total += log_denom - static_cast<double>(z[labels[n]] - zmax);
  }
  return total / static_cast<double>(s.n);
}

void SoftmaxCrossEntropy::backward(const std::vector<std::uint8_t>& labels, Tensor& dlogits) const {
  const Shape& s = m_prob.shape;
  dlogits.resize(s);
  const float inv_n = 1.0f / static_cast<float>(s.n);
  const std::size_t classes = s.per_sample();
  for (std::size_t n = 0; n < s.n; ++n) {
    const float* p = m_prob.sample(n);
    float* d = dlogits.sample(n);
    for (std::size_t j = 0; j < classes; ++j) d[j] = (p[j] - (j == labels[n] ? 1.0f : 0.0f)) * inv_n;
  }
}

}  // namespace nibble::train
