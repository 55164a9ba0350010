// Training-step expansion: MACs per phase derived by hand, which ops exist
// (no input gradient for the first layer), operand formats per policy, and
// the vector ops around the GEMMs.
#include <gtest/gtest.h>

#include <algorithm>

#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "workloads/expand.hpp"
#include "workloads/stats.hpp"

namespace nibble::workloads {
namespace {

Trace zoo_trace(const std::string& model, std::uint64_t batch, const Policy& policy, models::ZooOptions o = {}) {
  o.batch = batch;
  return expand_training_step(models::build_zoo_model(model, o), policy);
}

std::vector<TraceOp> ops_of(const Trace& t, const std::string& layer, Phase phase, bool gemm) {
  std::vector<TraceOp> out;
  for (const auto& op : t.ops) {
    if (op.layer == layer && op.phase == phase && op.is_gemm() == gemm) out.push_back(op);
  }
  return out;
}

TraceOp gemm_of(const Trace& t, const std::string& layer, Phase phase) {
  const auto ops = ops_of(t, layer, phase, true);
  if (ops.size() != 1) throw std::logic_error(layer + ": expected one GEMM, got " + std::to_string(ops.size()));
  return ops[0];
}

std::string pair(const TraceOp& op) {
  return std::string(numerics::format_name(op.a_format)) + "*" + std::string(numerics::format_name(op.b_format)) + "->" +
         std::string(numerics::format_name(op.acc_format));
}

// ResNet-18, batch 4 (forward per sample 1,814,073,344, see tests/models/test_zoo.cpp):
//   forward     = 4 x 1,814,073,344                 = 7,256,293,376
//   input_grad  = forward minus conv1 (4 x 118,013,952, its input is the image)
//               = 4 x 1,696,059,392                 = 6,784,237,568
//   weight_grad = forward (every conv and fc has weights) = 7,256,293,376
TEST(Expand, ResNet18MacsPerPhase) {
  const TraceStats s = compute_stats(zoo_trace("resnet18", 4, named_policy("int4-fp4")));
  EXPECT_EQ(s.forward_macs, 7256293376u);
  EXPECT_EQ(s.input_grad_macs, 6784237568u);
  EXPECT_EQ(s.weight_grad_macs, 7256293376u);
  // 21 layers with GEMMs (20 convs + fc): 21 forward, 20 input-gradient, 21 weight-gradient.
  EXPECT_EQ(s.gemm_ops, 62u);
}

// fmnist-cnn, batch 32 (per sample: conv1 225,792, conv2 3,612,672, fc1 401,408, fc2 1,280):
//   forward     = 32 x 4,241,152              = 135,716,864
//   input_grad  = 32 x (4,241,152 - 225,792)  = 32 x 4,015,360 = 128,491,520
//   weight_grad = forward                      = 135,716,864
TEST(Expand, FashionMnistCnnMacsPerPhase) {
  const Trace t = zoo_trace("fmnist-cnn", 32, named_policy("int4-fp4"));
  const TraceStats s = compute_stats(t);
  EXPECT_EQ(s.forward_macs, 135716864u);
  EXPECT_EQ(s.input_grad_macs, 128491520u);
  EXPECT_EQ(s.weight_grad_macs, 135716864u);
  // conv2's three GEMMs: forward M = N*E*F = 32*14*14 = 6272, N = K = 64, K = C*R*S = 32*9 = 288;
  // input_grad M = 6272, N = 288, K = 64; weight_grad M = 288, N = 64, K = 6272.
  const TraceOp f = gemm_of(t, "conv2", Phase::kForward);
  const TraceOp ig = gemm_of(t, "conv2", Phase::kInputGrad);
  const TraceOp wg = gemm_of(t, "conv2", Phase::kWeightGrad);
  EXPECT_EQ((std::vector<std::uint64_t>{f.m, f.n, f.k}), (std::vector<std::uint64_t>{6272, 64, 288}));
  EXPECT_EQ((std::vector<std::uint64_t>{ig.m, ig.n, ig.k}), (std::vector<std::uint64_t>{6272, 288, 64}));
  EXPECT_EQ((std::vector<std::uint64_t>{wg.m, wg.n, wg.k}), (std::vector<std::uint64_t>{288, 64, 6272}));
  // The default policy addresses im2col on chip: every conv GEMM says so, and conv2's input
  // gradient accumulates dX itself (no col2im op).
  for (const auto& op : t.ops) {
    if (op.conv) {
      EXPECT_EQ(op.conv->im2col, Im2col::kOnChip) << op.layer;
    }
  }
  const auto col2im = [](const Trace& trace) {
    const auto vec = ops_of(trace, "conv2", Phase::kInputGrad, false);
    return std::count_if(vec.begin(), vec.end(), [](const TraceOp& op) {
      return op.vector == VectorKind::kEltwise && op.elements == 6272u * 288u;
    });
  };
  EXPECT_EQ(col2im(t), 0);
  // im2col: dram keeps the DRAM lowering: col2im after conv2's input gradient (3x3), 6272 * 288
  // elements; otherwise the same ops.
  Policy dram = named_policy("int4-fp4");
  dram.im2col = Im2col::kDram;
  const Trace d = zoo_trace("fmnist-cnn", 32, dram);
  EXPECT_EQ(col2im(d), 1);
  EXPECT_EQ(d.ops.size(), t.ops.size() + 1);  // conv1 has no input gradient: conv2's is the one col2im
  EXPECT_EQ(gemm_of(d, "conv2", Phase::kForward).conv->im2col, Im2col::kDram);
}

TEST(Expand, EveryZooModelPhasesMatchTheForwardGraph) {
  // Input-gradient MACs = forward minus the layers whose input needs no gradient (the first
  // conv of the CNNs; none for bert-base and lstm, whose embeddings are trained).
  struct Case { const char* model; std::uint64_t forward, first; };
  const Case cases[] = {
      {"resnet50", 4089184256u, 118013952u},    // conv1 112*112*64*3*49
      {"mobilenet_v2", 300774272u, 10838016u},  // features.0.0: 112*112*32*3*9
      {"vgg16", 15470264320u, 86704128u},       // features.0: 224*224*64*3*9
      {"alexnet", 714188480u, 70276800u},       // features.0: 55*55*64*3*121
      {"bert-base", 11174217216u, 0u},
      {"lstm", 464100000u, 0u},
      {"fmnist-mlp", 203264u, 200704u},          // fc1 784*256
  };
  for (const auto& c : cases) {
    const TraceStats s = compute_stats(zoo_trace(c.model, 1, named_policy("int4-fp4")));
    EXPECT_EQ(s.forward_macs, c.forward) << c.model;
    EXPECT_EQ(s.input_grad_macs, c.forward - c.first) << c.model;
    EXPECT_EQ(s.weight_grad_macs, c.forward) << c.model;
  }
}

TEST(Expand, FirstLayerHasNoInputGradient) {
  const Trace t = zoo_trace("resnet18", 2, named_policy("fp16"));
  EXPECT_TRUE(ops_of(t, "conv1", Phase::kInputGrad, true).empty());
  EXPECT_EQ(ops_of(t, "conv1", Phase::kWeightGrad, true).size(), 1u);
  EXPECT_EQ(ops_of(t, "layer1.0.conv1", Phase::kInputGrad, true).size(), 1u);
}

TEST(Expand, Int4Fp4Formats) {
  const Trace t = zoo_trace("resnet18", 2, named_policy("int4-fp4"));
  // First and last layers at fp16 (fp32 accumulation).
  EXPECT_EQ(pair(gemm_of(t, "conv1", Phase::kForward)), "fp16*fp16->fp32");
  EXPECT_EQ(pair(gemm_of(t, "fc", Phase::kInputGrad)), "fp16*fp16->fp32");
  // layer1.0.conv1 reads maxpool(relu(.)): non-negative, so uint4.
  EXPECT_EQ(pair(gemm_of(t, "layer1.0.conv1", Phase::kForward)), "uint4*int4->fp16");
  EXPECT_EQ(pair(gemm_of(t, "layer1.0.conv1", Phase::kInputGrad)), "fp4*int4->fp16");
  EXPECT_EQ(pair(gemm_of(t, "layer1.0.conv1", Phase::kWeightGrad)), "uint4*fp4->fp16");
  // Two-phase rounding: dY is quantized once per backward GEMM.
  const auto ig = ops_of(t, "layer1.0.conv2", Phase::kInputGrad, false);
  const auto wg = ops_of(t, "layer1.0.conv2", Phase::kWeightGrad, false);
  const auto is_fp4_quantize = [](const TraceOp& op) {
    return op.vector == VectorKind::kQuantize && op.out_format == Format::kFp4 && op.elements == 2u * 64 * 56 * 56;
  };
  EXPECT_EQ(std::count_if(ig.begin(), ig.end(), is_fp4_quantize), 1);
  EXPECT_EQ(std::count_if(wg.begin(), wg.end(), is_fp4_quantize), 1);

  // MobileNetV2: features.3's expansion conv reads features.2's linear bottleneck (BN, no ReLU): int4.
  const Trace mb = zoo_trace("mobilenet_v2", 1, named_policy("int4-fp4"));
  EXPECT_EQ(pair(gemm_of(mb, "features.3.conv.0.0", Phase::kForward)), "int4*int4->fp16");
  EXPECT_EQ(gemm_of(mb, "features.1.conv.0.0", Phase::kForward).kind, OpKind::kGroupConv);

  // BERT with 4-bit attention (the named int4-fp4 keeps it FP16): attention probabilities (softmax
  // output) are non-negative, so the context GEMM streams uint4.
  const Trace bert = zoo_trace("bert-base", 1, parse_policy_text("attention: int4-fp4\n", "a.yaml", std::nullopt));
  const TraceOp ctx = gemm_of(bert, "encoder.layer.3.attention.self.context", Phase::kForward);
  EXPECT_EQ(pair(ctx), "uint4*int4->fp16");
  EXPECT_EQ(ctx.groups, 12u);  // batch 1 x 12 heads; M = S = 128, N = 64, K = S = 128
  EXPECT_EQ((std::vector<std::uint64_t>{ctx.m, ctx.n, ctx.k}), (std::vector<std::uint64_t>{128, 64, 128}));
  // The named int4-fp4 runs them in FP16 with FP32 accumulation, as the training emulator does.
  EXPECT_EQ(pair(gemm_of(zoo_trace("bert-base", 1, named_policy("int4-fp4")), "encoder.layer.3.attention.self.scores",
                         Phase::kForward)),
            "fp16*fp16->fp32");
}

TEST(Expand, OtherPolicies) {
  const Trace hfp8 = zoo_trace("resnet18", 1, named_policy("hfp8"));
  EXPECT_EQ(pair(gemm_of(hfp8, "conv1", Phase::kForward)), "fp8-e4m3*fp8-e4m3->fp16");
  EXPECT_EQ(pair(gemm_of(hfp8, "layer2.0.conv1", Phase::kInputGrad)), "fp8-e5m2*fp8-e4m3->fp16");
  EXPECT_EQ(pair(gemm_of(hfp8, "layer2.0.conv1", Phase::kWeightGrad)), "fp8-e4m3*fp8-e5m2->fp16");
  // hfp8 quantizes dY once (no two-phase rounding), before the input-gradient GEMM.
  const auto wg_vector = ops_of(hfp8, "layer2.0.conv1", Phase::kWeightGrad, false);
  EXPECT_EQ(std::count_if(wg_vector.begin(), wg_vector.end(),
                          [](const TraceOp& op) { return op.vector == VectorKind::kQuantize; }),
            0);
  const Trace fp16 = zoo_trace("resnet18", 1, named_policy("fp16"));
  EXPECT_EQ(pair(gemm_of(fp16, "layer3.1.conv2", Phase::kWeightGrad)), "fp16*fp16->fp32");
  const Trace fp32 = zoo_trace("resnet18", 1, named_policy("fp32"));
  EXPECT_EQ(pair(gemm_of(fp32, "fc", Phase::kForward)), "fp32*fp32->fp32");
  // fp32 needs no quantization at all.
  EXPECT_EQ(compute_stats(fp32).vector_elements_by_kind.count("quantize"), 0u);
}

// Block formats (docs/trace-format.md, "Block formats"): blocks run along each GEMM's
// reduction, so the backward GEMMs quantize again with blocks along the other dimension.
// ResNet-18 batch 1, layer1.0.conv2 (64 -> 64, 3x3, 56x56): X and dY 64 x 56 x 56 = 200,704
// elements, W 64 x 64 x 9 = 36,864.
TEST(Expand, BlockFormatsQuantizeTransposedCopies) {
  const auto quantizes = [](const Trace& t, Phase phase) {
    std::vector<std::string> out;
    for (const TraceOp& op : ops_of(t, "layer1.0.conv2", phase, false)) {
      if (op.vector != VectorKind::kQuantize) continue;
      out.push_back(std::string(numerics::format_name(op.in_format)) + "->" +
                    std::string(numerics::format_name(op.out_format)) + " " + std::to_string(op.elements));
    }
    return out;
  };
  const Trace mx = zoo_trace("resnet18", 1, named_policy("mxfp4"));
  EXPECT_EQ(pair(gemm_of(mx, "conv1", Phase::kForward)), "bf16*bf16->fp32");
  EXPECT_EQ(pair(gemm_of(mx, "fc", Phase::kWeightGrad)), "bf16*bf16->fp32");
  EXPECT_EQ(pair(gemm_of(mx, "layer1.0.conv2", Phase::kWeightGrad)), "mxfp4*mxfp4->fp32");
  EXPECT_EQ(gemm_of(mx, "layer1.0.conv2", Phase::kForward).stored_format(), Format::kBf16);
  // Input gradient: W again (blocks along the output channels), dY (blocks along them too).
  EXPECT_EQ(quantizes(mx, Phase::kInputGrad),
            (std::vector<std::string>{"fp32->mxfp4 36864", "bf16->mxfp4 200704"}));
  // Weight gradient: dY and X again, blocks along the batch and positions.
  EXPECT_EQ(quantizes(mx, Phase::kWeightGrad),
            (std::vector<std::string>{"bf16->mxfp4 200704", "bf16->mxfp4 200704"}));
  // NVFP4's 16 x 16 weight blocks serve both directions: no second weight copy.
  const Trace nv = zoo_trace("resnet18", 1, named_policy("nvfp4"));
  EXPECT_EQ(pair(gemm_of(nv, "conv1", Phase::kForward)), "nvfp4*nvfp4->fp32");
  EXPECT_EQ(quantizes(nv, Phase::kInputGrad), (std::vector<std::string>{"bf16->nvfp4 200704"}));
  EXPECT_EQ(quantizes(nv, Phase::kWeightGrad),
            (std::vector<std::string>{"bf16->nvfp4 200704", "bf16->nvfp4 200704"}));
  // NVFP4's recipe transforms both weight-gradient operands (16-point random Hadamard along
  // the batch) before their re-quantization: each quantize reads its transform's output.
  const auto wg = ops_of(nv, "layer1.0.conv2", Phase::kWeightGrad, false);
  std::vector<std::string> chain;
  for (std::size_t j = 0; j < wg.size(); ++j) {
    if (wg[j].vector != VectorKind::kHadamard) continue;
    ASSERT_LT(j + 1, wg.size());
    EXPECT_EQ(wg[j + 1].vector, VectorKind::kQuantize);
    EXPECT_EQ(wg[j + 1].reads, wg[j].writes);
    EXPECT_EQ(wg[j].in_format, Format::kBf16);
    EXPECT_EQ(wg[j].out_format, Format::kBf16);
    chain.push_back(wg[j].writes.at(0) + " " + std::to_string(wg[j].elements));
  }
  EXPECT_EQ(chain, (std::vector<std::string>{"layer1.0.conv2.dY.H 200704", "layer1.0.conv2.X.H 200704"}));
  // MXFP4's recipe has no transform.
  for (const TraceOp& op : mx.ops) EXPECT_NE(op.vector, VectorKind::kHadamard) << op.layer;
  // BF16 has no blocks: nothing to quantize between bf16 tensors.
  const Trace bf = zoo_trace("resnet18", 1, named_policy("bf16"));
  EXPECT_TRUE(quantizes(bf, Phase::kWeightGrad).empty());
  EXPECT_EQ(quantizes(bf, Phase::kInputGrad), std::vector<std::string>{});
}

// Every GEMM result leaves the core in the policy's storage format (fp16, fp32 for the fp32
// policy), whatever it was accumulated in; what reads it reads that format.
TEST(Expand, GemmResultsAreStoredInTheStorageFormat) {
  const Trace fp16 = zoo_trace("resnet18", 1, named_policy("fp16"));
  for (const auto& op : fp16.ops) {
    if (!op.is_gemm()) continue;
    EXPECT_EQ(op.acc_format, Format::kFp32) << op.layer;
    EXPECT_EQ(op.stored_format(), Format::kFp16) << op.layer;
  }
  // conv1's output feeds bn1 in fp16 (it read fp32 before version 3).
  const auto bn = ops_of(fp16, "bn1", Phase::kForward, false);
  ASSERT_EQ(bn.size(), 1u);
  EXPECT_EQ(bn[0].in_format, Format::kFp16);
  // int4-fp4: the fp16 first and last layers accumulate in fp32 and store fp16; the
  // 4-bit layers accumulate in fp16, their storage format already (no rounding: no `store_format`).
  const Trace int4 = zoo_trace("resnet18", 1, named_policy("int4-fp4"));
  EXPECT_EQ(gemm_of(int4, "fc", Phase::kForward).store_format, Format::kFp16);
  EXPECT_FALSE(gemm_of(int4, "layer2.0.conv1", Phase::kForward).store_format.has_value());
  const Trace fp32 = zoo_trace("resnet18", 1, named_policy("fp32"));
  EXPECT_EQ(gemm_of(fp32, "fc", Phase::kForward).stored_format(), Format::kFp32);
}

TEST(Expand, VectorOpsAroundTheGemms) {
  const Trace t = zoo_trace("fmnist-cnn", 2, named_policy("int4-fp4"));
  const TraceStats s = compute_stats(t);
  // Optimizer over every weight: conv1 32*9+32, conv2 64*288+64, fc1 128*3136+128, fc2 10*128+10.
  EXPECT_EQ(s.vector_elements_by_kind.at("optimizer"), 320u + 18496u + 401536u + 1290u);
  // Loss over the logits: 2 x 10.
  EXPECT_EQ(s.vector_elements_by_kind.at("loss"), 20u);
  // Pooling reads every window position: 2x2 windows of 14x14 and 7x7 outputs.
  EXPECT_EQ(s.vector_elements_by_kind.at("pool"), 2u * 32 * 14 * 14 * 4 + 2u * 64 * 7 * 7 * 4);
  // The update ops come last, one per layer with parameters.
  EXPECT_EQ(t.ops.back().phase, Phase::kUpdate);
  EXPECT_EQ(t.ops.back().layer, "fc2");

  // ResNet: the residual's gradient fans out, so the block input sums two gradients.
  const Trace r = zoo_trace("resnet18", 1, named_policy("int4-fp4"));
  const auto sums = ops_of(r, "layer1.0.relu", Phase::kInputGrad, false);
  EXPECT_TRUE(std::any_of(sums.begin(), sums.end(), [](const TraceOp& op) {
    return op.vector == VectorKind::kEltwise && op.elements == 64u * 56 * 56;
  }));
}

// fmnist-vit, batch 2 (49 tokens of width 64, 4 heads, FFN 128, 4 blocks): the transformer ops
// of trace version 2, each with its element count and phase.
TEST(Expand, TransformerOpsOfTheVisionTransformer) {
  const Trace t = zoo_trace("fmnist-vit", 2, named_policy("int4-fp4"));
  const auto vector_ops = [&](const std::string& layer, Phase phase) { return ops_of(t, layer, phase, false); };
  const auto one = [&](const std::string& layer, Phase phase, VectorKind kind) {
    std::vector<TraceOp> found;
    for (const auto& op : vector_ops(layer, phase)) {
      if (op.vector == kind) found.push_back(op);
    }
    if (found.size() != 1) throw std::logic_error(layer + ": expected one " + std::string(vector_kind_name(kind)));
    return found[0];
  };
  // Layer norm: 2 x 49 x 64 = 6,272 elements forward and for dX; the scale and shift gradients
  // accumulate two values per element (2 x 6,272) into fp32.
  EXPECT_EQ(one("blocks.1.norm1", Phase::kForward, VectorKind::kLayerNorm).elements, 6272u);
  EXPECT_EQ(one("blocks.1.norm1", Phase::kInputGrad, VectorKind::kLayerNormGrad).elements, 6272u);
  const TraceOp dgamma = one("blocks.1.norm1", Phase::kWeightGrad, VectorKind::kEltwise);
  EXPECT_EQ(dgamma.elements, 12544u);
  EXPECT_EQ(dgamma.out_format, Format::kFp32);
  EXPECT_EQ(one("blocks.1.norm1", Phase::kUpdate, VectorKind::kOptimizer).elements, 128u);  // gamma, beta
  // Softmax over the scores: 2 samples x 4 heads x 49 x 49 = 19,208, forward and backward.
  EXPECT_EQ(one("blocks.0.attn.softmax", Phase::kForward, VectorKind::kSoftmax).elements, 19208u);
  EXPECT_EQ(one("blocks.0.attn.softmax", Phase::kInputGrad, VectorKind::kSoftmaxGrad).elements, 19208u);
  // GELU on FC1's output: 2 x 49 x 128 = 12,544.
  EXPECT_EQ(one("blocks.2.mlp.gelu", Phase::kForward, VectorKind::kGelu).elements, 12544u);
  EXPECT_EQ(one("blocks.2.mlp.gelu", Phase::kInputGrad, VectorKind::kGeluGrad).elements, 12544u);
  // QK^T: one GEMM per (sample, head), 8 of 49 x 49 x 16; its input gradient dQ = dS K
  // (m 49, n 16, k 49) and the gradient of K^T, Q^T dS (m 16, n 49, k 49).
  const TraceOp qk = gemm_of(t, "blocks.0.attn.scores", Phase::kForward);
  EXPECT_EQ((std::vector<std::uint64_t>{qk.groups, qk.m, qk.n, qk.k}), (std::vector<std::uint64_t>{8, 49, 49, 16}));
  const TraceOp dq = gemm_of(t, "blocks.0.attn.scores", Phase::kInputGrad);
  EXPECT_EQ((std::vector<std::uint64_t>{dq.groups, dq.m, dq.n, dq.k}), (std::vector<std::uint64_t>{8, 49, 16, 49}));
  const TraceOp dk = gemm_of(t, "blocks.0.attn.scores", Phase::kWeightGrad);
  EXPECT_EQ((std::vector<std::uint64_t>{dk.groups, dk.m, dk.n, dk.k}), (std::vector<std::uint64_t>{8, 16, 49, 49}));
  // The positional embedding is a trained 49 x 64 table added to every sample.
  EXPECT_EQ(one("pos_embed", Phase::kUpdate, VectorKind::kOptimizer).elements, 3136u);
  // The first GEMM layer (patch embedding) reads the image: no input gradient.
  EXPECT_TRUE(ops_of(t, "patch_embed", Phase::kInputGrad, true).empty());
  const TraceStats st = compute_stats(t);
  EXPECT_EQ(st.forward_macs, 2u * 7702656u);
  EXPECT_EQ(st.input_grad_macs, 2u * (7702656u - 50176u));
  EXPECT_EQ(st.weight_grad_macs, 2u * 7702656u);
}

// The tensors of fmnist-resnet's first downsampling block (layer2.0), int4-fp4, as
// docs/trace-format.md ("Tensors") names them: the block input's uint4 copy is made once and
// read by conv1 and the shortcut conv; two-phase rounding makes two copies of each dY; the two
// branches' input gradients are summed into the block input's dY; the optimizer updates W in place.
TEST(Expand, OpsNameTheirTensors) {
  const Trace t = zoo_trace("fmnist-resnet", 2, named_policy("int4-fp4"));
  using V = std::vector<std::string>;
  const TraceOp fwd = gemm_of(t, "layer2.0.downsample.0", Phase::kForward);
  EXPECT_EQ(fwd.reads, (V{"layer1.0.relu.y.uint4", "layer2.0.downsample.0.W.q"}));
  EXPECT_EQ(fwd.writes, V{"layer2.0.downsample.0.y"});
  EXPECT_EQ(gemm_of(t, "layer2.0.conv1", Phase::kForward).reads, (V{"layer1.0.relu.y.uint4", "layer2.0.conv1.W.q"}));
  const TraceOp ig = gemm_of(t, "layer2.0.downsample.0", Phase::kInputGrad);
  EXPECT_EQ(ig.reads, (V{"layer2.0.downsample.0.dY.odd", "layer2.0.downsample.0.W.q"}));
  EXPECT_EQ(ig.writes, V{"layer2.0.downsample.0.dX"});
  const TraceOp wg = gemm_of(t, "layer2.0.downsample.0", Phase::kWeightGrad);
  EXPECT_EQ(wg.reads, (V{"layer1.0.relu.y.uint4", "layer2.0.downsample.0.dY.even"}));
  EXPECT_EQ(wg.writes, V{"layer2.0.downsample.0.dW"});
  const auto sum = ops_of(t, "layer1.0.relu", Phase::kInputGrad, false);
  ASSERT_EQ(sum.size(), 2u);  // the sum of the two branches' dX, then the ReLU's gradient
  EXPECT_EQ(sum[0].reads, (V{"layer2.0.downsample.0.dX", "layer2.0.conv1.dX"}));
  EXPECT_EQ(sum[0].writes, V{"layer1.0.relu.dY"});
  EXPECT_EQ(sum[1].reads, (V{"layer1.0.relu.dY", "layer1.0.add.y"}));
  const auto update = ops_of(t, "layer2.0.downsample.0", Phase::kUpdate, false);
  ASSERT_EQ(update.size(), 1u);
  EXPECT_EQ(update[0].reads, (V{"layer2.0.downsample.0.W", "layer2.0.downsample.0.dW"}));
  EXPECT_EQ(update[0].writes, V{"layer2.0.downsample.0.W"});
  // Step inputs: the images, every layer's weights (fc also its bias), the labels; nothing else.
  ASSERT_GE(t.inputs.size(), 3u);
  EXPECT_EQ(t.inputs.front(), "input");
  EXPECT_EQ(t.inputs.back(), "loss.labels");
  for (std::size_t i = 1; i + 1 < t.inputs.size(); ++i) {
    const std::string& name = t.inputs[i];
    EXPECT_TRUE(name.size() > 2 && (name.substr(name.size() - 2) == ".W" || name == "fc.b")) << name;
  }
}

TEST(Expand, DeterministicOutput) {
  EXPECT_TRUE(zoo_trace("bert-base", 2, named_policy("int4-fp4")) == zoo_trace("bert-base", 2, named_policy("int4-fp4")));
}

}  // namespace
}  // namespace nibble::workloads
