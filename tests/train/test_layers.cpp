// Every layer's backward pass against central finite differences of its
// forward pass (FP32 layers, objective summed in double), plus hand-worked
// forward values where a layer could be subtly wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <functional>
#include <stdexcept>

#include "models/train/attention.hpp"
#include "models/train/gemm_layer.hpp"
#include "models/train/adamw.hpp"
#include "models/train/layernorm.hpp"
#include "models/train/layers.hpp"
#include "models/train/network.hpp"
#include "models/train/sgd.hpp"
#include "models/train/rng.hpp"
#include "sim/numerics/pact.hpp"

namespace nibble::train {
namespace {

Tensor random_tensor(const Shape& s, Rng& rng, double lo = -1.0, double hi = 1.0) {
  Tensor t;
  t.resize(s);
  for (float& v : t.data) v = static_cast<float>(rng.uniform(lo, hi));
  return t;
}

/// L = sum_i r_i y_i, accumulated in double.
double objective(Layer& layer, const Tensor& x, const std::vector<float>& r) {
  Tensor y;
  StepContext ctx;
  layer.forward(x, y, ctx);
  double sum = 0.0;
  for (std::size_t i = 0; i < y.data.size(); ++i) sum += static_cast<double>(r[i]) * y.data[i];
  return sum;
}

void expect_close(double numeric, double analytic, const std::string& what) {
  const double tolerance = 2e-3 + 1e-2 * std::max(std::fabs(numeric), std::fabs(analytic));
  EXPECT_NEAR(analytic, numeric, tolerance) << what;
}

/// Checks dL/dx and dL/dparams of `layer` at `x` with step `eps`.
void gradient_check(Layer& layer, Tensor x, double eps = 1e-2) {
  Rng rng(99);
  StepContext ctx;
  Tensor y;
  layer.forward(x, y, ctx);
  const Tensor r = random_tensor(y.shape, rng);
  Tensor dx;
  layer.backward(x, y, r, &dx, ctx);
  ASSERT_EQ(dx.shape, x.shape);
  // Copy the analytic parameter gradients before the probes overwrite state.
  std::vector<std::vector<float>> grads;
  for (Param* p : layer.params()) grads.push_back(p->grad);

  for (std::size_t i = 0; i < x.data.size(); ++i) {
    const float keep = x.data[i];
    x.data[i] = static_cast<float>(keep + eps);
    const double up = objective(layer, x, r.data);
    x.data[i] = static_cast<float>(keep - eps);
    const double down = objective(layer, x, r.data);
    x.data[i] = keep;
    expect_close((up - down) / (2 * eps), dx.data[i], layer.name() + " dx[" + std::to_string(i) + "]");
  }
  const std::vector<Param*> params = layer.params();
  for (std::size_t p = 0; p < params.size(); ++p) {
    for (std::size_t i = 0; i < params[p]->value.size(); ++i) {
      const float keep = params[p]->value[i];
      params[p]->value[i] = static_cast<float>(keep + eps);
      const double up = objective(layer, x, r.data);
      params[p]->value[i] = static_cast<float>(keep - eps);
      const double down = objective(layer, x, r.data);
      params[p]->value[i] = keep;
      expect_close((up - down) / (2 * eps), grads[p][i], params[p]->name + "[" + std::to_string(i) + "]");
    }
  }
}

TEST(GradientCheck, Linear) {
  Rng rng(1);
  Linear layer("fc", 5, 4, true, LayerArith::fp32());
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{3, 5, 1, 1}, rng));
}

TEST(GradientCheck, Conv2dStride1Pad1) {
  Rng rng(2);
  Conv2d layer("conv", 2, 3, 3, 1, 1, true, LayerArith::fp32());
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{2, 2, 5, 5}, rng));
}

TEST(GradientCheck, Conv2dStride2Pad1) {
  // Stride 2 takes the strided col2im path; 6 x 6 -> 3 x 3.
  Rng rng(3);
  Conv2d layer("conv", 2, 2, 3, 2, 1, false, LayerArith::fp32());
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{2, 2, 6, 6}, rng));
}

