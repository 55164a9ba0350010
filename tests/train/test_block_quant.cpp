// Block-scaled policies in the emulator: the plan (first and last layers
// BF16), operand orientation (blocks along each GEMM's reduction), the random
// Hadamard transform, and short training runs that must learn.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "models/train/block_quant.hpp"
#include "models/train/policy.hpp"
#include "models/train/trainer.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "workloads/expand.hpp"
#include "tests/support/fashion_mnist.hpp"

namespace nibble::train {
namespace {

const numerics::BlockFormat* fmt(const char* name) { return numerics::find_block_format(name); }

models::Graph cnn() {
  models::ZooOptions o;
  o.batch = 8;
  return models::build_zoo_model("fmnist-cnn", o);
}

TEST(BlockPolicy, Mxfp4PlanKeepsFirstAndLastLayersInBf16) {
  const models::Graph g = cnn();
  const std::vector<LayerArith> plan = plan_arithmetic(g, make_train_policy("mxfp4", std::nullopt), HardwareArith{});
  const BlockArith& conv1 = plan[g.find("conv1")].block;
  const BlockArith& conv2 = plan[g.find("conv2")].block;
  const BlockArith& fc1 = plan[g.find("fc1")].block;
  const BlockArith& fc2 = plan[g.find("fc2")].block;
  EXPECT_EQ(conv1.forward.a.format, fmt("bf16"));
  EXPECT_EQ(fc2.weight_grad.b.format, fmt("bf16"));
  for (const BlockArith* b : {&conv2, &fc1}) {
    for (const GemmBlockQuant* gq : {&b->forward, &b->input_grad, &b->weight_grad}) {
      EXPECT_EQ(gq->a.format, fmt("mxfp4"));
      EXPECT_EQ(gq->b.format, fmt("mxfp4"));
      EXPECT_FALSE(gq->a.hadamard);
    }
  }
  // FP32 underneath: FP32 accumulation and no per-tensor 4-bit quantizers.
  EXPECT_EQ(plan[g.find("conv2")].forward.acc, numerics::Format::kFp32);
  EXPECT_EQ(plan[g.find("conv2")].forward.a, numerics::Format::kFp32);
}

TEST(BlockPolicy, Nvfp4FollowsThePublishedRecipe) {
  const models::Graph g = cnn();
  const std::vector<LayerArith> plan = plan_arithmetic(g, make_train_policy("nvfp4", std::nullopt), HardwareArith{});
  const BlockArith& conv1 = plan[g.find("conv1")].block;
  const BlockArith& fc2 = plan[g.find("fc2")].block;
  EXPECT_EQ(conv1.forward.a.format, fmt("nvfp4"));  // only the last layer stays BF16
  EXPECT_EQ(fc2.forward.a.format, fmt("bf16"));
  EXPECT_TRUE(conv1.forward.b.two_d);              // 16 x 16 weight blocks
  EXPECT_TRUE(conv1.input_grad.b.two_d);
  EXPECT_FALSE(conv1.forward.a.two_d);             // 1 x 16 activations and gradients
  EXPECT_EQ(conv1.input_grad.a.rounding, numerics::BlockRounding::kStochastic);
  EXPECT_EQ(conv1.weight_grad.b.rounding, numerics::BlockRounding::kStochastic);
  EXPECT_EQ(conv1.forward.a.rounding, numerics::BlockRounding::kNearestEven);
  EXPECT_TRUE(conv1.weight_grad.a.hadamard);
  EXPECT_TRUE(conv1.weight_grad.b.hadamard);
  EXPECT_FALSE(conv1.input_grad.a.hadamard);
}

// `nibble trace --policy mxfp4` costs what `nibble train --policy mxfp4` runs: the trace
// precisions (workloads/policy.hpp) give every GEMM operand the emulator's block format.
TEST(BlockPolicy, TracePoliciesHaveTheEmulatorsRoles) {
  const models::Graph g = cnn();
  for (const std::string& name : block_policy_names()) {
    const std::vector<LayerArith> plan = plan_arithmetic(g, make_train_policy(name, std::nullopt), HardwareArith{});
    const auto precisions = workloads::layer_precisions(g, workloads::named_policy(name));
    for (const char* layer : {"conv1", "conv2", "fc1", "fc2"}) {
      const std::size_t i = g.find(layer);
      const workloads::PrecisionFormats f = workloads::precision_formats(precisions[i], false);
      const BlockArith& b = plan[i].block;
      const auto name_of = [](const OperandQuant& q) { return std::string(q.format->name); };
      const auto trace_name = [](numerics::Format x) { return std::string(numerics::format_name(x)); };
      EXPECT_EQ(name_of(b.forward.a), trace_name(f.activation)) << name << " " << layer;
      EXPECT_EQ(name_of(b.forward.b), trace_name(f.weight)) << name << " " << layer;
      EXPECT_EQ(name_of(b.input_grad.a), trace_name(f.gradient)) << name << " " << layer;
      EXPECT_EQ(name_of(b.weight_grad.b), trace_name(f.gradient)) << name << " " << layer;
      EXPECT_EQ(b.forward.b.two_d, workloads::weights_square_blocks(precisions[i])) << name << " " << layer;
    }
  }
}

TEST(BlockPolicy, OtherPoliciesHaveNoBlockFormats) {
  EXPECT_FALSE(make_train_policy("int4-fp4", std::nullopt).block.has_value());
  EXPECT_FALSE(make_train_policy("fp32", std::nullopt).block.has_value());
}

/// Writes `text` to a file in the test's temporary folder and returns its path.
std::string policy_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

/// The message of the InputError make_train_policy + plan_arithmetic throw ("" if none).
std::string policy_error(const std::string& policy, const std::string& path) {
  try {
    plan_arithmetic(cnn(), make_train_policy(policy, path), HardwareArith{});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(BlockPolicy, PolicyFileSetsEachRoleOfEachLayer) {
  const std::string path = policy_file("block.yaml",
                                       "block:\n"
                                       "  policy: mxfp4\n"
                                       "  layers:\n"
                                       "    fc1:\n"
                                       "      weight_grad.activation: {format: nvfp4, rounding: stochastic, hadamard: true}\n"
                                       "      weight_grad.gradient: {format: nvfp4, hadamard: true}\n"
                                       "      forward.weight: {format: mxfp6-e2m3, blocks: 16x16}\n");
  const TrainPolicy policy = make_train_policy("fp32", path);
  EXPECT_EQ(policy.name, "mxfp4+block");
  const models::Graph g = cnn();
  const std::vector<LayerArith> plan = plan_arithmetic(g, policy, HardwareArith{});
  const BlockArith& fc1 = plan[g.find("fc1")].block;
  EXPECT_EQ(fc1.weight_grad.a.format, fmt("nvfp4"));
  EXPECT_EQ(fc1.weight_grad.a.rounding, numerics::BlockRounding::kStochastic);
  EXPECT_TRUE(fc1.weight_grad.b.hadamard);
  EXPECT_EQ(fc1.weight_grad.b.rounding, numerics::BlockRounding::kNearestEven);
  EXPECT_EQ(fc1.forward.b.format, fmt("mxfp6-e2m3"));
  EXPECT_TRUE(fc1.forward.b.two_d);
  EXPECT_EQ(fc1.forward.a.format, fmt("mxfp4"));  // roles not named keep the middle layers' setting
  EXPECT_EQ(plan[g.find("conv2")].block.forward.b.format, fmt("mxfp4"));
  EXPECT_EQ(plan[g.find("conv1")].block.forward.b.format, fmt("bf16"));
}

TEST(BlockPolicy, PolicyFileErrorsNameFileLineAndKey) {
  const std::string bad_format = policy_file("f.yaml", "block:\n  middle:\n    forward.weight: {format: mxfp3}\n");
  EXPECT_NE(policy_error("fp32", bad_format).find("f.yaml:3: block.middle.forward.weight.format: expected one of fp32"),
            std::string::npos)
      << policy_error("fp32", bad_format);
  const std::string one_sided =
      policy_file("h.yaml", "block:\n  layers:\n    fc1:\n      weight_grad.activation: {format: nvfp4, hadamard: true}\n");
  EXPECT_NE(policy_error("fp32", one_sided).find("h.yaml:4: block.layers.fc1.weight_grad.activation: hadamard must be"),
            std::string::npos)
      << policy_error("fp32", one_sided);
  const std::string no_layer = policy_file("l.yaml", "block:\n  layers:\n    fc9:\n      forward.weight: {format: nvfp4}\n");
  EXPECT_NE(policy_error("fp32", no_layer).find("l.yaml:3: block.layers.fc9: no GEMM layer"), std::string::npos)
      << policy_error("fp32", no_layer);
  const std::string role = policy_file("r.yaml", "block:\n  middle:\n    forward.weights: {format: nvfp4}\n");
  EXPECT_NE(policy_error("fp32", role).find("r.yaml:3: block.middle.forward.weights"), std::string::npos)
      << policy_error("fp32", role);
  // Block formats go on FP32 operands only.
  EXPECT_NE(policy_error("int4-fp4", bad_format).find("f.yaml:2: block: block formats replace the per-tensor ones"),
            std::string::npos)
      << policy_error("int4-fp4", bad_format);
}

TEST(BlockQuant, BlocksRunAlongTheReduction) {
  // A 2 x 32 matrix whose reduction runs down the columns (blocks 32 x 1,
  // the weight-gradient GEMM's transposed re-quantization) is quantized
  // exactly as its 32 x 2 transpose along rows.
  std::vector<float> x(64);
  for (std::size_t i = 0; i < 64; ++i) x[i] = std::sin(static_cast<float>(i) * 0.7f) * static_cast<float>(i + 1);
  std::vector<float> xt(64);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 2; ++j) xt[j * 32 + i] = x[i * 2 + j];
  }
  const OperandQuant q{fmt("mxfp4"), false, numerics::BlockRounding::kNearestEven, false};
  std::vector<float> a;
  std::vector<float> b;
  float sa = 1.0f;
  float sb = 1.0f;
  const float* qa = quantize_gemm_operand(q, x.data(), 32, 2, false, 1, 2, a, &sa);
  const float* qb = quantize_gemm_operand(q, xt.data(), 2, 32, true, 1, 2, b, &sb);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 2; ++j) ASSERT_EQ(qa[i * 2 + j], qb[j * 32 + i]);
  }
  EXPECT_EQ(sa, 1.0f);  // MX has no tensor scale
  // No format: the operand itself.
  EXPECT_EQ(quantize_gemm_operand(OperandQuant{}, x.data(), 32, 2, false, 1, 2, a, &sa), x.data());
}

