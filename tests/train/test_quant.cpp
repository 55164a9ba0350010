// Operand quantization as the emulator applies it (through sim/numerics),
// the policy table, and the trace of the run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "models/train/policy.hpp"
#include "models/train/quant.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/design/design.hpp"
#include "sim/numerics/fp16.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::train {
namespace {

using numerics::Format;

TEST(Quant, GradientTprPhasesBracketTheValue) {
  // GradScale: amax 0.3 -> scale 0.3 / 4^(7-7) rounded up to a power of two = 0.5.
  // Even phase (grid 0.5 x 4^j): 0.3 / 0.5 = 0.6 lies between 4^-1 and 4^0; nearest
  // in log2 rounds up iff 0.6 >= 2 x 0.25 = 0.5: code value 1, real 0.5.
  // Odd phase (scale halved, grid 0.25 x 4^j): 0.3 / 0.25 = 1.2 lies above 4^0 = 1, the top
  // code value (bias 7), below the rounding point 2: code value 1 (the top code), real 0.25.
  // The two phases bracket 0.3, as TPR intends, and the largest gradient uses both top codes.
  GradientQuantizer q(ArithParams{}, true);
  const std::vector<float> g{0.3f, -0.02f, 0.0f};
  ASSERT_TRUE(q.begin_step(Format::kFp4, g.data(), g.size()));
  EXPECT_EQ(q.scale(), 0.5f);
  QuantizedOperand even, odd;
  q.quantize(Format::kFp4, g.data(), g.size(), TprPhase::kEven, 0, even);
  q.quantize(Format::kFp4, g.data(), g.size(), TprPhase::kOdd, 0, odd);
  EXPECT_EQ(even.scale, 0.5f);
  EXPECT_EQ(odd.scale, 0.25f);
  EXPECT_EQ(even.units[0], 1.0f);
  EXPECT_EQ(odd.units[0], 1.0f);
  // -0.02: even 0.04 -> between 4^-3 = 0.015625 and 4^-2 = 0.0625, up iff >= 0.03125: -4^-2;
  // odd 0.08 -> between 4^-2 = 0.0625 and 4^-1 = 0.25, up iff >= 0.125: no, -4^-2 (real -0.015625).
  EXPECT_EQ(even.units[1], -0.0625f);
  EXPECT_EQ(odd.units[1], -0.0625f);
  EXPECT_EQ(even.units[2], 0.0f);
}

TEST(Quant, GradientsWithoutGradScaleUnderflow) {
  // Scale fixed at 1: the smallest FP4 magnitude is 4^-6 = 2^-12, so a gradient
  // of 1e-5 (typical after averaging over a batch) rounds to 0.
  GradientQuantizer q(ArithParams{}, false);
  const std::vector<float> g{1e-5f, 0.5f};
  ASSERT_TRUE(q.begin_step(Format::kFp4, g.data(), g.size()));
  QuantizedOperand out;
  q.quantize(Format::kFp4, g.data(), g.size(), TprPhase::kEven, 0, out);
  EXPECT_EQ(out.scale, 1.0f);
  EXPECT_EQ(out.units[0], 0.0f);
  EXPECT_EQ(out.units[1], 1.0f);  // 0.5 >= 2 x 0.25: up to 4^0
  const std::vector<float> bad{1.0f, INFINITY};
  EXPECT_FALSE(q.begin_step(Format::kFp4, bad.data(), bad.size()));
}

TEST(Quant, PactActivations) {
  // alpha 6: scale 6 / 15 = 0.4. 1.0 / 0.4 = 2.5 -> tie to even 2; 7.0 clips to 15; -1 to 0.
  QuantizedOperand out;
  const std::vector<float> x{1.0f, 7.0f, -1.0f, 0.61f};
  quantize_activations(Format::kUint4, x.data(), x.size(), 6.0f, out);
  EXPECT_FLOAT_EQ(out.scale, 0.4f);
  EXPECT_EQ(out.units, (std::vector<float>{2.0f, 15.0f, 0.0f, 2.0f}));
  // Straight-through: gradients pass where 0 <= x < alpha; x >= alpha feeds dL/dalpha.
  std::vector<float> g{1.0f, 2.0f, 3.0f, 4.0f};
  EXPECT_EQ(activation_backward(Format::kUint4, x.data(), x.size(), 6.0f, g.data()), 2.0);
  EXPECT_EQ(g, (std::vector<float>{1.0f, 0.0f, 0.0f, 4.0f}));
  EXPECT_THROW(quantize_activations(Format::kFp4, x.data(), x.size(), 6.0f, out), std::logic_error);
}

TEST(Quant, SignedActivationsUseSawb) {
  // x = (3, -3, 3, -3, 0.5, 9): E[x^2] = (4 x 9 + 0.25 + 81) / 6 = 19.5417, E|x| = 21.5 / 6 = 3.5833;
  // clip = 12.68 x sqrt(19.5417) - 12.80 x 3.5833 = 56.053 - 45.867 = 10.186 > max|x|, so nothing clips;
  // scale = clip / 7 = 1.4552: 3 -> 2.06 -> 2, 9 -> 6.18 -> 6, 0.5 -> 0.34 -> 0.
  QuantizedOperand out;
  const std::vector<float> x{3, -3, 3, -3, 0.5f, 9};
  quantize_activations(Format::kInt4, x.data(), x.size(), 0.0f, out);
  EXPECT_NEAR(out.scale, 1.4552, 1e-4);
  EXPECT_EQ(out.units, (std::vector<float>{2, -2, 2, -2, 0, 6}));
  std::vector<float> g(6, 1.0f);
  EXPECT_EQ(activation_backward(Format::kInt4, x.data(), x.size(), 0.0f, g.data()), 0.0);
  EXPECT_EQ(g, std::vector<float>(6, 1.0f));  // inside the clip: straight through
}

TEST(Quant, SawbWeights) {
  // w = (1, -1, 1, -1): E[w^2] = 1, E|w| = 1, SAWB clip 12.68 - 12.80 < 0, so the
  // clip is max|w| = 1, scale 1/7: codes +-7.
  QuantizedOperand out;
  const std::vector<float> w{1.0f, -1.0f, 1.0f, -1.0f};
  quantize_weights(Format::kInt4, w.data(), w.size(), out);
  EXPECT_FLOAT_EQ(out.scale, 1.0f / 7.0f);
  EXPECT_EQ(out.units, (std::vector<float>{7.0f, -7.0f, 7.0f, -7.0f}));
}

TEST(Quant, FloatingFormatsUsePowerOfTwoScales) {
  // max |x| = 20: ceil(log2 20) = 5, scale 2^(5-4) = 2, so max |x / s| = 10 in (8, 16].
  QuantizedOperand out;
  const std::vector<float> x{20.0f, 0.1f};
  quantize_activations(Format::kFp16, x.data(), x.size(), 0.0f, out);
  EXPECT_EQ(out.scale, 2.0f);
  EXPECT_EQ(out.units[0], 10.0f);
  // 0.1 / 2 = 0.05 = 1.6 x 2^-5: fraction 0.6 x 1024 = 614.4 -> 614, so 1638 x 2^-15 (FP16 0x2A66).
  EXPECT_EQ(out.units[1], 0.04998779296875f);
  // FP8 e4m3 (3 mantissa bits): 20 / 2 = 10 exactly; 0.1 / 2 = 0.05 -> 0.05078125 (13 x 2^-8).
  quantize_weights(Format::kFp8E4M3, x.data(), x.size(), out);
  EXPECT_EQ(out.units[0], 10.0f);
  EXPECT_EQ(out.units[1], 0.05078125f);
}

TEST(Quant, Fp16RoundingMatchesNumericsOnEveryBoundary) {
  // Every float whose low 13 fraction bits (those FP16 drops) sit at or next to
  // a rounding decision -- 0, just below half, exactly half, just above half,
  // all ones -- for every sign, exponent and upper fraction: 2 x 256 x 1024 x 5
  // = 2,621,440 inputs, covering ties to even, carries into the exponent,
  // subnormals, overflow to inf, inf and NaN.
  std::vector<float> in;
  for (std::uint32_t high = 0; high < (1u << 19); ++high) {
    for (std::uint32_t low : {0x0000u, 0x0FFFu, 0x1000u, 0x1001u, 0x1FFFu}) {
      const std::uint32_t bits = (high << 13) | low;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      in.push_back(f);
    }
  }
  std::vector<float> out(in.size());
  round_to_fp16(in.data(), in.size(), 1.0f, out.data());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < in.size() && bad < 5; ++i) {
    const float expected = numerics::fp16_to_float(numerics::fp16_from_float(in[i]));
    if (std::isnan(expected) ? !std::isnan(out[i]) : std::memcmp(&expected, &out[i], sizeof expected) != 0) {
      ++bad;
      ADD_FAILURE() << "input " << in[i] << ": got " << out[i] << ", numerics says " << expected;
    }
  }
}

