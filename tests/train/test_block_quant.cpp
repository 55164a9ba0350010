// Block-scaled policies in the emulator: the plan (first and last layers
// BF16), operand orientation (blocks along each GEMM's reduction), the random
// Hadamard transform, and short training runs that must learn.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "models/train/block_quant.hpp"
#include "models/train/gemm.hpp"
#include "models/train/gemm_layer.hpp"
#include "models/train/policy.hpp"
#include "models/train/rng.hpp"
#include "models/train/trainer.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/numerics/block_dot.hpp"
#include "sim/numerics/fp32.hpp"
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

// NVIDIA's recipe quantizes the linear layers' GEMMs only: fmnist-vit's attention matmuls
// (QK^T and PV, two per block) stay BF16 under nvfp4, with no Hadamard transform, and the
// trace's named policy gives every GEMM layer the emulator's formats under each block policy.
TEST(BlockPolicy, Nvfp4KeepsAttentionMatmulsInBf16) {
  models::ZooOptions o;
  o.batch = 2;
  const models::Graph g = models::build_zoo_model("fmnist-vit", o);
  const auto nv = plan_arithmetic(g, make_train_policy("nvfp4", std::nullopt), HardwareArith{});
  std::size_t matmuls = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g.layer(i).type != models::LayerType::kMatMul) continue;
    ++matmuls;
    const BlockArith& b = nv[i].block;
    for (const OperandQuant* q : {&b.forward.a, &b.forward.b, &b.input_grad.a, &b.input_grad.b, &b.weight_grad.a,
                                  &b.weight_grad.b}) {
      EXPECT_EQ(q->format, fmt("bf16")) << g.layer(i).name;
      EXPECT_FALSE(q->hadamard) << g.layer(i).name;
    }
  }
  EXPECT_EQ(matmuls, 8u);
  EXPECT_EQ(nv[g.find("blocks.0.mlp.fc1")].block.forward.a.format, fmt("nvfp4"));
  for (const std::string& name : block_policy_names()) {
    const auto plan = plan_arithmetic(g, make_train_policy(name, std::nullopt), HardwareArith{});
    const auto precisions = workloads::layer_precisions(g, workloads::named_policy(name));
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (!models::is_gemm_layer(g.layer(i).type) || g.layer(i).inputs.empty()) continue;
      const workloads::PrecisionFormats f = workloads::precision_formats(precisions[i], false);
      EXPECT_EQ(std::string(plan[i].block.forward.a.format->name), numerics::format_name(f.activation))
          << name << " " << g.layer(i).name;
      EXPECT_EQ(std::string(plan[i].block.input_grad.a.format->name), numerics::format_name(f.gradient))
          << name << " " << g.layer(i).name;
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
  // The block section sets the attention matmuls; a top-level `attention:` would be ignored.
  const std::string attention = policy_file("a.yaml", "name: x\nattention: fp16\nblock:\n  policy: nvfp4\n");
  EXPECT_NE(policy_error("fp32", attention).find("a.yaml:2: attention: a block policy sets the attention matmuls itself"),
            std::string::npos)
      << policy_error("fp32", attention);
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

// ---- Block GEMMs: the emulator's GEMMs are numerics::block_dot_run's -------------

/// A rows x cols matrix whose 16 x 16 tiles sit at random binades 2^-20 ..
/// 2^20 (values within a tile within a factor of 8, random signs): blocks
/// along either axis meet tiles of very different magnitudes, so the order in
/// which FP32 adds their products changes the low bits of the sums.
std::vector<float> tiled(std::size_t rows, std::size_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> tile_exponent(-8, 8);
  std::uniform_int_distribution<int> jitter(-1, 1);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  const std::size_t tile_cols = (cols + 15) / 16;
  std::vector<int> exponent(((rows + 15) / 16) * tile_cols);
  for (int& e : exponent) e = tile_exponent(rng);
  std::vector<float> v(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const int e = exponent[(i / 16) * tile_cols + j / 16] + jitter(rng);
      v[i * cols + j] = std::ldexp(mantissa(rng), e) * (rng() % 2 == 0 ? 1.0f : -1.0f);
    }
  }
  return v;
}

