#include "sim/flow/sweep_eval.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/design.hpp"
#include "sim/energy/builtin_tech.hpp"
#include "sim/flow/evaluate.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/workload.hpp"
#include "sim/report/csv_reader.hpp"
#include "sim/report/html.hpp"
#include "sim/report/json.hpp"
#include "sim/report/svg_chart.hpp"

namespace nibble::flow {

namespace {

// Column names double as the keys the page reads back; one list so the CSV
// and the page cannot disagree.
constexpr const char* kCycles = "cycles";
constexpr const char* kStalls = "stall_cycles";
constexpr const char* kSeconds = "seconds_per_step";
constexpr const char* kEnergy = "energy_per_step_j";
constexpr const char* kTopsPerWatt = "tops_per_watt";
constexpr const char* kEdp = "edp_js";
constexpr const char* kArea = "area_mm2";
constexpr const char* kUtilization = "utilization";
constexpr const char* kDram = "dram_bytes";

// A metric of an outcome as a number; NaN when absent or not a number (a
// failed point, or a value that could not be parsed back).
double metric(const sweep::PointOutcome& outcome, const std::string& key) {
  for (const auto& [k, v] : outcome.metrics) {
    if (k == key) return parse_double(v).value_or(std::numeric_limits<double>::quiet_NaN());
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// "rows=64 dataflow=os" from the overrides: the part of a point that varies.
std::string point_parameters(const sweep::SweepPoint& point) {
  std::string out;
  for (const auto& [key, value] : point.overrides) {
    const auto dot = key.rfind('.');
    out += (out.empty() ? "" : " ") + (dot == std::string::npos ? key : key.substr(dot + 1)) + "=" + value;
  }
  return out;
}

std::string point_label(const sweep::SweepPoint& point, std::size_t total) {
  const std::string params = point_parameters(point);
  return point.name(total) + (params.empty() ? "" : " " + params);
}

std::string workload_text(const sweep::SweepPoint& point) {
  std::string out = point.workload.model + " b" + std::to_string(point.workload.batch);
  if (point.workload.seq != 0) out += " seq" + std::to_string(point.workload.seq);
  return out + " " + point.policy;
}

}  // namespace

const std::vector<std::string>& sweep_metric_columns() {
  static const std::vector<std::string> columns = {kCycles, kStalls, kSeconds,     kEnergy, kTopsPerWatt,
                                                   kEdp,    kArea,   kUtilization, kDram};
  return columns;
}

sweep::PointOutcome evaluate_sweep_point(const sweep::SweepPoint& point, const std::string& tech,
                                         std::uint64_t max_steps) {
  sweep::PointOutcome outcome;
  try {
    std::vector<std::string> sets;
    for (const auto& [key, value] : point.overrides) sets.push_back(key + "=" + value);
    const design::Design design = design::load_design(point.design, sets);
    WorkloadSource source;
    source.model = point.workload.model;
    source.batch = point.workload.batch;
    if (point.workload.seq != 0) source.seq = point.workload.seq;
    PolicyChoice policy;
    if (point.policy != "natural") policy.name = point.policy;
    const Workload workload = Workload::load(source);
    EvalOptions options;
    options.tech = tech;
    options.sim.progress = false;
    options.sim.max_steps = max_steps;
    const Evaluation eval = evaluate(design, workload.trace_for(design, policy), options);
    const energy::EnergyMetrics& m = eval.energy.metrics;
    outcome.ok = true;
    outcome.metrics = {
        {kCycles, std::to_string(eval.sim.total(eval.sim.ids.cycles))},
        {kStalls, std::to_string(eval.sim.total(eval.sim.ids.stall_cycles))},
        {kSeconds, format_double(m.seconds)},
        {kEnergy, format_double(m.energy_per_step_j)},
        {kTopsPerWatt, format_double(m.tops_per_watt)},
        {kEdp, format_double(m.edp_js)},
        {kArea, format_double(m.area_mm2)},
        {kUtilization, format_double(utilization(eval, eval.sim.totals))},
        {kDram, std::to_string(eval.sim.total(eval.sim.ids.dram_bytes_read) + eval.sim.total(eval.sim.ids.dram_bytes_written))},
    };
  } catch (const InputError& e) {
    outcome.ok = false;
    outcome.error = e.what();
  }
  return outcome;
}

std::string sweep_point_key(const sweep::SweepPoint& point, const std::string& tech, std::uint64_t max_steps,
                            const std::string& version) {
  // Each field is named and length-prefixed, so no two inputs give the same text.
  std::uint64_t hash = fnv1a64("");
  const auto add = [&](const std::string& name, const std::string& value) {
    hash = fnv1a64(name + ":" + std::to_string(value.size()) + ":", hash);
    hash = fnv1a64(value, hash);
  };
  const auto bytes_of = [](const std::string& path) {
    try {
      return read_file(path);
    } catch (const InputError& e) {
      return "unreadable: " + e.message();
    }
  };
  add("version", version);
  add("design", bytes_of(point.design));
  std::string table = tech;
  if (table.empty()) {
    try {
      std::vector<std::string> sets;
      for (const auto& [key, value] : point.overrides) sets.push_back(key + "=" + value);
      table = design::load_design(point.design, sets).tech;
    } catch (const InputError& e) {
      table = "invalid design: " + e.message();  // the point fails; failed points are never reused
    }
  }
  add("tech", table);
  add("max-steps", std::to_string(max_steps));
  std::error_code ec;
  if (std::filesystem::is_regular_file(table, ec)) {
    add("tech-bytes", bytes_of(table));
  } else {
    for (const auto& builtin : energy::builtin_tech_sources()) {
      if (table == builtin.name) add("tech-bytes", builtin.text);
    }
  }
  return format_hex(hash, 16).substr(2);  // 16 hex digits, no "0x"
}

std::vector<std::size_t> sweep_pareto_front(const sweep::SweepResults& results) {
  std::vector<report::ScatterPoint> points;
  std::vector<std::size_t> index_of;
  for (std::size_t i = 0; i < results.outcomes.size(); ++i) {
    if (!results.outcomes[i].ok) continue;
    report::ScatterPoint p;
    p.x = metric(results.outcomes[i], kSeconds);
    p.y = metric(results.outcomes[i], kEnergy);
    points.push_back(p);
    index_of.push_back(i);
  }
  std::vector<std::size_t> front;
  for (const std::size_t local : report::pareto_front(points)) front.push_back(index_of[local]);
  return front;
}

std::string sweep_report_html(const sweep::SweepSpec& spec, const sweep::SweepResults& results) {
  const std::size_t total = results.points.size();
  std::vector<std::size_t> ok;
  for (std::size_t i = 0; i < total; ++i) {
    if (results.outcomes[i].ok) ok.push_back(i);
  }
  const std::vector<std::size_t> front = sweep_pareto_front(results);

  report::HtmlPage page("Sweep " + spec.name, spec.file + ": " + std::to_string(total) + " points");
  page.section("Summary");
  page.headlines({{"points", std::to_string(total), "", ""},
                  {"evaluated", std::to_string(ok.size()), "", ""},
                  {"failed", std::to_string(total - ok.size()), "", ""},
                  {"on the Pareto front", std::to_string(front.size()), "", "time and energy per step"}});

  page.section("Pareto front");
  report::ScatterChart chart;
  chart.title = "Energy per step vs time per step";
  chart.x_label = "time per step (s)";
  chart.y_label = "energy per step (J)";
  chart.size_label = "chip area (mm²)";
  chart.log_x = true;
  chart.log_y = true;
  for (const std::size_t i : ok) {
    report::ScatterPoint p;
    p.label = point_label(results.points[i], total);
    p.x = metric(results.outcomes[i], kSeconds);
    p.y = metric(results.outcomes[i], kEnergy);
    p.size = metric(results.outcomes[i], kArea);
    chart.points.push_back(p);
  }
  page.figure(report::scatter_chart(chart),
              "Each point is one design x workload x policy; marker area is the chip area. Points no other "
              "point beats in both time and energy per step form the front (lower left is better).");

  // Columns of the point tables, shared by the best-point, front and all-point tables.
  const auto point_row = [&](std::size_t i) {
    const sweep::SweepPoint& point = results.points[i];
    const sweep::PointOutcome& outcome = results.outcomes[i];
    std::vector<std::string> row{point.name(total), point_parameters(point), workload_text(point)};
    for (const char* key : {kSeconds, kEnergy, kTopsPerWatt, kEdp, kArea, kUtilization}) {
      row.push_back(format_sig4(metric(outcome, key)));
    }
    return row;
  };
  const std::vector<std::string> point_columns = {"point",  "parameters", "workload",   "s / step",   "J / step",
                                                  "TOPS/W", "EDP (J·s)",  "area (mm²)", "utilization"};
  const std::vector<bool> point_numeric = {false, false, false, true, true, true, true, true, true};

  page.section("Best point per objective");
  struct Objective {
    const char* label;
    const char* key;
    bool maximise;
  };
  report::HtmlTable best;
  best.columns = {"objective"};
  best.columns.insert(best.columns.end(), point_columns.begin(), point_columns.end());
  best.numeric = {false};
  best.numeric.insert(best.numeric.end(), point_numeric.begin(), point_numeric.end());
  for (const Objective& objective : {Objective{"least time per step", kSeconds, false},
                                     Objective{"least energy per step", kEnergy, false},
                                     Objective{"least energy-delay product", kEdp, false},
                                     Objective{"most TOPS/W", kTopsPerWatt, true},
                                     Objective{"least area", kArea, false}}) {
    std::size_t best_index = total;
    double best_value = 0.0;
    for (const std::size_t i : ok) {
      const double v = metric(results.outcomes[i], objective.key);
      if (!std::isfinite(v)) continue;
      // Strict comparison keeps the first point in sweep order on ties.
      if (best_index == total || (objective.maximise ? v > best_value : v < best_value)) {
        best_index = i;
        best_value = v;
      }
    }
    if (best_index == total) continue;
    std::vector<std::string> row{objective.label};
    const std::vector<std::string> cells = point_row(best_index);
    row.insert(row.end(), cells.begin(), cells.end());
    best.rows.push_back(row);
  }
  page.table(best);

  page.section("Points on the front");
  report::HtmlTable front_table{point_columns, point_numeric, {}, "sorted by time per step"};
  for (const std::size_t i : front) front_table.rows.push_back(point_row(i));
  page.table(front_table);

  page.section("Every point");
  report::HtmlTable all{point_columns, point_numeric, {}, "in sweep order; sweep.csv has every column"};
  for (const std::size_t i : ok) all.rows.push_back(point_row(i));
  page.table(all);

  if (ok.size() != total) {
    page.section("Failed points");
    report::HtmlTable failed{{"point", "parameters", "workload", "error"}, {}, {}, ""};
    for (std::size_t i = 0; i < total; ++i) {
      if (results.outcomes[i].ok) continue;
      failed.rows.push_back({results.points[i].name(total), point_parameters(results.points[i]),
                             workload_text(results.points[i]), results.outcomes[i].error});
    }
    page.table(failed);
  }
  return page.str();
}

void write_sweep_outputs(const sweep::SweepSpec& spec, const sweep::SweepResults& results, const std::string& dir) {
  write_file_atomic(dir + "/sweep.csv", sweep::results_csv(spec, results));
  nlohmann::ordered_json meta;
  meta["name"] = spec.name;
  meta["file"] = spec.file;
  meta["points"] = results.points.size();
  report::write_json_atomic(dir + "/sweep.json", meta);
  write_file_atomic(dir + "/report.html", sweep_report_html(spec, results));
}

bool is_sweep_dir(const std::string& dir) {
  return std::filesystem::exists(dir + "/sweep.csv") && std::filesystem::exists(dir + "/sweep.json");
}

void rerender_sweep_report(const std::string& dir) {
  const std::string meta_file = dir + "/sweep.json";
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(read_file(meta_file));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(meta_file, 0, "", std::string("not valid JSON: ") + e.what());
  }
  if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string() || !meta.contains("file") ||
      !meta["file"].is_string()) {
    throw InputError(meta_file, 0, "name", "expected {\"name\": ..., \"file\": ...} as `nibble sweep` writes it");
  }
  sweep::SweepSpec spec;
  spec.name = meta["name"].get<std::string>();
  spec.file = meta["file"].get<std::string>();

