#include "sim/energy/energy_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/numerics/block_dot.hpp"

namespace nibble::energy {

namespace {

const char* const kComponentNames[kComponentCount] = {
    "mac", "accumulator", "registers", "scratchpad_input", "scratchpad_weight",
    "scratchpad_output", "dram", "vector", "leakage"};

const char* const kAccCounters[CounterMap::kAccFormats] = {"acc_add_int32", "acc_add_fp16", "acc_add_fp32"};
const char* const kSpadCounters[6] = {"spad_input_read_bytes",  "spad_input_write_bytes",
                                      "spad_weight_read_bytes", "spad_weight_write_bytes",
                                      "spad_output_read_bytes", "spad_output_write_bytes"};

constexpr double kPjPerJ = 1e12;

StatRegistry::Id need(const StatRegistry& registry, const std::string& name, const std::string& origin) {
  const auto id = registry.find(name);
  if (!id) {
    throw InputError(origin, 0, name,
                     "missing counter '" + name + "': the energy model needs it (a whole-number column of that name)");
  }
  return *id;
}

double bank_kib(const design::ScratchpadConfig& s) {
  return static_cast<double>(s.capacity_bytes) / static_cast<double>(s.banks) / 1024.0;
}

}  // namespace

const char* component_name(Component component) { return kComponentNames[static_cast<std::size_t>(component)]; }

const std::vector<std::string>& energy_column_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const char* c : kComponentNames) out.push_back(std::string("energy_") + c + "_pj");
    out.emplace_back("energy_total_pj");
    return out;
  }();
  return names;
}

double RowEnergy::total_pj() const {
  double sum = 0.0;
  for (const double v : pj) sum += v;
  return sum;
}

RowEnergy& RowEnergy::operator+=(const RowEnergy& other) {
  for (std::size_t i = 0; i < kComponentCount; ++i) pj[i] += other.pj[i];
  return *this;
}

const std::vector<std::string>& required_counter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"cycles", "macs"};
    // mac_mxfp4, mac_nvfp4 and mac_bf16 may be absent (older layers.csv files): not required.
    for (std::size_t m = 0; m < CounterMap::kRequiredModes; ++m) out.push_back(mac_counter(static_cast<MacMode>(m)));
    for (const char* c : kAccCounters) out.emplace_back(c);
    out.emplace_back("pe_reg_write_bits");
    for (const char* c : kSpadCounters) out.emplace_back(c);
    out.emplace_back("dram_bytes_read");
    out.emplace_back("dram_bytes_written");
    out.emplace_back("vec_ops");
    return out;
  }();
  return names;
}

CounterMap::CounterMap(const StatRegistry& registry, const std::string& origin)
    : origin(origin), registry_size(registry.size()) {
  cycles = need(registry, "cycles", origin);
  macs = need(registry, "macs", origin);
  for (std::size_t i = 0; i < kModes; ++i) {
    const std::string name = mac_counter(static_cast<MacMode>(i));
    mac[i] = i < kRequiredModes ? std::optional<StatRegistry::Id>(need(registry, name, origin)) : registry.find(name);
  }
  for (std::size_t i = 0; i < kAccFormats; ++i) acc_add[i] = need(registry, kAccCounters[i], origin);
  dot_tree_add_bits = registry.find("dot_tree_add_bits");
  pe_reg_write_bits = need(registry, "pe_reg_write_bits", origin);
  for (std::size_t i = 0; i < 6; ++i) spad[i] = need(registry, kSpadCounters[i], origin);
  dram_read = need(registry, "dram_bytes_read", origin);
  dram_write = need(registry, "dram_bytes_written", origin);
  vec_ops = need(registry, "vec_ops", origin);
  const auto& kinds = vector_kinds();
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    if (const auto id = registry.find("vec_ops_" + kinds[k])) vec_kinds.emplace_back(k, *id);
  }
}

