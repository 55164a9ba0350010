// End-to-end training on Fashion-MNIST: accuracy after one short epoch,
// identical results at any thread count, the files `nibble train` writes,
// and configuration errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "models/train/network.hpp"
#include "models/train/policy.hpp"
#include "models/train/report.hpp"
#include "models/train/rng.hpp"
#include "models/train/sgd.hpp"
#include "models/train/trainer.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "workloads/expand.hpp"
#include "tests/support/fashion_mnist.hpp"
#include "tests/support/temp_dir.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::train {
namespace {

namespace fs = std::filesystem;

const Dataset* fashion() { return test::fashion_mnist(); }

#define REQUIRE_DATA()                                                              \
  if (fashion() == nullptr) GTEST_FAIL() << "dataset-fashion-mnist is not installed (make deps installs it)"

TrainConfig short_run(const std::string& model, const std::string& policy) {
  TrainConfig c;
  c.model = model;
  c.policy = policy;
  c.epochs = 1;
  c.batch = 64;
  c.train_subset = 2000;
  c.threads = 2;
  return c;
}

/// Trains `c` with `a` and with `b` threads; expects the same numbers.
void expect_same_at_thread_counts(TrainConfig c, unsigned a, unsigned b) {
  c.threads = a;
  const TrainResult one = train(c, *fashion());
  c.threads = b;
  const TrainResult other = train(c, *fashion());
  EXPECT_EQ(one.epochs[0].train_loss, other.epochs[0].train_loss);
  EXPECT_EQ(one.epochs[0].test_loss, other.epochs[0].test_loss);
  EXPECT_EQ(one.confusion, other.confusion);
  ASSERT_EQ(one.layers.size(), other.layers.size());
  for (std::size_t i = 0; i < one.layers.size(); ++i) {
    EXPECT_EQ(one.layers[i].grad_scale, other.layers[i].grad_scale) << one.layers[i].name;
    EXPECT_EQ(one.layers[i].pact_alpha, other.layers[i].pact_alpha) << one.layers[i].name;
  }
}

TEST(Training, Fp32MlpLearnsFromTwoThousandImages) {
  REQUIRE_DATA();
  const TrainResult r = train(short_run("fmnist-mlp", "fp32"), *fashion());
  ASSERT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(r.test_images, 10000u);
  // Training is deterministic at any thread count (below): one epoch of these 2000
  // images, seed 1, measured 74.14 % (nibble train --model fmnist-mlp --policy fp32
  // --batch 64 --train-subset 2000). A point either way means the training changed.
  EXPECT_NEAR(r.epochs[0].test_accuracy, 74.14, 1.0);
}

TEST(Training, Fp32CnnLearnsFromTwoThousandImages) {
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-cnn", "fp32");
  c.batch = 32;  // 63 steps: the CNN needs more than 32 to get going
  c.test_subset = 5000;
  const TrainResult r = train(c, *fashion());
  EXPECT_NEAR(r.epochs[0].test_accuracy, 73.76, 1.0);  // measured as above, --batch 32 --test-subset 5000
}

TEST(Training, Int4Fp4CnnLearnsFromTwoThousandImages) {
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-cnn", "int4-fp4");
  c.batch = 32;
  c.test_subset = 5000;
  const TrainResult r = train(c, *fashion());
  // Measured 73.06 %: within a point of fp32's 73.76 % (the 4-bit claim of this test;
  // 73.86 % before each PACT clip started at its first batch's error-minimizing clip).
  EXPECT_NEAR(r.epochs[0].test_accuracy, 73.06, 1.0);
  EXPECT_EQ(r.epochs[0].skipped_steps, 0u);
  // The 4-bit layers really ran in 4 bits with GradScale active.
  ASSERT_EQ(r.layers.size(), 4u);
  EXPECT_EQ(r.layers[1].name, "conv2");
  EXPECT_EQ(r.layers[1].arith.forward.a, numerics::Format::kUint4);
  EXPECT_LT(r.layers[1].grad_scale, 1.0f);
  EXPECT_GT(r.layers[1].pact_alpha, 0.0f);
}

TEST(Training, Fp32ResnetLearnsFromTwoThousandImages) {
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-resnet", "fp32");
  c.batch = 32;
  c.test_subset = 2000;
  const TrainResult r = train(c, *fashion());
  // Measured as above (--test-subset 2000) with the model's defaults, peak rate
  // 0.1 after a 3-step warm-up: 68.8 % (67.7 % at 0.05 without warm-up).
  EXPECT_NEAR(r.epochs[0].test_accuracy, 68.8, 1.0);
  EXPECT_EQ(r.layers.size(), 10u);  // stem, 2 convolutions per block, 2 projection shortcuts, fc
}

TEST(Training, ResnetTrainsAtItsOwnRateWithAWarmUp) {
  // fmnist-resnet's defaults: peak rate 0.1 (He et al. 2016) after a linear
  // warm-up over a twentieth of the run (Goyal et al. 2017); the others keep
  // SGD's 0.05 without warm-up, AdamW its 0.001; --lr wins.
  TrainConfig c;
  c.model = "fmnist-resnet";
  EXPECT_EQ(resolve_lr(c), 0.1);
  c.lr = 0.02;
  EXPECT_EQ(resolve_lr(c), 0.02);
  c.model = "fmnist-cnn";
  c.lr.reset();
  EXPECT_EQ(resolve_lr(c), 0.05);
  c.model = "fmnist-vit";
  EXPECT_EQ(resolve_lr(c), 0.001);
  // Linear warm-up over a twentieth of the run, then cosine decay over the rest.
  EXPECT_EQ(resolve_warmup(std::nullopt, "fmnist-resnet"), 0.05);
  EXPECT_EQ(resolve_warmup(std::nullopt, "fmnist-cnn"), 0.0);
  EXPECT_EQ(resolve_warmup(0.1, "fmnist-cnn"), 0.1);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0.05, 0, 4, 12), 0.0125);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0.05, 3, 4, 12), 0.05);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0.05, 4, 4, 12), 0.05);   // the cosine's first step: the peak
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0.05, 8, 4, 12), 0.025);  // half-way through the remaining 8
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(0.05, 5, 0, 12), cosine_lr(0.05, 5, 12));
}

