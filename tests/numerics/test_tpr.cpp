// Two-phase rounding. The target once set: "the mean relative bias of
// (even + odd) / 2 is at least 10x smaller than that of either phase" over
// log-uniform samples. That cannot hold: the bias of the average is the
// average of the two biases, and over whole radix-4 periods the two phases
// have the SAME bias (the odd grid is the even grid shifted by one octave,
// and a log-uniform distribution over whole periods is shift invariant).
// These tests pin what is true instead, against numbers derived analytically
// in docs/numerics.md ("TPR: what cancels and what does not"):
//   y = 2^t, t uniform; phi = t mod 2 (position in the even phase's period).
//   Nearest-in-log2, even phase:  q/y = 2^-phi (phi < 1),  2^(2-phi) (phi >= 1)
//                    odd phase:   q/y = 2^(1-phi)
//   mean q/y - 1, one phase, whole periods:  3 / (4 ln 2) - 1 = +0.082021
//   mean of the TPR average:                  the same, +0.082021
//   nearest-in-value (threshold 2.5L):        3 / (5 ln 2) - 1 = -0.134383
//   lower octave (phi < 1): even 1/(2 ln 2) - 1 = -0.278652, odd 1/ln 2 - 1 = +0.442695
//   RMS of q/y - 1: one phase sqrt(15/(16 ln 2) - 3/(2 ln 2) + 1) = 0.434147,
//                   TPR average sqrt(27/(32 ln 2) - 3/(2 ln 2) + 1) = 0.230719
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sim/numerics/error.hpp"
#include "sim/numerics/gradscale.hpp"
#include "sim/numerics/tpr.hpp"

