#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sim/numerics/error.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/gradscale.hpp"

namespace nibble::numerics {
namespace {

TEST(GradScale, LargestGradientMapsToTheTopCode) {
  GradScale gs;  // bias 7: top code = 4^0 x scale = scale
  const std::vector<float> g = {0.5f, -3.0f, 0.01f};
  const GradScaleStep step = gs.update(g.data(), g.size());
  // amax 3 -> r / 4^0 = 3 -> rounded up to a power of two: 4. Top code 4 >= 3 > 2 = its log2 threshold.
  EXPECT_EQ(step.amax, 3.0f);
  EXPECT_EQ(step.scale, 4.0f);
  EXPECT_EQ(gs.scale(), 4.0f);
  const Fp4Quantizer q(gs.fp4_params());
  EXPECT_EQ(q.quantize(-3.0f), 0b1111);
  // Bias 0: top = 4^7 x scale = 16384 x scale; 3 / 16384 -> 2^-12 (0.000183 rounds up to 0.000244).
  GradScaleParams p;
  p.fp4_bias = 0;
  GradScale b0(p);
  EXPECT_EQ(b0.update(g.data(), g.size()).scale, std::ldexp(1.0f, -12));
  // Exact powers of two stay: amax 2 -> scale 2.
  const std::vector<float> two = {2.0f};
  EXPECT_EQ(gs.update(two.data(), 1).scale, 2.0f);
}

TEST(GradScale, PlainRatioWithoutPowerOfTwo) {
  GradScaleParams p;
  p.power_of_two = false;
  GradScale gs(p);
  const std::vector<float> g = {-3.0f};
  EXPECT_EQ(gs.update(g.data(), 1).scale, 3.0f);
}

TEST(GradScale, RunningMaxDecays) {
  GradScaleParams p;
  p.decay = 0.5;
  GradScale gs(p);
  const std::vector<float> big = {8.0f};
  const std::vector<float> small = {1.0f};
  EXPECT_EQ(gs.update(big.data(), 1).scale, 8.0f);    // r = 8
  EXPECT_EQ(gs.update(small.data(), 1).scale, 4.0f);  // r = max(1, 0.5 x 8) = 4
  EXPECT_EQ(gs.update(small.data(), 1).scale, 2.0f);  // r = max(1, 2) = 2
  EXPECT_EQ(gs.update(small.data(), 1).scale, 1.0f);  // r = max(1, 1) = 1
  EXPECT_EQ(gs.update(small.data(), 1).scale, 1.0f);
  EXPECT_EQ(gs.update(big.data(), 1).scale, 8.0f);    // a spike is followed at once
  EXPECT_EQ(gs.steps(), 6u);
}

TEST(GradScale, NonFiniteAndZeroGradientsKeepTheScale) {
  GradScale gs;
  const std::vector<float> g = {0.2f};
  EXPECT_EQ(gs.update(g.data(), 1).scale, 0.25f);
  const std::vector<float> nan = {1000.0f, std::numeric_limits<float>::quiet_NaN()};
  GradScaleStep step = gs.update(nan.data(), nan.size());
  EXPECT_TRUE(step.nonfinite);
  EXPECT_EQ(step.scale, 0.25f);
  EXPECT_EQ(step.amax, 1000.0f);  // the finite part, for diagnostics
  const std::vector<float> inf = {-std::numeric_limits<float>::infinity()};
  EXPECT_TRUE(gs.update(inf.data(), 1).nonfinite);
  EXPECT_EQ(gs.nonfinite_steps(), 2u);
  const std::vector<float> zeros = {0.0f, -0.0f};
  step = gs.update(zeros.data(), zeros.size());
  EXPECT_TRUE(step.all_zero);
  EXPECT_EQ(step.scale, 0.25f);
  EXPECT_TRUE(gs.update(nullptr, 0).all_zero);
  EXPECT_EQ(gs.scale(), 0.25f);
}

TEST(GradScale, ScaleIsClampedToAFiniteRange) {
  GradScale gs;  // bias 7: highest scale 2^(112 + 14) = 2^126
  const std::vector<float> huge = {std::numeric_limits<float>::max()};
  EXPECT_EQ(gs.update(huge.data(), 1).scale, std::ldexp(1.0f, 126));
  const std::vector<float> tiny = {std::numeric_limits<float>::denorm_min()};
  // Lowest 2^-125: the odd TPR phase halves it to 2^-126, the smallest normal float.
  EXPECT_EQ(gs.update(tiny.data(), 1).scale, std::ldexp(1.0f, -125));
}

TEST(GradScale, BadParameters) {
  GradScaleParams p;
  p.decay = 1.0;
  EXPECT_THROW(GradScale{p}, FormatError);
  p.decay = std::nan("");
  EXPECT_THROW(GradScale{p}, FormatError);
  p = GradScaleParams{};
  p.fp4_bias = 16;
  EXPECT_THROW(GradScale{p}, FormatError);
  p = GradScaleParams{};
  p.initial_scale = 0.0f;
  EXPECT_THROW(GradScale{p}, FormatError);
}

}  // namespace
}  // namespace nibble::numerics
