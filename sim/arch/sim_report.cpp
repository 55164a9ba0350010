#include "sim/arch/sim_report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/common/text.hpp"
#include "sim/design/trace_names.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/json.hpp"

namespace nibble::arch {

namespace {

// The headline block that appears at the top and once per phase.
nlohmann::ordered_json headline(const SimResult& r, const StatVector& s) {
  nlohmann::ordered_json j;
  const auto at = [&](const char* name) { return s[r.registry.at(name)]; };
  j["total_cycles"] = at("cycles");
  j["compute_cycles"] = at("compute_cycles");
  j["stall_cycles"] = at("stall_cycles");
  j["seconds"] = report::json_number(r.design.seconds(at("cycles")));
  j["macs"] = at("macs");
  j["utilization"] = report::json_number(r.utilization(s));
  j["dram_bytes_read"] = at("dram_bytes_read");
  j["dram_bytes_written"] = at("dram_bytes_written");
  return j;
}

std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

}  // namespace

std::string summary_json(const SimResult& r) {
  nlohmann::ordered_json j;
  j["design"] = nlohmann::ordered_json::parse(design::design_to_json(r.design));
  j["workload"]["model"] = r.model;
  j["workload"]["batch"] = r.batch;
  j["workload"]["policy"] = r.policy;
  j["workload"]["ops"] = r.ops;
  const nlohmann::ordered_json top = headline(r, r.totals);
  for (const auto& item : top.items()) j[item.key()] = item.value();
  for (const auto phase : workloads::all_phases()) {
    j[std::string(workloads::phase_name(phase))] = headline(r, r.phase_totals.at(static_cast<std::size_t>(phase)));
  }
  auto& counters = j["counters"];
  for (std::size_t id = 0; id < r.registry.size(); ++id) {
    const StatDef& def = r.registry.def(id);
    counters[def.name]["value"] = r.totals[id];
    counters[def.name]["unit"] = def.unit;
    counters[def.name]["description"] = def.description;
  }
  j["functional"]["ops_checked"] = r.functional_checked;
  j["functional"]["ops_over_size_limit"] = r.functional_too_large;
  j["functional"]["ops_without_numerics_mode"] = r.functional_no_arith;
  return report::json_text(j);
}

std::string layers_csv(const SimResult& r) {
  std::vector<std::string> columns = {"layer", "phase"};
  for (const auto& def : r.registry.defs()) columns.push_back(def.name);
  columns.push_back("utilization");
  report::CsvWriter csv(columns);
  for (const auto& row : r.rows) {
    std::vector<std::string> fields = {row.layer, std::string(workloads::phase_name(row.phase))};
    for (const auto value : row.stats.values()) fields.push_back(report::CsvWriter::field(value));
    fields.push_back(report::CsvWriter::field(r.utilization(row.stats)));
    csv.row(fields);
  }
  return csv.str();
}

std::string summary_table(const SimResult& r) {
  std::ostringstream out;
  out << "design " << r.design.name << ": " << r.design.cores << " x " << r.design.array.rows << "x"
      << r.design.array.cols << " " << design::pe_kind_name(r.design.array.pe_kind) << " ("
      << design::dataflow_name(r.design.array.dataflow) << ") at " << format_double(r.design.clock_mhz)
      << " MHz; workload " << (r.model.empty() ? "(unnamed)" : r.model) << ", batch " << r.batch << ", " << r.ops
      << " ops\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %16s %16s %7s %18s %16s\n", "phase", "cycles", "stall_cycles", "util",
                "macs", "dram_bytes");
  out << line;
  const auto print = [&](const std::string& name, const StatVector& s) {
    const auto at = [&](const char* counter) { return s[r.registry.at(counter)]; };
    std::snprintf(line, sizeof line, "%-12s %16llu %16llu %6s%% %18llu %16llu\n", name.c_str(),
                  static_cast<unsigned long long>(at("cycles")), static_cast<unsigned long long>(at("stall_cycles")),
                  fixed(100.0 * r.utilization(s), 1).c_str(), static_cast<unsigned long long>(at("macs")),
                  static_cast<unsigned long long>(at("dram_bytes_read") + at("dram_bytes_written")));
    out << line;
  };
  for (const auto phase : workloads::all_phases()) {
    print(std::string(workloads::phase_name(phase)), r.phase_totals.at(static_cast<std::size_t>(phase)));
  }
  print("total", r.totals);
  out << "seconds at " << format_double(r.design.clock_mhz) << " MHz: " << format_double(r.seconds()) << "\n";
  return out.str();
}

}  // namespace nibble::arch