TEST(GradientCheck, Conv2dStride2NoPadEvenKernel) {
  Rng rng(4);
  Conv2d layer("conv", 1, 2, 2, 2, 0, true, LayerArith::fp32());
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{1, 1, 5, 5}, rng));
}

TEST(GradientCheck, Relu) {
  Rng rng(5);
  Tensor x = random_tensor(Shape{2, 3, 2, 2}, rng);
  // Keep every input at least 0.05 away from the kink at 0 (eps = 0.01).
  for (float& v : x.data) v = v < 0 ? v - 0.05f : v + 0.05f;
  Relu layer("relu");
  gradient_check(layer, x);
}

/// Distinct values on a 0.1 grid, so no probe of +-0.01 changes a window's maximum.
Tensor grid_tensor(const Shape& s, std::uint64_t seed) {
  Tensor x;
  x.resize(s);
  std::vector<std::size_t> order(x.data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(seed);
  rng.shuffle(order);
  for (std::size_t i = 0; i < order.size(); ++i) x.data[i] = 0.1f * static_cast<float>(order[i]) - 2.0f;
  return x;
}

TEST(GradientCheck, MaxPool) {
  MaxPool2d layer("pool", 2, 2);
  gradient_check(layer, grid_tensor(Shape{2, 2, 4, 4}, 6));
}

TEST(GradientCheck, MaxPoolOverlappingWindows) {
  // Kernel 3, stride 2: windows share a row/column; gradients add up there.
  MaxPool2d layer("pool", 3, 2);
  gradient_check(layer, grid_tensor(Shape{1, 2, 5, 5}, 7));
}

TEST(GradientCheck, BatchNorm2d) {
  Rng rng(8);
  BatchNorm layer("bn", 2);
  layer.init(rng);
  layer.params()[0]->value = {1.5f, 0.7f};
  layer.params()[1]->value = {0.2f, -0.3f};
  gradient_check(layer, random_tensor(Shape{3, 2, 3, 3}, rng), 1e-2);
}

TEST(GradientCheck, BatchNorm1d) {
  Rng rng(9);
  BatchNorm layer("bn", 3);
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{6, 3, 1, 1}, rng), 1e-2);
}

TEST(GradientCheck, GlobalAvgPool) {
  Rng rng(12);
  GlobalAvgPool layer("avgpool");
  gradient_check(layer, random_tensor(Shape{2, 3, 3, 2}, rng));
}

TEST(GradientCheck, ResidualNetwork) {
  // x -> fc1 -> relu -> fc2 -> (+ fc1) -> fc3: fc1's output feeds two nodes,
  // so its gradient is the sum of both paths; checked for every parameter.
  Rng rng(13);
  Network net;
  const std::size_t a = net.add(std::make_unique<Linear>("fc1", 4, 5, true, LayerArith::fp32()), 0);
  std::size_t b = net.add(std::make_unique<Relu>("relu"), a);
  b = net.add(std::make_unique<Linear>("fc2", 5, 5, true, LayerArith::fp32()), b);
  const std::size_t s = net.add_sum("add", {b, a});
  net.add(std::make_unique<Linear>("fc3", 5, 3, true, LayerArith::fp32()), s);
  net.init(5);
  const Tensor x = random_tensor(Shape{3, 4, 1, 1}, rng);
  StepContext ctx;
  const Tensor r = random_tensor(net.output_shape(x.shape), rng);
  const auto objective_of = [&] {
    const Tensor& y = net.forward(x, ctx);
    double sum = 0.0;
    for (std::size_t i = 0; i < y.data.size(); ++i) sum += static_cast<double>(r.data[i]) * y.data[i];
    return sum;
  };
  objective_of();
  net.backward(r, ctx);
  const std::vector<Param*> params = net.params();
  std::vector<std::vector<float>> grads;
  for (Param* p : params) grads.push_back(p->grad);
  const double eps = 2e-3;  // small enough that no probe moves a ReLU input across 0
  for (std::size_t p = 0; p < params.size(); ++p) {
    for (std::size_t i = 0; i < params[p]->value.size(); ++i) {
      const float keep = params[p]->value[i];
      params[p]->value[i] = static_cast<float>(keep + eps);
      const double up = objective_of();
      params[p]->value[i] = static_cast<float>(keep - eps);
      const double down = objective_of();
      params[p]->value[i] = keep;
      expect_close((up - down) / (2 * eps), grads[p][i], params[p]->name + "[" + std::to_string(i) + "]");
    }
  }
}

