// The energy part of the reports: columns for layers.csv, the JSON block of
// summary.json, and the HTML pieces (headline numbers, energy per layer
// stacked by component, the technology table with its sources, area).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/energy/energy_model.hpp"
#include "sim/report/html.hpp"
#include "sim/report/svg_chart.hpp"

namespace nibble::energy {

/// Which layer and phase a row belongs to.
struct RowLabel {
  std::string layer;  ///< layer name
  std::string phase;  ///< forward, input_grad, weight_grad, update
};

/// The row's values for energy_column_names(), printed exactly (format_double).
std::vector<std::string> energy_fields(const RowEnergy& row);

/// energy.csv: layer, phase, the energy columns; one row per input row, then
/// a row with layer "total" and phase "all". Labels must match rows (std::logic_error).
std::string energy_csv(const EnergyReport& report, const std::vector<RowLabel>& labels);

/// The "energy" object of summary.json: tech table name, totals by component
/// (pJ), energy_per_step_j, seconds, tops_per_watt, edp_js, average_power_w,
/// area_mm2 and area by part (mm^2), peak efficiency of each native mode.
nlohmann::ordered_json energy_json(const EnergyModel& model, const EnergyReport& report);
/// summary.json's `peak`: for each GEMM format some matrix unit executes natively
/// (peak_formats order), `tops` (2 ops per MAC, every such unit busy) and
/// `tops_per_watt` (leakage included), from peak_efficiency (docs/energy-model.md).
nlohmann::ordered_json peak_json(const EnergyModel& model);

/// Headline numbers: energy per step, TOPS/W, EDP, area, average power.
std::vector<report::Headline> energy_headlines(const EnergyReport& report);

/// Energy per layer (phases summed, layers in first-appearance order) stacked
/// by component, pJ.
report::BarChart energy_by_layer_chart(const EnergyReport& report, const std::vector<RowLabel>& labels);

/// Two designs' total energy per component side by side (pJ).
report::BarChart energy_comparison_chart(const std::string& name_a, const EnergyReport& a, const std::string& name_b,
                                         const EnergyReport& b);

/// Every entry of the technology table: item, value, unit, source.
report::HtmlTable tech_table_html(const TechTable& tech);
/// Chip area by part, mm^2 and share.
report::HtmlTable area_table_html(const EnergyReport& report);
/// Energy of every row by component (pJ) with the row total.
report::HtmlTable energy_rows_table_html(const EnergyReport& report, const std::vector<RowLabel>& labels);

/// A complete energy section: headlines, the stacked chart, the per-row
/// table, area, and the technology table with its sources.
void add_energy_section(report::HtmlPage& page, const EnergyModel& model, const EnergyReport& report,
                        const std::vector<RowLabel>& labels);

}  // namespace nibble::energy