  const std::string csv_file = dir + "/sweep.csv";
  const report::CsvTable table = report::read_csv(csv_file);
  const auto column = [&](const std::string& name) {
    for (std::size_t i = 0; i < table.header.size(); ++i) {
      if (table.header[i] == name) return i;
    }
    throw InputError(csv_file, 1, name, "missing column; expected the sweep.csv that `nibble sweep` writes");
  };
  const std::size_t c_design = column("design"), c_model = column("model"), c_batch = column("batch"),
                    c_seq = column("seq"), c_policy = column("policy"), c_status = column("status"),
                    c_error = column("error");
  if (c_model < c_design) throw InputError(csv_file, 1, "model", "expected after the parameter columns");
  for (std::size_t c = c_design + 1; c < c_model; ++c) spec.parameter_keys.push_back(table.header[c]);
  const auto number = [&](std::size_t row, std::size_t col) {
    const std::string& text = table.rows[row][col];
    const std::optional<std::uint64_t> value = parse_u64(text);
    if (!value) {
      throw InputError(csv_file, table.lines[row], table.header[col], "expected a whole number, got '" + text + "'");
    }
    return *value;
  };

  sweep::SweepResults results;
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    sweep::SweepPoint point;
    point.index = r;
    point.design = row[c_design];
    for (std::size_t c = c_design + 1; c < c_model; ++c) {
      if (!row[c].empty()) point.overrides.emplace_back(table.header[c], row[c]);
    }
    point.workload.model = row[c_model];
    point.workload.batch = number(r, c_batch);
    point.workload.seq = number(r, c_seq);
    point.policy = row[c_policy];
    sweep::PointOutcome outcome;
    if (row[c_status] != "ok" && row[c_status] != "error") {
      throw InputError(csv_file, table.lines[r], "status", "expected ok or error, got '" + row[c_status] + "'");
    }
    outcome.ok = row[c_status] == "ok";
    outcome.error = row[c_error];
    if (outcome.ok) {
      for (std::size_t c = c_error + 1; c < table.header.size(); ++c) outcome.metrics.emplace_back(table.header[c], row[c]);
    }
    results.points.push_back(std::move(point));
    results.outcomes.push_back(std::move(outcome));
  }
  write_file_atomic(dir + "/report.html", sweep_report_html(spec, results));
}

}  // namespace nibble::flow
