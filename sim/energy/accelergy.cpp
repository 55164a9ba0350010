#include "sim/energy/accelergy.hpp"

#include <cctype>
#include <utility>
#include <vector>

#include "sim/common/text.hpp"
#include "sim/design/pe_support.hpp"

namespace nibble::energy {

namespace {

struct ErtAction {
  std::string name;  ///< action name
  double pj;         ///< energy per action
};

struct ErtComponent {
  std::string name;                 ///< hierarchical name with instance ranges
  double area_um2;                  ///< per instance
  std::vector<ErtAction> actions;   ///< in output order
};

/// Accelergy names are identifiers: anything else becomes '_'.
std::string identifier(const std::string& text) {
  std::string out;
  for (const char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out.front()))) out.insert(out.begin(), '_');
  return out;
}

/// Text for a YAML comment: control characters (a newline would end the comment) become spaces.
std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

std::string range(const std::string& name, std::uint64_t count) {
  return count > 1 ? name + "[0.." + std::to_string(count - 1) + "]" : name;
}

std::vector<ErtComponent> components(const EnergyModel& model) {
  const design::Design& d = model.design();
  const TechTable& tech = model.tech();
  const ActionEnergies& e = model.actions();
  const double leak_pj_per_um2_cycle = tech.leakage_w_per_mm2.value * 1e-6 * 1e12 / (d.clock_mhz * 1e6);
  const std::string chip = "system." + identifier(d.name);
  const std::string core = chip + "." + range("core", d.cores);

  std::vector<ErtComponent> out;
  // One PE component per matrix unit ("PE" alone for a one-unit design), each
  // with its own PE kind's area.
  for (std::size_t u = 0; u < d.unit_count(); ++u) {
    const design::ArrayConfig& a = d.unit(u).array;
    const std::string name = d.unit_count() == 1 ? "PE" : identifier(d.unit(u).name) + "_PE";
    const double pe_um2 = u == 0 ? model.area().pe_um2 : pe_area_um2(tech, d.unit_view(u));
    ErtComponent pe{core + "." + range(name, a.rows * a.cols), pe_um2, {}};
    for (std::size_t i = 0; i < CounterMap::kModes; ++i) {
      pe.actions.push_back({mac_counter(static_cast<MacMode>(i)), e.mac[i]});
    }
    static const char* const adds[] = {"acc_add_int32", "acc_add_fp16", "acc_add_fp32"};
    for (std::size_t i = 0; i < 3; ++i) pe.actions.push_back({adds[i], e.acc[i]});
    // An INT4/FP4 dot-product PE: one pass of its N products through the exact adder tree.
    if (design::has_dot_tree(a)) {
      pe.actions.push_back(
          {"dot_tree_add", static_cast<double>(design::dot_tree_adder_bits(a)) * e.dot_tree_bit});
    }
    pe.actions.push_back({"reg_write_bit", e.reg_bit});
    pe.actions.push_back({"leak", pe.area_um2 * leak_pj_per_um2_cycle});
    out.push_back(std::move(pe));
  }
  const std::pair<const char*, const design::ScratchpadConfig*> spads[3] = {
      {"spad_input", &d.input}, {"spad_weight", &d.weight}, {"spad_output", &d.output}};
  for (std::size_t s = 0; s < 3; ++s) {
    const double bytes = static_cast<double>(spads[s].second->word_bits) / 8.0;
    const double area = static_cast<double>(spads[s].second->capacity_bytes) / 1024.0 * tech.um2(AreaItem::kSramPerKib);
    ErtComponent c{core + "." + spads[s].first, area, {}};
    c.actions.push_back({"read", e.spad_byte[2 * s] * bytes});   // one word_bits access
    c.actions.push_back({"write", e.spad_byte[2 * s + 1] * bytes});
    c.actions.push_back({"leak", area * leak_pj_per_um2_cycle});
    out.push_back(std::move(c));
  }
  {
    ErtComponent lane{core + ".vector_unit." + range("lane", d.vector.lanes), tech.um2(AreaItem::kVectorLane), {}};
    lane.actions.push_back({"op", e.vector_default});
    const auto& kinds = vector_kinds();
    for (std::size_t k = 0; k < kinds.size(); ++k) lane.actions.push_back({"op_" + kinds[k], e.vector_kind[k]});
    lane.actions.push_back({"leak", lane.area_um2 * leak_pj_per_um2_cycle});
    out.push_back(std::move(lane));
  }
  {
    ErtComponent overhead{core + ".overhead", tech.um2(AreaItem::kCoreOverhead), {}};
    overhead.actions.push_back({"leak", overhead.area_um2 * leak_pj_per_um2_cycle});
    out.push_back(std::move(overhead));
  }
  {
    // Accelergy's DRAM actions are per access; nibble's are per byte: one 64-bit access = 8 bytes.
    ErtComponent dram{chip + ".DRAM", 0.0, {}};
    dram.actions.push_back({"read", e.dram_read_byte * 8.0});
    dram.actions.push_back({"write", e.dram_write_byte * 8.0});
    dram.actions.push_back({"leak", 0.0});
    out.push_back(std::move(dram));
  }
  return out;
}

std::string header(const EnergyModel& model, const char* what, const char* unit) {
  return "# Accelergy " + std::string(what) + " exported by nibble: design '" + one_line(model.design().name) +
         "', technology table '" + one_line(model.tech().name) + "', clock " +
         format_double(model.design().clock_mhz) + " MHz.\n# Units: " + unit +
         ". Definitions: docs/energy-model.md, \"Accelergy export\".\n";
}

}  // namespace

std::string accelergy_ert_yaml(const EnergyModel& model) {
  std::string out = header(model, "energy reference table", "pJ per action; leak = pJ per clock cycle");
  out += "ERT:\n  version: 0.3\n  tables:\n";
  for (const auto& c : components(model)) {
    out += "  - name: " + c.name + "\n    actions:\n";
    for (const auto& a : c.actions) {
      out += "    - name: " + a.name + "\n      arguments: null\n      energy: " + format_double(a.pj) + "\n";
    }
  }
  return out;
}

std::string accelergy_art_yaml(const EnergyModel& model) {
  std::string out = header(model, "area reference table", "um^2 per instance");
  out += "ART:\n  version: 0.3\n  tables:\n";
  for (const auto& c : components(model)) {
    out += "  - name: " + c.name + "\n    area: " + format_double(c.area_um2) + "\n";
  }
  return out;
}

}  // namespace nibble::energy
