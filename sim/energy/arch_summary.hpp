// The few facts about a design that energy and area depend on. The caller
// fills it from the design file (sim/design); the energy library needs no
// SystemC and no design parser.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/energy/tech_table.hpp"

namespace nibble::energy {

/// What one PE computes (design files' `array.pe_kind`).
enum class PeKind {
  kInt4Fp4,  ///< "int4-fp4": INT4 multiplier + INT4 x FP4 shifter
  kHfp8,     ///< "hfp8": FP8 multiplier
  kFp16,     ///< "fp16": FP16 multiplier (FMA with the accumulator adder)
  kFp32,     ///< "fp32": FP32 multiplier
};

/// An accumulator adder's format (design files' `array.accumulators`).
enum class AccFormat {
  kInt32,  ///< "int32"
  kFp16,   ///< "fp16" (also "fp16-chunked": the PE adds in FP16)
  kFp32,   ///< "fp32"
};

/// "int4-fp4", "hfp8", "fp16", "fp32".
const char* pe_kind_name(PeKind kind);
/// "int32", "fp16", "fp32".
const char* acc_format_name(AccFormat format);
/// Inverse of pe_kind_name; an InputError (field `field`) listing the names otherwise.
PeKind parse_pe_kind(const std::string& name, const std::string& field = "array.pe_kind");
/// Inverse of acc_format_name, also accepting "fp16-chunked" (an FP16 PE adder).
AccFormat parse_acc_format(const std::string& name, const std::string& field = "array.accumulator");
/// Bits of one streamed/stationary operand of a PE kind (4, 8, 16, 32).
int operand_bits(PeKind kind);
/// Bits of an accumulator word (32, 16, 32).
int acc_bits(AccFormat format);

/// One scratchpad of one core.
struct ScratchpadSummary {
  std::uint64_t capacity_bytes = 0;  ///< physical capacity (all banks, both halves when double-buffered)
  std::uint64_t word_bits = 64;      ///< bits per access
  std::uint64_t banks = 1;           ///< an access touches one bank of capacity/banks bytes
};

/// What energy and area need to know about a design.
struct ArchSummary {
  std::string name = "design";              ///< design name, used in reports and ERT component names
  PeKind pe_kind = PeKind::kInt4Fp4;        ///< PE datapath
  AccFormat acc_int4 = AccFormat::kInt32;   ///< accumulator of INT4 x INT4 MACs (int4-fp4 PEs)
  AccFormat acc_fp4 = AccFormat::kFp16;     ///< accumulator of INT4 x FP4 shift-adds (int4-fp4 PEs)
  AccFormat acc_float = AccFormat::kFp32;   ///< accumulator of FP8/FP16/FP32 FMAs (hfp8, fp16, fp32 PEs)
  bool float_adder_in_pe = false;           ///< int4-fp4 only: PEs also hold an acc_float adder (multi-pass layers)
  std::uint64_t rows = 1;                   ///< PE rows per core's array
  std::uint64_t cols = 1;                   ///< PE columns per core's array
  std::uint64_t cores = 1;                  ///< identical cores
  ScratchpadSummary input;                  ///< per core
  ScratchpadSummary weight;                 ///< per core
  ScratchpadSummary output;                 ///< per core (outputs and partial sums)
  std::uint64_t vector_lanes = 1;           ///< per core
  double clock_mhz = 1000.0;                ///< accelerator clock
};

/// Checks every field (positive sizes, finite clock, banks dividing nothing
/// smaller than one word); an InputError names the field and the reason.
void validate(const ArchSummary& arch);

/// Area components of a chip, in this order in reports.
enum class AreaPart : std::size_t {
  kPeArray,           ///< all PEs of all cores
  kScratchpadInput,   ///< input scratchpads of all cores
  kScratchpadWeight,  ///< weight scratchpads
  kScratchpadOutput,  ///< output scratchpads
  kVector,            ///< vector lanes
  kCoreOverhead,      ///< controllers, DMA, interconnect
  kCount,
};
constexpr std::size_t kAreaPartCount = static_cast<std::size_t>(AreaPart::kCount);
/// snake_case name of an area part ("pe_array", "scratchpad_input", ...).
const char* area_part_name(AreaPart part);

/// Chip area by part, mm^2.
struct AreaBreakdown {
  std::array<double, kAreaPartCount> mm2{};  ///< indexed by AreaPart
  double pe_um2 = 0.0;                       ///< one PE, um^2 (for iso-area sizing)
  double total_mm2() const;                  ///< sum of the parts, in AreaPart order
};

/// The distinct accumulator adders one PE holds, in int32, fp16, fp32 order:
/// an int4-fp4 PE those of acc_int4 and acc_fp4 (and acc_float when
/// float_adder_in_pe), the other kinds that of acc_float.
std::vector<AccFormat> pe_adders(const ArchSummary& arch);
/// The accumulator format a mode accumulates in (acc_int4, acc_fp4 or acc_float).
AccFormat mode_accumulator(const ArchSummary& arch, bool int4_mode, bool fp4_mode);
/// One PE: its multiplier(s)/shifter, its accumulator adders, and its
/// registers (shadow and active weight registers and the activation register
/// of operand_bits, one partial-sum register as wide as its widest adder), in um^2.
double pe_area_um2(const TechTable& tech, const ArchSummary& arch);
/// The chip's area by part.
AreaBreakdown chip_area(const TechTable& tech, const ArchSummary& arch);

}  // namespace nibble::energy