namespace nibble::numerics {
namespace {

const double kLn2 = std::log(2.0);

Fp4Params even_params(float scale, Fp4Rounding rounding = Fp4Rounding::kNearestLog2) {
  Fp4Params p;
  p.scale = scale;
  p.rounding = rounding;
  return p;
}

TEST(Tpr, PhasesRoundThreeToDifferentCodes) {
  // Scale 16, bias 7: even grid 16 x 4^(e-7) = ..., 1, 4, 16; odd grid (scale 8) ..., 0.5, 2, 8.
  // 3 lies between 1 and 4 (log2 midpoint 2): even -> 4 = 16 x 4^-1, e = 6.
  // 3 lies between 2 and 8 (log2 midpoint 4): odd  -> 2 = 8 x 4^-1, e = 6 (the same code, worth half).
  const TprQuantizer tpr(even_params(16.0f));
  EXPECT_EQ(tpr.odd().params().scale, 8.0f);
  const float x = 3.0f;
  std::uint8_t even = 0;
  std::uint8_t odd = 0;
  tpr.quantize(&x, 1, &even, &odd);
  EXPECT_EQ(even, 0b0110);
  EXPECT_EQ(odd, 0b0110);
  float even_value = 0;
  float odd_value = 0;
  tpr.quantize_dequantize(&x, 1, &even_value, &odd_value);
  EXPECT_EQ(even_value, 4.0f);
  EXPECT_EQ(odd_value, 2.0f);  // the odd phase's values include its factor 1/2
  EXPECT_EQ((even_value + odd_value) / 2, 3.0f);  // here the average happens to be exact
}

TEST(Tpr, PhasesAreTheTwoPowersOfTwoBracketingEachValue) {
  // Scale 1024: even levels 2^(2e-4) (2^-2 .. 2^10), odd levels (scale 512) 2^(2e-5) (2^-3 .. 2^9).
  // For y in [2^-1, 2^10) neither phase flushes, only the odd phase saturates (y >= 2^9, onto
  // 2^9 = the bracket's lower end), and {q_even, q_odd} = {2^k, 2^(k+1)} with
  // k = floor(log2 y): one rounds down (or is exact), the other up.
  const TprQuantizer tpr(even_params(1024.0f));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> t(-1.0, 10.0);
  const std::size_t n = 100000;
  std::vector<float> y(n);
  for (auto& v : y) v = static_cast<float>(std::exp2(t(rng)));
  y[0] = 0.5f;   // powers of two themselves: one phase is exact, the other doubles
  y[1] = 1.0f;
  y[2] = std::nextafter(1024.0f, 0.0f);
  std::vector<float> qe(n);
  std::vector<float> qo(n);
  tpr.quantize_dequantize(y.data(), n, qe.data(), qo.data());
  for (std::size_t i = 0; i < n; ++i) {
    const float lo = std::ldexp(1.0f, std::ilogb(y[i]));  // 2^floor(log2 y), exactly
    const float hi = 2 * lo;
    ASSERT_EQ(std::min(qe[i], qo[i]), lo) << y[i];
    ASSERT_EQ(std::max(qe[i], qo[i]), hi) << y[i];
    ASSERT_EQ((qe[i] + qo[i]) / 2, 1.5f * lo) << y[i];  // the arithmetic midpoint of the radix-2 bracket
  }
}

struct PhaseStats {
  double bias_even = 0, bias_odd = 0, bias_avg = 0;  // mean of q/y - 1
  double rms_even = 0, rms_avg = 0;                  // sqrt(mean((q/y - 1)^2))
  double lower_even = 0, lower_odd = 0;              // mean over phi < 1
  double upper_even = 0, upper_odd = 0;              // mean over phi >= 1
};

/// 10^6 log-uniform samples over three whole periods of both grids.
PhaseStats log_uniform_stats(Fp4Rounding rounding) {
  // Scale 64: even levels 4^(e-4) (4^-3 .. 4^3), odd levels 4^(e-4) / 2 (2^-7 .. 2^5).
  // Samples y = 2^t, t in [-2, 4): y in [1/4, 16), away from flushing and saturation.
  const TprQuantizer tpr(even_params(64.0f, rounding));
  std::mt19937_64 rng(2020);
  std::uniform_real_distribution<double> t(-2.0, 4.0);
  const std::size_t n = 1000000;
  std::vector<float> y(n);
  for (auto& v : y) v = static_cast<float>(std::exp2(t(rng)));
  std::vector<float> qe(n);
  std::vector<float> qo(n);
  tpr.quantize_dequantize(y.data(), n, qe.data(), qo.data());
  PhaseStats s;
  double sq_even = 0, sq_avg = 0;
  std::size_t lower = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double re = qe[i] / static_cast<double>(y[i]) - 1;
    const double ro = qo[i] / static_cast<double>(y[i]) - 1;
    const double ra = (re + ro) / 2;
    s.bias_even += re;
    s.bias_odd += ro;
    s.bias_avg += ra;
    sq_even += re * re;
    sq_avg += ra * ra;
    // phi < 1 <=> floor(log2 y) even: y in the lower octave of an even-grid period.
    const bool is_lower = (std::ilogb(y[i]) % 2) == 0;  // ilogb = floor(log2 y), exactly
    if (is_lower) {
      ++lower;
      s.lower_even += re;
      s.lower_odd += ro;
    } else {
      s.upper_even += re;
      s.upper_odd += ro;
    }
  }
  s.bias_even /= n;
  s.bias_odd /= n;
  s.bias_avg /= n;
  s.rms_even = std::sqrt(sq_even / n);
  s.rms_avg = std::sqrt(sq_avg / n);
  s.lower_even /= lower;
  s.lower_odd /= lower;
  s.upper_even /= (n - lower);
  s.upper_odd /= (n - lower);
  return s;
}

/// The nearest-in-log2 statistics, computed once for the three tests that read them.
const PhaseStats& log2_stats() {
  static const PhaseStats stats = log_uniform_stats(Fp4Rounding::kNearestLog2);
  return stats;
}

// Sampling error: per-sample sd of q/y - 1 is at most 0.45, over 10^6 samples
// 0.00045 (about 0.0006 within an octave's half): tolerance 0.003 is > 5 sigma.
constexpr double kTol = 0.003;

TEST(Tpr, LogUniformBiasEqualInBothPhasesAndInTheAverage) {
  const PhaseStats& s = log2_stats();
  const double phase_bias = 3 / (4 * kLn2) - 1;  // +0.082021
  EXPECT_NEAR(s.bias_even, phase_bias, kTol);
  EXPECT_NEAR(s.bias_odd, phase_bias, kTol);
  EXPECT_NEAR(s.bias_avg, phase_bias, kTol);
  // So a "10x smaller" claim is false for every shift-invariant rule:
  EXPECT_GT(std::fabs(s.bias_avg), 0.5 * std::fabs(s.bias_even));
}

TEST(Tpr, PhasesHaveOppositeBiasWithinEachOctave) {
  const PhaseStats& s = log2_stats();
  const double down = 1 / (2 * kLn2) - 1;  // -0.278652: the phase whose level is 2^floor(log2 y)
  const double up = 1 / kLn2 - 1;          // +0.442695: the phase whose level is 2^(floor + 1)
  EXPECT_NEAR(s.lower_even, down, kTol);
  EXPECT_NEAR(s.lower_odd, up, kTol);
  EXPECT_NEAR(s.upper_even, up, kTol);
  EXPECT_NEAR(s.upper_odd, down, kTol);
}

TEST(Tpr, AverageHalvesTheRmsError) {
  const PhaseStats& s = log2_stats();
  EXPECT_NEAR(s.rms_even, std::sqrt(15 / (16 * kLn2) - 3 / (2 * kLn2) + 1), kTol);  // 0.434147
  EXPECT_NEAR(s.rms_avg, std::sqrt(27 / (32 * kLn2) - 3 / (2 * kLn2) + 1), kTol);   // 0.230719
}

TEST(Tpr, NearestInValueBiasIsNegative) {
  const PhaseStats s = log_uniform_stats(Fp4Rounding::kNearestValue);
  const double phase_bias = 3 / (5 * kLn2) - 1;  // -0.134383
  EXPECT_NEAR(s.bias_even, phase_bias, kTol);
  EXPECT_NEAR(s.bias_odd, phase_bias, kTol);
  EXPECT_NEAR(s.bias_avg, phase_bias, kTol);
}

TEST(Tpr, OddPhaseParameters) {
  Fp4Params even = even_params(0.75f, Fp4Rounding::kStochastic);
  even.seed = 1;
  const Fp4Params odd = tpr_odd_params(even);
  EXPECT_EQ(odd.scale, 0.375f);
  EXPECT_EQ(odd.bias, even.bias);
  EXPECT_NE(odd.seed, even.seed);  // independent stochastic streams
  Fp4Params radix2 = even_params(1.0f);
  radix2.radix2 = true;
  EXPECT_THROW(tpr_odd_params(radix2), FormatError);
  EXPECT_NO_THROW(TprQuantizer(even_params(std::ldexp(1.0f, -125))));  // half: 2^-126, normal
  EXPECT_THROW(TprQuantizer(even_params(std::ldexp(1.0f, -126))), FormatError);  // half: subnormal
}

TEST(Tpr, OddPhaseReachesItsTopCode) {
  // GradScale puts the largest gradient r at or just below the even top code:
  // bias 7, r = 0.3 -> scale = 0.3 / 4^(7-7) rounded up to a power of two = 0.5,
  // even top 0.5 in [r, 2r). The odd grid (scale 0.25) is 0.25, 0.0625, ...:
  // 0.3 is nearest to 0.25 in log2, the odd top code (magnitude 7). With the
  // scale doubled instead (odd grid 1, 0.25, ...) 0.3 would use magnitude 6 and
  // the top code only values >= 0.5, above every gradient.
  GradScale gs;
  const std::vector<float> g = {0.3f, -0.3f, 0.01f, -0.002f};
  const GradScaleStep step = gs.update(g.data(), g.size());
  ASSERT_EQ(step.scale, 0.5f);
  const TprQuantizer tpr(gs.fp4_params());
  std::vector<std::uint8_t> even(g.size()), odd(g.size());
  tpr.quantize(g.data(), g.size(), even.data(), odd.data());
  EXPECT_EQ(odd[0], 0b0111);   // +0.25, the top magnitude
  EXPECT_EQ(odd[1], 0b1111);   // -0.25
  EXPECT_EQ(even[0], 0b0111);  // +0.5: 0.3 is above the log2 midpoint 0.25 of 0.125 and 0.5
  float odd_value = 0;
  tpr.quantize_dequantize(g.data(), 1, nullptr, &odd_value);
  EXPECT_EQ(odd_value, 0.25f);
}

}  // namespace
}  // namespace nibble::numerics
