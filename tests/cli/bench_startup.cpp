// The start-up figures: `nibble --version` at most 5 ms and
// `nibble scalesim` on the 4-layer SCALE-Sim topology (its simulation
// included) at most 15 ms, both the median wall time of 10 runs of the real
// binary. The CPU time (user + system, the process and any children) is
// printed too: on a shared machine it is the steadier figure.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace {

constexpr int kRuns = 10;

struct Timing {
  double wall_ms = 0.0;  ///< median wall time of the runs
  double cpu_ms = 0.0;   ///< median user + system time of the runs (children included)
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

double ms(const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; }

// One run: posix_spawn (vfork-like, no shell), stdout and stderr to /dev/null.
void run_once(const std::vector<std::string>& argv, double* wall_ms, double* cpu_ms) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    std::fprintf(stderr, "bench_startup: cannot start %s\n", args[0]);
    std::exit(1);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_startup: '%s ...' failed (status %d)\n", args[0], status);
    std::exit(1);
  }
  *wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // wait4's rusage covers the process and the children it waited for.
  *cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
}

Timing measure(const std::vector<std::string>& argv) {
  double wall = 0.0, cpu = 0.0;
  run_once(argv, &wall, &cpu);  // warm the page cache; not counted
  std::vector<double> walls, cpus;
  for (int i = 0; i < kRuns; ++i) {
    run_once(argv, &wall, &cpu);
    walls.push_back(wall);
    cpus.push_back(cpu);
  }
  return Timing{median(walls), median(cpus)};
}

bool report(const char* what, const Timing& t, double bar_ms) {
  const bool pass = t.wall_ms <= bar_ms;
  std::printf("%s: median of %d runs %.2f ms wall, %.2f ms CPU (bar: <= %.0f ms wall) %s\n", what, kRuns, t.wall_ms,
              t.cpu_ms, bar_ms, pass ? "PASS" : "FAIL");
  return pass;
}

}  // namespace

int main() {
  const std::string nibble = std::string(NIBBLE_BINARY_DIR) + "/nibble";
  const std::string source = NIBBLE_SOURCE_DIR;
  const std::string out = std::string(NIBBLE_BINARY_DIR) + "/bench-startup";
  std::filesystem::remove_all(out);

  // The bars are wall times of an idle machine; on a shared one the runs also
  // wait for a core, which the load average tells (the CPU times do not include it).
  double load[1] = {0.0};
  if (::getloadavg(load, 1) == 1) std::printf("load average (1 min) at the start: %.2f\n", load[0]);
  const bool version = report("nibble --version", measure({nibble, "--version"}), 5.0);
  const bool scalesim =
      report("nibble scalesim, 4-layer topology (fmnist_cnn_conv.csv, 32x32 os, simulation included)",
             measure({nibble, "scalesim", "-c", source + "/hw/designs/scalesim/scale.cfg", "-t",
                      source + "/workloads/scalesim/fmnist_cnn_conv.csv", "-p", out, "--force", "--quiet"}),
             15.0);
  return version && scalesim ? 0 : 1;
}
