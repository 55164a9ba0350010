#include "sim/flow/outputs.hpp"

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/trace_names.hpp"
#include "sim/flow/timeline_outputs.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/json.hpp"
#include "sim/report/svg_chart.hpp"

namespace nibble::flow {

namespace {

using report::json_number;

// The block that appears at the top of summary.json and once per phase.
nlohmann::ordered_json headline(const Evaluation& e, const StatVector& s) {
  nlohmann::ordered_json j;
  j["total_cycles"] = s[e.sim.ids.cycles];
  j["compute_cycles"] = s[e.sim.ids.compute_cycles];
  j["stall_cycles"] = s[e.sim.ids.stall_cycles];
  j["seconds"] = json_number(e.sim.design.seconds(s[e.sim.ids.cycles]));
  j["macs"] = s[e.sim.ids.macs];
  j["utilization"] = json_number(utilization(e, s));
  j["dram_bytes_read"] = s[e.sim.ids.dram_bytes_read];
  j["dram_bytes_written"] = s[e.sim.ids.dram_bytes_written];
  return j;
}

nlohmann::ordered_json components_json(const energy::RowEnergy& row) {
  nlohmann::ordered_json j;
  for (std::size_t c = 0; c < energy::kComponentCount; ++c) {
    j[energy::component_name(static_cast<energy::Component>(c))] = json_number(row.pj[c]);
  }
  j["total"] = json_number(row.total_pj());
  return j;
}

nlohmann::ordered_json energy_object(const Evaluation& e) {
  const nlohmann::ordered_json base = energy::energy_json(e.model, e.energy);
  nlohmann::ordered_json j;
  for (const auto& item : base.items()) {
    j[item.key()] = item.value();
    if (item.key() == "tech") {
      j["tech_file"] = e.tech.file;
      j["tech_builtin"] = e.tech.builtin;
    }
  }
  nlohmann::ordered_json phases;
  for (std::size_t p = 0; p < 4; ++p) {
    const PhaseEnergy& ph = e.phases[p];
    nlohmann::ordered_json o;
    o["energy_j"] = json_number(ph.metrics.energy_per_step_j);
    o["energy_pj"] = components_json(ph.energy);
    o["seconds"] = json_number(ph.metrics.seconds);
    o["macs"] = json_number(ph.metrics.macs);
    o["tops_per_watt"] = json_number(ph.metrics.tops_per_watt);
    o["edp_js"] = json_number(ph.metrics.edp_js);
    phases[phase_name_at(p)] = o;
  }
  j["phases"] = phases;
  return j;
}

std::string percent(double fraction) { return format_fixed(100.0 * fraction, 1) + " %"; }

// Flattens a JSON object into "a.b.c" -> value text.
void flatten(const nlohmann::ordered_json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& item : j.items()) {
    const std::string key = prefix.empty() ? item.key() : prefix + "." + item.key();
    if (item.value().is_object()) {
      flatten(item.value(), key, out);
    } else if (item.value().is_string()) {
      out->emplace_back(key, item.value().get<std::string>());
    } else {
      out->emplace_back(key, item.value().dump());
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- helpers

std::string phase_name_at(std::size_t index) {
  return std::string(workloads::phase_name(workloads::all_phases().at(index)));
}

double utilization(const Evaluation& e, const StatVector& s) { return e.sim.utilization(s); }

std::vector<std::pair<std::string, std::string>> design_fields(const design::Design& design) {
  std::vector<std::pair<std::string, std::string>> out;
  flatten(nlohmann::ordered_json::parse(design::design_to_json(design)), "", &out);
  return out;
}

std::vector<std::pair<std::string, double>> per_layer(const Evaluation& e,
                                                      const std::function<double(std::size_t)>& value) {
  std::vector<std::pair<std::string, double>> out;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < e.sim.rows.size(); ++i) {
    const auto [it, inserted] = index.emplace(e.sim.rows[i].layer, out.size());
    if (inserted) out.emplace_back(e.sim.rows[i].layer, 0.0);
    out[it->second].second += value(i);
  }
  return out;
}

// ---------------------------------------------------------------- summary.json

nlohmann::ordered_json summary_object(const Evaluation& e) {
  const arch::SimResult& r = e.sim;
  nlohmann::ordered_json j;
  j["design"] = nlohmann::ordered_json::parse(design::design_to_json(r.design));
  j["workload"]["model"] = r.model;
  j["workload"]["batch"] = r.batch;
  j["workload"]["policy"] = r.policy;
  j["workload"]["ops"] = r.ops;
  const nlohmann::ordered_json top = headline(e, r.totals);  // named: items() refers into it
  for (const auto& item : top.items()) j[item.key()] = item.value();
  for (const auto phase : workloads::all_phases()) {
    j[std::string(workloads::phase_name(phase))] = headline(e, r.phase_totals.at(static_cast<std::size_t>(phase)));
  }
  auto& counters = j["counters"];
  for (std::size_t id = 0; id < r.registry.size(); ++id) {
    const StatDef& def = r.registry.def(id);
    counters[def.name]["value"] = r.totals[id];
    counters[def.name]["unit"] = def.unit;
    counters[def.name]["description"] = def.description;
  }
  // Every unit's cycles (docs/timing.md, "Unit statistics"), the counters defined once.
  StatRegistry unit_registry;
  const arch::UnitStatIds unit_ids(unit_registry);
  auto& units = j["units"];
  units = nlohmann::ordered_json::object();
  for (const auto& u : r.units) {
    const StatVector v = arch::unit_stat_values(unit_ids, u.cycles, r.totals[r.ids.cycles]);
    for (std::size_t id = 0; id < unit_registry.size(); ++id) units[u.name][unit_registry.def(id).name] = v[id];
  }
  for (const auto& def : unit_registry.defs()) {
    j["unit_counters"][def.name]["unit"] = def.unit;
    j["unit_counters"][def.name]["description"] = def.description;
  }
  j["functional"]["ops_checked"] = r.functional_checked;
  j["functional"]["ops_over_size_limit"] = r.functional_too_large;
  j["functional"]["ops_without_numerics_mode"] = r.functional_no_arith;
  j["energy"] = energy_object(e);
  j["peak"] = energy::peak_json(e.model);
  j["timeline"] = timeline_summary(e.timeline, e.words);
  return j;
}

std::string summary_json(const Evaluation& e) { return report::json_text(summary_object(e)); }

// ---------------------------------------------------------------- layers.csv

std::string layers_csv(const Evaluation& e) {
  const arch::SimResult& r = e.sim;
  std::vector<std::string> columns = {"layer", "phase", "unit", "dataflow", "loop_order", "tile"};
  for (const auto& def : r.registry.defs()) columns.push_back(def.name);
  columns.emplace_back("utilization");
  for (const auto& name : energy::energy_column_names()) columns.push_back(name);
  report::CsvWriter csv(columns);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const arch::SimRow& row = r.rows[i];
    std::vector<std::string> fields = {row.layer,    std::string(workloads::phase_name(row.phase)),
                                       row.unit,     row.dataflow,
                                       row.loop_order, row.tile};
    for (const auto value : row.stats.values()) fields.push_back(report::CsvWriter::field(value));
    fields.push_back(report::CsvWriter::field(r.utilization(row.stats)));
    for (auto& f : energy::energy_fields(e.energy.rows[i])) fields.push_back(std::move(f));
    csv.row(fields);
  }
  return csv.str();
}

// ---------------------------------------------------------------- stdout

std::string summary_table(const Evaluation& e) {
  const arch::SimResult& r = e.sim;
  const design::Design& d = r.design;
  std::ostringstream out;
  out << "design " << d.name << ": " << d.cores << " x " << design::units_text(d, true) << " at "
      << format_double(d.clock_mhz) << " MHz, tech " << e.model.tech().name << "; workload "
      << (r.model.empty() ? "(unnamed)" : r.model) << ", batch " << r.batch << ", policy " << r.policy << ", "
      << r.ops << " ops\n";
  const auto line = [&](const std::string& phase, const std::string& cycles, const std::string& stall,
                        const std::string& util, const std::string& macs, const std::string& dram,
                        const std::string& energy) {
    out << pad_right(phase, 12) << " " << pad_left(cycles, 14) << " " << pad_left(stall, 14) << " " << pad_left(util, 7)
        << " " << pad_left(macs, 16) << " " << pad_left(dram, 14) << " " << pad_left(energy, 12) << "\n";
  };
  line("phase", "cycles", "stall_cycles", "util", "macs", "dram_bytes", "energy_j");
  const auto print = [&](const std::string& name, const StatVector& s, double energy_j) {
    line(name, std::to_string(s[e.sim.ids.cycles]), std::to_string(s[e.sim.ids.stall_cycles]),
         pad_left(format_fixed(100.0 * r.utilization(s), 1), 6) + "%", std::to_string(s[e.sim.ids.macs]),
         std::to_string(s[e.sim.ids.dram_bytes_read] + s[e.sim.ids.dram_bytes_written]), format_sig4(energy_j));
  };
  for (const auto phase : workloads::all_phases()) {
    const auto p = static_cast<std::size_t>(phase);
    print(phase_name_at(p), r.phase_totals.at(p), e.phases[p].metrics.energy_per_step_j);
  }
  print("total", r.totals, e.energy.metrics.energy_per_step_j);
  const energy::EnergyMetrics& m = e.energy.metrics;
  out << "time per step " << format_sig4(m.seconds) << " s at " << format_double(d.clock_mhz) << " MHz; energy per step "
      << format_sig4(m.energy_per_step_j) << " J; " << format_sig4(m.tops_per_watt) << " TOPS/W; EDP " << format_sig4(m.edp_js)
      << " J*s; area " << format_sig4(m.area_mm2) << " mm^2\n";
  return out.str();
}

// ---------------------------------------------------------------- report.html

std::string report_html(const Evaluation& e) {
  const arch::SimResult& r = e.sim;
  const design::Design& d = r.design;
  const energy::EnergyMetrics& m = e.energy.metrics;
  const std::string model = r.model.empty() ? "(unnamed)" : r.model;
  report::HtmlPage page("nibble: " + model + " on " + d.name,
                        "one training step, batch " + std::to_string(r.batch) + ", policy " + r.policy + "; " +
                            std::to_string(d.cores) + " x " + design::units_text(d) + " at " + format_double(d.clock_mhz) + " MHz; technology table " + e.model.tech().name);

  page.section("Summary");
  const auto [t_value, t_unit] = format_scaled(m.seconds, "s");
  const auto [e_value, e_unit] = format_scaled(m.energy_per_step_j, "J");
  const auto [p_value, p_unit] = format_scaled(m.average_power_w, "W");
  page.headlines({
      {"time per step", t_value, t_unit, format_double(static_cast<double>(r.total(r.ids.cycles))) + " cycles"},
      {"utilization", format_fixed(100.0 * r.utilization(r.totals), 1), "%", "MACs / (cycles x PEs)"},
      {"energy per step", e_value, e_unit, "leakage included"},
      {"efficiency", format_sig4(m.tops_per_watt), "TOPS/W", "2 ops per MAC"},
      {"energy-delay product", format_sig4(m.edp_js), "J\xC2\xB7s", "energy x time per step"},
      {"area", format_sig4(m.area_mm2), "mm\xC2\xB2", "PEs, scratchpads, vector unit, overhead"},
      {"average power", p_value, p_unit, "energy / time"},
  });
  report::HtmlTable phases;
  phases.caption = "Per phase";
  phases.columns = {"phase", "cycles", "stall cycles", "utilization", "MACs", "DRAM bytes", "energy (J)", "TOPS/W"};
  phases.numeric = {false, true, true, true, true, true, true, true};
  const auto phase_row = [&](const std::string& name, const StatVector& s, const energy::EnergyMetrics& pm) {
    phases.rows.push_back({name, std::to_string(s[e.sim.ids.cycles]), std::to_string(s[e.sim.ids.stall_cycles]),
                           percent(r.utilization(s)), std::to_string(s[e.sim.ids.macs]),
                           std::to_string(s[e.sim.ids.dram_bytes_read] + s[e.sim.ids.dram_bytes_written]),
                           format_sig4(pm.energy_per_step_j), format_sig4(pm.tops_per_watt)});
  };
  for (std::size_t p = 0; p < 4; ++p) phase_row(phase_name_at(p), r.phase_totals.at(p), e.phases[p].metrics);
  phase_row("total", r.totals, m);
  page.table(phases);

  page.section("Cycles and utilization");
  page.paragraph("Cycles include memory stalls (docs/timing.md); utilization = MACs / (cycles x rows x cols x cores).");
  std::vector<std::string> layers;
  std::map<std::string, std::size_t> layer_index;
  for (const auto& row : r.rows) {
    if (layer_index.emplace(row.layer, layers.size()).second) layers.push_back(row.layer);
  }
  report::BarChart cycles_chart;
  cycles_chart.title = "Cycles per layer, by phase";
  cycles_chart.value_label = "cycles";
  cycles_chart.categories = layers;
  for (const auto phase : workloads::all_phases()) cycles_chart.series.push_back({std::string(workloads::phase_name(phase)), std::vector<double>(layers.size(), 0.0)});
  // Utilization only where a layer has GEMMs (other rows have no MACs).
  std::vector<std::string> gemm_layers;
  std::map<std::string, std::size_t> gemm_index;
  for (const auto& row : r.rows) {
    if (row.stats[e.sim.ids.macs] > 0 && gemm_index.emplace(row.layer, gemm_layers.size()).second) {
      gemm_layers.push_back(row.layer);
    }
  }
  report::BarChart util_chart;
  util_chart.title = "Utilization per layer with GEMMs, by phase";
  util_chart.value_label = "utilization (%)";
  util_chart.categories = gemm_layers;
  for (std::size_t p = 0; p < 3; ++p) util_chart.series.push_back({phase_name_at(p), std::vector<double>(gemm_layers.size(), 0.0)});
  for (const auto& row : r.rows) {
    const auto p = static_cast<std::size_t>(row.phase);
    cycles_chart.series[p].values[layer_index.at(row.layer)] += static_cast<double>(row.stats[e.sim.ids.cycles]);
    const auto g = gemm_index.find(row.layer);
    if (g != gemm_index.end() && p < 3) util_chart.series[p].values[g->second] = 100.0 * r.utilization(row.stats);
  }
  page.figure(report::stacked_bar_chart(cycles_chart), "Cycles of every layer, stacked by phase (stalls included).");
  if (!gemm_layers.empty()) {
    page.figure(report::grouped_bar_chart(util_chart),
                "Utilization of the array per layer and phase (vector ops of the same layer and phase included).");
  }
  report::HtmlTable rows;
  rows.caption = "Every layer and phase";
  rows.columns = {"layer", "phase", "cycles", "stall cycles", "utilization", "MACs", "DRAM bytes", "vector ops",
                  "energy (pJ)"};
  rows.numeric = {false, false, true, true, true, true, true, true, true};
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& s = r.rows[i].stats;
    rows.rows.push_back({r.rows[i].layer, std::string(workloads::phase_name(r.rows[i].phase)),
                         std::to_string(s[e.sim.ids.cycles]), std::to_string(s[e.sim.ids.stall_cycles]),
                         percent(r.utilization(s)), std::to_string(s[e.sim.ids.macs]),
                         std::to_string(s[e.sim.ids.dram_bytes_read] + s[e.sim.ids.dram_bytes_written]),
                         std::to_string(s[e.sim.ids.vec_ops]), format_si(e.energy.rows[i].total_pj())});
  }
  page.table(rows);