/// out (cols x rows) = in (rows x cols) transposed.
std::vector<float> transposed(const std::vector<float>& in, std::size_t rows, std::size_t cols) {
  std::vector<float> out(in.size());
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  }
  return out;
}

/// C (m x n) = A (m x k) . Bt (n x k)^T by numerics::block_dot_run, both
/// operands quantized independently here (nearest-even) with their blocks
/// along k (`two_d`: 16 x 16), then times the product of the two tensor
/// scales as the layer applies it (1 x 1 for MX).
std::vector<float> block_dot_reference(const numerics::BlockFormat& f, const std::vector<float>& a, bool a_two_d,
                                       const std::vector<float>& bt, bool b_two_d, std::size_t m, std::size_t n,
                                       std::size_t k) {
  auto shape = [&](bool two_d) { return two_d ? numerics::BlockShape{16, 16} : numerics::BlockShape{1, f.block}; };
  const numerics::BlockQuantized qa =
      numerics::block_quantize(f, a.data(), m, k, k, shape(a_two_d), numerics::BlockRounding::kNearestEven, 0);
  const numerics::BlockQuantized qb =
      numerics::block_quantize(f, bt.data(), n, k, k, shape(b_two_d), numerics::BlockRounding::kNearestEven, 0);
  const std::size_t blocks = (k + f.block - 1) / f.block;
  // Scales of row r's k-blocks, whatever the block shape (a 16 x 16 block is a k-block of 16 for each of its rows).
  auto row_scales = [&](const numerics::BlockQuantized& q, std::size_t r) {
    const std::size_t grid_cols = (k + q.shape.cols - 1) / q.shape.cols;
    std::vector<std::uint32_t> s(blocks);
    for (std::size_t b = 0; b < blocks; ++b) s[b] = q.scales[(r / q.shape.rows) * grid_cols + b * f.block / q.shape.cols];
    return s;
  };
  const float tensor = 1.0f * qa.tensor_scale * qb.tensor_scale;
  std::vector<float> c(m * n);
  for (std::size_t i = 0; i < m; ++i) {
    const std::vector<std::uint32_t> sa = row_scales(qa, i);
    for (std::size_t j = 0; j < n; ++j) {
      const std::vector<std::uint32_t> sb = row_scales(qb, j);
      const auto bits = static_cast<std::uint32_t>(
          numerics::block_dot_run(0, f, qa.codes.data() + i * k, sa.data(), qb.codes.data() + j * k, sb.data(), k));
      c[i * n + j] = tensor * numerics::fp32_value(bits);
    }
  }
  return c;
}

/// Number of elements whose bit patterns differ; the first few are printed.
std::size_t bit_differences(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  std::size_t differ = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (numerics::fp32_bits(got[i]) != numerics::fp32_bits(want[i])) {
      if (++differ <= 3) ADD_FAILURE() << what << " [" << i << "]: " << got[i] << " != block_dot_run's " << want[i];
    }
  }
  return differ;
}

BlockArith nearest_block_arith(const char* format, bool two_d_weights) {
  const OperandQuant q{fmt(format), false, numerics::BlockRounding::kNearestEven, false};
  OperandQuant w = q;
  w.two_d = two_d_weights;
  return BlockArith{{q, w}, {q, w}, {q, q}};
}

