// The parts of a core. The matrix units (SystolicArray) and the vector unit
// are SystemC processes that take their ops in program order, each as soon as
// its inputs are ready (OpUnit); the DMA engine is the core's TLM-2.0
// initiator towards the shared DRAM; the scratchpads hold the space the ops
// reserve (what each op reserves: sim/arch/engine, docs/timing.md).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/arch/dram.hpp"
#include "sim/arch/engine.hpp"
#include "sim/arch/fold_clock.hpp"
#include "sim/arch/timeline.hpp"
#include "sim/arch/unit_stats.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"

namespace nibble::arch {

/// One core's share of one trace op, planned before elaboration.
struct OpShare {
  const workloads::TraceOp* op = nullptr;  ///< the op (owned by the trace)
  std::uint32_t index = 0;                 ///< the op's index in the trace
  design::Execution exec;                  ///< GEMMs: how the PEs run it
  GemmPlan plan;                           ///< GEMMs: this core's tiling
  std::uint64_t elements = 0;              ///< vector ops: this core's elements
  bool fused = false;                      ///< vector ops: input left on chip by the op before
  bool keeps_output = false;               ///< vector ops: result left on chip for the fused op after (no store)
  bool streams = false;                    ///< vector ops: input streamed from the GEMM just before (its OutputLog)
  bool log_outputs = false;                ///< GEMMs: the next op streams the output, keep the OutputLog
};

/// What a unit needs from its core: the scoreboard, the op's timing rules and
/// the records (implemented by Core).
class UnitHost {
 public:
  virtual ~UnitHost() = default;
  /// Blocks the calling thread until every op that `share` depends on has
  /// been issued on every core; returns the cycle the last of them ends.
  virtual std::uint64_t wait_inputs(const OpShare& share) = 0;
  /// The first cycle `share` can have input at all: for an op streaming a
  /// GEMM's output, when the GEMM's first output block was done; else 0.
  virtual std::uint64_t first_input(const OpShare& share) const = 0;
  /// Reserves `share`'s slots in the scratchpads now (docs/timing.md,
  /// "Scratchpad reservations"); returns the cycle from which its first slots
  /// are its own: the op cannot start before.
  virtual std::uint64_t reserve(const OpShare& share) = 0;
  /// Runs `share` (loosely timed, docs/timing.md): its first step may start
  /// at `start`, its first loads at `load_from`. Sets `ideal_cycles` to the
  /// op's span with ideal memory.
  virtual RunTimes execute(const OpShare& share, std::uint64_t start, std::uint64_t load_from,
                           std::uint64_t& ideal_cycles) = 0;
  /// Where the unit's time went for `share` (docs/timing.md, "Unit statistics").
  virtual void account(const OpShare& share, const UnitCycles& cycles) = 0;
};

/// A unit that runs a queue of ops in program order: one SystemC thread.
class OpUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(OpUnit);
  OpUnit(sc_core::sc_module_name name, sc_core::sc_time period);

  /// Gives the unit its ops (before the simulation starts).
  void assign(UnitHost* host, std::vector<const OpShare*> queue);
  /// Busy intervals, one per op: [first step, last step done).
  const std::vector<TimelineEvent>& events() const { return m_events; }
  const UnitCycles& cycles() const { return m_cycles; }

 protected:
  virtual const char* work_name() const = 0;

 private:
  void run();
  std::uint64_t now() const;
  void wait_until(std::uint64_t cycle);

  sc_core::sc_time m_period;                 ///< one clock cycle
  UnitHost* m_host = nullptr;                ///< the core
  std::vector<const OpShare*> m_queue;       ///< ops in program order
  std::vector<TimelineEvent> m_events;       ///< busy intervals
  UnitCycles m_cycles;                       ///< where the unit's time went
};

/// One R x C systolic array (a matrix unit): runs the core's GEMMs routed to
/// it, fold timing per docs/timing.md.
class SystolicArray : public OpUnit {
 public:
  /// `design` is the unit's view (Design::unit_view): its `array` is this unit.
  SystolicArray(sc_core::sc_module_name name, const design::Design& design);
  const design::ArrayConfig& config() const { return m_design.array; }
  /// The design as this unit sees it (what the engine's fold rules read).
  const design::Design& design() const { return m_design; }
  /// A fresh fold schedule for one op run in `dataflow` (its rules, docs/timing.md).
  std::unique_ptr<FoldClock> new_clock(design::Dataflow dataflow) const { return make_fold_clock(m_design, dataflow); }

