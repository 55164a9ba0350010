#include "sim/flow/compare.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/energy/iso_area.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/timeline_outputs.hpp"
#include "sim/report/json.hpp"
#include "sim/report/svg_chart.hpp"

namespace nibble::flow {

namespace {

using report::json_number;

double ratio(double num, double den) { return den > 0.0 ? num / den : std::numeric_limits<double>::quiet_NaN(); }

std::string ratio_text(double r) { return std::isfinite(r) ? format_sig4(r) : "n/a"; }

// Totals of the step, read by their typed ids (arch::ArchStats).
std::uint64_t total_cycles(const Evaluation& e) { return e.sim.total(e.sim.ids.cycles); }
std::uint64_t total_macs(const Evaluation& e) { return e.sim.total(e.sim.ids.macs); }
std::uint64_t total_dram_bytes(const Evaluation& e) {
  return e.sim.total(e.sim.ids.dram_bytes_read) + e.sim.total(e.sim.ids.dram_bytes_written);
}

std::string shape(const design::Design& d) {
  return std::to_string(d.cores) + " x " + design::units_text(d);
}

// One design's figures in the compare summary.
nlohmann::ordered_json design_figures(const Evaluation& e, const std::string& dir) {
  const energy::EnergyMetrics& m = e.energy.metrics;
  nlohmann::ordered_json j;
  j["name"] = e.sim.design.name;
  j["policy"] = e.sim.policy;
  j["outputs"] = dir;
  j["cycles"] = total_cycles(e);
  j["seconds"] = json_number(m.seconds);
  j["energy_per_step_j"] = json_number(m.energy_per_step_j);
  j["tops_per_watt"] = json_number(m.tops_per_watt);
  j["edp_js"] = json_number(m.edp_js);
  j["area_mm2"] = json_number(m.area_mm2);
  j["average_power_w"] = json_number(m.average_power_w);
  j["utilization"] = json_number(e.sim.utilization(e.sim.totals));
  j["macs"] = total_macs(e);
  j["dram_bytes"] = total_dram_bytes(e);
  j["tech"] = e.model.tech().name;
  j["tech_file"] = e.tech.file;
  j["design"] = nlohmann::ordered_json::parse(design::design_to_json(e.sim.design));
  return j;
}

/// Layer names of A in order, then B's layers A does not have.
std::vector<std::string> union_layers(const Comparison& c) {
  std::vector<std::string> out;
  std::map<std::string, bool> seen;
  for (const Evaluation* e : {&c.a, &c.b}) {
    for (const auto& row : e->sim.rows) {
      if (seen.emplace(row.layer, true).second) out.push_back(row.layer);
    }
  }
  return out;
}

/// Per layer of `layers`: the sum over phases of a row value (0 when absent).
std::vector<double> layer_values(const Evaluation& e, const std::vector<std::string>& layers,
                                 const std::function<double(std::size_t)>& value) {
  std::map<std::string, double> sums;
  for (const auto& [layer, v] : per_layer(e, value)) sums[layer] = v;
  std::vector<double> out;
  for (const auto& layer : layers) {
    const auto it = sums.find(layer);
    out.push_back(it == sums.end() ? 0.0 : it->second);
  }
  return out;
}

}  // namespace

IsoArea resize_to_area_of(const design::Design& a, const energy::TechTable& tech_a, design::Design* b,
                          const energy::TechTable& tech_b) {
  IsoArea out;
  out.applied = true;
  out.reference_mm2 = energy::chip_area(tech_a, a).total_mm2();
  out.rows_before = b->array.rows;
  out.cols_before = b->array.cols;
  out.area_before_mm2 = energy::chip_area(tech_b, *b).total_mm2();
  const energy::IsoAreaResult r = energy::resize_to_area(tech_b, *b, out.reference_mm2);
  out.rows_after = r.rows;
  out.cols_after = r.cols;
  out.area_after_mm2 = r.area_mm2;
  out.relative_error = r.relative_error;
  out.chunk_before = b->array.chunk;
  // An fp16-chunked ws/is design ends its chunks where folds end: keep the
  // number of folds per chunk (docs/design-file.md, array.chunk).
  if (design::uses_chunked_accumulator(*b) && b->array.dataflow != design::Dataflow::kOs &&
      b->array.chunk % b->array.rows == 0) {
    b->array.chunk = b->array.chunk / b->array.rows * r.rows;
  }
  out.chunk_after = b->array.chunk;
  b->array.rows = r.rows;
  b->array.cols = r.cols;
  try {
    design::validate_design(*b);
  } catch (const InputError& e) {
    throw SettingError("iso_area", (e.field().empty() ? "" : e.field() + ": ") + "design B resized to " +
                                       std::to_string(r.rows) + "x" + std::to_string(r.cols) +
                                       " is not valid: " + e.message());
  }
  return out;
}

Comparison compare(design::Design a, design::Design b, const Workload& workload, const CompareOptions& options) {
  const energy::TechTable tech_a = tech_table_for(a, options.tech);
  const energy::TechTable tech_b = tech_table_for(b, options.tech);
  IsoArea iso;
  if (options.iso_area) iso = resize_to_area_of(a, tech_a, &b, tech_b);
  // Expand both traces first: a bad policy is reported before any simulation.
  const workloads::Trace trace_a = workload.trace_for(a, options.policy_a);
  const workloads::Trace trace_b = workload.trace_for(b, options.policy_b);
  EvalOptions eval_options;
  eval_options.tech = options.tech;
  eval_options.sim = options.sim;
  eval_options.words = options.words;

  std::optional<Evaluation> ea, eb;
  std::exception_ptr error_a, error_b;
  const auto run_b = [&] {
    try {
      eb.emplace(evaluate(b, trace_b, eval_options));
    } catch (...) {
      error_b = std::current_exception();
    }
  };
  std::thread worker;
  if (options.concurrent && arch::concurrent_simulations_safe()) worker = std::thread(run_b);
  try {
    ea.emplace(evaluate(a, trace_a, eval_options));
  } catch (...) {
    error_a = std::current_exception();
  }
  if (worker.joinable()) {
    worker.join();
  } else {
    run_b();
  }
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);

