// Runs the probe sweep with a stand-in evaluator, locally (--local) or under
// MPI, and writes the sweep CSV to the given file.
#include <fstream>
#include <iostream>
#include <string>

#include "sim/sweep/sweep_runner.hpp"

namespace {
nibble::sweep::PointOutcome fake_evaluate(const nibble::sweep::SweepPoint& point) {
  // Deterministic numbers that depend on every input of the point.
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : point.signature()) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  nibble::sweep::PointOutcome out;
  out.ok = true;
  out.metrics = {{"seconds_per_step", std::to_string(h % 1000)}, {"energy_per_step_j", std::to_string(h % 997)}};
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: sweep_mpi_probe --local|--mpi SWEEP.yaml OUTDIR OUT.csv\n";
    return 2;
  }
  const std::string mode = argv[1];
  const auto spec = nibble::sweep::load_sweep(argv[2]);
  nibble::sweep::RunOptions options;
  options.out_dir = argv[3];
  options.jobs = mode == "--local" ? 2 : 1;
  options.progress = false;
  bool root = true;
  const auto results = mode == "--local" ? nibble::sweep::run_local(spec, options, fake_evaluate)
                                         : nibble::sweep::run_mpi(spec, options, fake_evaluate, &root);
  if (root) std::ofstream(argv[4]) << nibble::sweep::results_csv(spec, results);
  return 0;
}
