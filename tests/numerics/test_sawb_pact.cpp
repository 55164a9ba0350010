#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/numerics/error.hpp"
#include "sim/numerics/pact.hpp"
#include "sim/numerics/sawb.hpp"

namespace nibble::numerics {
namespace {

TEST(Sawb, CoefficientsByWidth) {
  EXPECT_EQ(sawb_coefficients(2).c1, 3.12);
  EXPECT_EQ(sawb_coefficients(2).c2, -2.064);
  EXPECT_EQ(sawb_coefficients(3).c1, 7.509);
  EXPECT_EQ(sawb_coefficients(4).c1, 12.68);
  EXPECT_EQ(sawb_coefficients(4).c2, -12.80);
  EXPECT_EQ(sawb_coefficients(5).c2, -18.64);
  EXPECT_EQ(sawb_coefficients(8).c1, 31.76);
  EXPECT_EQ(sawb_coefficients(8).c2, -35.04);
  EXPECT_THROW(sawb_coefficients(6), FormatError);
}

TEST(Sawb, HandComputedClipAndCodes) {
  // w = {0, .5, -.5, 1, -1, 2, -2, 4}: sum w^2 = 26.5, sum |w| = 11, n = 8.
  // E[w^2] = 3.3125, sqrt = 1.8200274723; E|w| = 1.375.
  // 4-bit: 12.68 x 1.8200274723 - 12.80 x 1.375 = 23.0779483 - 17.6 = 5.4779483.
  // 2-bit: 3.12 x 1.8200274723 - 2.064 x 1.375 = 5.6784857 - 2.838 = 2.8404857.
  const std::vector<float> w = {0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 2.0f, -2.0f, 4.0f};
  EXPECT_NEAR(sawb_clip(w.data(), w.size(), 4), 5.47794834901924, 1e-12);
  EXPECT_NEAR(sawb_clip(w.data(), w.size(), 2), 2.840485713638804, 1e-12);
  // scale = 5.4779483 / 7 = 0.7825640; w / scale = 0, .639, -.639, 1.278, -1.278, 2.556, -2.556, 5.111.
  std::vector<std::int8_t> codes(w.size());
  const float scale = sawb_quantize_int4(w.data(), w.size(), codes.data());
  EXPECT_FLOAT_EQ(scale, 0.78256405f);
  EXPECT_EQ(codes, (std::vector<std::int8_t>{0, 1, -1, 1, -1, 3, -3, 5}));
}

TEST(Sawb, OutliersAreClippedToMinusSevenNotMinusEight) {
  // 50 x (+1), 49 x (-1), one -10: sum w^2 = 199, sum |w| = 109, n = 100.
  // clip = 12.68 x sqrt(1.99) - 12.80 x 1.09 = 17.8873 - 13.952 = 3.9353; scale = 0.56219.
  // +1 -> 1.779 -> 2; -1 -> -2; -10 -> clipped to -3.9353 -> -7 (not -8: the grid is symmetric).
  std::vector<float> w(100, 1.0f);
  for (int i = 50; i < 99; ++i) w[static_cast<std::size_t>(i)] = -1.0f;
  w[99] = -10.0f;
  EXPECT_NEAR(sawb_clip(w.data(), w.size(), 4), 3.9353412222163406, 1e-12);
  std::vector<std::int8_t> codes(w.size());
  sawb_quantize_int4(w.data(), w.size(), codes.data());
  EXPECT_EQ(codes[0], 2);
  EXPECT_EQ(codes[50], -2);
  EXPECT_EQ(codes[99], -7);
}

TEST(Sawb, DegenerateTensors) {
  // Equal magnitudes: 12.68 x 1 - 12.80 x 1 = -0.12 < 0, so the clip falls back to max|w| = 1.
  const std::vector<float> equal = {1.0f, -1.0f, 1.0f, -1.0f};
  EXPECT_EQ(sawb_clip(equal.data(), equal.size(), 4), 1.0);
  std::vector<std::int8_t> codes(4);
  sawb_quantize_int4(equal.data(), equal.size(), codes.data());
  EXPECT_EQ(codes, (std::vector<std::int8_t>{7, -7, 7, -7}));
  const std::vector<float> zeros(5, 0.0f);
  EXPECT_EQ(sawb_clip(zeros.data(), zeros.size(), 4), 0.0);
  EXPECT_EQ(sawb_int4_params(zeros.data(), zeros.size()).scale, 1.0f);
  EXPECT_EQ(sawb_clip(nullptr, 0, 4), 0.0);
  const std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  try {
    sawb_clip(bad.data(), bad.size(), 4);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.parameter(), "sawb weights");
    EXPECT_NE(std::string(e.what()).find("weight 1"), std::string::npos);
  }
}

TEST(Pact, HandComputedCodesAndGradients) {
  // alpha = 3.75: scale = 3.75 / 15 = 0.25 exactly. x / 0.25 = -4, 0, .5, 1.5, 2, 4, 14.4, 15, 40.
  // Clip to [0, 15] and round half to even: 0, 0, 0, 2, 2, 4, 14, 15, 15.
  const float alpha = 3.75f;
  const std::vector<float> x = {-1.0f, 0.0f, 0.125f, 0.375f, 0.5f, 1.0f, 3.6f, 3.75f, 10.0f};
  std::vector<std::int8_t> codes(x.size());
  EXPECT_EQ(pact_quantize(x.data(), x.size(), alpha, codes.data()), 0.25f);
  EXPECT_EQ(codes, (std::vector<std::int8_t>{0, 0, 0, 2, 2, 4, 14, 15, 15}));
  // g = 1..9. x >= alpha at indices 7 and 8: dL/dalpha = 8 + 9 = 17.
  // 0 <= x < alpha at indices 1..6: those gradients pass to x; the rest are 0.
  const std::vector<float> g = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(pact_alpha_grad(x.data(), g.data(), x.size(), alpha), 17.0);
  std::vector<float> gx(x.size());
  pact_input_grad(x.data(), g.data(), x.size(), alpha, gx.data());
  EXPECT_EQ(gx, (std::vector<float>{0, 2, 3, 4, 5, 6, 7, 0, 0}));
}

/// Squared error of PACT's quantization of x with clip alpha, in double.
double pact_squared_error(const std::vector<float>& x, float alpha) {
  std::vector<std::int8_t> codes(x.size());
  const float scale = pact_quantize(x.data(), x.size(), alpha, codes.data());
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - static_cast<double>(codes[i]) * scale;
    sum += d * d;
  }
  return sum;
}

