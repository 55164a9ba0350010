// Which GEMMs a design's PEs can execute and how: natively, promoted into a
// wider PE format (exact conversion, one pass), or in several passes of
// narrower slices (docs/design-file.md, "What a PE kind executes").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/design/design.hpp"

namespace nibble::design {

/// fp4-block PEs reduce whole blocks: array.dot_product is a multiple of the
/// MXFP4 block (32), which NVFP4's 16 divides (docs/design-file.md, "fp4-block").
inline constexpr std::uint64_t kFp4BlockLanes = 32;

/// How one GEMM op runs on a design's array.
enum class ExecutionKind {
  kNative,     ///< the PE kind has this op's datapath
  kPromoted,   ///< operands convert exactly into the PE's wider format; one pass
  kMultiPass,  ///< operands cut into PE-width slices; `passes` array passes per MAC
};

struct Execution {
  ExecutionKind kind = ExecutionKind::kNative;           ///< native, promoted or multi-pass
  numerics::PeMode pe_mode = numerics::PeMode::kInt4xInt4;  ///< the PE datapath that runs (MAC counters)
  /// The op's own arithmetic in sim/numerics, for the functional path: set for
  /// native and multi-pass ops whose formats numerics has a mode for.
  std::optional<numerics::PeMode> op_mode;
  numerics::PeArith arith;       ///< pe_mac parameters for op_mode (accumulator, FP4 bias, FP8 layouts)
  numerics::Format acc = numerics::Format::kInt32;  ///< the accumulator format the array uses (maybe fp16-chunked)
  numerics::Format pe_acc = numerics::Format::kInt32;  ///< accumulator the PE adds into (acc-add counters)
  std::uint64_t passes = 1;      ///< array passes per MAC (slice pairs), 1 unless multi-pass
  int a_bits = 4;                ///< stored width of one A element
  int b_bits = 4;                ///< stored width of one B element
  int a_quarter_bits = 16;       ///< storage of one A element in quarter bits, block-scale share included
  int b_quarter_bits = 16;       ///< storage of one B element in quarter bits, block-scale share included
  std::size_t unit = 0;          ///< the matrix unit that runs it (Design::unit index)
  std::uint64_t block = 0;       ///< elements per block of a block-FP4 op (32 MXFP4, 16 NVFP4); 0 for the others
};

/// Plans `op` (a GEMM) on `design`: on the unit route_gemm picks, as that
/// unit's array runs it. An op the PE kind cannot execute is an InputError
/// naming the op and the PE kind, unless array.unsupported is multi-pass.
Execution plan_execution(const Design& design, const workloads::TraceOp& op);
/// The matrix unit `op` runs on (docs/design-file.md, "matrix_units"): the
/// first unit (file order) whose PE kind executes its formats natively, else
/// the first that takes them exactly in one pass (promoted), else the first
/// with `unsupported: multi-pass`; an InputError naming the op, its formats
/// and the units when none can. Always 0 for a one-unit design.
std::size_t route_gemm(const Design& design, const workloads::TraceOp& op);

/// The numerics mode that multiplies A in `a` by B in `b` natively, if any.
std::optional<numerics::PeMode> native_mode(numerics::Format a, numerics::Format b);
/// The modes a PE kind executes natively.
std::vector<numerics::PeMode> native_modes(PeKind kind);
/// Operand width of the PE kind's own datapath in bits (4, 8, 16, 32).
int pe_operand_bits(PeKind kind);
/// True when a PE of `array` sums its N products in an exact integer adder tree
/// before one accumulate: an int4-fp4 PE with array.dot_product N > 1
/// (docs/numerics.md, "Dot-product PE"). The floating-point kinds' trees are
/// wide aligned adders the tech tables have no figure for: their dot-product
/// PEs are charged as N MAC PEs (docs/energy-model.md, "PE area").
bool has_dot_tree(const ArrayConfig& array);
/// Full-adder bits of an exact adder tree over `terms` products of
/// `product_bits` each, every adder at its exact width: each level halves the
/// terms (rounding up) with adders one carry bit wider than the level below.
std::uint64_t exact_tree_adder_bits(std::uint64_t terms, std::uint64_t product_bits);
/// Full-adder bits of that tree (exact_tree_adder_bits from the 17-bit signed
/// FP4 shift product, docs/numerics.md); N = 4: two 18-bit and one 19-bit
/// adder, 55 bits. 0 without a tree.
std::uint64_t dot_tree_adder_bits(const ArrayConfig& array);
/// The design-file key of the accumulator a mode uses: int4, fp4 or float.
std::string_view accumulator_key(numerics::PeMode mode);
/// Bits one stored partial sum of `acc` occupies in the output buffer
/// (fp16-chunked keeps an FP16 chunk sum and an FP32 total: 48).
int psum_bits(numerics::Format acc);
/// True when an accumulator the PE kind uses is fp16-chunked.
bool uses_chunked_accumulator(const Design& design);
/// A PE datapath, as the mac_<name> counters count it and the energy model
/// prices a MAC (one tech-table action each): a PE kind has one or two, and
/// both INT4 x FP4 operand orders of numerics::PeMode share the shifter.
/// Declared in the counters' order (sim/arch/arch_stats registers them so).
enum class Datapath { kInt4Int4, kInt4Fp4, kFp8, kFp16, kFp32, kMxfp4, kNvfp4, kBf16 };
inline constexpr std::size_t kDatapaths = 8;  ///< the number of Datapath values
/// The one mapping of a numerics mode to the datapath that runs it (used by
/// the MAC counters, the engine's stats and the energy model).
Datapath datapath_of(numerics::PeMode mode);
/// "int4_int4", "int4_fp4", "fp8", "fp16", "fp32", "mxfp4", "nvfp4", "bf16" (the counters' suffixes).
const char* datapath_name(Datapath datapath);
/// The MAC counter name of a PE datapath: mac_int4_int4, mac_int4_fp4, mac_fp8, ..., mac_mxfp4, mac_nvfp4
std::string mac_counter_name(Datapath datapath);
/// The MAC counter of the datapath that runs `mode`.
std::string mac_counter_name(numerics::PeMode mode);

/// The precision policy that matches a PE kind (workloads' named policies):
/// int4-fp4 -> "int4-fp4", fp16 -> "fp16", hfp8 -> "hfp8", fp32 -> "fp32",
/// fp4-block -> "mxfp4" (it runs nvfp4 too), bf16 -> "bf16".
std::string natural_policy(PeKind kind);

/// Bytes of the smallest tile each scratchpad must hold (per half when
/// double buffered), at the PE's own operand widths, and what that tile is.
struct MinimumTiles {
  std::uint64_t input_bytes = 0;   ///< input scratchpad
  std::uint64_t weight_bytes = 0;  ///< weight scratchpad
  std::uint64_t output_bytes = 0;  ///< output scratchpad
  std::string input_what;          ///< e.g. "one 128-element input vector of 4-bit operands"
  std::string weight_what;         ///< e.g. "one 128 x 128 stationary tile of 4-bit operands"
  std::string output_what;         ///< e.g. "128 partial sums of 32 bits"
};
MinimumTiles minimum_tiles(const Design& design);

/// ceil(elements * bits / 8): bytes of `elements` packed elements of `bits` each.
std::uint64_t packed_bytes(std::uint64_t elements, std::uint64_t bits);
/// ceil(elements * quarter_bits / 32): bytes of `elements` elements of
/// numerics::format_quarter_bits `quarter_bits` each (block scales included).
std::uint64_t stored_bytes(std::uint64_t elements, std::uint64_t quarter_bits);

}  // namespace nibble::design
