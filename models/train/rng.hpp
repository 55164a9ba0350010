// Random numbers for the training emulator, defined bit for bit.
//
// std::uniform_real_distribution, std::normal_distribution and std::shuffle
// are implementation-defined, so a result produced with them may change with
// the standard library. Everything random in models/train (initialisation,
// shuffling, stochastic rounding seeds) goes through Rng instead, whose output
// depends only on std::mt19937_64 (fully specified by the standard) and on
// the arithmetic written here.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace nibble::train {

class Rng {
 public:
  /// A generator seeded with `seed`; equal seeds give equal sequences everywhere.
  explicit Rng(std::uint64_t seed) : m_engine(seed) {}

  /// The next raw 64-bit word.
  std::uint64_t next_u64() { return m_engine(); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject); n >= 1.
  std::uint64_t below(std::uint64_t n);
  /// Standard normal (Box-Muller on two uniforms; the second value is cached).
  double normal();

  /// Fisher-Yates shuffle of `values` (std::shuffle's algorithm is unspecified).
  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (std::size_t i = values.size(); i > 1; --i) {
      const std::size_t j = static_cast<std::size_t>(below(i));
      std::swap(values[i - 1], values[j]);
    }
  }

 private:
  std::mt19937_64 m_engine;       ///< the only source of randomness
  bool m_has_spare = false;       ///< normal(): a second Box-Muller value is cached
  double m_spare = 0.0;           ///< that value
};

/// A seed for an independent stream derived from (`seed`, `stream`) by
/// SplitMix64 mixing, so that e.g. each layer's stochastic rounding has its own
/// reproducible generator whatever the order in which layers draw.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace nibble::train
