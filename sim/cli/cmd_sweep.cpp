// `nibble sweep`: a design-space sweep (docs/sweeps.md) evaluated point by
// point through the same pipeline as `nibble simulate`, on a local pool of
// workers or over MPI ranks, into sweep.csv and a Pareto page.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sim/arch/simulate.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/files.hpp"
#include "sim/flow/sweep_eval.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace nibble::cli {

namespace {

// Under OpenMPI's mpirun every rank runs this command; only rank 0 owns the
// output directory. The MPI environment starts inside the runner, so the rank
// comes from the variable mpirun sets.
bool is_mpi_root() {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return rank == nullptr || std::string(rank) == "0";
}

int run_sweep(const std::vector<std::string>& args) {
  std::string sweep_path, out, tech;
  std::uint64_t jobs = 0;
  std::uint64_t point_timeout = 3600;
  std::uint64_t max_steps = arch::kDefaultMaxSteps;
  bool mpi = false, resume = false, force = false, quiet = false;
  ArgParser parser(
      "nibble sweep", "SWEEP.yaml --out DIR [--jobs N | --mpi] [--resume] [options]",
      "Evaluates every point of a design-space sweep (design parameters x workloads x policies,\n"
      "docs/sweeps.md) with the SystemC model and the energy model, exactly as `nibble simulate`\n"
      "would, and writes DIR/sweep.csv (one row per point) and DIR/report.html (the Pareto front of\n"
      "energy vs time per step with area as marker size, and the best point per objective). Each\n"
      "point is simulated in its own child process (the SystemC kernel cannot be elaborated twice in\n"
      "one process), so --jobs points run at once. Under `mpirun -np N ... --mpi` rank 0 hands points\n"
      "to the other ranks and writes the same files, byte for byte. Finished points are kept in\n"
      "DIR/points/; --resume reuses them after an interruption. A point with bad input (e.g. a\n"
      "scratchpad too small for its array) is reported as failed and the sweep goes on; the exit\n"
      "status is then 1 (2 when the sweep file itself, or a design it names, is bad).",
      "nibble sweep hw/sweeps/array-size.yaml --jobs 2 --out out/sweep");
  parser.positional("SWEEP.yaml", "the sweep file", &sweep_path, true);
  parser.option("--out", "DIR", "output directory", &out);
  parser.alias("-o", "--out");
  parser.option("--jobs", "N", "points evaluated at once on this machine (default: the number of cores; 1 with --mpi)",
                &jobs, 1);
  parser.alias("-j", "--jobs");
  parser.flag("--mpi", "spread the points over the ranks of an mpirun job", &mpi);
  parser.flag("--resume", "reuse the points already finished in DIR/points", &resume);
  parser.option("--point-timeout", "SECONDS",
                "with --mpi: a rank silent this long (stopped or hung in a point) is given no more points; the "
                "others finish the sweep, which then ends with exit 1, every other point kept for --resume "
                "(default 3600)",
                &point_timeout, 1);
  parser.option("--max-steps", "N",
                "refuse a simulation of more engine steps, GEMM folds plus vector chunks (default " +
                    std::to_string(arch::kDefaultMaxSteps) + "); such a point fails",
                &max_steps, 1);
  parser.option("--tech", "FILE|NAME", "energy/area table for every point (default: each design's `tech`)", &tech);
  parser.flag("--force", "write into DIR even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "no progress and no summary", &quiet);
  parser.required("--out", "missing --out DIR");
  parser.parse(args);
  if (mpi && !sweep::mpi_available()) throw UsageError("--mpi: this nibble was built without MPI (install OpenMPI and Boost.MPI)");
  if (!mpi && parser.given("--point-timeout")) {
    throw UsageError("--point-timeout applies to --mpi only: local points run in this process's children");
  }

  const sweep::SweepSpec spec = sweep::load_sweep(sweep_path);
  sweep::check_design_files(spec);
  const bool root = !mpi || is_mpi_root();
  std::optional<OutputDir> out_dir;
  if (root) out_dir.emplace(out, force || resume);

  sweep::RunOptions options;
  options.out_dir = out;
  options.jobs = parser.given("--jobs") ? jobs : (mpi ? 1 : std::max(1u, std::thread::hardware_concurrency()));
  if (options.jobs > 1 && !arch::concurrent_simulations_safe()) {
    std::cerr << "nibble sweep: this is a sanitizer build, which cannot fork from several threads: using 1 job\n";
    options.jobs = 1;
  }
  options.resume = resume;
  options.point_timeout_s = point_timeout;
  options.key = [tech, max_steps](const sweep::SweepPoint& point) {
    return flow::sweep_point_key(point, tech, max_steps, NIBBLE_VERSION);
  };
  options.metric_columns = flow::sweep_metric_columns();
  options.words = render_settings;
  options.progress = !quiet;
  const sweep::Evaluator evaluate = [tech, max_steps](const sweep::SweepPoint& point) {
    try {
      sweep::PointOutcome outcome = flow::evaluate_sweep_point(point, tech, max_steps);
      outcome.error = render_settings(outcome.error);  // a bad override names --set
      return outcome;
    } catch (const SettingError& e) {  // a bad --tech fails every point, over --max-steps one, in the flag's words
      sweep::PointOutcome failed;
      failed.error = flag_error(e).what();
      return failed;
    }
  };
  bool is_root = true;
  const sweep::SweepResults results =
      mpi ? sweep::run_mpi(spec, options, evaluate, &is_root) : sweep::run_local(spec, options, evaluate);
  if (!is_root) return kExitOk;

  flow::write_sweep_outputs(spec, results, out);
  out_dir->commit();
  std::size_t failed = 0, first_failed = results.points.size();
  for (std::size_t i = 0; i < results.outcomes.size(); ++i) {
    if (results.outcomes[i].ok) continue;
    if (failed++ == 0) first_failed = i;
  }
  const std::size_t total = results.points.size();
  if (!quiet) {
    std::cout << "sweep " << spec.name << ": " << total << " points, " << (total - failed) << " evaluated, " << failed
              << " failed, " << results.reused << " reused, " << flow::sweep_pareto_front(results).size()
              << " on the Pareto front\n";
    for (std::size_t i = 0; i < total && failed != 0; ++i) {
      if (!results.outcomes[i].ok) {
        std::cout << "  " << results.points[i].name(total) << ": " << results.outcomes[i].error << "\n";
      }
    }
    std::cout << "wrote " << out << "/sweep.csv and " << out << "/report.html\n";
  }
  // A sweep with failed points is not a success, even with every file written:
  // one line on stderr (also with --quiet) and exit 1, so scripts and mpirun see it.
  if (failed != 0) {
    std::cerr << "nibble sweep: " << failed << " of " << total << " points failed (first: "
              << results.points[first_failed].name(total) << ": " << results.outcomes[first_failed].error
              << "); every point is in " << out << "/sweep.csv\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("sweep", 60, "a design-space sweep on a pool of workers or MPI ranks, with its Pareto front",
               run_sweep);

}  // namespace nibble::cli