TEST(Layers, ActivationsStoredInFp16) {
  // 0.1 is not an FP16 number: stored in FP16 it is 0x2E66 = 1638 x 2^-14 = 0.0999755859375.
  Network net;
  net.add(std::make_unique<Relu>("relu"));
  net.add(std::make_unique<Relu>("relu2"));
  net.store_fp16(1);
  Tensor x;
  x.resize(Shape{1, 2, 1, 1});
  x.data = {0.1f, 3.0f};
  StepContext ctx;
  const Tensor& y = net.forward(x, ctx);
  EXPECT_EQ(y.data[0], 0.0999755859375f);
  EXPECT_EQ(y.data[1], 3.0f);
  Network plain;
  plain.add(std::make_unique<Relu>("relu"));
  EXPECT_EQ(plain.forward(x, ctx).data[0], 0.1f);  // fp32 storage: unchanged
}

TEST(Pact, AlphaLearnsAndStaysPositive) {
  // A 4-bit linear layer: the first training forward sets alpha to the clip
  // that minimizes the batch's quantization error; from then on alpha gets the
  // gradient of the clipped values and moves away from the trajectory weight
  // decay alone would give.
  LayerArith a;
  a.forward = {numerics::Format::kUint4, numerics::Format::kInt4, numerics::Format::kFp16};
  a.input_grad = {numerics::Format::kFp4, numerics::Format::kInt4, numerics::Format::kFp16};
  a.weight_grad = {numerics::Format::kUint4, numerics::Format::kFp4, numerics::Format::kFp16};
  a.tpr = true;
  a.gradscale = true;
  Rng rng(21);
  Linear fc("fc", 8, 4, true, a);
  fc.init(rng);
  const Tensor x = random_tensor(Shape{16, 8, 1, 1}, rng, 0.0, 3.0);
  const Tensor dy = random_tensor(Shape{16, 4, 1, 1}, rng, -0.5, 0.5);
  SgdConfig sgd;
  Param decay_only;  // alpha under weight decay alone
  decay_only.allocate(1);
  StepContext ctx;
  Tensor y;
  Tensor dx;
  for (std::uint64_t step = 0; step < 20; ++step) {
    ctx.step = step;
    fc.forward(x, y, ctx);
    if (step == 0) {
      EXPECT_EQ(fc.pact_alpha(), numerics::pact_mse_alpha(x.data.data(), x.data.size()));
      decay_only.value[0] = fc.pact_alpha();
    }
    fc.backward(x, y, dy, &dx, ctx);
    sgd_step(fc.params(), sgd, 0.05);
    sgd_step({&decay_only}, sgd, 0.05);
  }
  EXPECT_GT(std::fabs(fc.pact_alpha() - decay_only.value[0]), 1e-3f * decay_only.value[0]);

  // A learning rate large enough to drive alpha below zero leaves it at the floor.
  Param alpha;
  alpha.allocate(1);
  alpha.value[0] = 1.0f;
  alpha.floor = GemmLayer::kAlphaFloor;
  alpha.grad[0] = 100.0f;
  sgd_step({&alpha}, sgd, 0.5);
  EXPECT_EQ(alpha.value[0], GemmLayer::kAlphaFloor);
}