TEST(Training, GemmResultsLeaveTheCoreInTheStorageFormat) {
  // fc: y = 1 x 1 + 1 x (3 x 2^-12) under the fp16 policy: FP16 operands (both
  // exact), FP32 accumulation, FP16 storage. The FP32 sum 1 + 3 x 2^-12 =
  // 1.000732421875 is not an FP16 number (its step at 1 is 2^-10); stored, it
  // is the nearest one, 1 + 2^-10 = 1.0009765625. Under fp32 it stays as it is.
  models::Graph graph("storage", 1);
  std::size_t x = graph.add_input("input", models::Shape{1, 2, 1, 1});
  x = graph.add_flatten("flatten", x);
  x = graph.add_linear("fc", x, 1, false);
  graph.add_loss("loss", x);
  Tensor in;
  in.resize(Shape{1, 2, 1, 1});
  in.data = {1.0f, 1.0f};
  for (const auto& [name, expected] : {std::pair<const char*, float>{"fp16", 1.0009765625f}, {"fp32", 1.000732421875f}}) {
    const TrainPolicy policy = make_train_policy(name, std::nullopt);
    const auto plan = plan_arithmetic(graph, policy, HardwareArith{});
    EXPECT_EQ(plan.at(graph.find("fc")).forward.acc, numerics::Format::kFp32) << name;
    Network net = build_network(graph, plan, policy.base.storage());
    net.init(1);
    for (Param* p : net.params()) {
      if (p->name == "fc.weight") p->value = {1.0f, 3.0f / 4096.0f};
    }
    StepContext ctx;
    EXPECT_EQ(net.forward(in, ctx).data.at(0), expected) << name;
  }
}

TEST(Training, ResnetSameResultsAtAnyThreadCount) {
  // The residual branch points sum their gradients in a fixed order; batch-norm
  // statistics are sums in a fixed order: 1 and 3 threads give the same bits.
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-resnet", "int4-fp4");
  c.train_subset = 192;
  c.test_subset = 100;
  c.hardware.fp4_rounding = numerics::Fp4Rounding::kStochastic;
  expect_same_at_thread_counts(c, 1, 3);
}

TEST(Training, FourBitLayersAreReported) {
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-mlp", "int4-fp4");
  c.train_subset = 256;
  c.test_subset = 100;
  TrainResult r = train(c, *fashion());
  EXPECT_EQ(four_bit_layers(r), 0u);  // fc1 and fc2 are the first and last layers: FP16
  EXPECT_NE(precision_note(r).find("this is fp16 training"), std::string::npos) << precision_note(r);
  EXPECT_NE(train_summary_json(r, [](const std::string& s) { return s; }).find("\"four_bit_layers\": 0"), std::string::npos);
  c.policy = "int4-fp4-all";
  r = train(c, *fashion());
  EXPECT_EQ(four_bit_layers(r), 2u);
  EXPECT_EQ(precision_note(r), "");
  EXPECT_EQ(r.layers[0].arith.forward.a, numerics::Format::kInt4);  // signed pixels: SAWB INT4
  EXPECT_EQ(r.layers[1].arith.forward.a, numerics::Format::kUint4);
  c.policy = "fp32";
  EXPECT_EQ(precision_note(train(c, *fashion())), "");  // not a 4-bit policy: nothing to say
}