TEST(Quant, ExactnessHelpers) {
  EXPECT_EQ(fixed_point_lsb(Format::kUint4, Format::kInt4, 7), 1.0);
  EXPECT_EQ(fixed_point_lsb(Format::kInt4, Format::kFp4, 7), std::ldexp(1.0, -12));  // 4^(1-7)
  EXPECT_EQ(fixed_point_lsb(Format::kFp4Radix2, Format::kInt4, 7), std::ldexp(1.0, -6));  // 2^(1-7)
  EXPECT_THROW(fixed_point_lsb(Format::kFp16, Format::kInt4, 7), std::logic_error);
  EXPECT_TRUE(products_are_fp16(Format::kUint4, Format::kInt4, 7));   // |p| <= 120
  EXPECT_TRUE(products_are_fp16(Format::kInt4, Format::kFp4, 7));     // 2^-12 .. 8
  EXPECT_TRUE(products_are_fp16(Format::kInt4, Format::kFp4, 13));    // down to 4^-12 = 2^-24
  EXPECT_FALSE(products_are_fp16(Format::kInt4, Format::kFp4, 14));   // 2^-26 is below FP16
  EXPECT_FALSE(products_are_fp16(Format::kUint4, Format::kFp4, 0));   // 15 x 4^7 > 65504
  EXPECT_FALSE(products_are_fp16(Format::kFp16, Format::kFp16, 7));
  EXPECT_TRUE(accumulation_supported(Format::kUint4, Format::kInt4, Format::kFp16));
  EXPECT_TRUE(accumulation_supported(Format::kFp4, Format::kInt4, Format::kFp16Chunked));
  EXPECT_FALSE(accumulation_supported(Format::kFp16, Format::kFp16, Format::kInt32));
}

