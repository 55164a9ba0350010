#include "sim/energy/tech_table.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/energy/builtin_tech.hpp"
#include "workloads/trace.hpp"

namespace nibble::energy {

namespace {

constexpr const char* kSchema = "nibble-tech/1";
// Generous bounds that still catch unit mistakes (nJ typed as pJ x 1e6, ...).
constexpr double kMaxEnergyPj = 1e9;
constexpr double kMaxAreaUm2 = 1e12;

const std::array<ItemInfo, kActionCount> kActions = {{
    {"mac_int4_int4", "INT4 x INT4 multiply (pJ per MAC)"},
    {"mac_int4_fp4", "INT4 x FP4 shift, both FP4 GEMMs (pJ per MAC)"},
    {"mac_fp8", "FP8 x FP8 multiply, HFP8 PE (pJ per MAC)"},
    {"mac_fp16", "FP16 multiply of an FMA (pJ per MAC)"},
    {"mac_fp32", "FP32 multiply of an FMA (pJ per MAC)"},
    {"acc_add_int32", "int32 accumulator add (pJ per add)"},
    {"acc_add_fp16", "FP16 accumulator add (pJ per add)"},
    {"acc_add_fp32", "FP32 accumulator add (pJ per add)"},
    {"dot_tree_add_bit", "INT4/FP4 dot-product PE adder tree, one full-adder bit (pJ per bit)"},
    {"pe_reg_write_bit", "PE operand/pipeline register write (pJ per bit)"},
    {"dram_read_byte", "DRAM read (pJ per byte)"},
    {"dram_write_byte", "DRAM write (pJ per byte)"},
    {"vector_op", "vector-unit element-op, any kind without its own entry (pJ per op)"},
    {"block_mult_e2m1", "block-FP4 PE: E2M1 x E2M1 product onto the fixed-point grid (pJ per product)"},
    {"block_tree_add_bit", "block-FP4 PE: one bit of a fixed-point adder-tree adder (pJ per bit added)"},
    {"block_scale_e8m0", "block-FP4 PE: two E8M0 block scales applied to an MXFP4 block sum (pJ per block)"},
    {"block_scale_ue4m3", "block-FP4 PE: two UE4M3 block scales applied to an NVFP4 block sum (pJ per block)"},
    {"mac_bf16", "BF16 multiply of an FMA, BF16 PE (pJ per MAC)"},
}};

const std::array<ItemInfo, kAreaItemCount> kAreas = {{
    {"mult_int4", "INT4 x INT4 multiplier (um^2)"},
    {"shift_int4_fp4", "INT4 x FP4 shifter (um^2)"},
    {"mult_fp8", "FP8 multiplier (um^2)"},
    {"mult_fp16", "FP16 multiplier (um^2)"},
    {"mult_fp32", "FP32 multiplier (um^2)"},
    {"add_int32", "int32 adder (um^2)"},
    {"add_fp16", "FP16 adder (um^2)"},
    {"add_fp32", "FP32 adder (um^2)"},
    {"reg_bit", "one register bit (um^2)"},
    {"sram_per_kib", "SRAM per KiB including periphery (um^2)"},
    {"vector_lane", "one vector-unit lane (um^2)"},
    {"core_overhead", "per-core controller, DMA, interconnect (um^2)"},
    {"block_mult_e2m1", "block-FP4 PE: E2M1 x E2M1 multiplier (um^2)"},
    {"block_tree_add_bit", "block-FP4 PE: one bit of a fixed-point tree adder (um^2)"},
    {"block_scale_unit", "block-FP4 PE: one block's scale unit, UE4M3 4x4 multiply + exponent add + conversion (um^2)"},
    {"mult_bf16", "BF16 multiplier (um^2)"},
}};

/// Reads `{value: X, source: "..."}` at `key` of `parent`.
TechValue read_value(config::YamlMap& parent, const std::string& key, double minimum, double maximum) {
  const YAML::Node node = parent.required(key);
  if (!node.IsMap()) {
    throw parent.error(key, "expected {value: NUMBER, source: \"where it comes from\"}, got a " +
                                std::string(node.IsSequence() ? "list" : "single value"));
  }
  config::YamlMap entry = parent.map(key);
  TechValue out;
  out.line = config::line_of(entry.node());
  out.value = entry.number("value", minimum, maximum);
  out.source = entry.string("source");
  entry.finish();
  return out;
}

/// Line of `key` in `map` (0 when absent): where a section starts, for
/// "missing entry" errors.
std::int64_t key_line(const config::YamlMap& map, const std::string& key) {
  for (const auto& entry : map.node()) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return config::line_of(entry.first);
  }
  return 0;
}

/// Every key a section of a table may hold (by the section's key path), so that
/// a missing entry can point at its misspelling instead.
std::vector<std::string> section_keys(const std::string& section) {
  std::vector<std::string> keys;
  if (section.empty()) {
    keys = {"schema", "name", "node_nm", "voltage_v", "description", "references", "energy_pj", "sram",
            "leakage_w_per_mm2", "area_um2"};
  } else if (section == "energy_pj") {
    for (const auto& a : kActions) keys.emplace_back(a.name);
    for (const auto& kind : vector_kinds()) keys.push_back("vector_op_" + kind);
  } else if (section == "sram") {
    keys = {"reference_word_bits", "read_pj", "write_over_read"};
  } else if (section == "area_um2") {
    for (const auto& a : kAreas) keys.emplace_back(a.name);
  }
  return keys;
}

/// Like read_value, but a missing key is an error that names the action and
/// what it means (the message users see for an incomplete table), located at
/// `section_line`, the line of the section that should hold it.
TechValue read_required(config::YamlMap& parent, const std::string& key, const std::string& what, double maximum,
                        std::int64_t section_line) {
  if (!parent.has(key)) {
    if (auto typo = parent.typo_of(key, section_keys(parent.path()))) throw *typo;
    const std::string path = parent.path().empty() ? key : parent.path() + "." + key;
    throw InputError(parent.file(), section_line, path,
                     "missing entry '" + key + "' (" + what + "); every table must give it as {value, source}");
  }
  return read_value(parent, key, 0.0, maximum);
}

/// yaml-cpp keeps both copies of a repeated key and lookups see the first: a
/// table with `mac_fp16` twice would silently ignore one. Reject it instead.
void reject_duplicate_keys(const config::YamlMap& map) {
  std::vector<std::string> seen;
  for (const auto& entry : map.node()) {
    if (!entry.first.IsScalar()) continue;
    const std::string& key = entry.first.Scalar();
    for (const auto& k : seen) {
      if (k == key) {
        throw InputError(map.file(), config::line_of(entry.first), map.path().empty() ? key : map.path() + "." + key,
                         "appears twice; give each entry once");
      }
    }
    seen.push_back(key);
  }
}

double interpolate_log_log(double x, double x0, double y0, double x1, double y1) {
  const double t = (std::log(x) - std::log(x0)) / (std::log(x1) - std::log(x0));
  return std::exp(std::log(y0) + t * (std::log(y1) - std::log(y0)));
}

}  // namespace