// A Linear layer's three GEMMs under MXFP4 and NVFP4 (16 x 16 weight blocks;
// nearest-even everywhere so that this test can quantize the same codes on
// its own; stochastic rounding and the Hadamard transform change the codes,
// not the GEMM): every output of the forward, input-gradient and
// weight-gradient GEMM equals numerics::block_dot_run's, bit for bit. Batch
// 72, 100 inputs, 45 outputs: each GEMM's k (100, 45, 72) ends in a partial
// block. The old emulator (the same units through Eigen's FP32 GEMM, all k
// products summed in its own order) differed from block_dot_run in 288 of
// the 3,240 forward outputs, 235 of 7,200 input-gradient and 296 of 4,500
// weight-gradient outputs under MXFP4, and in 1,650, 1,638 and 2,489 under
// NVFP4 (measured by running this test with the block length forced to 0).
TEST(BlockGemm, LinearLayerGemmsAreBlockDotRunBitForBit) {
  const std::size_t n = 72;
  const std::size_t in = 100;
  const std::size_t out = 45;
  for (const char* format : {"mxfp4", "nvfp4"}) {
    const bool nv = std::string(format) == "nvfp4";
    const numerics::BlockFormat& f = *fmt(format);
    LayerArith arith = LayerArith::fp32();
    arith.block = nearest_block_arith(format, nv);
    ASSERT_EQ(block_gemm_length(arith.block.forward), f.block);
    Linear layer("fc", in, out, false, arith);
    Rng rng(1);
    layer.init(rng);
    std::vector<float> w = tiled(out, in, 2);
    layer.params()[0]->value = w;
    Tensor x;
    x.resize(Shape{n, in, 1, 1});
    x.data = tiled(n, in, 3);
    Tensor y;
    StepContext ctx;
    layer.forward(x, y, ctx);
    EXPECT_EQ(bit_differences(y.data, block_dot_reference(f, x.data, false, w, nv, n, out, in), "forward"), 0u)
        << format;

    Tensor dy;
    dy.resize(Shape{n, out, 1, 1});
    dy.data = tiled(n, out, 4);
    Tensor dx;
    layer.backward(x, y, dy, &dx, ctx);
    // dX (n x in) = dY (n x out) . W (out x in): W's blocks run along out here.
    EXPECT_EQ(bit_differences(dx.data, block_dot_reference(f, dy.data, false, transposed(w, out, in), nv, n, in, out),
                              "input gradient"),
              0u)
        << format;
    // dW (out x in) = dY^T (out x n) . X (n x in): both re-quantized along the batch.
    EXPECT_EQ(bit_differences(layer.params()[0]->grad,
                              block_dot_reference(f, transposed(dy.data, n, out), false, transposed(x.data, n, in),
                                                  false, out, in, n),
                              "weight gradient"),
              0u)
        << format;
  }
}

// The same for a Conv2d layer (1 x 1 kernel, so that im2col and col2im only
// reorder: cols (C x NPQ) = x, and each dX element receives one column
// gradient): forward along C, input gradient along K, weight gradient along
// (n, p, q), every output block_dot_run's. (The old path differed in 5 of
// these 6 GEMMs, in 81 to 950 outputs each, measured as above.)
TEST(BlockGemm, ConvLayerGemmsAreBlockDotRunBitForBit) {
  const std::size_t cin = 40;
  const std::size_t cout = 35;
  const std::size_t n = 2;
  const std::size_t pq = 36;  // 6 x 6
  const std::size_t npq = n * pq;
  for (const char* format : {"mxfp4", "nvfp4"}) {
    const bool nv = std::string(format) == "nvfp4";
    const numerics::BlockFormat& f = *fmt(format);
    LayerArith arith = LayerArith::fp32();
    arith.block = nearest_block_arith(format, nv);
    Conv2d layer("conv", cin, cout, 1, 1, 0, false, arith);
    Rng rng(1);
    layer.init(rng);
    const std::vector<float> w = tiled(cout, cin, 5);  // K x C
    layer.params()[0]->value = w;
    const std::vector<float> cols = tiled(cin, npq, 6);  // C x NPQ
    const std::vector<float> grads = tiled(cout, npq, 7);  // K x NPQ
    // NCHW tensors from the (channel, (n, p, q)) matrices.
    auto nchw = [&](const std::vector<float>& m, std::size_t channels) {
      Tensor t;
      t.resize(Shape{n, channels, 6, 6});
      for (std::size_t s = 0; s < n; ++s) {
        for (std::size_t c = 0; c < channels; ++c) {
          for (std::size_t i = 0; i < pq; ++i) t.data[(s * channels + c) * pq + i] = m[c * npq + s * pq + i];
        }
      }
      return t;
    };
    const Tensor x = nchw(cols, cin);
    Tensor y;
    StepContext ctx;
    layer.forward(x, y, ctx);
    // y (K x NPQ) = W (K x C) . cols (C x NPQ).
    EXPECT_EQ(bit_differences(y.data, nchw(block_dot_reference(f, w, nv, transposed(cols, cin, npq), false, cout, npq, cin), cout).data,
                              "forward"),
              0u)
        << format;
    const Tensor dy = nchw(grads, cout);
    Tensor dx;
    layer.backward(x, y, dy, &dx, ctx);
    // dCol (C x NPQ) = W^T (C x K) . dY (K x NPQ).
    EXPECT_EQ(bit_differences(dx.data,
                              nchw(block_dot_reference(f, transposed(w, cout, cin), nv, transposed(grads, cout, npq),
                                                       false, cin, npq, cout),
                                   cin)
                                  .data,
                              "input gradient"),
              0u)
        << format;
    // dW^T (C x K) = cols (C x NPQ) . dY^T (NPQ x K).
    EXPECT_EQ(bit_differences(transposed(layer.params()[0]->grad, cout, cin),
                              block_dot_reference(f, cols, false, grads, false, cin, cout, npq), "weight gradient"),
              0u)
        << format;
  }
}