TEST(Pact, FirstBatchClipsItsRareLargestValues) {
  // The first training batch sets alpha. Its largest value (the clip before)
  // sat above every activation, so alpha received almost no gradient and the
  // UINT4 step stayed coarse (fmnist-resnet: 1 value in 10^5 clipped, 10 to
  // 21 % of positive activations rounded to 0). Here 10,000 activations in
  // (0, 1] and one at 4: alpha = 4 would round every value below 2/15 to 0;
  // the error-minimizing clip lies near 1 and clips the one value at 4.
  LayerArith a;
  a.forward = {numerics::Format::kUint4, numerics::Format::kInt4, numerics::Format::kFp16};
  a.input_grad = {numerics::Format::kFp4, numerics::Format::kInt4, numerics::Format::kFp16};
  a.weight_grad = {numerics::Format::kUint4, numerics::Format::kFp4, numerics::Format::kFp16};
  Rng rng(3);
  Linear fc("fc", 1, 1, false, a);
  fc.init(rng);
  Tensor x;
  x.resize(Shape{10001, 1, 1, 1});
  for (std::size_t i = 0; i < 10000; ++i) x.data[i] = static_cast<float>(i + 1) / 10000.0f;
  x.data[10000] = 4.0f;
  StepContext eval;
  eval.training = false;
  Tensor y;
  fc.forward(x, y, eval);
  EXPECT_EQ(fc.pact_alpha(), GemmLayer::kInitialAlpha);  // evaluation sets nothing
  StepContext train;
  fc.forward(x, y, train);
  EXPECT_GT(fc.pact_alpha(), 0.9f);
  EXPECT_LT(fc.pact_alpha(), 1.1f);
}

TEST(GemmLayer, BackwardReadsTheForwardOperands) {
  // dX reads the forward's quantized weights and dW its quantized activations
  // (one copy of each per step, as in the trace): other formats are refused.
  LayerArith a;
  a.input_grad.b = numerics::Format::kInt4;
  EXPECT_THROW(Linear("fc", 2, 2, false, a), std::logic_error);
  a = LayerArith{};
  a.weight_grad.a = numerics::Format::kUint4;
  EXPECT_THROW(Linear("fc", 2, 2, false, a), std::logic_error);
}

TEST(GradientCheck, LayerNorm) {
  Rng rng(14);
  LayerNorm layer("ln", 6);
  layer.init(rng);
  // Non-trivial scale and shift, so that their gradients and dx's gamma term are checked.
  for (Param* p : layer.params()) {
    for (float& v : p->value) v += static_cast<float>(rng.uniform(-0.5, 0.5));
  }
  gradient_check(layer, random_tensor(Shape{3, 6, 1, 1}, rng), 1e-3);
}

/// FP32 attention of `heads` heads over `tokens` tokens of `width`.
AttentionSpec attention_spec(std::size_t width, std::size_t heads, std::size_t tokens) {
  AttentionSpec spec;
  spec.width = width;
  spec.heads = heads;
  spec.tokens = tokens;
  spec.q = "q";
  spec.k = "k";
  spec.v = "v";
  return spec;
}

TEST(GradientCheck, MultiHeadAttention) {
  // 2 samples of 3 tokens, width 8, 2 heads of 4: QK^T, softmax, PV and the
  // three projections, all in FP32.
  Rng rng(21);
  MultiHeadAttention layer("attn", attention_spec(8, 2, 3));
  layer.init(rng);
  gradient_check(layer, random_tensor(Shape{6, 8, 1, 1}, rng), 1e-3);
}

TEST(Layers, AttentionSoftmaxIsStableAtLargeLogits) {
  // Logits near 1e4 would overflow exp() in FP32 without subtracting the row
  // maximum; the output must stay finite and each context row a convex
  // combination of V rows (|C| <= max |V|).
  Rng rng(22);
  MultiHeadAttention layer("attn", attention_spec(4, 1, 4));
  layer.init(rng);
  const Tensor x = random_tensor(Shape{4, 4, 1, 1}, rng, -300.0, 300.0);
  Tensor y;
  StepContext ctx;
  layer.forward(x, y, ctx);
  for (const float v : y.data) EXPECT_TRUE(std::isfinite(v));
  Tensor dx;
  layer.backward(x, y, random_tensor(y.shape, rng), &dx, ctx);
  for (const float v : dx.data) EXPECT_TRUE(std::isfinite(v));
  EXPECT_TRUE(layer.gradients_finite());
}

