// The controller's work for one op on one core, as events: tile loads and
// result stores (DRAM transfers), array folds, vector chunks. Pure C++ so the
// rules can be read and tested without a SystemC kernel; the Core module runs
// it with its TLM port to the DRAM. docs/timing.md states every rule used here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/arch/arch_stats.hpp"
#include "sim/common/stats.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/trace.hpp"

namespace nibble::arch {

/// Where the controller sends DRAM transfers.
class MemoryPort {
 public:
  virtual ~MemoryPort() = default;
  /// Moves `bytes` (whole bursts) to (`write`) or from DRAM, starting no
  /// earlier than cycle `ready`; returns the cycle the transfer completes.
  virtual std::uint64_t transfer(std::uint64_t ready, std::uint64_t bytes, bool write) = 0;
};

/// Every transfer completes the cycle it is ready: the "ideal memory" that
/// defines compute_cycles.
class IdealMemory final : public MemoryPort {
 public:
  std::uint64_t transfer(std::uint64_t ready, std::uint64_t /*bytes*/, bool /*write*/) override { return ready; }
};

/// How an operand's tiles stay in their scratchpad (docs/timing.md, "Tiling").
enum class Residency {
  kPerFold,   ///< every fold loads its tile
  kPerBlock,  ///< a block of tiles is loaded once and reused by the inner loop
  kPerGroup,  ///< the whole operand of one GEMM group is loaded once
};

/// One operand of a GEMM share as the controller holds it: the stationary
/// operand (ws: B, is: A, os: B) or the streamed one (ws: A, is: B, os: A).
struct OperandPlan {
  Residency residency = Residency::kPerFold;  ///< how its tiles stay in their scratchpad
  int bits = 4;                               ///< element width (PE registers)
  int quarter_bits = 16;                      ///< storage per element in quarter bits, block-scale share included
  bool in_input = false;                      ///< held in the input scratchpad (else in the weight scratchpad)
  /// Bytes fetched (DRAM and scratchpad fill) per tile byte, fetch_num / fetch_den:
  /// 1 except for an im2col operand addressed on chip, which fetches the input
  /// elements the windows read instead of the im2col'd ones (docs/timing.md, "On-chip im2col").
  std::uint64_t fetch_num = 1;
  std::uint64_t fetch_den = 1;  ///< see fetch_num