/// MXFP4 units code x 2^scale of an m x k matrix whose rows carry one E8M0
/// scale per block of 32, and its codes and scales.
struct Mxfp4Rows {
  std::size_t rows;
  std::size_t k;
  std::vector<std::uint32_t> codes;   ///< rows x k
  std::vector<std::uint32_t> scales;  ///< rows x ceil(k / 32), E8M0 codes
  std::vector<float> units() const {
    const numerics::BlockFormat& f = *fmt("mxfp4");
    const std::size_t blocks = (k + 31) / 32;
    std::vector<float> u(rows * k);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t t = 0; t < k; ++t) {
        u[i * k + t] = static_cast<float>(numerics::element_value(*f.element, codes[i * k + t]) *
                                          numerics::scale_value(f.scale, scales[i * blocks + t / 32]));
      }
    }
    return u;
  }
};

/// block_dot_run of row i of a and row j of b (b holds B^T), as a float.
float run_ref(const Mxfp4Rows& a, std::size_t i, const Mxfp4Rows& b, std::size_t j) {
  const std::size_t blocks = (a.k + 31) / 32;
  return numerics::fp32_value(static_cast<std::uint32_t>(numerics::block_dot_run(
      0, *fmt("mxfp4"), a.codes.data() + i * a.k, a.scales.data() + i * blocks, b.codes.data() + j * b.k,
      b.scales.data() + j * blocks, a.k)));
}

/// C = A . B^T from units through gemm() with `acc`.
std::vector<float> gemm_units(const Accumulator& acc, const Mxfp4Rows& a, const Mxfp4Rows& bt) {
  const std::vector<float> ua = a.units();
  const std::vector<float> ub = transposed(bt.units(), bt.rows, bt.k);
  std::vector<float> c(a.rows * bt.rows);
  gemm(acc, ConstMatrix{ua.data(), a.rows, a.k, a.k}, ConstMatrix{ub.data(), bt.k, bt.rows, bt.rows},
       Matrix{c.data(), a.rows, bt.rows, bt.rows});
  return c;
}

