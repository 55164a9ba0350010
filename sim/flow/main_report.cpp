#include "sim/flow/main_report.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/timeline_outputs.hpp"
#include "sim/report/html.hpp"
#include "sim/report/json.hpp"
#include "sim/report/svg_chart.hpp"

namespace nibble::flow {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A summary.json as written by compare or train; errors name the file.
struct Summary {
  std::string file;  ///< path, for messages
  Json doc;          ///< parsed document

  const Json& at(const std::string& dotted) const {
    const Json* node = &doc;
    std::size_t start = 0;
    while (start <= dotted.size()) {
      const std::size_t dot = dotted.find('.', start);
      const std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!node->is_object() || !node->contains(key)) {
        throw InputError(file, 0, dotted, "missing; expected the summary.json that nibble writes");
      }
      node = &(*node)[key];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return *node;
  }
  double number(const std::string& key) const {
    const Json& v = at(key);
    if (v.is_number()) return v.get<double>();
    if (v.is_null()) return std::nan("");  // json_number writes NaN as null
    throw InputError(file, 0, key, "expected a number");
  }
  std::string text(const std::string& key) const {
    const Json& v = at(key);
    if (!v.is_string()) throw InputError(file, 0, key, "expected a string");
    return v.get<std::string>();
  }
};

Summary load_summary(const std::string& path) {
  Summary s{path, {}};
  const std::string text = read_file(path);
  try {
    s.doc = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, 0, "", std::string("not valid JSON: ") + e.what());
  }
  if (!s.doc.is_object()) throw InputError(path, 0, "", "expected a JSON object");
  return s;
}

std::string fixed(double value, int digits) {
  return std::isfinite(value) ? format_fixed(value, digits) : "n/a";
}