  const energy::EnergyMetrics& ma = ea->energy.metrics;
  const energy::EnergyMetrics& mb = eb->energy.metrics;
  return Comparison{std::move(*ea),
                    std::move(*eb),
                    iso,
                    ratio(mb.seconds, ma.seconds),
                    ratio(mb.energy_per_step_j, ma.energy_per_step_j),
                    ratio(mb.edp_js, ma.edp_js)};
}

// ---------------------------------------------------------------- summary.json

nlohmann::ordered_json compare_summary_object(const Comparison& c) {
  nlohmann::ordered_json j;
  j["speedup"] = json_number(c.speedup);
  j["energy_ratio"] = json_number(c.energy_ratio);
  j["edp_ratio"] = json_number(c.edp_ratio);
  j["workload"]["model"] = c.a.sim.model;
  j["workload"]["batch"] = c.a.sim.batch;
  nlohmann::ordered_json iso;
  iso["applied"] = c.iso_area.applied;
  if (c.iso_area.applied) {
    iso["reference_mm2"] = json_number(c.iso_area.reference_mm2);
    iso["b_rows_before"] = c.iso_area.rows_before;
    iso["b_cols_before"] = c.iso_area.cols_before;
    iso["b_area_before_mm2"] = json_number(c.iso_area.area_before_mm2);
    iso["b_rows"] = c.iso_area.rows_after;
    iso["b_cols"] = c.iso_area.cols_after;
    iso["b_area_mm2"] = json_number(c.iso_area.area_after_mm2);
    iso["relative_error"] = json_number(c.iso_area.relative_error);
    iso["b_chunk_before"] = c.iso_area.chunk_before;
    iso["b_chunk"] = c.iso_area.chunk_after;
  }
  j["iso_area"] = iso;
  j["a"] = design_figures(c.a, "a");
  j["b"] = design_figures(c.b, "b");
  return j;
}

std::string compare_summary_json(const Comparison& c) { return report::json_text(compare_summary_object(c)); }

// ---------------------------------------------------------------- stdout

