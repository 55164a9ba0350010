// The sweep figures: the shipped 64-point sweep of ResNet-18
// training steps (hw/sweeps/array-size.yaml) with --jobs 2 must finish in
// under 60 s on the 2-core machine, and the 2-rank MPI run within 1.3x of it.
// Runs the real `nibble` binary, as a user would.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

double run_seconds(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rc != 0) {
    std::fprintf(stderr, "bench_sweep: '%s' failed (status %d)\n", command.c_str(), rc);
    std::exit(1);
  }
  return seconds;
}

}  // namespace

int main() {
  const std::string nibble = std::string(NIBBLE_BINARY_DIR) + "/nibble";
  const std::string sweep = std::string(NIBBLE_SOURCE_DIR) + "/hw/sweeps/array-size.yaml";
  const std::string work = std::string(NIBBLE_BINARY_DIR) + "/bench-sweep";
  std::filesystem::remove_all(work);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  ::setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0);

  const double local = run_seconds(nibble + " sweep " + sweep + " --jobs 2 --quiet --out " + work + "/local");
  std::printf("sweep array-size (64 points, ResNet-18 b32), --jobs 2: %.2f s (bar: < 60 s) %s\n", local,
              local < 60.0 ? "PASS" : "FAIL");
  const double mpi = run_seconds("mpirun -np 2 " + nibble + " sweep " + sweep + " --mpi --quiet --out " + work + "/mpi");
  const double ratio = mpi / local;
  std::printf("same sweep, mpirun -np 2 --mpi: %.2f s = %.2fx the --jobs 2 run (bar: <= 1.3x) %s\n", mpi, ratio,
              ratio <= 1.3 ? "PASS" : "FAIL");
  const bool same = run_seconds("cmp -s " + work + "/local/sweep.csv " + work + "/mpi/sweep.csv") >= 0.0;
  std::printf("MPI sweep.csv identical to the local one: %s\n", same ? "yes" : "no");
  return local < 60.0 && ratio <= 1.3 ? 0 : 1;
}