EnergyModel::EnergyModel(TechTable tech, design::Design design)
    : m_tech(std::move(tech)), m_design(std::move(design)) {
  design::validate_design(m_design);
  m_area = chip_area(m_tech, m_design);
  ActionEnergies& e = m_actions;
  e.mac = {m_tech.pj(Action::kMacInt4Int4), m_tech.pj(Action::kMacInt4Fp4), m_tech.pj(Action::kMacFp8),
           m_tech.pj(Action::kMacFp16), m_tech.pj(Action::kMacFp32), block_mac_pj(m_tech, MacMode::kMxfp4),
           block_mac_pj(m_tech, MacMode::kNvfp4), m_tech.pj(Action::kMacBf16)};
  e.acc = {m_tech.pj(Action::kAccAddInt32), m_tech.pj(Action::kAccAddFp16), m_tech.pj(Action::kAccAddFp32)};
  e.dot_tree_bit = m_tech.pj(Action::kDotTreeAddBit);
  e.reg_bit = m_tech.pj(Action::kPeRegWriteBit);
  // Counters are bytes; an access moves word_bits/8 of them.
  const design::ScratchpadConfig* spads[3] = {&m_design.input, &m_design.weight, &m_design.output};
  for (std::size_t s = 0; s < 3; ++s) {
    const double bytes_per_access = static_cast<double>(spads[s]->word_bits) / 8.0;
    const double kib = bank_kib(*spads[s]);
    const double width = static_cast<double>(spads[s]->word_bits);
    e.spad_byte[2 * s] = m_tech.sram_read_pj(kib, width) / bytes_per_access;
    e.spad_byte[2 * s + 1] = m_tech.sram_write_pj(kib, width) / bytes_per_access;
  }
  e.dram_read_byte = m_tech.pj(Action::kDramReadByte);
  e.dram_write_byte = m_tech.pj(Action::kDramWriteByte);
  e.vector_default = m_tech.pj(Action::kVectorOp);
  for (const auto& kind : vector_kinds()) e.vector_kind.push_back(m_tech.vector_pj(kind));
  e.leakage_w = m_tech.leakage_w_per_mm2.value * m_area.total_mm2();
  e.leakage_pj_per_cycle = e.leakage_w * kPjPerJ / (m_design.clock_mhz * 1e6);
  // A user's SRAM curve extrapolated to an extreme bank size, or an extreme
  // area, could overflow; a report must never carry an infinite energy.
  const char* const spad_names[3] = {"input", "weight", "output"};
  for (std::size_t i = 0; i < 6; ++i) {
    if (!std::isfinite(e.spad_byte[i])) {
      throw InputError(m_tech.origin, 0, std::string("scratchpads.") + spad_names[i / 2],
                       "the technology table's SRAM curve gives a non-finite energy at this bank size");
    }
  }
  if (!std::isfinite(e.leakage_pj_per_cycle) || !std::isfinite(m_area.total_mm2())) {
    throw InputError(m_tech.origin, 0, "area", "the chip area or its leakage is not finite");
  }
}

RowEnergy EnergyModel::row(const CounterMap& map, const StatVector& v) const {
  if (v.size() != map.registry_size) {
    throw std::logic_error("StatVector has " + std::to_string(v.size()) + " counters, the registry " +
                           std::to_string(map.registry_size));
  }
  const ActionEnergies& e = m_actions;
  const auto n = [&](StatRegistry::Id id) { return static_cast<double>(v[id]); };
  RowEnergy out;
  auto& pj = out.pj;

  double mac = 0.0;
  for (std::size_t i = 0; i < CounterMap::kModes; ++i) {
    if (map.mac[i]) mac += n(*map.mac[i]) * e.mac[i];
  }
  pj[static_cast<std::size_t>(Component::kMac)] = mac;

  double acc = 0.0;
  for (std::size_t i = 0; i < CounterMap::kAccFormats; ++i) acc += n(map.acc_add[i]) * e.acc[i];
  if (map.dot_tree_add_bits) acc += n(*map.dot_tree_add_bits) * e.dot_tree_bit;
  pj[static_cast<std::size_t>(Component::kAccumulator)] = acc;

  pj[static_cast<std::size_t>(Component::kRegisters)] = n(map.pe_reg_write_bits) * e.reg_bit;

  for (std::size_t s = 0; s < 3; ++s) {
    pj[static_cast<std::size_t>(Component::kScratchpadInput) + s] =
        n(map.spad[2 * s]) * e.spad_byte[2 * s] + n(map.spad[2 * s + 1]) * e.spad_byte[2 * s + 1];
  }

  pj[static_cast<std::size_t>(Component::kDram)] = n(map.dram_read) * e.dram_read_byte + n(map.dram_write) * e.dram_write_byte;

  double vector = 0.0;
  std::uint64_t by_kind = 0;
  for (const auto& [k, id] : map.vec_kinds) {
    vector += n(id) * e.vector_kind[k];
    const auto sum = checked_add(by_kind, v[id]);
    if (!sum) throw InputError(map.origin, 0, "vec_ops_" + vector_kinds()[k], "vector op counts overflow 64 bits");
    by_kind = *sum;
  }
  if (by_kind > v[map.vec_ops]) {
    throw InputError(map.origin, 0, "vec_ops",
                     "vec_ops (" + std::to_string(v[map.vec_ops]) + ") is smaller than the sum of vec_ops_<kind> (" +
                         std::to_string(by_kind) + ")");
  }
  vector += static_cast<double>(v[map.vec_ops] - by_kind) * e.vector_default;
  pj[static_cast<std::size_t>(Component::kVector)] = vector;

  pj[static_cast<std::size_t>(Component::kLeakage)] = n(map.cycles) * e.leakage_pj_per_cycle;
  return out;
}