// Built by hand: where the old FP32 GEMM and the block PE differ. k = 64, two
// MXFP4 blocks. A's rows: block 0 holds one element 4 x 2^23 = 2^25 (row 0),
// 4 x 2^18 = 2^20 (row 1) or 4 x 2^22 = 2^24 (row 2), the rest 0; block 1 is
// 32 ones (scale 2^0). B's column 0 is 64 ones; column 1 is 32 ones then 32
// twos. Block PE: C = 2^25 + 32, 2^25 + 64, 2^20 + 32, 2^20 + 64, 2^24 + 32,
// 2^24 + 64, every one an FP32 number, so exact. An FP32 sum that adds the
// block-1 products one by one to the big partial sum loses them: at 2^25 (ulp
// 4) each +1 or +2 rounds back down (+2 is a tie, to even), at 2^24 (ulp 2)
// each +1 ties back down while each +2 is exact, at 2^20 nothing is lost. So
// the old path (Eigen's FP32 GEMM, which adds this shape's products in k
// order) differs in 3 of the 6 outputs: it gives 2^25 at (0,0) and (0,1) and
// 2^24 at (2,0). (An order that sums block 1 first would agree: the
// difference is the order, which is why the PE's is pinned.)
TEST(BlockGemm, HandBuiltCaseWhereTheFp32OrderDiffers) {
  const std::uint32_t one = 0x2;   // E2M1 1.0
  const std::uint32_t two = 0x4;   // E2M1 2.0
  const std::uint32_t four = 0x6;  // E2M1 4.0
  Mxfp4Rows a{3, 64, std::vector<std::uint32_t>(3 * 64, 0), std::vector<std::uint32_t>(3 * 2, 127)};
  const int big_scale[3] = {23, 18, 22};
  for (std::size_t i = 0; i < 3; ++i) {
    a.codes[i * 64] = four;
    a.scales[i * 2] = static_cast<std::uint32_t>(127 + big_scale[i]);
    for (std::size_t t = 32; t < 64; ++t) a.codes[i * 64 + t] = one;
  }
  Mxfp4Rows bt{2, 64, std::vector<std::uint32_t>(2 * 64, one), std::vector<std::uint32_t>(2 * 2, 127)};
  for (std::size_t t = 32; t < 64; ++t) bt.codes[64 + t] = two;

  const float want[6] = {33554464.0f, 33554496.0f, 1048608.0f, 1048640.0f, 16777248.0f, 16777280.0f};
  Accumulator block;
  block.block = 32;
  const std::vector<float> pe = gemm_units(block, a, bt);
  const std::vector<float> old = gemm_units(Accumulator{}, a, bt);
  std::size_t old_differs = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      EXPECT_EQ(run_ref(a, i, bt, j), want[i * 2 + j]) << i << "," << j;
      EXPECT_EQ(pe[i * 2 + j], want[i * 2 + j]) << i << "," << j;
      old_differs += old[i * 2 + j] != want[i * 2 + j] ? 1 : 0;
    }
  }
  EXPECT_EQ(old_differs, 3u);
}

// Every kernel (scalar, AVX2, AVX-512) in block mode is block_dot_run, over
// random MXFP4 codes and scales 2^-20 .. 2^20, k = 100 (a partial last
// block); and a GEMM whose products fall below FP32's subnormal grid (A's
// scales 2^-80, B's 2^-75: products near 2^-155) runs on the FP64 path and
// is still block_dot_run's, where in-block FP32 sums would round.
TEST(BlockGemm, EveryKernelAndTinyScalesAreBlockDotRun) {
  std::mt19937 rng(7);
  auto random_rows = [&](std::size_t rows, std::size_t k, int lo, int hi) {
    const std::size_t blocks = (k + 31) / 32;
    Mxfp4Rows r{rows, k, std::vector<std::uint32_t>(rows * k), std::vector<std::uint32_t>(rows * blocks)};
    for (auto& c : r.codes) c = rng() % 16;
    for (auto& s : r.scales) s = static_cast<std::uint32_t>(127 + lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)));
    return r;
  };
  Accumulator block;
  block.block = 32;
  const Mxfp4Rows a = random_rows(9, 100, -20, 20);
  const Mxfp4Rows bt = random_rows(21, 100, -20, 20);
  std::vector<float> want(9 * 21);
  for (std::size_t i = 0; i < 9; ++i) {
    for (std::size_t j = 0; j < 21; ++j) want[i * 21 + j] = run_ref(a, i, bt, j);
  }
  for (Fp16Kernel kernel : {Fp16Kernel::kScalar, Fp16Kernel::kAvx2, Fp16Kernel::kAvx512}) {
    if (!fp16_kernel_supported(kernel)) continue;
    set_fp16_kernel(kernel);
    EXPECT_EQ(bit_differences(gemm_units(block, a, bt), want, fp16_kernel_name()), 0u);
  }
  set_fp16_kernel(Fp16Kernel::kAuto);

  const Mxfp4Rows tiny_a = random_rows(5, 64, -80, -80);
  const Mxfp4Rows tiny_b = random_rows(6, 64, -75, -75);
  std::vector<float> tiny_want(5 * 6);
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t j = 0; j < 6; ++j) tiny_want[i * 6 + j] = run_ref(tiny_a, i, tiny_b, j);
  }
  EXPECT_EQ(bit_differences(gemm_units(block, tiny_a, tiny_b), tiny_want, "scales 2^-80 x 2^-75"), 0u);
}