const ItemInfo& action_info(Action action) { return kActions.at(static_cast<std::size_t>(action)); }
const ItemInfo& area_info(AreaItem item) { return kAreas.at(static_cast<std::size_t>(item)); }
bool action_optional(Action action) { return action == Action::kDotTreeAddBit; }

const std::vector<std::string>& vector_kinds() {
  // One source of truth: the trace's vector kinds (workloads/trace.hpp), with
  // '-' written '_' as in the simulator's vec_ops_<kind> counters.
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> out;
    for (const workloads::VectorKind kind : workloads::all_vector_kinds()) {
      std::string name(workloads::vector_kind_name(kind));
      std::replace(name.begin(), name.end(), '-', '_');
      out.push_back(std::move(name));
    }
    return out;
  }();
  return kinds;
}

double TechTable::vector_pj(const std::string& kind) const {
  const auto it = vector_kind_energy.find(kind);
  return it == vector_kind_energy.end() ? pj(Action::kVectorOp) : it->second.value;
}

double TechTable::sram_read_pj(double bank_kib, double word_bits) const {
  if (!(bank_kib > 0.0) || !(word_bits > 0.0) || sram_read.empty()) {
    throw std::logic_error("sram_read_pj needs a positive capacity and width and a non-empty curve");
  }
  double per_reference_word = 0.0;
  if (sram_read.size() == 1) {
    per_reference_word = sram_read.front().read_pj.value;
  } else {
    // The segment containing bank_kib; outside the curve, the end segment's
    // slope extrapolates (a power law), which keeps energies positive.
    std::size_t i = 0;
    while (i + 2 < sram_read.size() && bank_kib > sram_read[i + 1].kib) ++i;
    const SramPoint& a = sram_read[i];
    const SramPoint& b = sram_read[i + 1];
    per_reference_word = interpolate_log_log(bank_kib, a.kib, a.read_pj.value, b.kib, b.read_pj.value);
  }
  return per_reference_word * word_bits / sram_reference_bits.value;
}

