#include "sim/energy/energy_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "sim/common/text.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/json.hpp"

namespace nibble::energy {

namespace {

void check_labels(const EnergyReport& report, const std::vector<RowLabel>& labels) {
  if (labels.size() != report.rows.size()) {
    throw std::logic_error("energy report has " + std::to_string(report.rows.size()) + " rows but " +
                           std::to_string(labels.size()) + " labels");
  }
}

}  // namespace

std::vector<std::string> energy_fields(const RowEnergy& row) {
  std::vector<std::string> out;
  for (const double v : row.pj) out.push_back(format_double(v));
  out.push_back(format_double(row.total_pj()));
  return out;
}

std::string energy_csv(const EnergyReport& report, const std::vector<RowLabel>& labels) {
  check_labels(report, labels);
  std::vector<std::string> columns = {"layer", "phase"};
  for (const auto& c : energy_column_names()) columns.push_back(c);
  report::CsvWriter csv(columns);
  for (std::size_t i = 0; i < report.rows.size(); ++i) {
    std::vector<std::string> fields = {labels[i].layer, labels[i].phase};
    for (auto& f : energy_fields(report.rows[i])) fields.push_back(std::move(f));
    csv.row(fields);
  }
  std::vector<std::string> total = {"total", "all"};
  for (auto& f : energy_fields(report.total)) total.push_back(std::move(f));
  csv.row(total);
  return csv.str();
}

nlohmann::ordered_json energy_json(const EnergyModel& model, const EnergyReport& report) {
  using report::json_number;
  nlohmann::ordered_json j;
  j["tech"] = model.tech().name;
  j["node_nm"] = json_number(model.tech().node_nm);
  nlohmann::ordered_json components;
  for (std::size_t c = 0; c < kComponentCount; ++c) {
    components[component_name(static_cast<Component>(c))] = json_number(report.total.pj[c]);
  }
  components["total"] = json_number(report.total.total_pj());
  j["energy_pj"] = components;
  const EnergyMetrics& m = report.metrics;
  j["energy_per_step_j"] = json_number(m.energy_per_step_j);
  j["seconds"] = json_number(m.seconds);
  j["macs"] = json_number(m.macs);
  j["tops_per_watt"] = json_number(m.tops_per_watt);
  j["edp_js"] = json_number(m.edp_js);
  j["average_power_w"] = json_number(m.average_power_w);
  j["leakage_w"] = json_number(model.actions().leakage_w);
  j["area_mm2"] = json_number(m.area_mm2);
  nlohmann::ordered_json parts;
  for (std::size_t p = 0; p < kAreaPartCount; ++p) {
    parts[area_part_name(static_cast<AreaPart>(p))] = json_number(report.area.mm2[p]);
  }
  j["area_mm2_by_part"] = parts;
  nlohmann::ordered_json peak;
  for (const MacMode mode : native_mac_modes(model.design())) {
    const PeakEfficiency p = peak_efficiency(model, mode);
    peak[mac_mode_name(mode)] = {{"pj_per_mac", json_number(p.pj_per_mac)},
                                 {"tops_per_watt", json_number(p.tops_per_watt)},
                                 {"power_w", json_number(p.power_w)}};
  }
  j["peak"] = peak;
  return j;
}

nlohmann::ordered_json peak_json(const EnergyModel& model) {
  using report::json_number;
  const std::vector<MacMode> modes = native_mac_modes(model.design());
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const PeakFormat& f : peak_formats()) {
    if (std::find(modes.begin(), modes.end(), f.mode) == modes.end()) continue;
    const PeakEfficiency p = peak_efficiency(model, f.mode);
    j[f.name] = {{"tops", json_number(2.0 * p.macs_per_second / 1e12)}, {"tops_per_watt", json_number(p.tops_per_watt)}};
  }
  return j;
}

std::vector<report::Headline> energy_headlines(const EnergyReport& report) {
  const EnergyMetrics& m = report.metrics;
  const auto [e_value, e_unit] = format_scaled(m.energy_per_step_j, "J");
  const auto [p_value, p_unit] = format_scaled(m.average_power_w, "W");
  return {
      {"energy per step", e_value, e_unit, "all rows, leakage included"},
      {"efficiency", format_sig4(m.tops_per_watt), "TOPS/W", "2 ops per MAC"},
      {"energy-delay product", format_sig4(m.edp_js), "J\xC2\xB7s", "energy x time per step"},
      {"area", format_sig4(m.area_mm2), "mm\xC2\xB2", "PEs, scratchpads, vector unit, overhead"},
      {"average power", p_value, p_unit, "energy / time"},
  };
}

report::BarChart energy_by_layer_chart(const EnergyReport& report, const std::vector<RowLabel>& labels) {
  check_labels(report, labels);
  report::BarChart chart;
  chart.title = "Energy per layer, by component";
  chart.value_label = "energy per step (pJ)";
  std::map<std::string, std::size_t> index;
  std::vector<RowEnergy> per_layer;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto [it, inserted] = index.emplace(labels[i].layer, per_layer.size());
    if (inserted) {
      chart.categories.push_back(labels[i].layer);
      per_layer.emplace_back();
    }
    per_layer[it->second] += report.rows[i];
  }
  for (std::size_t c = 0; c < kComponentCount; ++c) {
    report::Series s;
    s.name = component_name(static_cast<Component>(c));
    for (const auto& e : per_layer) s.values.push_back(e.pj[c]);
    chart.series.push_back(std::move(s));
  }
  return chart;
}

