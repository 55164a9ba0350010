// Chip area of a design (sim/design) with a technology table, and the
// accumulator adders its PEs hold. The energy library reads the design's own
// types; it needs no SystemC.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "sim/design/design.hpp"
#include "sim/energy/tech_table.hpp"

namespace nibble::energy {

/// The accumulator adders a PE can hold, in the order of the acc_add_int32,
/// acc_add_fp16 and acc_add_fp32 counters.
inline constexpr std::array<numerics::Format, 3> kAdderFormats = {
    numerics::Format::kInt32, numerics::Format::kFp16, numerics::Format::kFp32};
/// Index in kAdderFormats of the adder an accumulator of format `acc` uses:
/// fp16-chunked adds in FP16 in the PE (the FP32 chunk totals are the output
/// buffer's, docs/timing.md). std::logic_error for a format that is no accumulator.
std::size_t adder_index(numerics::Format acc);

/// True when an int4-fp4 PE also holds the accumulators.float adder: a
/// multi-pass op adds its slice products into the partial sum in the PE, in
/// accumulators.float (docs/timing.md, "Multi-pass").
bool float_adder_in_pe(const design::Design& design);
/// The distinct accumulator adders one PE holds, in kAdderFormats order: an
/// int4-fp4 PE those of accumulators.int4 and .fp4 (and .float when
/// float_adder_in_pe), the other kinds that of accumulators.float.
std::vector<numerics::Format> pe_adders(const design::Design& design);

/// Adder bits of a block-FP4 PE's exact adder tree over `terms` E2M1 x E2M1
/// products (design::exact_tree_adder_bits from the 9-bit signed product,
/// numerics::block_dot_sum_bits of one product); 32 terms: 336 bits.
double block_tree_bits(std::uint64_t terms);

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
  double pe_um2 = 0.0;                       ///< one PE of the first matrix unit, um^2 (for iso-area sizing)
  double total_mm2() const;                  ///< sum of the parts, in AreaPart order
};

/// One PE: its multiplier(s)/shifter, its accumulator adders, and its
/// registers (shadow and active weight registers and the activation register
/// of the PE's operand width, one partial-sum register as wide as its widest
/// adder), in um^2.
double pe_area_um2(const TechTable& tech, const design::Design& design);
/// The chip's area by part. The design is not validated here (iso-area sizing
/// prices array shapes that are validated only once chosen).
AreaBreakdown chip_area(const TechTable& tech, const design::Design& design);

}  // namespace nibble::energy
