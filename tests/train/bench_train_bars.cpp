// The 1-epoch bars of the training emulator, measured: each network trained
// for one epoch on all 60,000 Fashion-MNIST images (or the first N with
// --train-subset), seed 1, in fp32 and int4-fp4, with its default optimizer.
//   fmnist-resnet  fp32 at least 88 %, int4-fp4 within 1.5 points of it
//   fmnist-vit     fp32 at least 78 %, int4-fp4 within 3 points of it
// and for each, the int4-fp4 epoch at most 2x the fp32 epoch (CPU seconds:
// wall time on a shared machine measures the neighbours). Prints each run's
// test accuracy, wall and CPU seconds, and whether each bar is met. About
// half an hour on two cores (`make bench` runs it).
//
//   build/bench/bench_train_bars [--threads N] [--model M] [--policy P] [--train-subset N]
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include "models/train/trainer.hpp"

namespace {

using nibble::train::TrainConfig;
using nibble::train::TrainResult;

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Bar {
  const char* model;      ///< zoo name
  double fp32_min;        ///< fp32 accuracy after one epoch, percent
  double int4_max_drop;   ///< int4-fp4 at most this many points below fp32
};

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string only, only_policy;
  std::uint64_t subset = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (flag == "--model") only = argv[i + 1];
    else if (flag == "--policy") only_policy = argv[i + 1];
    else if (flag == "--train-subset") subset = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (!std::filesystem::exists(std::string(nibble::train::kDefaultDataDir) + "/train-images-idx3-ubyte.gz")) {
    std::printf("bench_train_bars: dataset-fashion-mnist is not installed: skipped\n");
    return 0;
  }
  const nibble::train::Dataset data = nibble::train::load_dataset(nibble::train::kDefaultDataDir);
  const Bar bars[] = {{"fmnist-resnet", 88.0, 1.5}, {"fmnist-vit", 78.0, 3.0}};
  bool all_met = true;
  for (const Bar& bar : bars) {
    if (!only.empty() && only != bar.model) continue;
    double accuracy[2] = {0.0, 0.0};
    double cpu[2] = {0.0, 0.0};
    const char* policies[2] = {"fp32", "int4-fp4"};
    for (int p = 0; p < 2; ++p) {
      if (!only_policy.empty() && only_policy != policies[p]) continue;
      TrainConfig c;
      c.train_subset = subset;
      c.model = bar.model;
      c.policy = policies[p];
      c.epochs = 1;
      c.seed = 1;
      c.threads = threads;
      const double cpu0 = cpu_seconds();
      const TrainResult r = nibble::train::train(c, data);
      accuracy[p] = r.epochs.back().test_accuracy;
      cpu[p] = cpu_seconds() - cpu0;
      std::printf("%s %s: 1 epoch of %llu images, seed 1: test accuracy %.2f %%, training %.1f s wall, %.1f s CPU "
                  "(%u threads)\n",
                  bar.model, policies[p], static_cast<unsigned long long>(r.train_images), accuracy[p], r.seconds,
                  cpu[p], threads);
      std::fflush(stdout);
    }
    if (cpu[0] == 0.0 || cpu[1] == 0.0) continue;  // one policy only (--policy): no comparison
    const bool fp32_met = accuracy[0] >= bar.fp32_min;
    const bool int4_met = accuracy[0] - accuracy[1] <= bar.int4_max_drop;
    std::printf("%s: fp32 %.2f %% (bar >= %.1f: %s); int4-fp4 %+.2f points vs fp32 (bar within %.1f: %s)\n",
                bar.model, accuracy[0], bar.fp32_min, fp32_met ? "met" : "NOT met", accuracy[1] - accuracy[0],
                bar.int4_max_drop, int4_met ? "met" : "NOT met");
    const double ratio = cpu[1] / cpu[0];
    std::printf("%s: int4-fp4 epoch %.2fx the fp32 epoch in CPU seconds (bar at most 2x: %s)\n", bar.model, ratio,
                ratio <= 2.0 ? "met" : "NOT met");
    all_met = all_met && fp32_met && int4_met && ratio <= 2.0;
  }
  // The verdicts are printed; the exit status stays 0 so that `make bench` runs every benchmark.
  (void)all_met;
  return 0;
}