TEST(Policy, Int4Fp4LayersAndAblations) {
  models::ZooOptions o;
  o.batch = 8;
  const models::Graph g = models::build_zoo_model("fmnist-cnn", o);
  const std::vector<LayerArith> plan = plan_arithmetic(g, make_train_policy("int4-fp4", std::nullopt), HardwareArith{});
  const LayerArith& conv1 = plan[g.find("conv1")];
  const LayerArith& conv2 = plan[g.find("conv2")];
  const LayerArith& fc2 = plan[g.find("fc2")];
  // First and last GEMM layers: FP16 with FP32 accumulation (workloads' int4-fp4 policy).
  EXPECT_EQ(conv1.forward, (GemmFormats{Format::kFp16, Format::kFp16, Format::kFp32}));
  EXPECT_EQ(fc2.weight_grad, (GemmFormats{Format::kFp16, Format::kFp16, Format::kFp32}));
  // conv2 reads ReLU + max-pool output: UINT4 activations, FP4 gradients, FP16 accumulators, TPR.
  EXPECT_EQ(conv2.forward, (GemmFormats{Format::kUint4, Format::kInt4, Format::kFp16}));
  EXPECT_EQ(conv2.input_grad, (GemmFormats{Format::kFp4, Format::kInt4, Format::kFp16}));
  EXPECT_EQ(conv2.weight_grad, (GemmFormats{Format::kUint4, Format::kFp4, Format::kFp16}));
  EXPECT_TRUE(conv2.tpr);
  EXPECT_TRUE(conv2.gradscale);

  const auto radix2 = plan_arithmetic(g, make_train_policy("int4-fp4-radix2", std::nullopt), HardwareArith{});
  EXPECT_EQ(radix2[g.find("fc1")].input_grad.a, Format::kFp4Radix2);
  EXPECT_FALSE(radix2[g.find("fc1")].tpr);
  EXPECT_FALSE(plan_arithmetic(g, make_train_policy("int4-fp4-no-tpr", std::nullopt), HardwareArith{})[g.find("fc1")].tpr);
  EXPECT_FALSE(
      plan_arithmetic(g, make_train_policy("int4-fp4-no-gradscale", std::nullopt), HardwareArith{})[g.find("fc1")].gradscale);

  // A design's accumulators replace the policy's, as design::plan_execution
  // plans each GEMM on its array: the shipped 4-bit design accumulates INT4 ops
  // in fp16-chunked (chunk = 128 rows) and runs the FP16 first and last layers in
  // 4-bit slices (multi-pass) accumulating in fp32.
  const std::string path = std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/int4-single-array.yaml";
  const HardwareArith hw = hardware_of(design::load_design(path), path);
  EXPECT_EQ(hw.chunk, 128u);
  const auto designed = plan_arithmetic(g, make_train_policy("int4-fp4", std::nullopt), hw);
  EXPECT_EQ(designed[g.find("conv2")].forward.acc, Format::kFp16Chunked);
  EXPECT_EQ(designed[g.find("conv2")].input_grad.acc, Format::kFp16Chunked);
  EXPECT_EQ(designed[g.find("conv1")].forward.acc, Format::kFp32);
  // With multi-pass off, the int4-fp4 PE cannot run the FP16 layers at all.
  design::Design strict = *hw.design;
  strict.array.unsupported = design::UnsupportedOps::kError;
  EXPECT_THROW(plan_arithmetic(g, make_train_policy("int4-fp4", std::nullopt), hardware_of(strict, path)), InputError);
  EXPECT_EQ(designed[g.find("conv2")].forward.dot, 1u);

  // The shipped design's units: the 4-bit layers on the dot-product array (4 products per
  // FP16 accumulate), the FP16 first layer on the FP16 unit (one product per FP32 add).
  const std::string shipped = std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/int4-train.yaml";
  const auto units = plan_arithmetic(g, make_train_policy("int4-fp4", std::nullopt),
                                     hardware_of(design::load_design(shipped), shipped));
  EXPECT_EQ(units[g.find("conv2")].weight_grad.acc, Format::kFp16Chunked);
  EXPECT_EQ(units[g.find("conv2")].weight_grad.dot, 4u);
  EXPECT_EQ(units[g.find("conv1")].forward.acc, Format::kFp32);
  EXPECT_EQ(units[g.find("conv1")].forward.dot, 1u);
  // A dot-product unit that would have to run wider products is refused, not emulated wrongly.
  design::Design wide = design::load_design(shipped);
  wide.more_units.clear();
  wide.array.unsupported = design::UnsupportedOps::kMultiPass;
  wide.array.acc_float = numerics::Format::kFp32;
  EXPECT_THROW(plan_arithmetic(g, make_train_policy("int4-fp4", std::nullopt), hardware_of(wide, shipped)),
               InputError);
}

