// Energy accounting: action counts x energy per action + leakage x time.
//
// For every row (a layer and a phase) the energy of each component is exactly
//   mac         = sum over PE modes of mac_<mode> x E(mode)
//   accumulator = sum over formats of acc_add_<fmt> x E(acc_add_<fmt>)
//                 + dot_tree_add_bits x E(dot_tree_add_bit)
//   registers   = pe_reg_write_bits x E(pe_reg_write_bit)
//   scratchpad_<buf> = <buf>_read_bytes x E_read/byte(<buf>) + <buf>_write_bytes x E_write/byte(<buf>)
//   dram        = dram_bytes_read x E(dram_read_byte) + dram_bytes_written x E(dram_write_byte)
//   vector      = sum over kinds of vec_ops_<kind> x E(kind) + (vec_ops - sum of kinds) x E(vector_op)
//   leakage     = leakage power (W/mm^2 x chip area) x cycles / clock
// and the row total is their sum (docs/energy-model.md). Nothing else enters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/common/stats.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/energy/area.hpp"
#include "sim/energy/tech_table.hpp"

namespace nibble::energy {

/// Energy components of a row, in this order in every output.
enum class Component : std::size_t {
  kMac,               ///< multiplies and shifts
  kAccumulator,       ///< accumulator adds and dot-product adder-tree adds
  kRegisters,         ///< PE operand/pipeline register writes
  kScratchpadInput,   ///< input scratchpad reads and writes
  kScratchpadWeight,  ///< weight scratchpad
  kScratchpadOutput,  ///< output/partial-sum scratchpad
  kDram,              ///< off-chip traffic
  kVector,            ///< vector-unit element-ops
  kLeakage,           ///< static power x time
  kCount,
};
constexpr std::size_t kComponentCount = static_cast<std::size_t>(Component::kCount);
/// snake_case component name ("mac", "scratchpad_input", ...).
const char* component_name(Component component);
/// The per-row energy columns, stable names for layers.csv: energy_<component>_pj
/// for each component, then energy_total_pj.
const std::vector<std::string>& energy_column_names();

/// Energy of one row (or a total) by component, pJ.
struct RowEnergy {
  std::array<double, kComponentCount> pj{};  ///< indexed by Component
  double operator[](Component c) const { return pj[static_cast<std::size_t>(c)]; }
  /// Sum of the components, in Component order.
  double total_pj() const;
  /// Component-wise sum.
  RowEnergy& operator+=(const RowEnergy& other);
};

/// Where the counters the model reads live in one registry; built once per
/// registry so that accounting a row is a handful of multiply-adds.
class CounterMap {
 public:
  /// Resolves every counter by name. A missing counter is an InputError whose
  /// file is `origin` and whose field is the counter's name. The per-kind
  /// `vec_ops_<kind>` counters and `dot_tree_add_bits` are optional (absent = 0:
  /// a layers.csv written before they existed).
  explicit CounterMap(const StatRegistry& registry, const std::string& origin = "");

  /// mac_int4_int4, mac_int4_fp4, mac_fp8, mac_fp16, mac_fp32, then the block-FP4 PE's mac_mxfp4 and
  /// mac_nvfp4 and the BF16 PE's mac_bf16
  static constexpr std::size_t kModes = design::kDatapaths;
  static constexpr std::size_t kRequiredModes = 5;  ///< the first kRequiredModes counters must exist; the block ones may not (older layers.csv)
  static constexpr std::size_t kAccFormats = kAdderFormats.size();  ///< acc_add_int32, acc_add_fp16, acc_add_fp32

  std::string origin;                         ///< source of the counters, for errors
  std::size_t registry_size;                  ///< counters in the registry (rows must match)
  StatRegistry::Id cycles;                    ///< row cycles (for leakage)
  StatRegistry::Id macs;                      ///< GEMM MACs (for TOPS/W)
  std::array<std::optional<StatRegistry::Id>, kModes> mac;  ///< MACs per PE mode (a block mode's may be absent: 0)
  std::array<StatRegistry::Id, kAccFormats> acc_add;  ///< accumulator adds per format
  std::optional<StatRegistry::Id> dot_tree_add_bits;  ///< dot-product adder-tree bits, when present
  StatRegistry::Id pe_reg_write_bits;         ///< register bits written
  std::array<StatRegistry::Id, 6> spad;       ///< input r/w, weight r/w, output r/w bytes
  StatRegistry::Id dram_read;                 ///< dram_bytes_read
  StatRegistry::Id dram_write;                ///< dram_bytes_written
  StatRegistry::Id vec_ops;                   ///< all vector element-ops
  std::vector<std::pair<std::size_t, StatRegistry::Id>> vec_kinds;  ///< (index in vector_kinds(), counter) present
};

/// The counter names the model needs (for docs and error messages); the block-FP4 and
/// BF16 MAC counters are read when present and are not among them.
const std::vector<std::string>& required_counter_names();

/// Per-action energies resolved for one design (SRAM energies at its bank
/// sizes, leakage at its area), pJ unless noted.
struct ActionEnergies {
  std::array<double, CounterMap::kModes> mac{};        ///< per MAC, by mode
  std::array<double, CounterMap::kAccFormats> acc{};   ///< per add, by format (adder_index)
  double dot_tree_bit = 0.0;                           ///< per full-adder bit of a dot-product tree
  double reg_bit = 0.0;                                ///< per register bit written
  std::array<double, 6> spad_byte{};                   ///< per byte: input r/w, weight r/w, output r/w
  double dram_read_byte = 0.0;                         ///< per byte read
  double dram_write_byte = 0.0;                        ///< per byte written
  double vector_default = 0.0;                         ///< per element-op without a kind entry
  std::vector<double> vector_kind;                     ///< per element-op, indexed like vector_kinds()
  double leakage_w = 0.0;                              ///< chip static power, W
  double leakage_pj_per_cycle = 0.0;                   ///< leakage_w / clock, pJ
};

/// Chip-level figures of a whole run (a training step).
struct EnergyMetrics {
  double energy_per_step_j = 0.0;  ///< total energy of all rows, J
  double seconds = 0.0;            ///< sum of row cycles / clock
  double macs = 0.0;               ///< GEMM MACs
  double tops_per_watt = 0.0;      ///< 2 ops per MAC / energy (0 when no energy)
  double edp_js = 0.0;             ///< energy x delay, J*s
  double average_power_w = 0.0;    ///< energy / seconds (0 when no time)
  double area_mm2 = 0.0;           ///< chip area
};

/// The energy of every row, their sum and the chip's figures.
struct EnergyReport {
  std::vector<RowEnergy> rows;  ///< in input order
  RowEnergy total;              ///< sum over rows, component by component
  AreaBreakdown area;           ///< chip area by part
  EnergyMetrics metrics;        ///< derived figures
};

/// A technology table applied to one design.
class EnergyModel {
 public:
  /// Validates the design (design::validate_design: an InputError naming the
  /// field) and resolves every action's energy.
  EnergyModel(TechTable tech, design::Design design);