std::string compare_table(const Comparison& c) {
  std::ostringstream out;
  const design::Design& da = c.a.sim.design;
  const design::Design& db = c.b.sim.design;
  out << "A: " << da.name << " (" << shape(da) << ", policy " << c.a.sim.policy << ", tech " << c.a.model.tech().name
      << ")\n";
  out << "B: " << db.name << " (" << shape(db) << ", policy " << c.b.sim.policy << ", tech " << c.b.model.tech().name;
  if (c.iso_area.applied) {
    out << "; resized from " << c.iso_area.rows_before << "x" << c.iso_area.cols_before << " to A's area, "
        << (c.iso_area.relative_error >= 0 ? "+" : "") << format_sig4(100.0 * c.iso_area.relative_error) << " %";
  }
  out << ")\n";
  out << "workload " << (c.a.sim.model.empty() ? "(unnamed)" : c.a.sim.model) << ", batch " << c.a.sim.batch << "\n";
  const auto line = [&](const std::string& name, const std::string& a, const std::string& b,
                        const std::string& b_over_a) {
    out << pad_right(name, 20) << " " << pad_left(a, 14) << " " << pad_left(b, 14) << " " << pad_left(b_over_a, 10)
        << "\n";
  };
  line("", "A", "B", "B/A");
  const auto row = [&](const char* name, double a, double b) {
    line(name, format_sig4(a), format_sig4(b), ratio_text(ratio(b, a)));
  };
  const energy::EnergyMetrics& ma = c.a.energy.metrics;
  const energy::EnergyMetrics& mb = c.b.energy.metrics;
  row("cycles", static_cast<double>(total_cycles(c.a)), static_cast<double>(total_cycles(c.b)));
  row("seconds", ma.seconds, mb.seconds);
  row("utilization", c.a.sim.utilization(c.a.sim.totals), c.b.sim.utilization(c.b.sim.totals));
  row("energy_per_step_j", ma.energy_per_step_j, mb.energy_per_step_j);
  row("tops_per_watt", ma.tops_per_watt, mb.tops_per_watt);
  row("edp_js", ma.edp_js, mb.edp_js);
  row("area_mm2", ma.area_mm2, mb.area_mm2);
  row("dram_bytes", static_cast<double>(total_dram_bytes(c.a)), static_cast<double>(total_dram_bytes(c.b)));
  out << "speedup (B's time / A's): " << ratio_text(c.speedup) << "; energy ratio (B's energy / A's): "
      << ratio_text(c.energy_ratio) << "\n";
  return out.str();
}

// ---------------------------------------------------------------- report.html

