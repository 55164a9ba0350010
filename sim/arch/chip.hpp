// The chip: identical cores sharing one DRAM. Each core runs its share of
// every op (cores split the batch, docs/timing.md "Cores") on its units: each
// matrix unit (systolic array) takes the GEMMs routed to it, the vector unit
// the vector ops, each in
// program order and as soon as the op's inputs are ready; a chip-wide
// scoreboard knows when every core has finished each op.
#pragma once

#include <systemc>
#include <tlm>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/arch/arch_stats.hpp"
#include "sim/arch/components.hpp"
#include "sim/arch/dram.hpp"
#include "sim/arch/engine.hpp"
#include "sim/arch/timeline.hpp"
#include "sim/common/progress.hpp"
#include "sim/design/pe_support.hpp"

namespace nibble::arch {

/// What one core did for one op.
struct OpRecord {
  std::uint64_t start = 0;        ///< cycle its first step (fold or vector chunk) could start
  std::uint64_t compute_end = 0;  ///< cycle its unit finished it
  std::uint64_t end = 0;          ///< cycle its last transfer completed (stalls included)
  std::uint64_t ideal_cycles = 0; ///< this core's cycles with ideal memory
  StatVector counts;              ///< this core's action counts (no cycle counters)
};

/// The controller's dependency scoreboard over the trace's ops, shared by
/// every unit of every core (docs/timing.md, "Dependencies").
class Scoreboard {
 public:
  Scoreboard(std::vector<std::vector<std::uint32_t>> deps, std::size_t cores, const workloads::Trace* trace,
             Progress* progress);
  /// Called from a unit's thread: returns once every op that `op` depends on
  /// has been issued by every core, with the cycle the last of them ends
  /// (leaving out the end of `streamed`, a producer `op` streams from, when set).
  std::uint64_t wait_inputs(std::uint32_t op, std::optional<std::uint32_t> streamed = std::nullopt);
  /// A core issued its share of `op`, which ends at `end`.
  void issued(std::uint32_t op, std::uint64_t end);

 private:
  std::vector<std::vector<std::uint32_t>> m_deps;  ///< per op: the ops it waits for
  std::vector<std::size_t> m_missing;              ///< per op: cores that have not issued it yet
  std::vector<std::uint64_t> m_end;                ///< per op: latest end over the cores that issued it
  std::size_t m_complete = 0;                      ///< ops issued by every core
  sc_core::sc_event m_issued;                      ///< notified whenever an op is issued by its last core
  const workloads::Trace* m_trace;                 ///< names in progress lines
  Progress* m_progress;                            ///< may be null
};

/// Parameters of a core.
struct CoreConfig {
  const design::Design* design = nullptr;           ///< the design (outlives the core)
  std::size_t index = 0;                            ///< core number
  const std::vector<OpShare>* work = nullptr;       ///< this core's shares, in trace order
  const ArchStats* stats = nullptr;                 ///< counter ids
  Scoreboard* scoreboard = nullptr;                 ///< chip-wide dependencies
};

class Core : public sc_core::sc_module, private UnitHost {
 public:
  std::vector<std::unique_ptr<SystolicArray>> arrays;  ///< the matrix units, in design order: GEMMs routed to each
  VectorUnit vector;    ///< element-wise unit: vector ops
  DmaEngine dma;        ///< loads and stores (TLM-2.0 initiator)
  Scratchpad input;     ///< streamed operand (A)
  Scratchpad weight;    ///< stationary operand (B)
  Scratchpad output;    ///< partial sums and results

  Core(sc_core::sc_module_name name, const CoreConfig& config);

  /// One record per op, in trace order, once the simulation has run.
  const std::vector<OpRecord>& records() const { return m_records; }

 private:
  std::uint64_t wait_inputs(const OpShare& share) override;
  std::uint64_t first_input(const OpShare& share) const override;
  std::uint64_t reserve(const OpShare& share) override;
  RunTimes execute(const OpShare& share, std::uint64_t start, std::uint64_t load_from,
                   std::uint64_t& ideal_cycles) override;
  void account(const OpShare& share, const UnitCycles& cycles) override;

  CoreConfig m_config;              ///< parameters
  std::vector<OpRecord> m_records;  ///< results, by op index
  std::map<std::uint32_t, OutputLog> m_outputs;  ///< GEMMs whose output the next op streams: their blocks

  /// A share's space in the scratchpads, from its reservation to its run.
  struct Held {
    Reservation need;  ///< what it reserved
    SlotTimes from;    ///< when each slot is its own
  };
  /// The design a share runs on: its matrix unit's view for a GEMM, else the whole design.
  const design::Design& design_of(const OpShare& share) const;
  std::map<std::uint32_t, Held> m_held;  ///< by op index: reserved, not yet run
};

/// Parameters of the chip.
struct ChipConfig {
  const design::Design* design = nullptr;                   ///< the design (outlives the chip)
  const workloads::Trace* trace = nullptr;                  ///< the ops (dependencies, progress names)
  const std::vector<std::vector<OpShare>>* work = nullptr;  ///< per core
  const ArchStats* stats = nullptr;                         ///< counter ids
  Progress* progress = nullptr;                             ///< may be null
};

class Chip : public sc_core::sc_module {
 public:
  Chip(sc_core::sc_module_name name, const ChipConfig& config);

  Dram dram;                                 ///< shared off-chip memory
  std::vector<std::unique_ptr<Core>> cores;  ///< cores, bound to the DRAM in order

 private:
  Scoreboard m_scoreboard;  ///< dependencies across cores
};

/// Every unit's busy intervals after the run, in a deterministic order
/// (start, track, op): the events behind timeline.json.
std::vector<TimelineEvent> collect_timeline(const Chip& chip);

/// Every unit's cycles after the run, cores in order then DRAM channels.
std::vector<UnitReport> collect_units(const Chip& chip);

}  // namespace nibble::arch