EnergyReport EnergyModel::account(const StatRegistry& registry, const std::vector<StatVector>& rows,
                                  const std::string& origin) const {
  const CounterMap map(registry, origin);
  EnergyReport report;
  report.rows.reserve(rows.size());
  double macs = 0.0;
  double cycles = 0.0;
  for (const StatVector& v : rows) {
    report.rows.push_back(row(map, v));
    report.total += report.rows.back();
    macs += static_cast<double>(v[map.macs]);
    cycles += static_cast<double>(v[map.cycles]);
  }
  report.area = m_area;
  report.metrics = metrics(report.total, macs, cycles);
  return report;
}

EnergyMetrics EnergyModel::metrics(const RowEnergy& total, double macs, double cycles) const {
  EnergyMetrics m;
  const double pj = total.total_pj();
  m.energy_per_step_j = pj / kPjPerJ;
  m.seconds = cycles / (m_design.clock_mhz * 1e6);
  m.macs = macs;
  // (2 macs ops) / (pj 1e-12 J) / 1e12 = 2 macs / pj  [TOPS/W = ops per pJ]
  m.tops_per_watt = pj > 0.0 ? 2.0 * macs / pj : 0.0;
  m.edp_js = m.energy_per_step_j * m.seconds;
  m.average_power_w = m.seconds > 0.0 ? m.energy_per_step_j / m.seconds : 0.0;
  m.area_mm2 = m_area.total_mm2();
  return m;
}

double block_mac_pj(const TechTable& tech, MacMode mode) {
  const bool mx = mode == MacMode::kMxfp4;
  if (!mx && mode != MacMode::kNvfp4) throw std::logic_error("block_mac_pj: not a block-FP4 mode");
  const numerics::BlockFormat& f = numerics::pe_block_format(mx ? numerics::PeMode::kMxfp4 : numerics::PeMode::kNvfp4);
  const double block = static_cast<double>(f.block);
  const double scale = tech.pj(mx ? Action::kBlockScaleE8m0 : Action::kBlockScaleUe4m3);
  return tech.pj(Action::kBlockMultE2m1) + block_tree_bits(f.block) / block * tech.pj(Action::kBlockTreeAddBit) +
         scale / block;
}