  /// The scratchpad holding it.
  const design::ScratchpadConfig& buffer(const design::Design& d) const { return in_input ? d.input : d.weight; }
};

/// The controller's tiling of one GEMM share on one core.
struct GemmPlan {
  design::Dataflow dataflow = design::Dataflow::kWs;  ///< the array's dataflow
  bool scalesim = false;        ///< SCALE-Sim fold order and timing
  bool m_outer = false;         ///< ws/is loop order: vector blocks outside column blocks
  std::uint64_t groups = 1;     ///< independent GEMMs, run one after another
  std::uint64_t vectors = 0;    ///< M: streamed vectors (ws: m, is: n) or output rows (os: m)
  std::uint64_t columns = 0;    ///< N: stationary columns (ws: n, is: m) or output columns (os: n)
  std::uint64_t reduction = 0;  ///< K
  std::uint64_t block = 1;      ///< ws/is: vectors per block (Tm); os: reduction steps per fold (Tk)
  std::uint64_t passes = 1;     ///< folds per tile (multi-pass)
  std::uint64_t interval = 1;   ///< cycles per array step (scratchpad supply, docs/timing.md)
  OperandPlan stationary{Residency::kPerFold, 4, 16, false};  ///< ws: B, is: A (in the input scratchpad), os: B
  OperandPlan streamed{Residency::kPerFold, 4, 16, true};     ///< ws: A, is: B (in the weight scratchpad), os: A
  int psum_bits = 32;           ///< partial sum in the output buffer
  int pe_psum_bits = 32;        ///< partial sum register in a PE
  int out_bits = 32;            ///< element of C as stored to DRAM (the op's storage format)
  bool rounds = false;          ///< C is rounded from the accumulator to a narrower storage format on the way out
  std::uint64_t chunk = 0;      ///< fp16-chunked: products per FP16 chunk (0: not chunked)
  /// Bytes stored per byte of C, store_num / store_den: 1 except for a conv's input
  /// gradient with on-chip im2col, whose dCol is accumulated into dX (|dX| / |dCol|).
  std::uint64_t store_num = 1;
  std::uint64_t store_den = 1;  ///< see store_num
  bool scatter_adds = false;    ///< on-chip col2im: each output is added into dX in the output buffer
};

/// What a mapper (sim/arch/mapper.hpp) fixes of a plan; plan_gemm's rules choose the rest.
struct PlanChoice {
  design::Dataflow dataflow = design::Dataflow::kWs;  ///< the array's dataflow
  std::optional<bool> m_outer;  ///< ws/is loop order; unset: by DRAM bytes. Ignored where vector blocks cannot hold all of K
  std::uint64_t block = 0;      ///< at most this many vectors (ws/is) or reduction steps (os) per block; 0: as many as fit
};

/// Plans a share of `op` (dims m, n, k given, groups from the op): the
/// design's dataflow, or what `choice` fixes. Throws an InputError naming the
/// op and the scratchpad when one tile does not fit.
GemmPlan plan_gemm(const design::Design& design, const design::Execution& exec, const workloads::TraceOp& op,
                   std::uint64_t m, std::uint64_t n, std::uint64_t k, const PlanChoice* choice = nullptr);

/// When one op's work on a unit ended (docs/timing.md, "Overlap").
struct RunTimes {
  std::uint64_t compute_end = 0;  ///< last fold done / last vector chunk computed: the unit is free
  std::uint64_t end = 0;          ///< every transfer complete too: the op's results are in DRAM
  std::uint64_t released = 0;     ///< the unit has read its last operand: its operand buffers are free
  /// Output scratchpad: completion of the last stores, one per block (chunk)
  /// slot the op held, each freeing its slot (docs/timing.md, "Scratchpad reservations").
  std::vector<std::uint64_t> freed;
};

/// Slots of one scratchpad that an op reserves (docs/timing.md, "Scratchpad
/// reservations"): an operand's residency units, output blocks, vector chunks.
struct SlotNeed {
  std::uint64_t bytes = 0;  ///< one slot
  std::uint64_t count = 0;  ///< slots
};

/// What a share holds in its core's scratchpads while it runs.
struct Reservation {
  SlotNeed input;   ///< operand units in the input scratchpad (GEMMs: A), until its last operand read
  SlotNeed weight;  ///< operand units in the weight scratchpad (GEMMs: B), until its last operand read
  SlotNeed output;  ///< output blocks (vector chunks, inputs and results), each until its last store
};

/// The cycle from which each reserved slot is the op's own, in slot order:
/// slot i of an operand holds its residency units i, i + L, ...; output slot
/// j its blocks (chunks) j, j + n, ... An empty list: every slot from the op's start.
struct SlotTimes {
  std::vector<std::uint64_t> input;   ///< input scratchpad slots
  std::vector<std::uint64_t> weight;  ///< weight scratchpad slots
  std::vector<std::uint64_t> output;  ///< output scratchpad slots
};

/// The reservation of a GEMM share planned as `plan`.
Reservation gemm_reservation(const design::Design& design, const GemmPlan& plan);
/// The reservation of a share of `elements` of vector op `op` (`streams`: its
/// inputs are a GEMM's output blocks, which the GEMM holds).
Reservation vector_reservation(const design::Design& design, const workloads::TraceOp& op, std::uint64_t elements,
                               bool streams);

/// When a GEMM share's results were computed, block by block: (cycle the
/// block's last fold was done, outputs done so far including it).
using OutputLog = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

/// Output blocks that may be in flight at once (computed or waiting for their
/// store) when a block takes `block_bytes` of the output scratchpad: as many
/// as the whole scratchpad holds when double buffered (at least 2), else 1.
std::uint64_t output_blocks_in_flight(const design::ScratchpadConfig& output, std::uint64_t block_bytes);

/// Runs a GEMM share whose first fold may start at cycle `start`, sending
/// transfers to `port`; adds its action counts to `counts` when not null.
/// The first operand tiles may load from `load_from` (<= start: prefetched
/// while the unit finishes the op before). compute_end: last fold done; end:
/// last transfer complete too. `slots`: when its reserved scratchpad slots
/// are its own (null: from the start).
RunTimes run_gemm(const design::Design& design, const design::Execution& exec, const GemmPlan& plan, MemoryPort& port,
                  std::uint64_t start, StatVector* counts, const ArchStats& stats, std::uint64_t load_from,
                  OutputLog* produced = nullptr, const SlotTimes* slots = nullptr);
/// The same from `start` with nothing prefetched; returns the end cycle.
std::uint64_t run_gemm(const design::Design& design, const design::Execution& exec, const GemmPlan& plan,
                       MemoryPort& port, std::uint64_t start, StatVector* counts, const ArchStats& stats);

/// Folds a GEMM share planned as `plan` takes (saturated at UINT64_MAX): the
/// engine's steps for it, which simulate() adds up to refuse an unbounded run.
std::uint64_t gemm_folds(const design::Design& design, const GemmPlan& plan);
/// Elements per chunk of vector op `op` in the output scratchpad (0: not even
/// one fits); a share of E elements runs in ceil(E / chunk) chunks.
std::uint64_t vector_chunk(const design::Design& design, const workloads::TraceOp& op);

/// True when vector op `op` cannot start before its producer finished the whole
/// input on `design`: a quantize into a format with a per-tensor scale (NVFP4),
/// whose scale comes from the amax of the entire tensor, unless the design takes
/// it from the previous step (vector.tensor_scale: delayed; docs/timing.md, "A
/// quantize that waits for the whole tensor"). Such an op is neither fused nor
/// streamed, whatever fuses_into_previous and streams_from_gemm say.
bool needs_whole_input(const design::Design& design, const workloads::TraceOp& op);

/// True when vector op `op` is fused into the output path of `prev`, the op
/// just before it (docs/timing.md, "Fused vector ops"): an elementwise
/// activation, activation-grad or quantize reading exactly what `prev` wrote
/// (a vector op of the same elements, prev's out format = op's in format).
bool fuses_into_previous(const workloads::TraceOp& prev, const workloads::TraceOp& op);

/// True when vector op `op` may stream the output of GEMM `gemm`, the op just
/// before it, on a design with vector.stream_gemm_output (docs/timing.md,
/// "Streaming a GEMM's output"): a unary elementwise op reading exactly C.
bool streams_from_gemm(const workloads::TraceOp& gemm, const workloads::TraceOp& op);

/// A vector op's input as a GEMM produces it: the GEMM share's OutputLog and
/// its number of outputs.
struct StreamSource {
  const OutputLog* produced = nullptr;  ///< the producer's blocks, in order
  std::uint64_t outputs = 0;            ///< the producer share's outputs in all
  /// The cycle by which a fraction `part / whole` of the outputs were done.
  std::uint64_t ready(std::uint64_t part, std::uint64_t whole) const;
};

/// Runs a share of a vector op (`elements` of it) from cycle `start` in
/// chunks through the output scratchpad; same contract as run_gemm. With
/// `input_on_chip` (a fused op) each chunk's input is already in the output
/// scratchpad, where the previous op left it: no DRAM load and no fill. With
/// `output_on_chip` (a hadamard whose result only the quantize fused after it
/// reads) the results stay there for that op: no store.
RunTimes run_vector(const design::Design& design, const workloads::TraceOp& op, std::uint64_t elements,
                    MemoryPort& port, std::uint64_t start, StatVector* counts, const ArchStats& stats,
                    bool input_on_chip = false, const StreamSource* source = nullptr,
                    const SlotTimes* slots = nullptr, bool output_on_chip = false);

/// `bytes` rounded up to whole DRAM bursts.
std::uint64_t burst_bytes(const design::Design& design, std::uint64_t bytes);

}  // namespace nibble::arch