TEST(GradientCheck, PatchesPositionsAndTokenTranspose) {
  Rng rng(23);
  Patchify patches("patchify", 2);
  gradient_check(patches, random_tensor(Shape{2, 1, 4, 6}, rng));
  PositionEmbedding pos("pos", 3, 4);
  pos.init(rng);
  gradient_check(pos, random_tensor(Shape{6, 4, 1, 1}, rng));
  TokensToChannels transpose("tokens_t", 3);
  gradient_check(transpose, random_tensor(Shape{6, 4, 1, 1}, rng));
}

TEST(Layers, PatchifyOrder) {
  // A 4 x 4 image of values 0..15 in 2 x 2 patches: token 1 is the top-right
  // patch, pixels (0,2) (0,3) (1,2) (1,3) = 2, 3, 6, 7.
  Tensor x;
  x.resize(Shape{1, 1, 4, 4});
  for (std::size_t i = 0; i < 16; ++i) x.data[i] = static_cast<float>(i);
  Patchify patches("patchify", 2);
  Tensor y;
  patches.forward(x, y, StepContext{});
  ASSERT_EQ(y.shape, (Shape{4, 4, 1, 1}));
  EXPECT_EQ(std::vector<float>(y.sample(1), y.sample(1) + 4), (std::vector<float>{2, 3, 6, 7}));
  EXPECT_EQ(std::vector<float>(y.sample(2), y.sample(2) + 4), (std::vector<float>{8, 9, 12, 13}));
}

TEST(GradientCheck, Gelu) {
  Rng rng(15);
  Gelu layer("gelu");
  gradient_check(layer, random_tensor(Shape{2, 7, 1, 1}, rng, -3.0, 3.0), 1e-3);
}

TEST(Layers, GeluValues) {
  // x Phi(x): Phi(1) = 0.841344746, Phi(-1) = 0.158655254, GELU(0) = 0.
  Gelu layer("gelu");
  Tensor x;
  x.resize(Shape{1, 3, 1, 1});
  x.data = {1.0f, -1.0f, 0.0f};
  Tensor y;
  StepContext ctx;
  layer.forward(x, y, ctx);
  EXPECT_NEAR(y.data[0], 0.841344746, 1e-7);
  EXPECT_NEAR(y.data[1], -0.158655254, 1e-7);
  EXPECT_EQ(y.data[2], 0.0f);
}

TEST(AdamW, TwoStepsByHand) {
  // lr 0.1, weight decay 0.05, betas 0.9 / 0.999, w = 1:
  // step 1, g = 0.5: w = 1 - 0.1 x 0.05 = 0.995; m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25;
  //   w -= 0.1 x 0.5 / 0.5 -> 0.895.
  // step 2, g = -0.5: w = 0.895 x 0.995 = 0.890525; m = 0.045 - 0.05 = -0.005, v = 0.00049975;
  //   m^ = -0.005 / 0.19 = -0.0263158, v^ = 0.00049975 / 0.001999 = 0.25;
  //   w -= 0.1 x (-0.0263158) / 0.5 -> 0.8957882.
  Param w;
  w.allocate(1);
  w.value[0] = 1.0f;
  Param b;  // no weight decay (a bias)
  b.allocate(1);
  b.decay = false;
  b.value[0] = 1.0f;
  AdamWConfig config;
  w.grad[0] = b.grad[0] = 0.5f;
  adamw_step({&w, &b}, config, 0.1, 1);
  EXPECT_NEAR(w.value[0], 0.895f, 1e-6);
  EXPECT_NEAR(b.value[0], 0.9f, 1e-6);
  w.grad[0] = -0.5f;
  adamw_step({&w}, config, 0.1, 2);
  EXPECT_NEAR(w.value[0], 0.8957882f, 2e-6);
}

TEST(GradientCheck, Flatten) {
  Rng rng(10);
  Flatten layer("flatten");
  gradient_check(layer, random_tensor(Shape{2, 3, 2, 2}, rng));
}