std::vector<MacMode> native_mac_modes(design::PeKind kind) {
  std::vector<MacMode> out;
  for (const numerics::PeMode mode : design::native_modes(kind)) {
    const MacMode m = design::datapath_of(mode);
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return out;
}

const char* mac_mode_name(MacMode mode) { return design::datapath_name(mode); }

std::string mac_counter(MacMode mode) { return design::mac_counter_name(mode); }

namespace {

// Dynamic energy of one MAC in `mode` on the one-array design `d` (a unit's
// view) at peak: product, accumulator add, register hops and its share of the
// scratchpad reads and writes (docs/energy-model.md, "Peak efficiency").
double peak_dynamic_pj(const ActionEnergies& e, const design::Design& d, MacMode mode) {
  const std::size_t m = static_cast<std::size_t>(mode);
  static const int kOperandBits[CounterMap::kModes] = {4, 4, 8, 16, 32, 4, 4, 16};
  // The mode's accumulator (accumulators.int4, .fp4 or .float) and the PE adder it uses.
  const numerics::Format acc_format = mode == MacMode::kInt4Int4   ? d.array.acc_int4
                                      : mode == MacMode::kInt4Fp4 ? d.array.acc_fp4
                                                                  : d.array.acc_float;
  const std::size_t acc = adder_index(acc_format);
  const double a_bits = kOperandBits[m];
  const double p_bits = numerics::format_bits(kAdderFormats[acc]);

  const double dot = static_cast<double>(d.array.dot_product);
  double pj = e.mac[m];
  if (mode == MacMode::kMxfp4 || mode == MacMode::kNvfp4) {
    // A block-FP4 PE adds one block result per block into the partial sum, not one per product
    // (its tree and scale step are in the product's energy).
    pj += e.acc[acc] / (mode == MacMode::kMxfp4 ? 32.0 : 16.0);
  } else if (design::has_dot_tree(d.array)) {
    // One accumulate and one pass through the exact tree per N products.
    pj += (e.acc[acc] + static_cast<double>(design::dot_tree_adder_bits(d.array)) * e.dot_tree_bit) / dot;
  } else {
    pj += e.acc[acc];  // a MAC PE; a floating-point dot-product PE is charged as N MAC PEs
  }
  // Activation hop per product; a partial-sum hop per PE, i.e. per N products of a dot-product PE.
  pj += (a_bits + p_bits / dot) * e.reg_bit;
  pj += a_bits / 8.0 / static_cast<double>(d.array.cols) * e.spad_byte[0];  // one input read feeds a row of cols PEs
  pj += p_bits / 8.0 / (static_cast<double>(d.array.rows) * dot) * e.spad_byte[5];  // one output write per R·N MACs
  return pj;
}

bool executes(design::PeKind kind, MacMode mode) {
  for (const MacMode n : native_mac_modes(kind)) {
    if (n == mode) return true;
  }
  return false;
}

}  // namespace

std::vector<MacMode> native_mac_modes(const design::Design& d) {
  std::vector<MacMode> out;
  for (std::size_t m = 0; m < CounterMap::kModes; ++m) {
    const auto mode = static_cast<MacMode>(m);
    for (std::size_t u = 0; u < d.unit_count(); ++u) {
      if (executes(d.unit(u).array.pe_kind, mode)) {
        out.push_back(mode);
        break;
      }
    }
  }
  return out;
}

PeakEfficiency peak_efficiency(const EnergyModel& model, MacMode mode) {
  const ActionEnergies& e = model.actions();
  const design::Design& d = model.design();
  // Every unit that executes the mode natively runs it at once; the others idle
  // but leak, so the whole chip's leakage is charged to these MACs.
  double macs_per_second = 0.0;
  double dynamic_w = 0.0;
  for (std::size_t u = 0; u < d.unit_count(); ++u) {
    const design::ArrayConfig& a = d.unit(u).array;
    if (!executes(a.pe_kind, mode)) continue;
    const double rate = static_cast<double>(a.rows) * static_cast<double>(a.cols) *
                        static_cast<double>(a.dot_product) * static_cast<double>(d.cores) * d.clock_mhz * 1e6;
    macs_per_second += rate;
    dynamic_w += peak_dynamic_pj(e, d.unit_view(u), mode) * rate / kPjPerJ;
  }
  if (macs_per_second == 0.0) {
    throw std::logic_error("no matrix unit of " + d.name + " executes mode " + mac_mode_name(mode));
  }
  PeakEfficiency out;
  out.macs_per_second = macs_per_second;
  out.power_w = dynamic_w + e.leakage_w;
  out.pj_per_mac = out.power_w * kPjPerJ / out.macs_per_second;
  out.tops_per_watt = 2.0 / out.pj_per_mac;
  return out;
}

const std::vector<PeakFormat>& peak_formats() {
  static const std::vector<PeakFormat> formats = {{"int4", MacMode::kInt4Int4},
                                                  {"fp4", MacMode::kInt4Fp4},
                                                  {"hfp8", MacMode::kFp8},
                                                  {"fp16", MacMode::kFp16},
                                                  {"fp32", MacMode::kFp32},
                                                  {"mxfp4", MacMode::kMxfp4},
                                                  {"nvfp4", MacMode::kNvfp4},
                                                  {"bf16", MacMode::kBf16}};
  return formats;
}

}  // namespace nibble::energy
