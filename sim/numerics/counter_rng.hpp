// Random bits for stochastic rounding, addressed by (seed, element index)
// rather than drawn from a sequential generator: element i of a tensor gets
// the same random number however the tensor is split into calls or threads,
// so stochastic quantization is reproducible bit for bit (docs/numerics.md).
#pragma once

#include <cstdint>

namespace nibble::numerics {

/// SplitMix64's output function: a bijective 64-bit mix (Steele et al., 2014).
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The random stream of one seed: element `index` gets
/// mix64(mix64(seed) + (index + 1) x golden) (SplitMix64 addressed by index).
class CounterRng {
 public:
  explicit CounterRng(std::uint64_t seed) : m_key(mix64(seed)) {}
  /// 24 uniform random bits for element `index`, as an integer in [0, 2^24):
  /// the rounding threshold u = result x 2^-24.
  std::uint32_t uniform24(std::uint64_t index) const {
    return static_cast<std::uint32_t>(mix64(m_key + (index + 1) * 0x9E3779B97F4A7C15ull) >> 40);
  }

 private:
  std::uint64_t m_key;  ///< mix64(seed), hoisted out of the per-element work
};

/// CounterRng(seed).uniform24(index), for one-off draws.
inline std::uint32_t uniform24(std::uint64_t seed, std::uint64_t index) { return CounterRng(seed).uniform24(index); }

/// A stream seed derived from `seed` for a second, independent use of the same
/// tensor (the odd TPR phase).
inline std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t salt) { return mix64(seed ^ mix64(salt)); }

}  // namespace nibble::numerics