double TechTable::sram_write_pj(double bank_kib, double word_bits) const {
  return sram_read_pj(bank_kib, word_bits) * sram_write_over_read.value;
}

TechTable parse_tech_table(const std::string& text, const std::string& origin) {
  const YAML::Node root_node = config::load_yaml_text(text, origin);
  config::YamlMap root(root_node, origin, "");
  reject_duplicate_keys(root);
  TechTable table;
  table.origin = origin;

  const std::string schema = root.string("schema");
  if (schema != kSchema) {
    throw root.error("schema", "expected '" + std::string(kSchema) + "', got '" + schema + "'");
  }
  table.name = root.string("name");
  table.node_nm = root.number("node_nm", 1e-3, 1e6);
  table.voltage_v = root.number_or("voltage_v", 0.0, 0.0, 100.0);
  table.description = root.string_or("description", "");
  if (auto refs = root.optional("references")) {
    if (!refs->IsSequence()) {
      throw InputError(origin, config::line_of(*refs), "references", "expected a list of citations");
    }
    for (const auto& ref : *refs) table.references.push_back(config::scalar_text(ref, origin, "references"));
  }

  // --- energies ---------------------------------------------------------------
  config::YamlMap energy = root.map("energy_pj");
  reject_duplicate_keys(energy);
  const std::int64_t energy_line = key_line(root, "energy_pj");
  for (std::size_t i = 0; i < kActionCount; ++i) {
    if (action_optional(static_cast<Action>(i)) && !energy.has(kActions[i].name)) continue;
    table.energy[i] = read_required(energy, kActions[i].name, kActions[i].description, kMaxEnergyPj, energy_line);
  }
  // A table written before dot-product PEs: the tree's adder bit from the
  // table's own 32-bit add, the tables' width rule (docs/energy-model.md, section 3).
  TechValue& tree_bit = table.energy[static_cast<std::size_t>(Action::kDotTreeAddBit)];
  if (!energy.has(kActions[static_cast<std::size_t>(Action::kDotTreeAddBit)].name)) {
    tree_bit.value = table.pj(Action::kAccAddInt32) / 32.0;
    tree_bit.source = "derived: acc_add_int32 / 32 (the table gives no dot_tree_add_bit; adders grow linearly "
                      "with width)";
    tree_bit.line = 0;
  }
  std::vector<std::string> known;
  for (const auto& kind : vector_kinds()) {
    const std::string key = "vector_op_" + kind;
    known.push_back(key);
    if (energy.has(key)) table.vector_kind_energy[kind] = read_value(energy, key, 0.0, kMaxEnergyPj);
  }
  for (const auto& a : kActions) known.emplace_back(a.name);
  energy.finish(known);

  // --- SRAM -------------------------------------------------------------------
  config::YamlMap sram = root.map("sram");
  reject_duplicate_keys(sram);
  const std::int64_t sram_line = key_line(root, "sram");
  table.sram_reference_bits =
      read_required(sram, "reference_word_bits", "word width of the read_pj points, bits", 1e6, sram_line);
  if (!(table.sram_reference_bits.value >= 1.0)) {
    throw sram.error("reference_word_bits", "expected a width of at least 1 bit");
  }
  if (!sram.has("read_pj")) {
    if (auto typo = sram.typo_of("read_pj", section_keys("sram"))) throw *typo;
    throw InputError(origin, sram_line, "sram.read_pj",
                     "missing entry 'read_pj' (list of {kib, value, source}: 64-bit read energy by capacity)");
  }
  const YAML::Node points = sram.required("read_pj");
  if (!points.IsSequence() || points.size() == 0) {
    throw InputError(origin, config::line_of(points), "sram.read_pj",
                     "expected a non-empty list of {kib, value, source} points");
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string path = "sram.read_pj[" + std::to_string(i) + "]";
    config::YamlMap point(points[i], origin, path);
    SramPoint p;
    p.kib = point.number("kib", 1e-6, 1e12);
    p.read_pj.line = config::line_of(points[i]);
    p.read_pj.value = point.number("value", 1e-12, kMaxEnergyPj);
    p.read_pj.source = point.string("source");
    point.finish();
    if (!table.sram_read.empty() && !(p.kib > table.sram_read.back().kib)) {
      throw InputError(origin, p.read_pj.line, path + ".kib",
                       "capacities must increase from point to point (got " + format_double(p.kib) + " KiB after " +
                           format_double(table.sram_read.back().kib) + " KiB)");
    }
    table.sram_read.push_back(p);
  }
  table.sram_write_over_read = read_required(sram, "write_over_read", "write energy / read energy", 1e3, sram_line);
  sram.finish();

  table.leakage_w_per_mm2 = read_required(root, "leakage_w_per_mm2", "static power per mm^2 of area, W", 1e3, 0);

  // --- areas ------------------------------------------------------------------
  config::YamlMap area = root.map("area_um2");
  reject_duplicate_keys(area);
  const std::int64_t area_line = key_line(root, "area_um2");
  for (std::size_t i = 0; i < kAreaItemCount; ++i) {
    table.area[i] = read_required(area, kAreas[i].name, kAreas[i].description, kMaxAreaUm2, area_line);
  }
  area.finish();

  root.finish();
  return table;
}

