#include "sim/design/scalesim_config.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "sim/common/error.hpp"
#include "sim/common/utf8.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/trace_names.hpp"

namespace nibble::design {

namespace {

struct Entry {
  std::string section;  ///< lower-case section name
  std::string key;      ///< key as written
  std::string value;    ///< trimmed value
  std::int64_t line;    ///< 1-based
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// configparser syntax: [section], "key = value" or "key: value", '#' and ';'
// comment lines; keys are case-insensitive (configparser lower-cases them).
std::vector<Entry> parse_ini(const std::string& text, const std::string& origin) {
  std::vector<Entry> entries;
  std::string section;
  std::int64_t line_no = 0;
  for (const auto raw : split(text, '\n')) {
    ++line_no;
    const std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        throw InputError(origin, line_no, "", "expected a section header like [general], got '" + std::string(line) + "'");
      }
      section = lower(trim(line.substr(1, line.size() - 2)));
      continue;
    }
    const auto sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || sep == 0) {
      throw InputError(origin, line_no, section, "expected 'Key = value' or 'Key: value', got '" + std::string(line) + "'");
    }
    if (section.empty()) {
      throw InputError(origin, line_no, std::string(trim(line.substr(0, sep))), "key before any [section] header");
    }
    entries.push_back(Entry{section, std::string(trim(line.substr(0, sep))), std::string(trim(line.substr(sep + 1))), line_no});
  }
  return entries;
}

class Reader {
 public:
  Reader(std::vector<Entry> entries, std::string origin) : m_entries(std::move(entries)), m_origin(std::move(origin)) {}

  const Entry* find(const std::string& section, const std::string& key) {
    const Entry* found = nullptr;
    for (auto& e : m_entries) {
      if (e.section == section && lower(e.key) == lower(key)) {
        found = &e;  // configparser keeps the last of repeated keys
        m_used.push_back(&e);
      }
    }
    return found;
  }

  const Entry& required(const std::string& section, const std::string& key) {
    const Entry* e = find(section, key);
    if (e == nullptr) throw InputError(m_origin, 0, section + "." + key, "missing key (SCALE-Sim requires it)");
    return *e;
  }

