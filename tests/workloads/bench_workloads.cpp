// Speed of the training-step expansion: ResNet-50 at batch 256 expanded and its
// trace written (the bar: under 50 ms), plus reading it back.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "models/zoo/zoo.hpp"
#include "workloads/expand.hpp"
#include "workloads/trace_io.hpp"

namespace {

using namespace nibble;

models::Graph resnet50_b256() {
  models::ZooOptions o;
  o.batch = 256;
  return models::build_zoo_model("resnet50", o);
}

// Build the graph, expand it and write the trace file: everything `nibble trace
// --model resnet50 --batch 256 -o FILE` does.
void BM_ExpandAndWriteResNet50Batch256(benchmark::State& state) {
  const std::string path = "/tmp/nibble_bench_resnet50_" + std::to_string(::getpid()) + ".trace";
  std::size_t bytes = 0, ops = 0;
  for (auto _ : state) {
    const workloads::Trace trace = workloads::expand_training_step(resnet50_b256(), workloads::named_policy("int4-fp4"));
    workloads::write_trace_file(path, trace);
    ops = trace.ops.size();
    bytes = workloads::write_trace(trace).size();
  }
  std::remove(path.c_str());
  state.counters["ops"] = static_cast<double>(ops);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ExpandAndWriteResNet50Batch256)->Unit(benchmark::kMillisecond);

void BM_ReadResNet50Batch256(benchmark::State& state) {
  const std::string text =
      workloads::write_trace(workloads::expand_training_step(resnet50_b256(), workloads::named_policy("int4-fp4")));
  for (auto _ : state) benchmark::DoNotOptimize(workloads::read_trace(text, "bench.trace"));
}
BENCHMARK(BM_ReadResNet50Batch256)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