TEST(Pact, MseAlphaOfTheFirstBatch) {
  // k / 16 for k = 1..15 are exactly the codes of alpha = 15/16 (scale 1/16):
  // zero error there and only there; the coarse grid's top point is amax = 15/16.
  std::vector<float> exact;
  for (int k = 1; k <= 15; ++k) exact.push_back(static_cast<float>(k) / 16.0f);
  exact.push_back(0.0f);
  exact.push_back(-2.0f);  // negatives clip to 0 whatever alpha is
  EXPECT_EQ(pact_mse_alpha(exact.data(), exact.size()), 0.9375f);

  // 10,000 values spread over (0, 1] and one at 4: the largest value as the
  // clip (step 4/15) costs about 10,000 x (4/15)^2 / 12 = 59 in squared
  // error; clipping the one value near 1 costs about 9. The search clips it.
  std::vector<float> x;
  for (int i = 1; i <= 10000; ++i) x.push_back(static_cast<float>(i) / 10000.0f);
  x.push_back(4.0f);
  const float alpha = pact_mse_alpha(x.data(), x.size());
  EXPECT_GT(alpha, 0.9f);
  EXPECT_LT(alpha, 1.1f);
  EXPECT_LT(pact_squared_error(x, alpha), pact_squared_error(x, 4.0f) / 4);
  for (const float other : {0.8f, 0.9f, 1.1f, 1.25f, 2.0f}) {
    EXPECT_LE(pact_squared_error(x, alpha), pact_squared_error(x, other)) << other;
  }

  const std::vector<float> none = {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(pact_mse_alpha(none.data(), none.size()), 0.0f);
}

TEST(Pact, AlphaMustBePositiveAndFinite) {
  for (float alpha : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    try {
      pact_int4_params(alpha);
      FAIL() << "no error for " << alpha;
    } catch (const FormatError& e) {
      EXPECT_EQ(e.parameter(), "pact alpha");
    }
  }
}

}  // namespace
}  // namespace nibble::numerics
