#include "models/train/sgd.hpp"

#include <cmath>

namespace nibble::train {

void sgd_step(const std::vector<Param*>& params, const SgdConfig& config, double lr) {
  const float rate = static_cast<float>(lr);
  const float momentum = static_cast<float>(config.momentum);
  const float decay = static_cast<float>(config.weight_decay);
  for (Param* p : params) {
    const bool with_decay = p->decay && decay != 0.0f;
    for (std::size_t i = 0; i < p->value.size(); ++i) {
      const float g = with_decay ? p->grad[i] + decay * p->value[i] : p->grad[i];
      p->velocity[i] = momentum * p->velocity[i] + g;
      p->value[i] -= rate * p->velocity[i];
      if (p->value[i] < p->floor) p->value[i] = p->floor;
    }
  }
}

double cosine_lr(double peak, std::uint64_t step, std::uint64_t total_steps) {
  if (total_steps == 0) return peak;
  const double t = static_cast<double>(step) / static_cast<double>(total_steps);
  return peak * 0.5 * (1.0 + std::cos(M_PI * t));
}

double warmup_cosine_lr(double peak, std::uint64_t step, std::uint64_t warmup, std::uint64_t total_steps) {
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  return cosine_lr(peak, step - warmup, total_steps > warmup ? total_steps - warmup : 0);
}

}  // namespace nibble::train