  const TechTable& tech() const { return m_tech; }
  const design::Design& design() const { return m_design; }
  const ActionEnergies& actions() const { return m_actions; }
  const AreaBreakdown& area() const { return m_area; }

  /// Energy of one row. Throws InputError when vec_ops is smaller than the
  /// sum of its kinds, std::logic_error when the row's size differs from the map's registry.
  RowEnergy row(const CounterMap& map, const StatVector& counters) const;

  /// Every row, the total and the metrics. `origin` names the counters' source in errors.
  EnergyReport account(const StatRegistry& registry, const std::vector<StatVector>& rows,
                       const std::string& origin = "") const;

  /// Metrics of a total energy, its MACs and cycles on this chip.
  EnergyMetrics metrics(const RowEnergy& total, double macs, double cycles) const;

 private:
  TechTable m_tech;           ///< the table
  design::Design m_design;    ///< the design
  ActionEnergies m_actions;   ///< resolved energies
  AreaBreakdown m_area;       ///< chip area
};

/// GEMM datapath modes, as in the mac_<mode> counters: what a MAC is priced as
/// (one tech-table action each). The design's own type (design::Datapath,
/// sim/design/pe_support.hpp, with the one PeMode -> datapath mapping).
using MacMode = design::Datapath;
/// pJ of one product of a block-FP4 PE in `mode` (kMxfp4, kNvfp4): the E2M1
/// multiply, its share of the block's adder tree and of the block's scale
/// step (docs/energy-model.md, "Block-FP4 PE"); the block's accumulator add
/// is an acc_add_* action of its own.
double block_mac_pj(const TechTable& tech, MacMode mode);

/// Peak efficiency of the chip in one mode (docs/energy-model.md, "Peak"):
/// every PE of every matrix unit that executes `mode` natively busy every cycle
/// on a weight-stationary GEMM with k = rows (no partial sum read back),
/// weights loaded once for an unbounded stream, no DRAM; per MAC: product +
/// accumulator add (an INT4/FP4 dot-product PE: its one accumulate and its
/// tree's adder bits over N products) + (operand + accumulator) register bits +
/// operand_bits/cols input-scratchpad read bits + acc_bits/rows
/// output-scratchpad write bits (each unit's own), plus the whole chip's
/// leakage spread over the MACs.
struct PeakEfficiency {
  double pj_per_mac = 0.0;      ///< energy per MAC including leakage (average over the units)
  double macs_per_second = 0.0; ///< sum over the units of rows x cols, x cores x clock
  double power_w = 0.0;         ///< at that rate, leakage included
  double tops_per_watt = 0.0;   ///< 2 ops per MAC
};
/// `mode` must be one a matrix unit of the design executes (std::logic_error otherwise).
PeakEfficiency peak_efficiency(const EnergyModel& model, MacMode mode);
/// The modes some matrix unit of `design` executes natively, in MacMode order.
std::vector<MacMode> native_mac_modes(const design::Design& design);
/// A GEMM format of summary.json's `peak` and the datapath mode it runs in.
struct PeakFormat {
  const char* name;  ///< int4 fp4 hfp8 fp16 fp32 mxfp4 nvfp4 bf16
  MacMode mode;      ///< int4: INT4 x INT4; fp4: INT4 x FP4 (the shift-add); the floats their FMA
};
/// The formats summary.json's `peak` may list, in that order.
const std::vector<PeakFormat>& peak_formats();
/// The modes a PE kind executes natively (design::native_modes by MAC counter:
/// int4-fp4 INT4xINT4 and INT4xFP4, the others one each).
std::vector<MacMode> native_mac_modes(design::PeKind kind);
/// "int4_int4", "int4_fp4", "fp8", "fp16", "fp32", "mxfp4", "nvfp4", "bf16" (the counters' suffixes).
const char* mac_mode_name(MacMode mode);
/// The mode's MAC counter (and Accelergy action): "mac_" and its name.
std::string mac_counter(MacMode mode);

}  // namespace nibble::energy