TEST(Training, LargeLearningRatesKeepPactAlphaPositive) {
  REQUIRE_DATA();
  // lr 0.5 drove alpha negative ("internal error: pact alpha") before alpha had a floor.
  TrainConfig c = short_run("fmnist-cnn", "int4-fp4");
  c.train_subset = 640;
  c.test_subset = 100;
  c.sgd.lr = 0.5;
  const TrainResult r = train(c, *fashion());
  for (const auto& l : r.layers) {
    if (l.arith.forward.a == numerics::Format::kUint4) {
      EXPECT_GE(l.pact_alpha, GemmLayer::kAlphaFloor) << l.name;
    }
  }
}

TEST(Training, OutputStationaryDesignIsRefused) {
  design::Design d;
  d.array.dataflow = design::Dataflow::kOs;
  try {
    hardware_of(d, "os.yaml");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dataflow: os"), std::string::npos) << e.what();
  }
  d.array.dataflow = design::Dataflow::kIs;
  EXPECT_NO_THROW(hardware_of(d, "is.yaml"));
}

/// summary.json without the lines that hold timing.
std::string without_timing(const std::string& json) {
  std::string out;
  std::size_t start = 0;
  bool in_epoch_seconds = false;
  while (start < json.size()) {
    const std::size_t end = json.find('\n', start);
    const std::string line = json.substr(start, end - start);
    start = end == std::string::npos ? json.size() : end + 1;
    if (line.find("\"epoch_seconds\"") != std::string::npos) in_epoch_seconds = line.find(']') == std::string::npos;
    else if (in_epoch_seconds) {
      if (line.find(']') != std::string::npos) in_epoch_seconds = false;
      continue;
    }
    if (line.find("\"seconds\"") != std::string::npos || line.find("\"images_per_s\"") != std::string::npos ||
        line.find("\"epoch_seconds\"") != std::string::npos || line.find("\"threads\"") != std::string::npos) {
      continue;
    }
    out += line + "\n";
  }
  return out;
}

std::string read(const fs::path& p) { return read_file(p.string()); }

TEST(Training, SameSeedSameResultsAtAnyThreadCount) {
  REQUIRE_DATA();
  // Stochastic FP4 rounding too, so the random streams are exercised.
  TrainConfig c = short_run("fmnist-cnn", "int4-fp4");
  c.epochs = 2;
  c.train_subset = 192;  // 6 steps per epoch: enough to exercise every stream, cheap on 2 cores
  c.test_subset = 200;
  c.batch = 32;
  c.hardware.fp4_rounding = numerics::Fp4Rounding::kStochastic;
  c.threads = 1;
  const TrainResult one = train(c, *fashion());
  c.threads = 3;
  const TrainResult three = train(c, *fashion());
  const fs::path base = test::fresh_dir("test_training");
  for (const auto& [name, result] : {std::pair<const char*, const TrainResult*>{"one", &one}, {"three", &three}}) {
    prepare_output_dir((base / name).string(), false);
    write_train_outputs((base / name).string(), *result, "nibble train (test)", [](const std::string& s) { return s; });
  }
  for (const char* file : {"epochs.csv", "confusion.csv", "layers.csv", "trace.txt", "report.html"}) {
    EXPECT_EQ(read(base / "one" / file), read(base / "three" / file)) << file;
  }
  EXPECT_EQ(without_timing(read(base / "one" / "summary.json")), without_timing(read(base / "three" / "summary.json")));
  // A different seed trains a different network.
  c.seed = 2;
  const TrainResult other = train(c, *fashion());
  EXPECT_NE(other.epochs.back().train_loss, one.epochs.back().train_loss);

  // The files: the trace reads back as the trace of the run, the CSV has one row per epoch.
  EXPECT_EQ(workloads::read_trace_file((base / "one" / "trace.txt").string()), one.trace);
  EXPECT_EQ(one.trace.model, "fmnist-cnn");
  EXPECT_EQ(one.trace.batch, 32u);
  const std::string epochs = read(base / "one" / "epochs.csv");
  EXPECT_EQ(epochs.substr(0, epochs.find('\n')),
            "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,skipped_steps");
  EXPECT_EQ(std::count(epochs.begin(), epochs.end(), '\n'), 3);
  const std::string summary = read(base / "one" / "summary.json");
  for (const char* key : {"\"test_accuracy\"", "\"train_loss\"", "\"epochs\": 2", "\"policy\": \"int4-fp4\"",
                          "\"seconds\"", "\"images_per_s\"", "\"seed\": 1"}) {
    EXPECT_NE(summary.find(key), std::string::npos) << key;
  }
  fs::remove_all(base);
}

