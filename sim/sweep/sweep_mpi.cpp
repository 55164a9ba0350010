// The MPI runner: rank 0 hands out point indices on request (so fast and
// slow points balance), evaluates points itself with local threads while it
// waits, stores every result as it arrives (so --resume works after an
// interruption), and alone writes the outputs. Only rank 0's main thread
// calls MPI (MPI_THREAD_FUNNELED).
#include "sim/sweep/sweep_runner.hpp"

#ifdef NIBBLE_HAVE_MPI
#include <boost/mpi.hpp>
#endif

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "sim/common/error.hpp"
#include "sim/common/progress.hpp"
#include "sim/sweep/sweep_store.hpp"

namespace nibble::sweep {

#ifdef NIBBLE_HAVE_MPI

namespace {
namespace mpi = boost::mpi;

enum Tag : int {
  kReady = 1,   ///< worker -> root: give me a point (payload: empty)
  kResult = 2,  ///< worker -> root: "index\n" + outcome JSON
  kAssign = 3,  ///< root -> worker: index of the point to evaluate
  kStop = 4,    ///< root -> worker: no more points
};

// The exit status of a sweep that lost a rank: 1, a sweep with failed points.
constexpr int kExitLostRank = 1;

void run_worker(mpi::communicator& world, const std::vector<SweepPoint>& points, const Evaluator& evaluate) {
  world.send(0, kReady, std::string());
  for (;;) {
    const mpi::status status = world.probe(0, mpi::any_tag);
    if (status.tag() == kStop) {
      std::size_t ignored = 0;
      world.recv(0, kStop, ignored);
      return;
    }
    std::size_t index = 0;
    world.recv(0, kAssign, index);
    const SweepPoint& point = points.at(index);
    const PointOutcome outcome = evaluate_safely(evaluate, point);
    world.send(0, kResult, std::to_string(index) + "\n" + outcome.to_json(point.signature()));
  }
}
}  // namespace

bool mpi_available() { return true; }

SweepResults run_mpi(const SweepSpec& spec, const RunOptions& options, const Evaluator& evaluate, bool* is_root) {
  // Simulations run in forked children; OpenMPI otherwise warns on every fork.
  ::setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
  mpi::environment env(mpi::threading::funneled);
  mpi::communicator world;
  SweepResults results;
  results.points = spec.points();
  *is_root = world.rank() == 0;
  if (world.rank() != 0) {
    run_worker(world, results.points, evaluate);
    return SweepResults{};
  }

  const std::size_t total = results.points.size();
  results.outcomes.resize(total);
  const PointStore store(options, total);
  std::deque<std::size_t> todo;
  for (std::size_t i = 0; i < total; ++i) {
    if (options.resume && store.load(results.points[i], &results.outcomes[i])) {
      ++results.reused;
    } else {
      todo.push_back(i);
    }
  }

  std::mutex mutex;  // guards todo, results.outcomes, done, progress
  std::size_t done = results.reused;
  Progress progress("sweep " + spec.name + " (" + std::to_string(world.size()) + " ranks)", total, options.progress);
  const auto take = [&](std::size_t* index) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (todo.empty()) return false;
    *index = todo.front();
    todo.pop_front();
    return true;
  };
  const auto finish = [&](std::size_t index, PointOutcome outcome) {
    store.save(results.points[index], outcome);
    const std::lock_guard<std::mutex> lock(mutex);
    results.outcomes[index] = std::move(outcome);
    progress.update(++done, results.points[index].name(total));
  };

  std::vector<std::thread> local;
  for (std::size_t t = 0; t < std::max<std::size_t>(1, options.jobs); ++t) {
    local.emplace_back([&] {
      std::size_t index = 0;
      while (take(&index)) finish(index, evaluate_safely(evaluate, results.points[index]));
    });
  }

  // A worker is either evaluating the point it was given or waiting for our
  // answer, which comes at once: one silent for longer than --point-timeout is
  // stopped or hung. It is given nothing more, and its point is neither stored
  // nor handed to anyone else (a point that hangs would hang them too); the
  // other ranks finish the sweep, so every other point is stored for --resume.
  // MPI_Finalize would then wait for the lost rank forever: the sweep ends
  // with MPI_Abort instead.
  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::seconds(options.point_timeout_s);
  std::vector<Clock::time_point> heard(world.size(), Clock::now());  // each worker's last message
  std::vector<std::ptrdiff_t> holding(world.size(), -1);  // the point each worker evaluates, -1: none
  std::vector<bool> active(world.size(), true);           // false once stopped or lost
  std::vector<int> lost;
  int active_workers = world.size() - 1;
  while (active_workers > 0) {
    const auto status = world.iprobe(mpi::any_source, mpi::any_tag);
    if (!status) {
      const auto now = Clock::now();
      for (int rank = 1; rank < world.size(); ++rank) {
        if (!active[rank] || now - heard[rank] <= timeout) continue;
        active[rank] = false;
        --active_workers;
        lost.push_back(rank);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    const int source = status->source();
    std::string payload;
    world.recv(source, status->tag(), payload);
    if (!active[source]) continue;  // a lost rank woke up: its point stays unstored, it gets no other
    heard[source] = Clock::now();
    if (status->tag() == kResult) {
      const auto newline = payload.find('\n');
      const std::size_t index = std::stoull(payload.substr(0, newline));
      PointOutcome outcome;
      if (index >= total ||
          !PointOutcome::from_json(payload.substr(newline + 1), results.points[index].signature(), &outcome)) {
        throw std::runtime_error("malformed result from MPI rank " + std::to_string(source));
      }
      finish(index, std::move(outcome));
      holding[source] = -1;
    }
    std::size_t index = 0;
    if (take(&index)) {
      world.send(source, kAssign, index);
      holding[source] = static_cast<std::ptrdiff_t>(index);
    } else {
      world.send(source, kStop, std::size_t{0});
      active[source] = false;
      --active_workers;
    }
  }
  for (auto& thread : local) thread.join();
  if (!lost.empty()) {
    progress.finish(std::to_string(done) + " of " + std::to_string(total) + " points");
    for (const int rank : lost) {
      const std::ptrdiff_t point = holding[static_cast<std::size_t>(rank)];
      std::cerr << "nibble sweep: MPI rank " << rank << " "
                << (point < 0 ? std::string("did not start")
                              : "did not finish point " + results.points[static_cast<std::size_t>(point)].name(total))
                << " within " << options.words(setting_ref("point_timeout")) << " " << options.point_timeout_s
                << " s (stopped or hung)\n";
    }
    std::cerr << "nibble sweep: the " << done << " points done are kept in " << options.out_dir
              << "/points: run the sweep again with " << options.words(setting_ref("resume")) << std::endl;
    world.abort(kExitLostRank);
  }
  progress.finish(std::to_string(total) + " points on " + std::to_string(world.size()) + " ranks");
  return results;
}

#else

bool mpi_available() { return false; }

SweepResults run_mpi(const SweepSpec&, const RunOptions&, const Evaluator&, bool*) {
  throw std::runtime_error("this nibble was built without MPI (install libopenmpi-dev and libboost-mpi-dev)");
}

#endif

}  // namespace nibble::sweep