TEST(GradientCheck, SoftmaxCrossEntropy) {
  Rng rng(11);
  Tensor logits = random_tensor(Shape{4, 10, 1, 1}, rng, -3.0, 3.0);
  const std::vector<std::uint8_t> labels{3, 0, 9, 3};
  SoftmaxCrossEntropy loss;
  loss.forward(logits, labels);
  Tensor grad;
  loss.backward(labels, grad);
  const double eps = 1e-2;
  for (std::size_t i = 0; i < logits.data.size(); ++i) {
    const float keep = logits.data[i];
    logits.data[i] = static_cast<float>(keep + eps);
    const double up = loss.forward(logits, labels);
    logits.data[i] = static_cast<float>(keep - eps);
    const double down = loss.forward(logits, labels);
    logits.data[i] = keep;
    expect_close((up - down) / (2 * eps), grad.data[i], "dlogits[" + std::to_string(i) + "]");
  }
}

TEST(Layers, SoftmaxCrossEntropyValue) {
  // Logits (0, ln 3) with label 1: softmax = (1/4, 3/4), loss = -ln(3/4) = 0.2876820724517809.
  Tensor logits;
  logits.resize(Shape{1, 2, 1, 1});
  logits.data = {0.0f, static_cast<float>(std::log(3.0))};
  SoftmaxCrossEntropy loss;
  EXPECT_NEAR(loss.forward(logits, {1}), 0.2876820724517809, 1e-7);
  Tensor grad;
  loss.backward({1}, grad);
  EXPECT_NEAR(grad.data[0], 0.25, 1e-7);
  EXPECT_NEAR(grad.data[1], -0.25, 1e-7);
}

TEST(Layers, ConvForwardByHand) {
  // x = [[1,2,3],[4,5,6],[7,8,9]], a plus-shaped 3x3 kernel, pad 1, stride 2:
  // output (3 + 2 - 3) / 2 + 1 = 2 per side, centred on x(0,0), x(0,2), x(2,0), x(2,2):
  //   1+2+4 = 7, 3+2+6 = 11, 7+4+8 = 19, 9+6+8 = 23, plus the bias 0.5.
  Conv2d conv("conv", 1, 1, 3, 2, 1, true, LayerArith::fp32());
  conv.params()[0]->value = {0, 1, 0, 1, 1, 1, 0, 1, 0};
  conv.params()[1]->value = {0.5f};
  Tensor x;
  x.resize(Shape{1, 1, 3, 3});
  x.data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  Tensor y;
  conv.forward(x, y, StepContext{});
  EXPECT_EQ(y.shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.data, (std::vector<float>{7.5f, 11.5f, 19.5f, 23.5f}));
}

TEST(Layers, MaxPoolTieGoesToFirst) {
  // Window [5, 5; 1, 2]: the first 5 (row-major) takes the whole gradient.
  MaxPool2d pool("pool", 2, 2);
  Tensor x;
  x.resize(Shape{1, 1, 2, 2});
  x.data = {5, 5, 1, 2};
  Tensor y, dx, dy;
  pool.forward(x, y, StepContext{});
  dy.resize(y.shape);
  dy.data = {3};
  pool.backward(x, y, dy, &dx, StepContext{});
  EXPECT_EQ(dx.data, (std::vector<float>{3, 0, 0, 0}));
}

TEST(Layers, BatchNormEvaluationUsesRunningStatistics) {
  // One training batch {1, 3} of one channel: mean 2, unbiased variance 2;
  // running mean 0.9 * 0 + 0.1 * 2 = 0.2, running variance 0.9 * 1 + 0.1 * 2 = 1.1.
  // Evaluating x = 1.2: (1.2 - 0.2) / sqrt(1.1 + 1e-5) = 0.95346...
  BatchNorm bn("bn", 1);
  Tensor x, y;
  x.resize(Shape{2, 1, 1, 1});
  x.data = {1, 3};
  bn.forward(x, y, StepContext{});
  EXPECT_NEAR(y.data[0], -1.0, 1e-4);  // (1 - 2) / sqrt(1 + 1e-5)
  StepContext eval;
  eval.training = false;
  x.resize(Shape{1, 1, 1, 1});
  x.data = {1.2f};
  bn.forward(x, y, eval);
  EXPECT_NEAR(y.data[0], 1.0 / std::sqrt(1.1 + 1e-5), 1e-6);
}

}  // namespace
}  // namespace nibble::train
