#include "models/train/rng.hpp"

#include <cmath>

namespace nibble::train {

double Rng::uniform() {
  // The top 53 bits scaled by 2^-53: every double in [0, 1) on that grid is
  // equally likely, and the conversion is exact.
  return static_cast<double>(m_engine() >> 11) * 0x1.0p-53;
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
  // word of x * n is uniform on [0, n) once the low word clears the threshold.
  unsigned __int128 product = static_cast<unsigned __int128>(m_engine()) * n;
  auto low = static_cast<std::uint64_t>(product);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(m_engine()) * n;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

double Rng::normal() {
  if (m_has_spare) {
    m_has_spare = false;
    return m_spare;
  }
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * M_PI * u2;
  m_spare = radius * std::sin(angle);
  m_has_spare = true;
  return radius * std::cos(angle);
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  // SplitMix64 (Steele, Lea, Flood 2014) finaliser over the pair.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace nibble::train
