// Training speed of the emulator (the bars: fp32 MLP >= 10,000 images/s
// at batch 64 on two cores, fp32 CNN >= 1,000 images/s, an int4-fp4 epoch at
// most 2.5x the fp32 epoch). Each iteration trains one epoch on a subset of
// Fashion-MNIST with all cores; the reported time is the training part only
// (manual time), and items_per_second is training images per second. The
// *_ratio benchmarks train both policies and report int4-fp4 time / fp32 time
// (mlp_all: every layer of the MLP in 4 bits, the int4-fp4-all policy;
// cnn_mxfp4_ratio: the MXFP4 bar, at most 2.5x). The *_full_epoch benchmarks
// train one full fmnist-cnn epoch in fp32 and in mxfp4 / nvfp4 and report the
// accuracy gap (bar: at most 1.5 points) and the epoch-time ratio.
// fmnist-resnet (bars: an fp32 epoch at most 3 minutes on two cores, an
// int4-fp4 epoch at most 2x the fp32 epoch): epoch_s_60k is the training time
// of one full 60,000-image epoch at the measured rate, cpu_s the process CPU
// time of the measured runs and cpu_s_60k that per 60,000 images (the machine
// is shared: wall time alone misleads). vit_ratio: fmnist-vit's int4-fp4 /
// fp32 epoch-time ratio (bar: at most 2x; AdamW, its default optimizer).
// Every *_ratio benchmark also reports int4_over_fp32_cpu, the ratio of the
// two policies' process CPU seconds. Fp16Gemm/conv2_*: the FP16-accumulator
// GEMM kernel alone on fmnist-cnn's conv2 shapes, one thread, multiply-
// accumulates per CPU second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <thread>
#include <vector>

#include "models/train/gemm.hpp"
#include "models/train/trainer.hpp"
#include "tests/support/fashion_mnist.hpp"

namespace {

using nibble::train::Dataset;
using nibble::train::TrainConfig;
using nibble::train::TrainResult;

const Dataset* fashion() { return nibble::test::fashion_mnist(); }

/// Process CPU time in seconds (all threads).
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

TrainConfig config(const std::string& model, const std::string& policy, std::uint64_t images) {
  TrainConfig c;
  c.model = model;
  c.policy = policy;
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
  double seconds = 0.0;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const TrainResult r = nibble::train::train(config(model, policy, images), *fashion());
    state.SetIterationTime(r.seconds);
    seconds += r.seconds;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * images));
  const double per_image = seconds / static_cast<double>(state.iterations() * images);
  state.counters["epoch_s_60k"] = per_image * 60000.0;
  state.counters["cpu_s"] = cpu_seconds() - cpu0;
  // CPU seconds of a 60,000-image epoch (training and the tiny evaluation): a
  // figure a loaded machine does not inflate, unlike the wall time.
  state.counters["cpu_s_60k"] = (cpu_seconds() - cpu0) / static_cast<double>(state.iterations() * images) * 60000.0;
  state.counters["threads"] = std::max(1u, std::thread::hardware_concurrency());
}

void BM_Int4OverFp32(benchmark::State& state, const std::string& model, const std::string& policy,
                     std::uint64_t images) {
  if (fashion() == nullptr) {
    state.SkipWithError("dataset-fashion-mnist is not installed");
    return;
  }
  double fp32 = 0.0, int4 = 0.0, fp32_cpu = 0.0, int4_cpu = 0.0;
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    const double c0 = cpu_seconds();
    const double a = nibble::train::train(config(model, "fp32", images), *fashion()).seconds;
    const double c1 = cpu_seconds();
    const double b = nibble::train::train(config(model, policy, images), *fashion()).seconds;
    fp32_cpu += c1 - c0;
    int4_cpu += cpu_seconds() - c1;
    fp32 += a;
    int4 += b;
    state.SetIterationTime(a + b);
  }
  state.counters["int4_over_fp32"] = int4 / fp32;
  // The same ratio in process CPU seconds (each whole run, data set-up and the
  // one-image evaluation included): what the bar compares when neighbours
  // share the cores, since they stretch wall time but not the CPU work.
  state.counters["int4_over_fp32_cpu"] = int4_cpu / fp32_cpu;
  state.counters["cpu_s"] = cpu_seconds() - cpu0;
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
/// One FP16-accumulator GEMM C (m x n) = A (m x k) . B (k x n) on one thread
/// with the kernel gemm() picks for this CPU: fmnist-cnn's conv2 shapes, A
/// INT4 codes, B UINT4 codes (forward, `fp4` false) or radix-4 FP4 values.
/// items_per_second is multiply-accumulates per CPU second.
void BM_Fp16Gemm(benchmark::State& state, std::size_t m, std::size_t n, std::size_t k, bool fp4) {
  std::vector<float> a(m * k), b(k * n), c(m * n);
  std::uint32_t x = 1;
  const auto next = [&x] {
    x = x * 1664525u + 1013904223u;  // any fixed sequence: the kernel's speed does not depend on the values
    return x >> 16;
  };
  for (float& v : a) v = static_cast<float>(static_cast<int>(next() % 16) - 8);
  for (float& v : b) {
    const std::uint32_t r = next();
    // FP4 (bias 7): +-4^(e - 7), e = 1..7, or 0.
    v = fp4 ? (r % 8 == 0 ? 0.0f : std::ldexp(r & 8 ? -1.0f : 1.0f, 2 * static_cast<int>(r % 8) - 14))
            : static_cast<float>(r % 16);
  }
  nibble::train::Accumulator acc;
  acc.format = nibble::numerics::Format::kFp16;
  for (auto _ : state) {
    nibble::train::gemm(acc, {a.data(), m, k, k}, {b.data(), k, n, n}, {c.data(), m, n, n});
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * m * n * k));
  state.SetLabel(nibble::train::fp16_kernel_name());
}

BENCHMARK_CAPTURE(BM_Fp16Gemm, conv2_forward, 64, 12544, 288, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fp16Gemm, conv2_weight_grad, 288, 64, 12544, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fp16Gemm, conv2_input_grad, 288, 12544, 64, true)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_fp32, "fmnist-mlp", "fp32", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_int4_fp4, "fmnist-mlp", "int4-fp4", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, cnn_fp32, "fmnist-cnn", "fp32", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, cnn_int4_fp4, "fmnist-cnn", "int4-fp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, mlp_int4_fp4_all, "fmnist-mlp", "int4-fp4-all", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_TrainEpoch, resnet_fp32, "fmnist-resnet", "fp32", 1920)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_TrainEpoch, resnet_int4_fp4, "fmnist-resnet", "int4-fp4", 1920)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_Int4OverFp32, resnet_ratio, "fmnist-resnet", "int4-fp4", 1920)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_Int4OverFp32, vit_ratio, "fmnist-vit", "int4-fp4", 1920)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_Int4OverFp32, cnn_ratio, "fmnist-cnn", "int4-fp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, mlp_ratio, "fmnist-mlp", "int4-fp4", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, mlp_all_ratio, "fmnist-mlp", "int4-fp4-all", 19200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Int4OverFp32, cnn_mxfp4_ratio, "fmnist-cnn", "mxfp4", 3200)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_BlockPolicyFullEpoch, cnn_mxfp4_full_epoch, "mxfp4")->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_BlockPolicyFullEpoch, cnn_nvfp4_full_epoch, "nvfp4")->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