TEST(Policy, UnknownNameSuggests) {
  try {
    make_train_policy("int4-fp4-no-trp", std::nullopt);
    FAIL();
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "policy");
    EXPECT_NE(e.message().find("did you mean 'int4-fp4-no-tpr'"), std::string::npos) << e.what();
  }
}

TEST(Policy, TraceOfRunCarriesTheEmulatedFormats) {
  models::ZooOptions o;
  o.batch = 4;
  const models::Graph g = models::build_zoo_model("fmnist-cnn", o);
  const TrainPolicy policy = make_train_policy("int4-fp4-radix2", std::nullopt);
  const workloads::Trace t = trace_of_run(g, policy, plan_arithmetic(g, policy, HardwareArith{}));
  EXPECT_EQ(t.policy, "int4-fp4-radix2");
  std::size_t fc1_grad_quantizations = 0;
  for (const auto& op : t.ops) {
    if (op.is_gemm() && op.layer == "fc1" && op.phase == workloads::Phase::kInputGrad) {
      EXPECT_EQ(op.a_format, Format::kFp4Radix2);
    }
    if (!op.is_gemm() && op.layer == "fc1" && op.vector == workloads::VectorKind::kQuantize &&
        op.phase != workloads::Phase::kForward) {
      ++fc1_grad_quantizations;
      EXPECT_EQ(op.out_format, Format::kFp4Radix2);
    }
  }
  // No TPR: one FP4 copy of fc1's output gradient feeds both backward GEMMs; the
  // weight-gradient GEMM reads that copy (the dropped one's name is gone), and the
  // trace still reads only tensors written before (write_trace checks).
  EXPECT_EQ(fc1_grad_quantizations, 1u);
  for (const auto& op : t.ops) {
    if (op.is_gemm() && op.layer == "fc1" && op.phase == workloads::Phase::kWeightGrad) {
      EXPECT_EQ(op.reads, (std::vector<std::string>{"pool2.y.uint4", "fc1.dY.odd"}));
    }
  }
  EXPECT_NO_THROW(workloads::write_trace(t));
}

}  // namespace
}  // namespace nibble::train