// The trainer names the setting; nibble train's flags name it for the user
// (sim/cli flag_error).
TEST(Training, ConfigurationErrors) {
  REQUIRE_DATA();
  const auto setting_of = [](const TrainConfig& c) {
    try {
      train(c, *fashion());
    } catch (const SettingError& e) {
      return e.setting();
    }
    return std::string("no error");
  };
  TrainConfig c = short_run("fmnist-mlp", "fp32");
  c.batch = 0;
  EXPECT_EQ(setting_of(c), "batch");
  c = short_run("fmnist-mlp", "fp32");
  c.sgd.lr = -1;
  EXPECT_EQ(setting_of(c), "lr");
  c = short_run("fmnist-mpl", "fp32");
  EXPECT_EQ(setting_of(c), "model");
  c = short_run("resnet18", "fp32");  // 3 x 224 x 224 inputs
  EXPECT_EQ(setting_of(c), "model");
  c = short_run("fmnist-mlp", "int8");
  EXPECT_EQ(setting_of(c), "policy");
  c = short_run("fmnist-mlp", "fp32");
  c.warmup = 1.0;
  EXPECT_EQ(setting_of(c), "warmup");
  c = short_run("fmnist-mlp", "fp32");
  c.threads = 257;
  EXPECT_EQ(setting_of(c), "threads");
}

// ---- fmnist-vit: the zoo's network, trained ----------------------------------

/// MACs of one forward and backward pass of the emulator's fmnist-vit at
/// batch `batch` under `policy`, counted by the GEMMs as they run.
std::uint64_t emulator_step_macs(std::uint64_t batch, const std::string& policy_name, std::uint64_t* forward_macs) {
  models::ZooOptions options;
  options.batch = batch;
  const models::Graph graph = models::build_zoo_model("fmnist-vit", options);
  const TrainPolicy policy = make_train_policy(policy_name, std::nullopt);
  Network net = build_network(graph, plan_arithmetic(graph, policy, HardwareArith{}), policy.base.storage());
  net.init(7);
  Tensor x;
  x.resize(Shape{batch, 1, 28, 28});
  Rng rng(3);
  for (float& v : x.data) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  std::uint64_t macs = 0;
  StepContext ctx;
  ctx.gemm_macs = &macs;
  const Tensor& logits = net.forward(x, ctx);
  *forward_macs = macs;
  Tensor dlogits;
  dlogits.resize(logits.shape);
  for (float& v : dlogits.data) v = static_cast<float>(rng.uniform(-0.1, 0.1));
  net.backward(dlogits, ctx);
  return macs;
}

TEST(Training, VitEmulatorGemmMacsEqualTheZooTrace) {
  // Forward, per image: patch embedding 49 x 16 x 64 = 50,176; per block Q, K,
  // V, proj 4 x 49 x 64 x 64 = 802,816, FC1 + FC2 2 x 49 x 64 x 128 = 802,816,
  // QK^T and PV 2 x 4 heads x 49 x 49 x 16 = 307,328, so 4 x 1,912,960 =
  // 7,651,840; head 640. Sum 7,702,656 (the zoo's count).
  for (const char* policy : {"fp32", "int4-fp4"}) {
    std::uint64_t forward = 0;
    const std::uint64_t step = emulator_step_macs(2, policy, &forward);
    EXPECT_EQ(forward, 2u * 7702656u) << policy;
    models::ZooOptions options;
    options.batch = 2;
    const workloads::Trace trace =
        workloads::expand_training_step(models::build_zoo_model("fmnist-vit", options), make_train_policy(policy, std::nullopt).base);
    std::uint64_t trace_macs = 0;
    for (const auto& op : trace.ops) trace_macs += op.macs();
    EXPECT_EQ(step, trace_macs) << policy;
    // The patch embedding reads the input: no input-gradient GEMM, so the
    // step is 3 x forward less 2 x 50,176.
    EXPECT_EQ(step, 3 * forward - 2u * 50176u) << policy;
  }
}