std::string grouped(double value) {
  if (!std::isfinite(value)) return "n/a";
  std::string digits = fixed(value, 0);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

std::string with_unit(double value, const std::string& base) {
  const auto [number, unit] = format_scaled(value, base);
  return number + " " + unit;
}

// The numbers of the table, read once and shared by the text, the page and summary.json.
struct MainNumbers {
  std::string model;
  std::uint64_t batch = 0;
  bool iso_area = false;
  struct Design {
    std::string name, policy, array, outputs;
    double cycles, seconds, energy, tops_per_watt, area, utilization;
  };
  Design a, b;
  double speedup = 0.0, energy_ratio = 0.0;
  /// A design run beside the comparison at its own area and technology.
  struct Other {
    std::string dir, name, policy, what, tech, array;
    double cores, seconds, energy, tops_per_watt, area;
  };
  std::vector<Other> others;
  struct Training {
    std::string dir, model, policy;
    std::uint64_t epochs = 0, train_images = 0;
    double accuracy = 0.0;
  };
  std::vector<Training> trainings;
};

// The matrix units of the design at `key` of a summary: one `array`, or several
// matrix units (docs/design-file.md): "int: 64x128 int4-fp4 + fp: ...".
std::string array_text(const Summary& c, const std::string& key) {
  const auto shape = [&](const std::string& unit) {
    return grouped(c.number(unit + ".rows")) + "x" + grouped(c.number(unit + ".cols")) + " " + c.text(unit + ".pe_kind");
  };
  const Json& design = c.at(key);
  if (!(design.is_object() && design.contains("matrix_units") && design.at("matrix_units").is_object())) {
    return shape(key + ".array");
  }
  std::string out;
  for (const auto& unit : design.at("matrix_units").items()) {
    out += (out.empty() ? "" : " + ") + unit.key() + ": " + shape(key + ".matrix_units." + unit.key());
  }
  return out;
}

MainNumbers read_numbers(const std::string& dir, const MainJobLayout& layout) {
  MainNumbers n;
  const Summary c = load_summary(dir + "/" + layout.compare + "/summary.json");
  n.model = c.text("workload.model");
  n.batch = static_cast<std::uint64_t>(c.number("workload.batch"));
  n.iso_area = c.at("iso_area.applied").get<bool>();
  for (auto [side, d] : {std::pair<const char*, MainNumbers::Design*>{"a", &n.a}, {"b", &n.b}}) {
    const std::string s = side;
    d->name = c.text(s + ".name");
    d->policy = c.text(s + ".policy");
    d->array = array_text(c, s + ".design");
    d->outputs = layout.compare + "/" + c.text(s + ".outputs");
    d->cycles = c.number(s + ".cycles");
    d->seconds = c.number(s + ".seconds");
    d->energy = c.number(s + ".energy_per_step_j");
    d->tops_per_watt = c.number(s + ".tops_per_watt");
    d->area = c.number(s + ".area_mm2");
    d->utilization = c.number(s + ".utilization");
  }
  n.speedup = c.number("speedup");
  n.energy_ratio = c.number("energy_ratio");
  for (const auto& other : layout.others) {
    const std::string file = dir + "/" + other.dir + "/summary.json";
    if (!fs::exists(file)) continue;  // a main job written before the design was added
    const Summary o = load_summary(file);
    if (o.text("workload.model") != n.model || o.number("workload.batch") != static_cast<double>(n.batch)) {
      throw InputError(file, 0, "workload", "expected the comparison's workload (" + n.model + ", batch " +
                                                std::to_string(n.batch) + "); run `nibble run` again");
    }
    MainNumbers::Other x;
    x.dir = other.dir;
    x.what = other.what;
    x.name = o.text("design.name");
    x.policy = o.text("workload.policy");
    x.tech = o.text("energy.tech");
    x.array = array_text(o, "design");
    x.cores = o.number("design.cores");
    x.seconds = o.number("seconds");
    x.energy = o.number("energy.energy_per_step_j");
    x.tops_per_watt = o.number("energy.tops_per_watt");
    x.area = o.number("energy.area_mm2");
    n.others.push_back(x);
  }
  for (const auto& name : layout.trainings) {
    const std::string file = dir + "/" + name + "/summary.json";
    if (!fs::exists(file)) continue;
    const Summary t = load_summary(file);
    MainNumbers::Training tr;
    tr.dir = name;
    tr.model = t.text("model");
    tr.policy = t.text("policy");
    tr.epochs = static_cast<std::uint64_t>(t.number("epochs"));
    tr.train_images = static_cast<std::uint64_t>(t.number("train_images"));
    tr.accuracy = t.number("test_accuracy");
    n.trainings.push_back(tr);
  }
  return n;
}

// Rows of the one table: label, A, B (or the training's value in A's column).
std::vector<std::vector<std::string>> table_rows(const MainNumbers& n) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"design", n.a.name, n.b.name + (n.iso_area ? " (iso-area)" : "")});
  rows.push_back({"array", n.a.array, n.b.array});
  rows.push_back({"policy", n.a.policy, n.b.policy});
  rows.push_back({"cycles per step", grouped(n.a.cycles), grouped(n.b.cycles)});
  rows.push_back({"time per step", with_unit(n.a.seconds, "s"), with_unit(n.b.seconds, "s")});
  rows.push_back({"energy per step", with_unit(n.a.energy, "J"), with_unit(n.b.energy, "J")});
  rows.push_back({"TOPS/W", format_sig4(n.a.tops_per_watt), format_sig4(n.b.tops_per_watt)});
  rows.push_back({"area (mm2)", format_sig4(n.a.area), format_sig4(n.b.area)});
  rows.push_back({"utilization", fixed(100.0 * n.a.utilization, 1) + " %", fixed(100.0 * n.b.utilization, 1) + " %"});
  rows.push_back({"speedup (B time / A time)", fixed(n.speedup, 2) + "x", ""});
  rows.push_back({"energy ratio (B / A)", fixed(n.energy_ratio, 2) + "x", ""});
  for (const auto& t : n.trainings) {
    rows.push_back({"accuracy " + t.model + " " + t.policy, fixed(t.accuracy, 2) + " %",
                    std::to_string(t.epochs) + " epoch(s), " + std::to_string(t.train_images) + " images"});
  }
  return rows;
}

// The other designs' table: a header row, then one row per design. Ratios are
// the design's value over A's (time: above 1, A is faster), as the speedup.
std::vector<std::vector<std::string>> other_rows(const MainNumbers& n) {
  std::vector<std::vector<std::string>> rows;
  if (n.others.empty()) return rows;
  rows.push_back({"design", "tech, cores", "matrix units", "policy", "time per step", "energy per step", "TOPS/W",
                  "area (mm2)", "time / A's", "energy / A's", "note"});
  for (const auto& o : n.others) {
    rows.push_back({o.name, o.tech + ", " + grouped(o.cores), o.array, o.policy, with_unit(o.seconds, "s"),
                    with_unit(o.energy, "J"), format_sig4(o.tops_per_watt), format_sig4(o.area),
                    fixed(o.seconds / n.a.seconds, 2) + "x", fixed(o.energy / n.a.energy, 2) + "x", o.what});
  }
  return rows;
}

