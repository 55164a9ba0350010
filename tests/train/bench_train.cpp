// Training speed of the emulator (the bars: fp32 MLP >= 10,000 images/s
// at batch 64 on two cores, fp32 CNN >= 1,000 images/s, an int4-fp4 epoch at
// most 2.5x the fp32 epoch). Each iteration trains one epoch on a subset of
// Fashion-MNIST with all cores; the reported time is the training part only
// (manual time), and items_per_second is training images per second. The
// *_ratio benchmarks train both policies and report int4-fp4 time / fp32 time
// (mlp_all: every layer of the MLP in 4 bits, tests/train/policies/all-int4.yaml;
// cnn_mxfp4_ratio: the MXFP4 bar, at most 2.5x). The *_full_epoch benchmarks
// train one full fmnist-cnn epoch in fp32 and in mxfp4 / nvfp4 and report the
// accuracy gap (bar: at most 1.5 points) and the epoch-time ratio.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <thread>

#include "models/train/trainer.hpp"

namespace {

using nibble::train::Dataset;
using nibble::train::TrainConfig;
using nibble::train::TrainResult;

const Dataset* fashion() {
  static const Dataset* data = []() -> const Dataset* {
    if (!std::filesystem::exists(std::string(nibble::train::kDefaultDataDir) + "/train-images-idx3-ubyte.gz")) {
      return nullptr;
    }
    return new Dataset(nibble::train::load_dataset(nibble::train::kDefaultDataDir));
  }();
  return data;
}

/// `policy` "int4-fp4-all" is int4-fp4 with tests/train/policies/all-int4.yaml (every layer 4-bit).
TrainConfig config(const std::string& model, const std::string& policy, std::uint64_t images) {
  TrainConfig c;
  c.model = model;
  c.policy = policy;
  if (policy == "int4-fp4-all") {
    c.policy = "int4-fp4";
    c.policy_file = std::string(NIBBLE_SOURCE_DIR) + "/tests/train/policies/all-int4.yaml";
  }
  c.epochs = 1;
  c.batch = 64;
  c.train_subset = images;
  c.test_subset = 1;  // evaluation is not what is measured
  c.threads = std::max(1u, std::thread::hardware_concurrency());
  return c;
}

void BM_TrainEpoch(benchmark::State& state, const std::string& model, const std::string& policy,
                   std::uint64_t images) {
  if (fashion() == nullptr) {
    state.SkipWithError("dataset-fashion-mnist is not installed");
    return;
  }
  for (auto _ : state) {
    const TrainResult r = nibble::train::train(config(model, policy, images), *fashion());
    state.SetIterationTime(r.seconds);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * images));
  state.counters["threads"] = std::max(1u, std::thread::hardware_concurrency());
}

void BM_Int4OverFp32(benchmark::State& state, const std::string& model, const std::string& policy,
                     std::uint64_t images) {
  if (fashion() == nullptr) {
    state.SkipWithError("dataset-fashion-mnist is not installed");
    return;
  }
  double fp32 = 0.0, int4 = 0.0;
  for (auto _ : state) {
    const double a = nibble::train::train(config(model, "fp32", images), *fashion()).seconds;
    const double b = nibble::train::train(config(model, policy, images), *fashion()).seconds;
    fp32 += a;
    int4 += b;
    state.SetIterationTime(a + b);
  }
  state.counters["int4_over_fp32"] = int4 / fp32;
}

/// The block-scaled policies' bars: one full fmnist-cnn epoch (seed 1, batch
/// 64, all 60,000 training and 10,000 test images) in fp32 and in `policy`;
/// reports the epoch-time ratio and the test-accuracy gap in points.
void BM_BlockPolicyFullEpoch(benchmark::State& state, const std::string& policy) {
  if (fashion() == nullptr) {
    state.SkipWithError("dataset-fashion-mnist is not installed");
    return;
  }
  for (auto _ : state) {
    TrainConfig c = config("fmnist-cnn", "fp32", 0);
    c.test_subset = 0;
    const TrainResult fp32 = nibble::train::train(c, *fashion());
    c.policy = policy;
    const TrainResult block = nibble::train::train(c, *fashion());
    state.SetIterationTime(fp32.seconds + block.seconds);
    state.counters["epoch_over_fp32"] = block.seconds / fp32.seconds;
    state.counters["accuracy"] = block.epochs.back().test_accuracy;
    state.counters["fp32_accuracy"] = fp32.epochs.back().test_accuracy;
    state.counters["points_below_fp32"] = fp32.epochs.back().test_accuracy - block.epochs.back().test_accuracy;
  }
}

BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_fp32, "fmnist-mlp", "fp32", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_int4_fp4, "fmnist-mlp", "int4-fp4", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, cnn_fp32, "fmnist-cnn", "fp32", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, cnn_int4_fp4, "fmnist-cnn", "int4-fp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_int4_fp4_all, "fmnist-mlp", "int4-fp4-all", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, cnn_ratio, "fmnist-cnn", "int4-fp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, mlp_ratio, "fmnist-mlp", "int4-fp4", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, mlp_all_ratio, "fmnist-mlp", "int4-fp4-all", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, cnn_mxfp4_ratio, "fmnist-cnn", "mxfp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_BlockPolicyFullEpoch, cnn_mxfp4_full_epoch, "mxfp4")->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_BlockPolicyFullEpoch, cnn_nvfp4_full_epoch, "nvfp4")->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
