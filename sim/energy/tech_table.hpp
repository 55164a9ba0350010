// A technology table: energy per action and area per component at one node,
// every number with its source (hw/tech/*.yaml, docs/energy-model.md).
//
// Tables are strict: a missing action, a negative, infinite or NaN energy, an
// unknown key or a malformed SRAM curve is a nibble::InputError naming the
// file, the line and the action, so a typo never becomes a silent zero.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nibble::energy {

/// One number of a table and where it came from.
struct TechValue {
  double value = 0.0;      ///< in the unit of its section (pJ, um^2, W/mm^2, ...)
  std::string source;      ///< citation or derivation, shown in reports
  std::int64_t line = 0;   ///< 1-based line in the table file (0: not from a file)
};

/// The actions a table prices, in pJ (keys of `energy_pj`).
enum class Action : std::size_t {
  kMacInt4Int4,    ///< INT4 x INT4 multiply
  kMacInt4Fp4,     ///< INT4 x FP4 shift (both FP4 GEMMs)
  kMacFp8,         ///< FP8 x FP8 multiply (HFP8 PE)
  kMacFp16,        ///< FP16 multiply (the FMA's add is an accumulator add)
  kMacFp32,        ///< FP32 multiply
  kAccAddInt32,    ///< one int32 accumulator add
  kAccAddFp16,     ///< one FP16 accumulator add
  kAccAddFp32,     ///< one FP32 accumulator add
  kDotTreeAddBit,  ///< one full-adder bit of an INT4/FP4 dot-product PE's adder tree (optional key)
  kPeRegWriteBit,  ///< one bit written into a PE operand/pipeline register
  kDramReadByte,   ///< one byte read from DRAM
  kDramWriteByte,  ///< one byte written to DRAM
  kVectorOp,       ///< one vector-unit element-op (default for every kind)
  kBlockMultE2m1,    ///< block-FP4 PE: one E2M1 x E2M1 product onto the fixed-point grid
  kBlockTreeAddBit,  ///< block-FP4 PE: one bit of a fixed-point adder-tree adder
  kBlockScaleE8m0,   ///< block-FP4 PE: one MXFP4 block's two E8M0 scales applied (exponent add + conversion)
  kBlockScaleUe4m3,  ///< block-FP4 PE: one NVFP4 block's two UE4M3 scales applied (4x4 multiply, exponent add, conversion)
  kMacBf16,          ///< BF16 multiply of an FMA (BF16 PE)
  kCount,
};
constexpr std::size_t kActionCount = static_cast<std::size_t>(Action::kCount);

/// The components a table sizes, in um^2 (keys of `area_um2`).
enum class AreaItem : std::size_t {
  kMultInt4,      ///< INT4 x INT4 multiplier
  kShiftInt4Fp4,  ///< INT4 x FP4 shifter
  kMultFp8,       ///< FP8 multiplier
  kMultFp16,      ///< FP16 multiplier
  kMultFp32,      ///< FP32 multiplier
  kAddInt32,      ///< int32 adder
  kAddFp16,       ///< FP16 adder
  kAddFp32,       ///< FP32 adder
  kRegBit,        ///< one register bit
  kSramPerKib,    ///< one KiB of SRAM including periphery
  kVectorLane,    ///< one vector-unit lane
  kCoreOverhead,  ///< per core: controller, DMA, interconnect
  kBlockMultE2m1,    ///< block-FP4 PE: one E2M1 x E2M1 multiplier
  kBlockTreeAddBit,  ///< block-FP4 PE: one bit of a fixed-point tree adder
  kBlockScaleUnit,   ///< block-FP4 PE: one block's scale unit (UE4M3 4x4 multiply + exponent add + conversion)
  kMultBf16,         ///< BF16 multiplier
  kCount,
};
constexpr std::size_t kAreaItemCount = static_cast<std::size_t>(AreaItem::kCount);

/// Name and meaning of an action or area item, for errors, docs and reports.
struct ItemInfo {
  const char* name;         ///< key in the YAML file, e.g. "mac_int4_fp4"
  const char* description;  ///< one line for humans
};
const ItemInfo& action_info(Action action);
/// True for an action a table may leave out: `dot_tree_add_bit`, which tables
/// written before dot-product PEs lack; it is then derived from the table's
/// own 32-bit add (acc_add_int32 / 32, adders grow linearly with width) and its
/// source says so.
bool action_optional(Action action);
const ItemInfo& area_info(AreaItem item);

/// Vector-unit kinds (names as in the `vec_ops_<kind>` counters); each may
/// have its own energy (`vector_op_<kind>`), else `vector_op` applies.
const std::vector<std::string>& vector_kinds();

/// One point of the SRAM read-energy curve.
struct SramPoint {
  double kib = 0.0;   ///< capacity of the array (one bank) in KiB
  TechValue read_pj;  ///< read energy of one reference-width word
};

/// A whole technology table.
struct TechTable {
  std::string origin;       ///< file the table came from ("builtin:45nm" when compiled in)
  std::string name;         ///< e.g. "45nm"
  double node_nm = 0.0;     ///< feature size, for reports
  double voltage_v = 0.0;   ///< supply, 0 when the source gives none
  std::string description;  ///< one paragraph for reports
  std::vector<std::string> references;  ///< full citations

  std::array<TechValue, kActionCount> energy;              ///< pJ per action
  std::map<std::string, TechValue> vector_kind_energy;      ///< pJ per element-op of a kind (overrides)
  TechValue sram_reference_bits;                           ///< word width of the read_pj points
  std::vector<SramPoint> sram_read;                        ///< increasing capacity, positive energy
  TechValue sram_write_over_read;                          ///< write energy / read energy
  TechValue leakage_w_per_mm2;                             ///< static power density
  std::array<TechValue, kAreaItemCount> area;              ///< um^2 per component

  /// pJ of one action.
  double pj(Action action) const { return energy[static_cast<std::size_t>(action)].value; }
  /// um^2 of one component.
  double um2(AreaItem item) const { return area[static_cast<std::size_t>(item)].value; }
  /// pJ of one element-op of a vector kind (its override, else `vector_op`).
  double vector_pj(const std::string& kind) const;
  /// pJ of reading one `word_bits` word from an array (bank) of `bank_kib`
  /// KiB: log-log interpolation of the curve, linear in the word width.
  double sram_read_pj(double bank_kib, double word_bits) const;
  /// The same for a write (read x write_over_read).
  double sram_write_pj(double bank_kib, double word_bits) const;
};

/// Parses a table from YAML text; `origin` names it in errors.
TechTable parse_tech_table(const std::string& text, const std::string& origin);
/// Loads a table file (InputError when missing or malformed).
TechTable load_tech_table(const std::string& path);
/// The tables shipped in hw/tech/, compiled into the binary, by name.
std::vector<std::string> builtin_tech_names();
/// A shipped table by name ("45nm", "7nm"); unknown names are an InputError
/// listing the shipped ones.
TechTable builtin_tech_table(const std::string& name);
/// What `--tech X` means: a file when X names one (or looks like a path:
/// contains '/' or ends in .yaml/.yml), else a shipped table's name.
TechTable resolve_tech_table(const std::string& name_or_path);

}  // namespace nibble::energy
