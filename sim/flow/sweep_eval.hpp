// The evaluation pipeline applied to the points of a design-space sweep
// (sim/sweep): one point = a design file with overrides, a zoo workload and a
// policy, evaluated exactly as `nibble simulate` would; and the sweep's page
// (Pareto front of energy vs time per step, area as marker size, the best
// point per objective, every point).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/arch/simulate.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace nibble::flow {

/// The metric columns every successful point reports, in order (sweep.csv).
const std::vector<std::string>& sweep_metric_columns();

/// Evaluates one point: the design with the point's overrides applied as
/// `--set KEY=VALUE`, the zoo model at the point's batch (and seq), the
/// point's policy ("natural": the design's PE kind), simulated in a child
/// process and costed with the design's table (or `tech` when not empty),
/// refused past `max_steps` engine steps as `simulate --max-steps` refuses.
/// Bad input becomes a failed outcome with the one-line message (the runner
/// never stops on one bad point). Safe to call from several threads.
sweep::PointOutcome evaluate_sweep_point(const sweep::SweepPoint& point, const std::string& tech,
                                         std::uint64_t max_steps = arch::kDefaultMaxSteps);

/// The fingerprint of everything a point's result depends on besides its
/// signature, for the resume store (sweep::RunOptions::key): nibble's
/// `version`, the bytes of the design file, the technology table in effect
/// (`tech`, else the design's `tech` after the overrides) as the bytes of its
/// file or of the shipped table, and `max_steps` (a point that ran under a
/// higher budget is not reused under one that would refuse it). 16 hex digits
/// of FNV-1a 64.
std::string sweep_point_key(const sweep::SweepPoint& point, const std::string& tech, std::uint64_t max_steps,
                            const std::string& version);

/// Indices of the successful points on the Pareto front of (seconds per
/// step, energy per step), both minimised; sorted by time.
std::vector<std::size_t> sweep_pareto_front(const sweep::SweepResults& results);

/// The self-contained sweep page: headline counts, the Pareto chart, the best
/// point per objective, the front, every point, the failed points.
std::string sweep_report_html(const sweep::SweepSpec& spec, const sweep::SweepResults& results);

/// Writes sweep.csv, sweep.json (the sweep's name and file, for `nibble
/// report`) and report.html into `dir` (prepared by the caller).
void write_sweep_outputs(const sweep::SweepSpec& spec, const sweep::SweepResults& results, const std::string& dir);

/// True when `dir` holds a sweep's outputs (sweep.csv and sweep.json).
bool is_sweep_dir(const std::string& dir);

/// Rebuilds report.html of a sweep directory from its sweep.csv and
/// sweep.json alone (`nibble report`); the page is the one the sweep wrote.
/// A file that is not what write_sweep_outputs() wrote is an InputError
/// naming the file, the line and the column.
void rerender_sweep_report(const std::string& dir);

}  // namespace nibble::flow
