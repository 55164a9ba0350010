// The files one evaluation writes (the only writers of them): summary.json,
// layers.csv, report.html, and the short table on stdout. Key and column
// names are documented in docs/energy-model.md ("Outputs") and
// docs/design-file.md; values are printed exactly (nibble::format_double), so
// the same inputs always give the same bytes.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/flow/evaluate.hpp"
#include "sim/report/html.hpp"

namespace nibble::flow {

/// summary.json as an object: the resolved design, the workload, the headline
/// totals and the same per phase, every counter's total with its unit, the
/// functional path's outcome, and `energy` (energy::energy_json plus the
/// table's file and per-phase energy).
nlohmann::ordered_json summary_object(const Evaluation& eval);
/// summary_object() as text.
std::string summary_json(const Evaluation& eval);

/// layers.csv: `layer`, `phase`, every registered counter, `utilization`,
/// then the energy columns (energy::energy_column_names(), pJ). One row per
/// layer and phase, in order of first appearance in the trace.
std::string layers_csv(const Evaluation& eval);

/// The self-contained HTML report of one evaluation: headline numbers,
/// cycles and utilization per layer and phase, energy per layer stacked by
/// component, area, the design, and the technology table with its sources.
std::string report_html(const Evaluation& eval);

/// The short table printed on stdout: per phase and in total, cycles, stalls,
/// utilization, MACs, DRAM bytes and energy; then time, energy, TOPS/W, EDP, area.
std::string summary_table(const Evaluation& eval);

/// Writes summary.json, layers.csv and report.html into `dir` (which the
/// caller prepared with prepare_output_dir), each file atomically.
void write_outputs(const Evaluation& eval, const std::string& dir);

// --- pieces shared with the compare report -----------------------------------

/// The name of the phase at `index` of phase_totals and Evaluation::phases
/// (workloads::phase_name, the one table of phase names).
std::string phase_name_at(std::size_t index);
/// The resolved design as rows "key, value" (nested keys joined with '.').
std::vector<std::pair<std::string, std::string>> design_fields(const design::Design& design);
/// Layers in order of first appearance and, per layer, the sum over its
/// phases of `value(row index)`.
std::vector<std::pair<std::string, double>> per_layer(const Evaluation& eval,
                                                      const std::function<double(std::size_t)>& value);
/// utilization of a row or total of `eval` (macs / (cycles x R x C x cores)).
double utilization(const Evaluation& eval, const StatVector& stats);

}  // namespace nibble::flow