// What the other designs are compared with, one line.
std::string others_caption(const MainNumbers& n) {
  return "other designs, each at its own area and technology (not resized to A's, not compared with B); "
         "time and energy over A's (" + n.a.name + "):";
}

}  // namespace

bool is_main_job_dir(const std::string& dir, const MainJobLayout& layout) {
  if (!fs::exists(dir + "/" + layout.compare + "/summary.json")) return false;
  for (const auto& name : layout.trainings) {
    if (fs::exists(dir + "/" + name + "/summary.json")) return true;
  }
  return false;
}

std::string main_job_table(const std::string& dir, const MainJobLayout& layout) {
  const MainNumbers n = read_numbers(dir, layout);
  const auto rows = table_rows(n);
  std::size_t w0 = 0, w1 = 0;
  for (const auto& r : rows) {
    w0 = std::max(w0, r[0].size());
    w1 = std::max(w1, r[1].size());
  }
  std::string out = "nibble: " + n.model + " training step, batch " + std::to_string(n.batch) + "\n";
  for (const auto& r : rows) {
    std::string line = "  " + r[0] + std::string(w0 + 2 - r[0].size(), ' ') + r[1];
    if (!r[2].empty()) line += std::string(w1 + 2 - r[1].size(), ' ') + r[2];
    out += line + "\n";
  }
  // The other designs, columns aligned; the table above keeps its bytes.
  const auto others = other_rows(n);
  if (!others.empty()) {
    std::vector<std::size_t> widths(others.front().size(), 0);
    for (const auto& r : others) {
      for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
    }
    out += "\n  " + others_caption(n) + "\n";
    for (const auto& r : others) {
      std::string line = " ";
      for (std::size_t i = 0; i < r.size(); ++i) {
        line += " " + (i + 1 < r.size() ? pad_right(r[i], widths[i] + 1) : r[i]);
      }
      out += line + "\n";
    }
  }
  return out;
}

namespace {
// The page from numbers already read (write_main_job_outputs reads the summaries once).
std::string render_report_html(const std::string& dir, const MainJobLayout& layout, const MainNumbers& n) {
  report::HtmlPage page("nibble: 4-bit training vs FP16",
                        n.model + " training step (batch " + std::to_string(n.batch) + ") on two designs" +
                            (n.iso_area ? " of equal area" : "") + ", and what 4-bit arithmetic does to accuracy");
  page.section("Headline");
  std::vector<report::Headline> heads = {
      {"speedup", fixed(n.speedup, 2), "x", n.b.name + " time / " + n.a.name + " time"},
      {"energy ratio", fixed(n.energy_ratio, 2), "x", n.b.name + " energy / " + n.a.name + " energy"},
      {n.a.name, format_sig4(n.a.tops_per_watt), "TOPS/W", "2 ops per MAC"},
      {n.b.name, format_sig4(n.b.tops_per_watt), "TOPS/W", "2 ops per MAC"}};
  for (const auto& t : n.trainings) {
    heads.push_back({t.policy + " accuracy", fixed(t.accuracy, 2), "%", t.model + ", " + std::to_string(t.epochs) + " epoch(s)"});
  }
  page.headlines(heads);

  page.section("The table");
  report::HtmlTable table;
  table.columns = {"", "A", "B"};
  table.numeric = {false, true, true};
  table.rows = table_rows(n);
  page.table(table, 40);
  page.paragraph("Cycles come from the SystemC model (docs/timing.md), energy and area from the technology table "
                 "named in each design's report (docs/energy-model.md), accuracy from the training emulator "
                 "(docs/training.md). Why the speedup is what it is: docs/validation.md, \"4-bit vs FP16\".");
  if (const auto others = other_rows(n); !others.empty()) {
    page.section("Other designs");
    page.paragraph("The same " + n.model + " step (batch " + std::to_string(n.batch) + "), " + others_caption(n));
    report::HtmlTable table;
    table.columns = others.front();
    table.numeric = {false, false, false, false, true, true, true, true, true, true, false};
    table.rows.assign(others.begin() + 1, others.end());
    page.table(table);
  }

  // The runs' timelines, when they wrote them (not with --timeline none).
  const std::string timeline_a = dir + "/" + n.a.outputs + "/timeline.json";
  const std::string timeline_b = dir + "/" + n.b.outputs + "/timeline.json";
  if (fs::exists(timeline_a) || fs::exists(timeline_b)) {
    page.section("Where the time goes");
    page.paragraph("When each unit of each chip was busy during the step, from " + n.a.outputs + "/timeline.json and " +
                   n.b.outputs + "/timeline.json (open them in ui.perfetto.dev for single ops; each run's own "
                   "report zooms into each phase).");
    for (const auto& [file, d, side] : {std::make_tuple(timeline_a, &n.a, "A"), std::make_tuple(timeline_b, &n.b, "B")}) {
      if (!fs::exists(file)) continue;
      const std::uint64_t end = std::isfinite(d->cycles) && d->cycles > 0 ? static_cast<std::uint64_t>(d->cycles) : 1;
      timeline_file_figure(page, file, end, std::string(": ") + side + ", " + d->name);
    }
  }

  page.section("Each run's own report");
  report::HtmlTable links;
  links.columns = {"run", "report", "files"};
  links.rows.push_back({"comparison", layout.compare + "/report.html", layout.compare + "/summary.json"});
  links.rows.push_back({"design A: " + n.a.name, n.a.outputs + "/report.html", n.a.outputs + "/layers.csv"});
  links.rows.push_back({"design B: " + n.b.name, n.b.outputs + "/report.html", n.b.outputs + "/layers.csv"});
  for (const auto& o : n.others) {
    links.rows.push_back({"design " + o.name + " (" + o.policy + ")", o.dir + "/report.html", o.dir + "/layers.csv"});
  }
  for (const auto& t : n.trainings) {
    links.rows.push_back({"training " + t.policy, t.dir + "/report.html", t.dir + "/epochs.csv"});
  }
  page.table(links);

  const std::string commands_file = dir + "/commands.txt";
  if (fs::exists(commands_file)) {
    page.section("How to reproduce");
    page.paragraph("The main job is these commands:");
    page.preformatted(read_file(commands_file));
  }
  return page.str();
}

}  // namespace