  timeline_section(page, r, e.timeline, e.words);

  page.section("Energy");
  page.paragraph("Energy = action counts x energy per action + leakage power x time, per layer and phase, with the "
                 "technology table '" + e.model.tech().name + "' (docs/energy-model.md). layers.csv holds the same "
                 "numbers exactly.");
  page.figure(report::stacked_bar_chart(energy::energy_by_layer_chart(e.energy, e.labels)),
              "Energy per layer (all phases), stacked by component.");
  report::HtmlTable by_phase;
  by_phase.caption = "Energy per phase by component, pJ";
  by_phase.columns = {"phase"};
  by_phase.numeric = {false};
  for (std::size_t c = 0; c < energy::kComponentCount; ++c) {
    by_phase.columns.emplace_back(energy::component_name(static_cast<energy::Component>(c)));
    by_phase.numeric.push_back(true);
  }
  by_phase.columns.emplace_back("total");
  by_phase.numeric.push_back(true);
  const auto energy_cells = [](std::vector<std::string> cells, const energy::RowEnergy& row) {
    for (const double v : row.pj) cells.push_back(format_si(v));
    cells.push_back(format_si(row.total_pj()));
    return cells;
  };
  for (std::size_t p = 0; p < 4; ++p) by_phase.rows.push_back(energy_cells({phase_name_at(p)}, e.phases[p].energy));
  by_phase.rows.push_back(energy_cells({"total"}, e.energy.total));
  page.table(by_phase);
  page.table(energy::energy_rows_table_html(e.energy, e.labels));