std::string compare_report_html(const Comparison& c) {
  const design::Design& da = c.a.sim.design;
  const design::Design& db = c.b.sim.design;
  const std::string name_a = "A: " + da.name;
  const std::string name_b = "B: " + db.name;
  const std::string model = c.a.sim.model.empty() ? "(unnamed)" : c.a.sim.model;
  report::HtmlPage page("nibble compare: " + da.name + " vs " + db.name,
                        model + ", one training step, batch " + std::to_string(c.a.sim.batch) +
                            (c.iso_area.applied ? "; B resized to A's chip area" : ""));
  const energy::EnergyMetrics& ma = c.a.energy.metrics;
  const energy::EnergyMetrics& mb = c.b.energy.metrics;

  page.section("Summary");
  page.headlines({
      {"speedup", ratio_text(c.speedup), "x", "B's time per step / A's"},
      {"energy ratio", ratio_text(c.energy_ratio), "x", "B's energy per step / A's"},
      {"EDP ratio", ratio_text(c.edp_ratio), "x", "B's energy-delay product / A's"},
      {"A efficiency", format_sig4(ma.tops_per_watt), "TOPS/W", da.name},
      {"B efficiency", format_sig4(mb.tops_per_watt), "TOPS/W", db.name},
      {"A area", format_sig4(ma.area_mm2), "mm\xC2\xB2", shape(da)},
      {"B area", format_sig4(mb.area_mm2), "mm\xC2\xB2", shape(db)},
  });
  report::HtmlTable side;
  side.caption = "A and B side by side (each design's full report: a/report.html and b/report.html)";
  side.columns = {"", name_a, name_b, "B / A"};
  side.numeric = {false, true, true, true};
  const auto num_row = [&](const std::string& label, double a, double b) {
    side.rows.push_back({label, format_sig4(a), format_sig4(b), ratio_text(ratio(b, a))});
  };
  side.rows.push_back({"array", shape(da), shape(db), ""});
  side.rows.push_back({"policy", c.a.sim.policy, c.b.sim.policy, ""});
  side.rows.push_back({"technology table", c.a.model.tech().name, c.b.model.tech().name, ""});
  num_row("cycles", static_cast<double>(total_cycles(c.a)), static_cast<double>(total_cycles(c.b)));
  num_row("time per step (s)", ma.seconds, mb.seconds);
  num_row("utilization", c.a.sim.utilization(c.a.sim.totals), c.b.sim.utilization(c.b.sim.totals));
  num_row("MACs", static_cast<double>(total_macs(c.a)), static_cast<double>(total_macs(c.b)));
  num_row("DRAM bytes", static_cast<double>(total_dram_bytes(c.a)), static_cast<double>(total_dram_bytes(c.b)));
  num_row("energy per step (J)", ma.energy_per_step_j, mb.energy_per_step_j);
  num_row("TOPS/W", ma.tops_per_watt, mb.tops_per_watt);
  num_row("EDP (J\xC2\xB7s)", ma.edp_js, mb.edp_js);
  num_row("average power (W)", ma.average_power_w, mb.average_power_w);
  num_row("area (mm\xC2\xB2)", ma.area_mm2, mb.area_mm2);
  page.table(side);
  if (c.iso_area.applied) {
    page.paragraph("Iso-area: B's array was resized from " + std::to_string(c.iso_area.rows_before) + "x" +
                   std::to_string(c.iso_area.cols_before) + " (" + format_sig4(c.iso_area.area_before_mm2) + " mm\xC2\xB2) to " +
                   std::to_string(c.iso_area.rows_after) + "x" + std::to_string(c.iso_area.cols_after) + " (" +
                   format_sig4(c.iso_area.area_after_mm2) + " mm\xC2\xB2), A's area " + format_sig4(c.iso_area.reference_mm2) +
                   " mm\xC2\xB2 within 1 %; only the array changes (docs/energy-model.md, \"Iso-area\").");
  }

  page.section("Per phase");
  report::BarChart phase_cycles;
  phase_cycles.title = "Cycles per phase";
  phase_cycles.value_label = "cycles";
  report::BarChart phase_energy;
  phase_energy.title = "Energy per phase";
  phase_energy.value_label = "energy (pJ)";
  report::Series ca{name_a, {}}, cb{name_b, {}}, ea{name_a, {}}, eb{name_b, {}};
  report::HtmlTable phases;
  phases.columns = {"phase", "cycles A", "cycles B", "B / A", "energy A (J)", "energy B (J)", "B / A"};
  phases.numeric = {false, true, true, true, true, true, true};
  for (std::size_t p = 0; p < 4; ++p) {
    phase_cycles.categories.emplace_back(phase_name_at(p));
    phase_energy.categories.emplace_back(phase_name_at(p));
    const double cyc_a = static_cast<double>(c.a.sim.phase_totals[p][c.a.sim.ids.cycles]);
    const double cyc_b = static_cast<double>(c.b.sim.phase_totals[p][c.b.sim.ids.cycles]);
    const double en_a = c.a.phases[p].energy.total_pj();
    const double en_b = c.b.phases[p].energy.total_pj();
    ca.values.push_back(cyc_a);
    cb.values.push_back(cyc_b);
    ea.values.push_back(en_a);
    eb.values.push_back(en_b);
    phases.rows.push_back({phase_name_at(p), format_sig4(cyc_a), format_sig4(cyc_b), ratio_text(ratio(cyc_b, cyc_a)), format_sig4(en_a * 1e-12),
                           format_sig4(en_b * 1e-12), ratio_text(ratio(en_b, en_a))});
  }
  phase_cycles.series = {ca, cb};
  phase_energy.series = {ea, eb};
  page.figure(report::grouped_bar_chart(phase_cycles), "Cycles of each phase, A and B.");
  page.figure(report::grouped_bar_chart(phase_energy), "Energy of each phase, A and B.");
  page.table(phases);

  page.section("Per layer");
  const std::vector<std::string> layers = union_layers(c);
  const auto cycles_of = [](const Evaluation& e) {
    const StatRegistry::Id id = e.sim.ids.cycles;
    return [&e, id](std::size_t i) { return static_cast<double>(e.sim.rows[i].stats[id]); };
  };
  const auto energy_of = [](const Evaluation& e) {
    return [&e](std::size_t i) { return e.energy.rows[i].total_pj(); };
  };
  const std::vector<double> la_cycles = layer_values(c.a, layers, cycles_of(c.a));
  const std::vector<double> lb_cycles = layer_values(c.b, layers, cycles_of(c.b));
  const std::vector<double> la_energy = layer_values(c.a, layers, energy_of(c.a));
  const std::vector<double> lb_energy = layer_values(c.b, layers, energy_of(c.b));
  report::BarChart layer_cycles;
  layer_cycles.title = "Cycles per layer (all phases)";
  layer_cycles.value_label = "cycles";
  layer_cycles.categories = layers;
  layer_cycles.series = {{name_a, la_cycles}, {name_b, lb_cycles}};
  report::BarChart layer_energy;
  layer_energy.title = "Energy per layer (all phases)";
  layer_energy.value_label = "energy (pJ)";
  layer_energy.categories = layers;
  layer_energy.series = {{name_a, la_energy}, {name_b, lb_energy}};
  page.figure(report::grouped_bar_chart(layer_cycles), "Cycles of every layer, A and B side by side.");
  page.figure(report::grouped_bar_chart(layer_energy), "Energy of every layer, A and B side by side.");
  report::HtmlTable layer_table;
  layer_table.caption = "Every layer, all phases summed";
  layer_table.columns = {"layer", "cycles A", "cycles B", "B / A", "energy A (pJ)", "energy B (pJ)", "B / A"};
  layer_table.numeric = {false, true, true, true, true, true, true};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    layer_table.rows.push_back({layers[i], format_sig4(la_cycles[i]), format_sig4(lb_cycles[i]),
                                ratio_text(ratio(lb_cycles[i], la_cycles[i])), format_sig4(la_energy[i]), format_sig4(lb_energy[i]),
                                ratio_text(ratio(lb_energy[i], la_energy[i]))});
  }
  page.table(layer_table);

  if (!c.a.sim.timeline.empty() || !c.b.sim.timeline.empty()) {
    page.section("Where the time goes");
    page.paragraph("When each unit of each chip was busy during the step (a/timeline.json and b/timeline.json; "
                   "a/report.html and b/report.html zoom into each phase).");
    timeline_figure(page, c.a.sim, ": " + name_a);
    timeline_figure(page, c.b.sim, ": " + name_b);
  }

  page.section("Energy by component");
  page.figure(report::grouped_bar_chart(energy::energy_comparison_chart(name_a, c.a.energy, name_b, c.b.energy)),
              "Energy per step by component, A and B.");
  report::HtmlTable area;
  area.caption = "Chip area by part, mm\xC2\xB2";
  area.columns = {"part", name_a, name_b};
  area.numeric = {false, true, true};
  for (std::size_t p = 0; p < energy::kAreaPartCount; ++p) {
    area.rows.push_back({energy::area_part_name(static_cast<energy::AreaPart>(p)), format_sig4(c.a.energy.area.mm2[p]),
                         format_sig4(c.b.energy.area.mm2[p])});
  }
  area.rows.push_back({"total", format_sig4(c.a.energy.area.total_mm2()), format_sig4(c.b.energy.area.total_mm2())});
  page.table(area);

  page.section("Designs");
  report::HtmlTable designs;
  designs.caption = c.a.words("The resolved designs (after " + setting_ref("override_a") + ", " + setting_ref("override_b") +
                              " and " + setting_ref("iso_area") + ")");
  designs.columns = {"field", name_a, name_b};
  std::map<std::string, std::string> fields_b;
  for (const auto& [key, value] : design_fields(db)) fields_b[key] = value;
  for (const auto& [key, value] : design_fields(da)) {
    const auto it = fields_b.find(key);
    designs.rows.push_back({key, value, it == fields_b.end() ? "" : it->second});
  }
  page.table(designs, 80);

  page.section("Technology tables and sources");
  const bool same_table = c.a.tech.file == c.b.tech.file;
  for (const Evaluation* e : {&c.a, &c.b}) {
    if (e == &c.b && same_table) break;
    page.paragraph((same_table ? std::string("Both designs: table '") : (e == &c.a ? name_a : name_b) + ": table '") +
                   e->model.tech().name + "' from " + e->tech.file + (e->tech.builtin ? " (built in)" : "") + ". " +
                   e->model.tech().description);
    page.table(energy::tech_table_html(e->model.tech()), 200);
  }
  return page.str();
}

void write_compare_outputs(const Comparison& c, const std::string& dir, bool force) {
  prepare_output_dir(dir + "/a", force);
  prepare_output_dir(dir + "/b", force);
  write_outputs(c.a, dir + "/a");
  write_outputs(c.b, dir + "/b");
  write_file_atomic(dir + "/summary.json", compare_summary_json(c));
  write_file_atomic(dir + "/report.html", compare_report_html(c));
}

}  // namespace nibble::flow
