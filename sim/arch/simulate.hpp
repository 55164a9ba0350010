// The one entry point that runs the SystemC model: simulate(design, trace).
//
// A SystemC kernel elaborates once per process, but commands, sweeps and
// tests need many simulations per process. simulate() therefore runs each
// simulation in a forked child: the child elaborates the Chip, runs
// sc_start(), writes the result as JSON to a pipe and leaves with _exit();
// the parent reads the pipe and rethrows the child's InputError,
// SettingError, FunctionalMismatch or other failure as the same kind of exception. The
// parent never starts a SystemC kernel itself.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/arch/arch_stats.hpp"
#include "sim/arch/functional.hpp"
#include "sim/arch/timeline.hpp"
#include "sim/arch/unit_stats.hpp"
#include "sim/common/stats.hpp"
#include "sim/design/design.hpp"
#include "workloads/trace.hpp"

namespace nibble::arch {

/// The default of --max-steps: engine steps (GEMM folds plus vector chunks,
/// all cores) a simulation may take. Above every bundled trace and zoo model
/// at its documented sizes (docs/cli.md says by how much).
constexpr std::uint64_t kDefaultMaxSteps = 100000000;

struct SimOptions {
  bool functional = false;                   ///< run values through the PEs and check them (--functional)
  std::uint64_t functional_max_macs = 1u << 20;  ///< ops with more MACs per group are not checked
  std::uint64_t seed = 1;                    ///< seed of the functional operands
  std::uint64_t max_steps = kDefaultMaxSteps;  ///< refuse a run of more engine steps (--max-steps)
  bool progress = false;                     ///< progress on stderr
  bool fork = true;                          ///< run in a child process (false: here; once per process only)
  TimelineDetail timeline = TimelineDetail::kNone;  ///< kNone: SimResult::timeline stays empty
};

/// What the timeline calls one trace op.
struct SimOpLabel {
  std::size_t row = 0;  ///< its row in SimResult::rows (layer and phase)
  std::string kind;     ///< "gemm", "conv", "group-conv", or the vector kind ("softmax", ...)
};

/// One row of layers.csv: the ops of one layer in one phase.
struct SimRow {
  std::string layer;                                  ///< layer name
  workloads::Phase phase = workloads::Phase::kForward;  ///< phase
  StatVector stats;                                   ///< every counter of the registry
  std::string unit;  ///< the matrix unit(s) its GEMMs ran on, '+'-joined in first-use order; "" without GEMMs
  std::string dataflow;    ///< its GEMMs' dataflows (sim/arch/mapper.hpp), '+'-joined as `unit`
  std::string loop_order;  ///< their loop orders, outer to inner ("nmk", "mnk"), '+'-joined
  std::string tile;        ///< their folds' M x N x K ("64x128x256"), '+'-joined
};

struct SimResult {
  design::Design design;          ///< the resolved design that was simulated
  std::string model;              ///< the trace's model name
  std::uint64_t batch = 1;        ///< the trace's batch
  std::string policy;             ///< the trace's precision policy
  std::uint64_t ops = 0;          ///< ops simulated
  StatRegistry registry;          ///< every counter (ArchStats), in column order
  ArchStats ids{registry};        ///< `registry`'s counters by id, so they are read without names
  std::vector<SimRow> rows;       ///< per (layer, phase), in order of first appearance
  StatVector totals;              ///< sum of all rows
  std::array<StatVector, 4> phase_totals;  ///< sums per workloads::Phase
  std::uint64_t functional_checked = 0;     ///< ops checked bit for bit
  std::uint64_t functional_too_large = 0;   ///< ops above functional_max_macs
  std::uint64_t functional_no_arith = 0;    ///< ops without a numerics mode on this design
  std::vector<UnitReport> units;            ///< every unit's cycles: cores in order (matrix units, vector, dma), then DRAM channels
  std::vector<TimelineEvent> timeline;      ///< every unit's busy intervals, ordered by start, track, op (empty when options.timeline is kNone)
  std::vector<SimOpLabel> op_labels;        ///< one per trace op, in trace order (names TimelineEvent::op)

  /// A counter of the totals by name.
  std::uint64_t total(const std::string& name) const { return totals[registry.at(name)]; }
  /// A counter of the totals by id (one of `ids`).
  std::uint64_t total(StatRegistry::Id id) const { return totals[id]; }
  /// Seconds of the whole step at the design's clock.
  double seconds() const;
  /// macs / (cycles x R x C x cores) of a row or total (0 when no cycles).
  double utilization(const StatVector& stats) const;
};

/// Simulates `trace` on `design` (see the file comment). Throws InputError for
/// bad input (an op the design cannot run, a tile that does not fit),
/// SettingError "max_steps" for a run of more engine steps than
/// `options.max_steps`, FunctionalMismatch when the functional check finds a
/// difference, and
/// std::runtime_error when the child fails otherwise.
SimResult simulate(const design::Design& design, const workloads::Trace& trace, const SimOptions& options = {});

/// Whether simulate() may run in several threads of one process at once.
/// Each call forks: glibc's malloc is fork-safe, but the allocator of GCC's
/// AddressSanitizer runtime is not (a fork while another thread holds its
/// lock leaves the child waiting forever), so sanitizer builds simulate one
/// at a time (compare runs A then B, sweep uses one job).
bool concurrent_simulations_safe();

}  // namespace nibble::arch
