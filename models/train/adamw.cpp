#include "models/train/adamw.hpp"

#include <cmath>
#include <stdexcept>

namespace nibble::train {

void adamw_step(const std::vector<Param*>& params, const AdamWConfig& config, double lr, std::uint64_t t) {
  if (t == 0) throw std::logic_error("adamw_step: the step count starts at 1");
  const float rate = static_cast<float>(lr);
  const float b1 = static_cast<float>(config.beta1);
  const float b2 = static_cast<float>(config.beta2);
  const float decay = static_cast<float>(lr * config.weight_decay);
  const double td = static_cast<double>(t);
  const float correction1 = static_cast<float>(1.0 - std::pow(config.beta1, td));
  const float sqrt_correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(config.beta2, td)));
  const float eps = static_cast<float>(config.eps);
  for (Param* p : params) {
    if (p->moment2.size() != p->value.size()) p->moment2.assign(p->value.size(), 0.0f);
    const bool with_decay = p->decay && decay != 0.0f;
    for (std::size_t i = 0; i < p->value.size(); ++i) {
      const float g = p->grad[i];
      if (with_decay) p->value[i] -= decay * p->value[i];
      p->velocity[i] = b1 * p->velocity[i] + (1.0f - b1) * g;
      p->moment2[i] = b2 * p->moment2[i] + (1.0f - b2) * g * g;
      const float denom = std::sqrt(p->moment2[i]) / sqrt_correction2 + eps;
      p->value[i] -= rate * (p->velocity[i] / correction1) / denom;
      if (p->value[i] < p->floor) p->value[i] = p->floor;
    }
  }
}

}  // namespace nibble::train