  std::uint64_t whole(const Entry& e, std::uint64_t minimum, std::uint64_t maximum) {
    const auto value = parse_u64(e.value);
    if (!value || *value < minimum || *value > maximum) {
      throw InputError(m_origin, e.line, e.section + "." + e.key,
                       "expected a whole number in [" + std::to_string(minimum) + ", " + std::to_string(maximum) +
                           "], got '" + e.value + "'");
    }
    return *value;
  }

  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& e : m_entries) {
      if (std::find(m_used.begin(), m_used.end(), &e) == m_used.end()) out.push_back(e.section + "." + e.key);
    }
    return out;
  }

  const std::string& origin() const { return m_origin; }

 private:
  std::vector<Entry> m_entries;
  std::string m_origin;
  std::vector<const Entry*> m_used;
};

}  // namespace

ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& origin) {
  Reader in(parse_ini(text, origin), origin);
  ScaleSimConfig cfg;
  cfg.run_name = in.required("general", "run_name").value;
  // It names a directory and the design in summary.json: plain text only (no NUL, no bytes that are not UTF-8).
  if (cfg.run_name.empty() || cfg.run_name.find('/') != std::string::npos || cfg.run_name == "." ||
      cfg.run_name == ".." || !is_plain_text(cfg.run_name)) {
    const Entry& e = in.required("general", "run_name");
    throw InputError(origin, e.line, "general.run_name", "expected a plain directory name, got '" + cfg.run_name + "'");
  }
  const Entry& mode = in.required("run_presets", "InterfaceBandwidth");
  if (mode.value == "USER") {
    cfg.user_bandwidth = true;
  } else if (mode.value == "CALC") {
    cfg.user_bandwidth = false;
  } else {
    throw InputError(origin, mode.line, "run_presets.InterfaceBandwidth", "expected USER or CALC, got '" + mode.value + "'");
  }

  Design& d = cfg.design;
  d.name = cfg.run_name;
  d.source = origin;
  // SCALE-Sim has no clock; 1 GHz makes `seconds` read as cycles x 1 ns.
  d.clock_mhz = 1000.0;
  d.cores = 1;
  d.timing = TimingConvention::kScaleSim;
  d.tech = "45nm";
  const std::string arch = "architecture_presets";
  d.array.rows = in.whole(in.required(arch, "ArrayHeight"), 1, 65536);
  d.array.cols = in.whole(in.required(arch, "ArrayWidth"), 1, 65536);
  const Entry& df = in.required(arch, "Dataflow");
  const std::string flow = lower(df.value);
  if (flow == "ws") {
    d.array.dataflow = Dataflow::kWs;
  } else if (flow == "os") {
    d.array.dataflow = Dataflow::kOs;
  } else if (flow == "is") {
    d.array.dataflow = Dataflow::kIs;
  } else {
    throw InputError(origin, df.line, arch + ".Dataflow", "expected os, ws or is, got '" + df.value + "'");
  }
  // SCALE-Sim's words are 1 byte: an 8-bit PE, accumulating in FP32.
  d.array.pe_kind = PeKind::kHfp8;
  d.array.acc_float = numerics::Format::kFp32;
  d.array.unsupported = UnsupportedOps::kError;

  std::uint64_t banks = 1;
  if (const Entry* e = in.find(arch, "MemoryBanks")) banks = in.whole(*e, 1, 1024);
  const std::pair<const char*, ScratchpadConfig*> srams[] = {
      {"IfmapSramSzkB", &d.input}, {"FilterSramSzkB", &d.weight}, {"OfmapSramSzkB", &d.output}};
  for (const auto& [key, spad] : srams) {
    spad->capacity_bytes = in.whole(in.required(arch, key), 1, 1ULL << 30) * 1024;
    // SCALE-Sim's SRAMs always feed the array at full rate: make each bank
    // wide enough for one array edge of 32-bit values per cycle.
    spad->word_bits = 32 * std::max(d.array.rows, d.array.cols);
    spad->banks = banks;
    spad->ports = 2;
    spad->double_buffer = true;  // SCALE-Sim's double_buffered_scratchpad, active fraction 0.5
  }

  d.dram.ideal = !cfg.user_bandwidth;
  d.dram.latency_cycles = 0;
  d.dram.burst_bytes = 1;
  d.dram.bandwidth_bytes_per_cycle = 1;
  if (cfg.user_bandwidth) {
    const Entry& bw = in.required(arch, "Bandwidth");
    // One value per memory bank; SCALE-Sim itself uses the first for every buffer.
    const auto fields = split(bw.value, ',');
    const std::string_view first = fields.empty() ? std::string_view() : trim(fields.front());
    const auto value = parse_u64(first);
    if (!value || *value < 1 || *value > (1ULL << 32)) {
      throw InputError(origin, bw.line, arch + ".Bandwidth", "expected words per cycle >= 1, got '" + bw.value + "'");
    }
    d.dram.bandwidth_bytes_per_cycle = *value;
  } else {
    (void)in.find(arch, "Bandwidth");  // CALC: SCALE-Sim ignores it too
  }
  d.vector.lanes = 1;
  for (const auto kind : keyed_vector_kinds()) d.vector.cycles_per_element.at(static_cast<std::size_t>(kind)) = 1;

  cfg.ignored = in.unused();
  try {
    validate_design(d);
  } catch (const InputError& e) {
    throw InputError(origin, 0, e.field(), e.message() + " (in the design made from this SCALE-Sim config)");
  }
  return cfg;
}

ScaleSimConfig load_scalesim_config(const std::string& path) { return parse_scalesim_config(read_file(path), path); }

}  // namespace nibble::design