  page.section("Area");
  page.table(energy::area_table_html(e.energy));

  page.section("Design");
  report::HtmlTable design_table;
  design_table.caption = e.words("The resolved design (every field, after " + setting_ref("override") + ")");
  design_table.columns = {"field", "value"};
  for (const auto& [key, value] : design_fields(d)) design_table.rows.push_back({key, value});
  page.table(design_table, 80);
  page.paragraph(e.words("Functional check: " + std::to_string(r.functional_checked) +
                         " ops equal the reference bit for bit, " + std::to_string(r.functional_too_large) +
                         " above the size limit, " + std::to_string(r.functional_no_arith) +
                         " without a numerics mode (0 and 0 when " + setting_ref("functional") + " is off)."));

  page.section("Technology table and sources");
  page.paragraph("Table '" + e.model.tech().name + "' from " + e.tech.file + (e.tech.builtin ? " (built in)" : "") +
                 ". " + e.model.tech().description);
  page.table(energy::tech_table_html(e.model.tech()), 200);
  if (!e.model.tech().references.empty()) {
    report::HtmlTable refs;
    refs.columns = {"references"};
    for (const auto& ref : e.model.tech().references) refs.rows.push_back({ref});
    page.table(refs);
  }
  return page.str();
}

void write_outputs(const Evaluation& e, const std::string& dir) {
  write_file_atomic(dir + "/summary.json", summary_json(e));
  write_file_atomic(dir + "/layers.csv", layers_csv(e));
  write_file_atomic(dir + "/report.html", report_html(e));
  if (e.timeline.detail != arch::TimelineDetail::kNone) {
    write_file_atomic(dir + "/timeline.json", e.timeline.json);
  } else {
    std::filesystem::remove(dir + "/timeline.json");  // not one left from an earlier run into DIR
  }
}

}  // namespace nibble::flow
