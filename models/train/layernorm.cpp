#include "models/train/layernorm.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nibble::train {

LayerNorm::LayerNorm(std::string name, std::size_t features, float eps)
    : NormLayer(std::move(name), features, eps), m_features(features) {}

Shape LayerNorm::output_shape(const Shape& in) const {
  if (in.per_sample() != m_features) {
    throw std::logic_error(name() + ": input " + in.str() + " has " + std::to_string(in.per_sample()) +
                           " features per sample, expected " + std::to_string(m_features));
  }
  return in;
}


void LayerNorm::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.resize(output_shape(x.shape));
  const std::size_t d = m_features;
  m_inv_std.resize(x.shape.n);
  m_xhat.resize(x.data.size());
  for (std::size_t n = 0; n < x.shape.n; ++n) {
    const float* p = x.sample(n);
    double sum = 0.0;
    for (std::size_t i = 0; i < d; ++i) sum += p[i];
    const double mean = sum / static_cast<double>(d);
    double sq = 0.0;
    for (std::size_t i = 0; i < d; ++i) sq += (p[i] - mean) * (p[i] - mean);
    const double inv_std = 1.0 / std::sqrt(sq / static_cast<double>(d) + m_eps);
    m_inv_std[n] = static_cast<float>(inv_std);
    float* xhat = m_xhat.data() + n * d;
    float* out = y.sample(n);
    for (std::size_t i = 0; i < d; ++i) {
      xhat[i] = static_cast<float>((p[i] - mean) * inv_std);
      out[i] = m_gamma.value[i] * xhat[i] + m_beta.value[i];
    }
  }
}

void LayerNorm::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dy.shape != x.shape) throw std::logic_error(name() + ": dy has shape " + dy.shape.str());
  if (m_xhat.size() != x.data.size()) throw std::logic_error(name() + ": backward without a forward");
  const std::size_t d = m_features;
  std::vector<double> dgamma(d, 0.0);
  std::vector<double> dbeta(d, 0.0);
  if (dx != nullptr) dx->resize(x.shape);
  for (std::size_t n = 0; n < x.shape.n; ++n) {
    const float* g = dy.sample(n);
    const float* xhat = m_xhat.data() + n * d;
    // dx = inv_std (gamma dy - mean(gamma dy) - xhat mean(gamma dy xhat)).
    double sum_gdy = 0.0;
    double sum_gdy_xhat = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      dgamma[i] += static_cast<double>(g[i]) * xhat[i];
      dbeta[i] += g[i];
      const double gdy = static_cast<double>(m_gamma.value[i]) * g[i];
      sum_gdy += gdy;
      sum_gdy_xhat += gdy * xhat[i];
    }
    if (dx == nullptr) continue;
    const double mean_gdy = sum_gdy / static_cast<double>(d);
    const double mean_gdy_xhat = sum_gdy_xhat / static_cast<double>(d);
    float* out = dx->sample(n);
    for (std::size_t i = 0; i < d; ++i) {
      const double gdy = static_cast<double>(m_gamma.value[i]) * g[i];
      out[i] = static_cast<float>(m_inv_std[n] * (gdy - mean_gdy - xhat[i] * mean_gdy_xhat));
    }
  }
  for (std::size_t i = 0; i < d; ++i) {
    m_gamma.grad[i] = static_cast<float>(dgamma[i]);
    m_beta.grad[i] = static_cast<float>(dbeta[i]);
  }
}

namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

}  // namespace

void Gelu::forward(const Tensor& x, Tensor& y, const StepContext&) {
  y.resize(x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    const double v = x.data[i];
    y.data[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v * kInvSqrt2)));
  }
}

void Gelu::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, const StepContext&) {
  if (dx == nullptr) return;
  if (dy.shape != x.shape) throw std::logic_error(name() + ": dy has shape " + dy.shape.str());
  dx->resize(x.shape);
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    const double v = x.data[i];
    const double cdf = 0.5 * (1.0 + std::erf(v * kInvSqrt2));
    const double pdf = kInvSqrt2Pi * std::exp(-0.5 * v * v);
    dx->data[i] = static_cast<float>(dy.data[i] * (cdf + v * pdf));
  }
}

}  // namespace nibble::train