TechTable load_tech_table(const std::string& path) { return parse_tech_table(read_file(path), path); }

std::vector<std::string> builtin_tech_names() {
  std::vector<std::string> names;
  for (const auto& t : builtin_tech_sources()) names.emplace_back(t.name);
  return names;
}

TechTable builtin_tech_table(const std::string& name) {
  for (const auto& t : builtin_tech_sources()) {
    if (name == t.name) {
      TechTable table = parse_tech_table(t.text, t.path);
      table.origin = std::string("builtin:") + t.name;
      return table;
    }
  }
  std::string list;
  for (const auto& n : builtin_tech_names()) list += (list.empty() ? "" : ", ") + n;
  const std::string suggestion = closest_match(name, builtin_tech_names());
  throw InputError("", 0, "tech",
                   "no technology table named '" + name + "'; shipped tables: " + list +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                       "; or give a file path");
}

TechTable resolve_tech_table(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto ends_with = [&](const std::string& suffix) {
    return name_or_path.size() >= suffix.size() &&
           name_or_path.compare(name_or_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const bool looks_like_path =
      name_or_path.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml");
  if (looks_like_path || fs::is_regular_file(name_or_path, ec)) return load_tech_table(name_or_path);
  return builtin_tech_table(name_or_path);
}

}  // namespace nibble::energy
