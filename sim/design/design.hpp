// An accelerator design: one typed struct per component (gem5 style), read
// from a YAML design file (docs/design-file.md) and checked field by field.
// SystemC-free on purpose: the SystemC model (sim/arch), the training
// emulator (models/train) and the energy model all read designs through it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/numerics/format.hpp"
#include "sim/numerics/pe.hpp"
#include "workloads/trace.hpp"

namespace nibble::design {

/// Which operand stays in the PEs (docs/timing.md).
enum class Dataflow { kWs, kOs, kIs };
/// The arithmetic each PE has (sim/numerics/pe.hpp modes it executes natively).
/// kFp4Block: E2M1 products with block scales (MXFP4 and NVFP4), docs/design-file.md "fp4-block";
/// kBf16: BF16 x BF16 fused multiply-add.
enum class PeKind { kInt4Fp4, kFp16, kHfp8, kFp32, kFp4Block, kBf16 };
/// Which cycle rules the array follows: nibble's (docs/timing.md) or SCALE-Sim v2's formulas.
enum class TimingConvention { kNibble, kScaleSim };
/// What happens to a GEMM whose operand formats the PE kind cannot execute.
enum class UnsupportedOps { kError, kMultiPass };
/// How each GEMM's plan is chosen (sim/arch/mapper.hpp): the design's dataflow with the
/// loop order by bytes and the largest blocks (fixed), or the fastest candidate (search).
enum class MapperKind { kFixed, kSearch };
/// When a per-tensor scale (NVFP4's) is known to the quantizer: from this tensor's own amax, so
/// the quantize waits for the whole tensor (current), or from the previous step's (delayed).
enum class TensorScaleTiming { kCurrent, kDelayed };

std::string_view dataflow_name(Dataflow value);           ///< ws os is
std::string_view pe_kind_name(PeKind value);              ///< int4-fp4 fp16 hfp8 fp32 fp4-block bf16
std::string_view timing_name(TimingConvention value);     ///< nibble scalesim
std::string_view unsupported_name(UnsupportedOps value);  ///< error multi-pass
std::string_view mapper_name(MapperKind value);           ///< fixed search
std::string_view tensor_scale_name(TensorScaleTiming value);  ///< current delayed

/// The systolic array and its PEs.
struct ArrayConfig {
  std::uint64_t rows = 1;                                    ///< R: PE rows (reduction dimension in ws/is)
  std::uint64_t cols = 1;                                    ///< C: PE columns
  Dataflow dataflow = Dataflow::kWs;                         ///< stationary operand (the fixed mapper's, an override pins it)
  std::vector<Dataflow> dataflows;  ///< the dataflows `mapper: search` may pick; empty = just `dataflow`
  PeKind pe_kind = PeKind::kInt4Fp4;                         ///< PE arithmetic
  int fp4_bias = 7;                                          ///< FP4 exponent bias (sim/numerics)
  numerics::Format acc_int4 = numerics::Format::kInt32;      ///< accumulator of INT4 x INT4 MACs
  numerics::Format acc_fp4 = numerics::Format::kFp16;        ///< accumulator of INT4 x FP4 shift-adds
  numerics::Format acc_float = numerics::Format::kFp32;      ///< accumulator of FP8/FP16/FP32 FMAs
  std::uint64_t chunk = 0;  ///< products summed in FP16 before an FP32 add (fp16-chunked only; 0 = unused)
  std::uint64_t dot_product = 1;  ///< N: products each PE sums exactly before one accumulate (numerics::pe_dot); 1 = a MAC PE
  UnsupportedOps unsupported = UnsupportedOps::kError;       ///< foreign formats: error or multi-pass

  /// The dataflows the mapper may choose, `dataflow` first, in file order after it.
  std::vector<Dataflow> allowed_dataflows() const;
};

/// One matrix unit of a core: a name and its array (docs/design-file.md, "matrix_units").
struct MatrixUnit {
  std::string name = "array";  ///< track and stats name: core<i>.<name>
  ArrayConfig array;           ///< its PEs
};

/// One on-chip buffer (input = streamed A, weight = B, output = partial sums / C).
struct ScratchpadConfig {
  std::uint64_t capacity_bytes = 0;  ///< total capacity (both halves when double buffered)
  std::uint64_t word_bits = 0;       ///< bits per bank access
  std::uint64_t banks = 1;           ///< independently addressed banks
  std::uint64_t ports = 1;           ///< accesses per bank per cycle
  bool double_buffer = true;         ///< two halves: one computes while the other fills/drains