report::BarChart energy_comparison_chart(const std::string& name_a, const EnergyReport& a, const std::string& name_b,
                                         const EnergyReport& b) {
  report::BarChart chart;
  chart.title = "Energy per step by component: " + name_a + " vs " + name_b;
  chart.value_label = "energy per step (pJ)";
  report::Series sa{name_a, {}}, sb{name_b, {}};
  for (std::size_t c = 0; c < kComponentCount; ++c) {
    chart.categories.emplace_back(component_name(static_cast<Component>(c)));
    sa.values.push_back(a.total.pj[c]);
    sb.values.push_back(b.total.pj[c]);
  }
  chart.categories.emplace_back("total");
  sa.values.push_back(a.total.total_pj());
  sb.values.push_back(b.total.total_pj());
  chart.series = {sa, sb};
  return chart;
}

report::HtmlTable tech_table_html(const TechTable& tech) {
  report::HtmlTable t;
  t.caption = "Technology table '" + tech.name + "': every number and where it comes from";
  t.columns = {"entry", "value", "unit", "source"};
  t.numeric = {false, true, false, false};
  for (std::size_t i = 0; i < kActionCount; ++i) {
    t.rows.push_back({std::string("energy_pj.") + action_info(static_cast<Action>(i)).name,
                      format_double(tech.energy[i].value), "pJ", tech.energy[i].source});
  }
  for (const auto& [kind, v] : tech.vector_kind_energy) {
    t.rows.push_back({"energy_pj.vector_op_" + kind, format_double(v.value), "pJ", v.source});
  }
  t.rows.push_back({"sram.reference_word_bits", format_double(tech.sram_reference_bits.value), "bits",
                    tech.sram_reference_bits.source});
  for (const auto& p : tech.sram_read) {
    t.rows.push_back({"sram.read_pj @ " + format_double(p.kib) + " KiB", format_double(p.read_pj.value),
                      "pJ per word", p.read_pj.source});
  }
  t.rows.push_back({"sram.write_over_read", format_double(tech.sram_write_over_read.value), "ratio",
                    tech.sram_write_over_read.source});
  t.rows.push_back({"leakage_w_per_mm2", format_double(tech.leakage_w_per_mm2.value), "W/mm\xC2\xB2",
                    tech.leakage_w_per_mm2.source});
  for (std::size_t i = 0; i < kAreaItemCount; ++i) {
    t.rows.push_back({std::string("area_um2.") + area_info(static_cast<AreaItem>(i)).name,
                      format_double(tech.area[i].value), "\xC2\xB5m\xC2\xB2", tech.area[i].source});
  }
  return t;
}

report::HtmlTable area_table_html(const EnergyReport& report) {
  report::HtmlTable t;
  t.caption = "Chip area by part";
  t.columns = {"part", "area (mm\xC2\xB2)", "share"};
  t.numeric = {false, true, true};
  const double total = report.area.total_mm2();
  for (std::size_t p = 0; p < kAreaPartCount; ++p) {
    const double v = report.area.mm2[p];
    t.rows.push_back({area_part_name(static_cast<AreaPart>(p)), format_sig4(v),
                      total > 0.0 ? format_sig4(100.0 * v / total) + " %" : "-"});
  }
  t.rows.push_back({"total", format_sig4(total), "100 %"});
  return t;
}

report::HtmlTable energy_rows_table_html(const EnergyReport& report, const std::vector<RowLabel>& labels) {
  check_labels(report, labels);
  report::HtmlTable t;
  t.caption = "Energy of every layer and phase, pJ";
  t.columns = {"layer", "phase"};
  t.numeric = {false, false};
  for (std::size_t c = 0; c < kComponentCount; ++c) {
    t.columns.emplace_back(component_name(static_cast<Component>(c)));
    t.numeric.push_back(true);
  }
  t.columns.emplace_back("total");
  t.numeric.push_back(true);
  const auto row_cells = [](std::vector<std::string> cells, const RowEnergy& e) {
    for (const double v : e.pj) cells.push_back(format_si(v));
    cells.push_back(format_si(e.total_pj()));
    return cells;
  };
  for (std::size_t i = 0; i < report.rows.size(); ++i) {
    t.rows.push_back(row_cells({labels[i].layer, labels[i].phase}, report.rows[i]));
  }
  t.rows.push_back(row_cells({"total", "all"}, report.total));
  return t;
}

void add_energy_section(report::HtmlPage& page, const EnergyModel& model, const EnergyReport& report,
                        const std::vector<RowLabel>& labels) {
  page.section("Energy and area");
  page.paragraph("Energy = action counts x energy per action + leakage power x time, per layer and phase, with the "
                 "technology table '" + model.tech().name + "' (docs/energy-model.md).");
  page.headlines(energy_headlines(report));
  page.figure(report::stacked_bar_chart(energy_by_layer_chart(report, labels)),
              "Energy per layer (all phases), stacked by component. Hover a bar for its value.");
  page.table(energy_rows_table_html(report, labels));
  page.subsection("Area");
  page.table(area_table_html(report));
  page.subsection("Technology table and sources");
  if (!model.tech().description.empty()) page.paragraph(model.tech().description);
  page.table(tech_table_html(model.tech()), 200);
  if (!model.tech().references.empty()) {
    report::HtmlTable refs;
    refs.columns = {"references"};
    for (const auto& r : model.tech().references) refs.rows.push_back({r});
    page.table(refs);
  }
}

}  // namespace nibble::energy