 protected:
  const char* work_name() const override { return "fold"; }

 private:
  design::Design m_design;  ///< the array's dataflow and timing convention live in the whole design
};

/// The element-wise unit (quantize, activations, norms, loss, optimizer).
class VectorUnit : public OpUnit {
 public:
  VectorUnit(sc_core::sc_module_name name, const design::Design& design);
  const design::VectorConfig& config() const { return m_config; }

 protected:
  const char* work_name() const override { return "vector"; }

 private:
  design::VectorConfig m_config;  ///< lanes and cycles per element by kind
};

/// An on-chip buffer (input, weight or output) whose capacity the core's
/// units reserve and release (docs/timing.md, "Scratchpad reservations").
/// Every op's releases are scheduled when it starts (loosely timed), so the
/// cycle from which a reserved slot is free is known when it is reserved.
class Scratchpad : public sc_core::sc_module {
 public:
  Scratchpad(sc_core::sc_module_name name, const design::ScratchpadConfig& config);
  const design::ScratchpadConfig& config() const { return m_config; }

  /// Reserves `need.count` slots of `need.bytes` at cycle `now`: each from
  /// the free space, else from the earliest releases scheduled (the space is
  /// handed over when its holder gives it back). Returns, per slot, the cycle
  /// from which it is the caller's (non-decreasing). Called from a thread: when
  /// the space is held by ops that have not scheduled its release yet (they
  /// wait for their own first slots), it waits until they have.
  std::vector<std::uint64_t> claim(const SlotNeed& need, std::uint64_t now);
  /// Gives `bytes` back at cycle `cycle`.
  void release(std::uint64_t bytes, std::uint64_t cycle);

 private:
  void retire(std::uint64_t now);

  design::ScratchpadConfig m_config;  ///< capacity, width, banks, ports, double buffering
  std::uint64_t m_held = 0;           ///< bytes reserved and not yet given back (releases due included)
  std::multimap<std::uint64_t, std::uint64_t> m_releases;  ///< cycle -> bytes given back then
  sc_core::sc_event m_scheduled;      ///< a release was scheduled
};

/// The core's DMA engine: the TLM-2.0 initiator that moves tiles between the
/// scratchpads and the DRAM. Within one op it issues transfers in order; the
/// DRAM's channels arbitrate between ops and cores.
class DmaEngine : public sc_core::sc_module, public MemoryPort {
 public:
  tlm_utils::simple_initiator_socket<DmaEngine> socket;  ///< to the DRAM

  DmaEngine(sc_core::sc_module_name name, sc_core::sc_time period);
  ~DmaEngine() override;

  /// The transfers that follow serve op `op` (restarts the in-order rule).
  void begin_op(std::uint32_t op);
  std::uint64_t transfer(std::uint64_t ready, std::uint64_t bytes, bool write) override;

  /// Busy intervals, one per (op, direction): first burst to last completion.
  void collect_timeline(const std::string& track, std::vector<TimelineEvent>& out) const;
  /// Busy (union of its transfers' channel time) and arbitration stalls.
  UnitCycles cycles() const;
  /// Arbitration stall cycles of every transfer so far.
  std::uint64_t arbitration_cycles() const { return m_arbitration; }

 private:
  struct Span {
    std::uint64_t start = 0;  ///< first busy cycle
    std::uint64_t end = 0;    ///< first cycle after
  };

  sc_core::sc_time m_period;              ///< one clock cycle
  tlm::tlm_generic_payload m_trans;       ///< reused for every transfer (timing only: data is never touched)
  TransferTag* m_tag;                     ///< the payload's extension (owned by the payload)
  unsigned char m_dummy = 0;              ///< the payload's data pointer
  std::uint32_t m_op = 0;                 ///< the op being served
  std::uint64_t m_cursor = 0;             ///< in-order rule: no transfer of this op starts before
  std::map<std::pair<std::uint32_t, bool>, Span> m_spans;  ///< (op, write) -> span
  std::vector<std::pair<std::uint64_t, std::uint64_t>> m_busy;  ///< channel intervals of every transfer
  std::uint64_t m_arbitration = 0;        ///< cycles transfers waited for a channel other requesters held
};

}  // namespace nibble::arch