TEST(BlockQuant, HadamardIsOrthonormalAndCancelsInTheProduct) {
  float e[16] = {1.0f};
  hadamard16(e, 1, 0);
  for (float v : e) EXPECT_EQ(v, 0.25f);  // H16 e_0 / 4
  float a[16];
  float b[16];
  double dot = 0.0;
  for (int k = 0; k < 16; ++k) {
    a[k] = static_cast<float>(k) - 7.5f;
    b[k] = static_cast<float>((k * 5) % 16) * 0.5f;
    dot += static_cast<double>(a[k]) * b[k];
  }
  hadamard16(a, 1, 0xA5C3);
  hadamard16(b, 1, 0xA5C3);
  double dot2 = 0.0;
  for (int k = 0; k < 16; ++k) dot2 += static_cast<double>(a[k]) * b[k];
  EXPECT_NEAR(dot2, dot, 1e-4);
}

const Dataset* fashion() { return test::fashion_mnist(); }

/// One fmnist-cnn epoch at batch 32 on the first `images` training and `tests` test images.
TrainConfig cnn_run(const std::string& policy, std::uint64_t images, std::uint64_t tests, unsigned threads) {
  TrainConfig c;
  c.model = "fmnist-cnn";
  c.policy = policy;
  c.epochs = 1;
  c.batch = 32;
  c.train_subset = images;
  c.test_subset = tests;
  c.threads = threads;
  return c;
}

TEST(BlockPolicy, Mxfp4AndNvfp4CnnLearnFromTwoThousandImages) {
  if (fashion() == nullptr) GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)";
  for (const char* policy : {"mxfp4", "nvfp4"}) {
    const TrainResult r = train(cnn_run(policy, 2000, 2000, 2), *fashion());
    EXPECT_GT(r.epochs[0].test_accuracy, 65.0) << policy;
    EXPECT_EQ(r.epochs[0].skipped_steps, 0u) << policy;
  }
}

TEST(BlockPolicy, SameResultsAtAnyThreadCount) {
  if (fashion() == nullptr) GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)";
  // Quantization bands run as thread-pool tasks; stochastic rounding and the
  // Hadamard signs are addressed by index, so the thread count cannot matter.
  const TrainResult one = train(cnn_run("nvfp4", 192, 200, 1), *fashion());
  const TrainResult three = train(cnn_run("nvfp4", 192, 200, 3), *fashion());
  EXPECT_EQ(one.epochs[0].train_loss, three.epochs[0].train_loss);
  EXPECT_EQ(one.epochs[0].test_loss, three.epochs[0].test_loss);
}

}  // namespace
}  // namespace nibble::train
