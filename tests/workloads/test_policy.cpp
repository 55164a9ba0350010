// Precision policies: named policies, the YAML policy file, per-layer overrides
// and their errors.
#include <gtest/gtest.h>

#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "workloads/expand.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::workloads {
namespace {

using test::error_of;

models::Graph resnet50() { return models::build_zoo_model("resnet50", {}); }

Precision precision_of(const models::Graph& g, const Policy& p, const std::string& layer) {
  return layer_precisions(g, p).at(g.find(layer));
}

// The block-scaled policies: the emulator's roles (models/train/block_quant.hpp) as trace formats.
TEST(Policy, BlockScaledPolicies) {
  const models::Graph g = models::build_zoo_model("resnet18", {});
  const Policy mx = named_policy("mxfp4");
  EXPECT_EQ(mx.storage(), Format::kBf16);
  EXPECT_EQ(precision_of(g, mx, "conv1"), Precision::kBf16);
  EXPECT_EQ(precision_of(g, mx, "layer2.0.conv1"), Precision::kMxfp4);
  EXPECT_EQ(precision_of(g, mx, "fc"), Precision::kBf16);
  // NVIDIA's recipe keeps only the last layer in BF16.
  const Policy nv = named_policy("nvfp4");
  EXPECT_EQ(precision_of(g, nv, "conv1"), Precision::kNvfp4);
  EXPECT_EQ(precision_of(g, nv, "fc"), Precision::kBf16);
  // A file's first_last covers the first layers again.
  const Policy nv_file = parse_policy_text("first_last: fp16\n", "nv.yaml", std::string("nvfp4"));
  EXPECT_EQ(precision_of(g, nv_file, "conv1"), Precision::kFp16);
  EXPECT_EQ(precision_of(g, named_policy("mxfp8"), "fc"), Precision::kBf16);
  EXPECT_EQ(precision_of(g, named_policy("bf16"), "conv1"), Precision::kBf16);
  const PrecisionFormats f8 = precision_formats(Precision::kMxfp8, true);
  EXPECT_EQ(f8.activation, Format::kMxfp8E4M3);
  EXPECT_EQ(f8.gradient, Format::kMxfp8E5M2);
  EXPECT_EQ(f8.acc, Format::kFp32);
  EXPECT_TRUE(uses_transposed_requantization(Precision::kMxfp4));
  EXPECT_FALSE(uses_transposed_requantization(Precision::kBf16));
  EXPECT_TRUE(weights_square_blocks(Precision::kNvfp4));
  EXPECT_FALSE(weights_square_blocks(Precision::kMxfp4));
}

TEST(Policy, NamedPolicies) {
  EXPECT_EQ(named_policy("int4-fp4").first_last, Precision::kFp16);
  EXPECT_EQ(named_policy("hfp8").first_last, Precision::kHfp8);
  EXPECT_EQ(named_policy("fp32").storage(), Format::kFp32);
  EXPECT_EQ(named_policy("int4-fp4").storage(), Format::kFp16);
  EXPECT_EQ(error_of([] { named_policy("int4fp4"); }),
            "policy: unknown policy 'int4fp4' (did you mean 'int4-fp4'?); expected one of fp32, fp16, hfp8, int4-fp4, "
            "bf16, mxfp8, mxfp4, nvfp4");
  const PrecisionFormats f = precision_formats(Precision::kInt4Fp4, true);
  EXPECT_EQ(f.activation, Format::kUint4);
  EXPECT_EQ(f.gradient, Format::kFp4);
  EXPECT_EQ(f.acc, Format::kFp16);
}

TEST(Policy, FileWithFirstLast1x1AndLayerOverrides) {
  const std::string text =
      "# ResNet-50 as Sun et al. trained it: 1x1 convolutions in FP8\n"
      "policy: int4-fp4\n"
      "name: paper-resnet50\n"
      "first_last: hfp8\n"
      "conv1x1: hfp8\n"
      "layers:\n"
      "  layer3.0.conv2: fp16\n"
      "  layer1.0.conv1: int4-fp4\n";
  const Policy p = parse_policy_text(text, "p.yaml", std::nullopt);
  EXPECT_EQ(p.name, "paper-resnet50");
  const models::Graph g = resnet50();
  EXPECT_EQ(precision_of(g, p, "conv1"), Precision::kHfp8);           // first
  EXPECT_EQ(precision_of(g, p, "fc"), Precision::kHfp8);              // last
  EXPECT_EQ(precision_of(g, p, "layer2.1.conv1"), Precision::kHfp8);  // 1x1
  EXPECT_EQ(precision_of(g, p, "layer2.1.conv2"), Precision::kInt4Fp4);  // 3x3
  EXPECT_EQ(precision_of(g, p, "layer3.0.conv2"), Precision::kFp16);  // override
  EXPECT_EQ(precision_of(g, p, "layer1.0.conv1"), Precision::kInt4Fp4);  // override beats conv1x1
  // Without a name the policy is called after its base and file.
  EXPECT_EQ(parse_policy_text("first_last: fp32\n", "dir/mine.yaml", std::string("hfp8")).name, "hfp8+mine");
}

// `attention` sets every matmul of two activations (BERT's scores and context), nothing else.
TEST(Policy, AttentionKeySetsTheActivationMatmuls) {
  const Policy p = parse_policy_text("policy: int4-fp4\nattention: fp16\n", "p.yaml", std::nullopt);
  EXPECT_EQ(p.name, "int4-fp4+p");
  const models::Graph bert = models::build_zoo_model("bert-base", {});
  EXPECT_EQ(precision_of(bert, p, "encoder.layer.5.attention.self.scores"), Precision::kFp16);
  EXPECT_EQ(precision_of(bert, p, "encoder.layer.5.attention.self.context"), Precision::kFp16);
  EXPECT_EQ(precision_of(bert, p, "encoder.layer.5.attention.self.query"), Precision::kInt4Fp4);
  // The named int4-fp4 keeps the attention matmuls in FP16 (as the training emulator runs them);
  // a file's `attention:` key makes them 4-bit.
  EXPECT_EQ(precision_of(bert, named_policy("int4-fp4"), "encoder.layer.5.attention.self.scores"),
            Precision::kFp16);
  EXPECT_EQ(precision_of(bert, named_policy("int4-fp4"), "encoder.layer.5.attention.self.query"),
            Precision::kInt4Fp4);
  EXPECT_EQ(precision_of(bert, parse_policy_text("attention: int4-fp4\n", "a.yaml", std::nullopt),
                         "encoder.layer.5.attention.self.context"),
            Precision::kInt4Fp4);
  EXPECT_FALSE(named_policy("fp16").attention.has_value());
  const Policy o = parse_policy_text("attention: hfp8\nlayers:\n  encoder.layer.0.attention.self.scores: fp32\n",
                                     "o.yaml", std::nullopt);
  EXPECT_EQ(precision_of(bert, o, "encoder.layer.0.attention.self.scores"), Precision::kFp32);  // layers win
  EXPECT_EQ(precision_of(bert, o, "encoder.layer.0.attention.self.context"), Precision::kHfp8);
  EXPECT_EQ(error_of([] { parse_policy_text("attention: int8\n", "p.yaml", std::nullopt); }).rfind(
                "p.yaml:1: attention: expected one of fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4, "
                "got 'int8'",
                0),
            0u);
}

TEST(Policy, FileErrorsNameLineAndKey) {
  EXPECT_EQ(error_of([] { parse_policy_text("polcy: fp16\n", "p.yaml", std::nullopt); }),
            "p.yaml:1: polcy: unknown key (did you mean 'policy'?)");
  EXPECT_EQ(error_of([] { parse_policy_text("policy: int8\n", "p.yaml", std::nullopt); }).rfind(
                "p.yaml:1: policy: expected one of fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4, "
                "got 'int8'",
                0),
            0u);
  EXPECT_EQ(error_of([] { parse_policy_text("policy: fp16\n", "p.yaml", std::string("hfp8")); }),
            "p.yaml:1: policy: the file says 'fp16' but {setting:policy} says 'hfp8'; give one of them, or make them agree");
  EXPECT_EQ(error_of([] { parse_policy_text("layers:\n  conv1: fp12\n", "p.yaml", std::nullopt); }).rfind(
                "p.yaml:2: layers.conv1: expected one of fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4, "
                "got 'fp12'",
                0),
            0u);
  const models::Graph g = resnet50();
  const Policy typo = parse_policy_text("layers:\n  fc: fp32\n  layer1.0.conv9: fp16\n", "p.yaml", std::nullopt);
  EXPECT_EQ(error_of([&] { layer_precisions(g, typo); }),
            "p.yaml:3: layers.layer1.0.conv9: no layer of this name in resnet50 (did you mean 'layer1.0.conv1'?)");
  const Policy relu = parse_policy_text("layers:\n  relu: fp16\n", "p.yaml", std::nullopt);
  EXPECT_EQ(error_of([&] { layer_precisions(g, relu); }),
            "p.yaml:2: layers.relu: this is a activation layer; precisions apply to layers with GEMMs (conv, linear, "
            "matmul, lstm)");
  EXPECT_EQ(error_of([] { parse_policy_text("policy: fp16\nim2col: sram\n", "p.yaml", std::nullopt); }).rfind(
                "p.yaml:2: im2col: expected one of dram, on-chip, got 'sram'", 0),
            0u);
  EXPECT_EQ(error_of([] { read_policy_file("/nonexistent.yaml", std::nullopt); }).rfind("/nonexistent.yaml: cannot open", 0), 0u);
}

TEST(Policy, Im2colDefaultsToOnChip) {
  EXPECT_EQ(named_policy("fp16").im2col, Im2col::kOnChip);
  EXPECT_EQ(parse_policy_text("policy: fp16\n", "p.yaml", std::nullopt).im2col, Im2col::kOnChip);
  EXPECT_EQ(parse_policy_text("policy: fp16\nim2col: dram\n", "p.yaml", std::nullopt).im2col, Im2col::kDram);
  EXPECT_EQ(parse_policy_text("im2col: on-chip\n", "p.yaml", std::nullopt).im2col, Im2col::kOnChip);
}

TEST(Policy, OverrideChangesTheTrace) {
  const Policy p = parse_policy_text("layers:\n  layer1.0.conv2: fp16\n", "p.yaml", std::nullopt);
  const Trace t = expand_training_step(resnet50(), p);
  for (const auto& op : t.ops) {
    if (op.layer == "layer1.0.conv2" && op.is_gemm()) {
      EXPECT_EQ(op.a_format, Format::kFp16);
      EXPECT_EQ(op.acc_format, Format::kFp32);
    }
  }
  EXPECT_EQ(t.policy, "int4-fp4+p");
}

}  // namespace
}  // namespace nibble::workloads