TEST(Training, VitInt4Fp4KeepsAttentionMatmulsInFp16) {
  models::ZooOptions options;
  options.batch = 2;
  const models::Graph graph = models::build_zoo_model("fmnist-vit", options);
  const auto plan = plan_arithmetic(graph, make_train_policy("int4-fp4", std::nullopt), HardwareArith{});
  const LayerArith& scores = plan.at(graph.find("blocks.1.attn.scores"));
  EXPECT_EQ(scores.forward.a, numerics::Format::kFp16);
  EXPECT_EQ(scores.input_grad.a, numerics::Format::kFp16);
  EXPECT_EQ(plan.at(graph.find("blocks.1.attn.q")).forward.b, numerics::Format::kInt4);
  // A policy file's `attention:` key wins: 4-bit attention.
  const auto four = plan_arithmetic(graph, make_train_policy("int4-fp4", std::string(NIBBLE_SOURCE_DIR) +
                                                                              "/tests/train/policies/attention-int4.yaml"),
                                    HardwareArith{});
  EXPECT_EQ(four.at(graph.find("blocks.1.attn.context")).forward.a, numerics::Format::kUint4);
  EXPECT_EQ(four.at(graph.find("blocks.1.attn.context")).input_grad.a, numerics::Format::kFp4);
}

TEST(Training, VitTraceOfTheNamedPolicyHasTheEmulatorsFormats) {
  // `nibble trace --policy int4-fp4` (workloads::named_policy) and `nibble
  // train --policy int4-fp4` must cost and train the same arithmetic: every
  // GEMM of the expanded step has the operand and accumulator formats the
  // emulator plans for that layer and phase, attention's QK^T and PV included
  // (FP16 x FP16 into FP32 in both).
  models::ZooOptions options;
  options.batch = 2;
  const models::Graph graph = models::build_zoo_model("fmnist-vit", options);
  const auto plan = plan_arithmetic(graph, make_train_policy("int4-fp4", std::nullopt), HardwareArith{});
  const workloads::Trace trace = workloads::expand_training_step(graph, workloads::named_policy("int4-fp4"));
  std::size_t checked = 0, attention = 0;
  for (const workloads::TraceOp& op : trace.ops) {
    if (!op.is_gemm()) continue;
    const std::size_t index = graph.find(op.layer);
    ASSERT_LT(index, graph.size()) << op.layer;
    const LayerArith& a = plan.at(index);
    const GemmFormats& f = op.phase == workloads::Phase::kForward     ? a.forward
                           : op.phase == workloads::Phase::kInputGrad ? a.input_grad
                                                                      : a.weight_grad;
    const std::string where = op.layer + " " + std::string(workloads::phase_name(op.phase));
    EXPECT_EQ(op.a_format, f.a) << where;
    EXPECT_EQ(op.b_format, f.b) << where;
    EXPECT_EQ(op.acc_format, f.acc) << where;
    if (graph.layer(index).type == models::LayerType::kMatMul) {
      ++attention;
      EXPECT_EQ(op.a_format, numerics::Format::kFp16) << where;
      EXPECT_EQ(op.acc_format, numerics::Format::kFp32) << where;
    }
    ++checked;
  }
  // Per block Q, K, V, proj, fc1, fc2 (3 GEMMs each) and QK^T, PV (3 each);
  // patch embedding 2 (no input gradient), head 3.
  EXPECT_EQ(checked, 4u * 8u * 3u + 2u + 3u);
  EXPECT_EQ(attention, 4u * 2u * 3u);
}

TEST(Training, VitSameResultsAtAnyThreadCount) {
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-vit", "int4-fp4");
  c.batch = 16;
  c.train_subset = 64;  // 4 AdamW steps
  c.test_subset = 50;
  // Attention matmuls in 4 bits too: their FP4 gradients, GradScale and
  // stochastic rounding run in the parallel groups.
  c.policy_file = std::string(NIBBLE_SOURCE_DIR) + "/tests/train/policies/attention-int4.yaml";
  c.hardware.fp4_rounding = numerics::Fp4Rounding::kStochastic;
  expect_same_at_thread_counts(c, 1, 2);
}

TEST(Training, VitFp32LearnsFromFourThousandImages) {
  // 125 AdamW steps of 32 images: 50.0 % measured (seed 1). A ViT whose attention
  // or position embedding passed wrong gradients stays far below it; a change that
  // moves it by more than a point changed what the network computes.
  REQUIRE_DATA();
  TrainConfig c = short_run("fmnist-vit", "fp32");
  c.batch = 32;
  c.train_subset = 4000;
  c.test_subset = 1000;
  const TrainResult r = train(c, *fashion());
  EXPECT_NEAR(r.epochs[0].test_accuracy, 50.0, 1.0);
  EXPECT_EQ(r.layers.size(), 4u * 8u + 2u);  // per block q, k, v, QK^T, PV, proj, fc1, fc2; patch embedding, head
}

}  // namespace
}  // namespace nibble::train