std::string main_job_report_html(const std::string& dir, const MainJobLayout& layout) {
  return render_report_html(dir, layout, read_numbers(dir, layout));
}

void write_main_job_outputs(const std::string& dir, const MainJobLayout& layout) {
  const MainNumbers n = read_numbers(dir, layout);
  Json j;
  j["model"] = n.model;
  j["batch"] = n.batch;
  j["iso_area"] = n.iso_area;
  for (auto [side, d] : {std::pair<const char*, const MainNumbers::Design*>{"a", &n.a}, {"b", &n.b}}) {
    Json x;
    x["name"] = d->name;
    x["policy"] = d->policy;
    x["cycles"] = report::json_number(d->cycles);
    x["seconds"] = report::json_number(d->seconds);
    x["energy_per_step_j"] = report::json_number(d->energy);
    x["tops_per_watt"] = report::json_number(d->tops_per_watt);
    x["area_mm2"] = report::json_number(d->area);
    j[side] = x;
  }
  j["speedup"] = report::json_number(n.speedup);
  j["energy_ratio"] = report::json_number(n.energy_ratio);
  if (!n.others.empty()) {
    // Each at its own area and technology; ratios over A's.
    Json others = Json::array();
    for (const auto& o : n.others) {
      others.push_back({{"name", o.name},
                        {"policy", o.policy},
                        {"tech", o.tech},
                        {"seconds", report::json_number(o.seconds)},
                        {"energy_per_step_j", report::json_number(o.energy)},
                        {"tops_per_watt", report::json_number(o.tops_per_watt)},
                        {"area_mm2", report::json_number(o.area)},
                        {"time_over_a", report::json_number(o.seconds / n.a.seconds)},
                        {"energy_over_a", report::json_number(o.energy / n.a.energy)}});
    }
    j["others"] = others;
  }
  Json acc = Json::array();
  for (const auto& t : n.trainings) {
    acc.push_back({{"model", t.model}, {"policy", t.policy}, {"epochs", t.epochs}, {"test_accuracy", report::json_number(t.accuracy)}});
  }
  j["accuracy"] = acc;
  report::write_json_atomic(dir + "/summary.json", j);
  write_file_atomic(dir + "/report.html", render_report_html(dir, layout, n));
}

}  // namespace nibble::flow