TEST(BlockGemm, WhichGemmsRunOnBlockPes) {
  const OperandQuant mx{fmt("mxfp4"), false, numerics::BlockRounding::kNearestEven, false};
  const OperandQuant nv{fmt("nvfp4"), true, numerics::BlockRounding::kStochastic, true};
  const OperandQuant e4m3{fmt("mxfp8-e4m3"), false, numerics::BlockRounding::kNearestEven, false};
  const OperandQuant e3m2{fmt("mxfp6-e3m2"), false, numerics::BlockRounding::kNearestEven, false};
  const OperandQuant bf16{fmt("bf16"), false, numerics::BlockRounding::kNearestEven, false};
  EXPECT_EQ(block_gemm_length({mx, mx}), 32u);
  EXPECT_EQ(block_gemm_length({nv, nv}), 16u);    // 12-bit sums x two 4-bit UE4M3 significands: 20 bits
  EXPECT_EQ(block_gemm_length({e3m2, e3m2}), 32u);  // 23 bits: the widest that FP32 holds
  EXPECT_EQ(block_gemm_length({e4m3, e4m3}), 0u);   // 41 bits: MXFP8 stays on the FP32 GEMM
  EXPECT_EQ(block_gemm_length({mx, nv}), 0u);       // blocks of 32 and 16
  EXPECT_EQ(block_gemm_length({mx, bf16}), 0u);
  EXPECT_EQ(block_gemm_length({mx, OperandQuant{}}), 0u);
}


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
  if (test::fashion_mnist() == nullptr) GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)";
  // Measured with the block-PE GEMMs (seed 1, 2000 test images): mxfp4 73.45 %, nvfp4 73.80 %,
  // beside fp32's 73.76 % on 5000 (Training.Fp32CnnLearnsFromTwoThousandImages).
  const std::pair<const char*, double> measured[] = {{"mxfp4", 73.45}, {"nvfp4", 73.80}};
  for (const auto& [policy, accuracy] : measured) {
    const TrainResult r = train(cnn_run(policy, 2000, 2000, 2), *test::fashion_mnist());
    EXPECT_NEAR(r.epochs[0].test_accuracy, accuracy, 1.0) << policy;
    EXPECT_EQ(r.epochs[0].skipped_steps, 0u) << policy;
  }
}

TEST(BlockPolicy, SameResultsAtAnyThreadCount) {
  if (test::fashion_mnist() == nullptr) GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)";
  // Quantization bands run as thread-pool tasks; stochastic rounding and the
  // Hadamard signs are addressed by index, so the thread count cannot matter.
  const TrainResult one = train(cnn_run("nvfp4", 192, 200, 1), *test::fashion_mnist());
  const TrainResult three = train(cnn_run("nvfp4", 192, 200, 3), *test::fashion_mnist());
  EXPECT_EQ(one.epochs[0].train_loss, three.epochs[0].train_loss);
  EXPECT_EQ(one.epochs[0].test_loss, three.epochs[0].test_loss);
}

}  // namespace
}  // namespace nibble::train