  /// Bytes one tile may occupy: half the capacity when double buffered.
  std::uint64_t tile_capacity() const { return double_buffer ? capacity_bytes / 2 : capacity_bytes; }
  /// Bits the array can read or write per cycle: banks x ports x word_bits.
  std::uint64_t bits_per_cycle() const { return banks * ports * word_bits; }
};

/// Off-chip memory shared by the cores.
struct DramConfig {
  bool ideal = false;                         ///< every transfer completes in 0 cycles (bytes still counted)
  std::uint64_t bandwidth_bytes_per_cycle = 1;  ///< whole chip, split evenly between the channels
  std::uint64_t latency_cycles = 0;           ///< request to first data
  std::uint64_t burst_bytes = 1;              ///< transfer granule: sizes round up to whole bursts
  std::uint64_t channels = 1;                 ///< independent channels; a transfer's bursts interleave over them
};

/// How a vector kind is costed: `passes` times the cycles per element of `from`, a kind
/// with its own `vector.cycles_per_element` key (docs/timing.md, "Vector ops").
struct VectorCost {
  workloads::VectorKind from = workloads::VectorKind::kEltwise;  ///< the kind whose cycles it reuses
  std::uint64_t passes = 1;                                     ///< passes over each element
};
/// The cost rule of `kind`: {kind, 1} for a kind with its own key; the transformer kinds of
/// trace version 2 (softmax-grad, layer-norm, layer-norm-grad, gelu, gelu-grad) and
/// version 5's hadamard reuse one.
VectorCost vector_cost(workloads::VectorKind kind);
/// The kinds with a `vector.cycles_per_element` key, in workloads::VectorKind order.
const std::vector<workloads::VectorKind>& keyed_vector_kinds();

/// The vector unit of each core (quantize, activations, norms, loss, optimizer).
struct VectorConfig {
  std::uint64_t lanes = 1;  ///< elements processed side by side
  /// Cycles one lane spends per element, indexed by workloads::VectorKind: every keyed
  /// kind's; a kind without a key of its own has 0 (its vector_cost rule) unless the
  /// design file gives it one (a unit built for it, e.g. a Hadamard butterfly).
  std::array<std::uint64_t, workloads::kVectorKindCount> cycles_per_element{};
  /// A unary elementwise op right after a GEMM reads the GEMM's output tiles
  /// from the output scratchpad as they are produced (docs/timing.md, "Streaming a GEMM's output").
  bool stream_gemm_output = false;
  /// Whether a quantize into a format with a per-tensor scale waits for its whole input
  /// (docs/timing.md, "A quantize that waits for the whole tensor").
  TensorScaleTiming tensor_scale = TensorScaleTiming::kCurrent;

  /// Cycles one lane spends per element of `kind`: its own value if it has one, else its
  /// rule's keyed kind's value times its passes.
  std::uint64_t cycles_for(workloads::VectorKind kind) const {
    const std::uint64_t own = cycles_per_element.at(static_cast<std::size_t>(kind));
    const VectorCost cost = vector_cost(kind);
    if (cost.from != kind && own != 0) return own;
    return cycles_per_element.at(static_cast<std::size_t>(cost.from)) * cost.passes;
  }
};

/// A whole design, every field resolved (defaults filled in).
struct Design {
  std::string name;                                     ///< shown in reports
  double clock_mhz = 1000.0;                            ///< accelerator clock
  std::uint64_t cores = 1;                              ///< identical cores sharing the DRAM
  TimingConvention timing = TimingConvention::kNibble;  ///< cycle rules
  MapperKind mapper = MapperKind::kFixed;               ///< how GEMM plans are chosen (docs/timing.md, "Mapper")
  std::string tech = "45nm";                            ///< energy/area table name (sim/energy)
  ArrayConfig array;                                    ///< the first (usually only) matrix unit's PE array
  std::string array_name = "array";                     ///< the first unit's name ("array" for a design with `array:`)
  std::vector<MatrixUnit> more_units;                   ///< matrix units after the first, in file order
  ScratchpadConfig input;                               ///< streamed-operand buffer (A)
  ScratchpadConfig weight;                              ///< stationary-operand buffer (B)
  ScratchpadConfig output;                              ///< partial sums and results (C)
  DramConfig dram;                                      ///< off-chip memory
  VectorConfig vector;                                  ///< vector unit
  std::string source;                                   ///< file it was read from ("" if built in code); not serialized

  /// Accumulator format of the PEs in `mode` (may be fp16-chunked).
  numerics::Format accumulator(numerics::PeMode mode) const;
  /// The arithmetic parameters pe_mac needs for `mode` (fp16-chunked runs its chunks in fp16).
  numerics::PeArith pe_arith(numerics::PeMode mode) const;
  /// Matrix units per core (1 + more_units).
  std::size_t unit_count() const { return 1 + more_units.size(); }
  /// Unit `i` (0: the first, `array`), by value.
  MatrixUnit unit(std::size_t i) const { return i == 0 ? MatrixUnit{array_name, array} : more_units.at(i - 1); }
  /// This design seen from unit `i`: `array` is that unit's and there are no others, so the
  /// one-array rules (tiles, folds, energy per PE) apply to it unchanged.
  Design unit_view(std::size_t i) const;
  /// PEs of one core over all its units.
  std::uint64_t pes_per_core() const;
  /// MACs all matrix units of one core can do per cycle: rows x cols x dot_product, summed.
  std::uint64_t macs_per_cycle_per_core() const;
  /// The design-file key path of unit `i`'s array: "array" or "matrix_units.<name>".
  std::string unit_key(std::size_t i) const;
  /// Seconds of `cycles` at this clock.
  double seconds(std::uint64_t cycles) const { return static_cast<double>(cycles) / (clock_mhz * 1e6); }
};

/// Reads a design file and applies `sets` ("key.path=value", in order) before
/// validation; errors are InputError naming the file (or, for an error in an
/// override, the setting: setting_ref("override")), line and key.
Design load_design(const std::string& path, const std::vector<std::string>& sets = {});
/// Same from text; `origin` names it in errors.
Design parse_design(const std::string& text, const std::string& origin, const std::vector<std::string>& sets = {});
/// Re-validates a design built or changed in code (cross-field rules); InputError on failure.
void validate_design(const Design& design);

/// The matrix units in words: "128x128 int4-fp4" (with " (ws)" when
/// `dataflow`) for one unit, "int: 64x128 int4-fp4 + fp: 32x64 hfp8" for several.
std::string units_text(const Design& design, bool dataflow = false);

/// Every field of `design` as JSON text (keys in the design-file order), for summary.json.
std::string design_to_json(const Design& design, int indent = 2);

}  // namespace nibble::design
