// Where each unit of the chip spent the step (summary.json `units`,
// docs/timing.md "Unit statistics"). Plain data, no SystemC: the parent of a
// simulation reads it back from the child.
#pragma once

#include <cstdint>
#include <string>

#include "sim/common/stats.hpp"

namespace nibble::arch {

/// Cycles of one unit, by what it was doing; idle is the rest of the step.
struct UnitCycles {
  std::uint64_t busy = 0;                 ///< working as it would with ideal memory (DMA, DRAM: moving bursts)
  std::uint64_t stalled_dram = 0;         ///< in an op, waiting for DRAM transfers (operands, or stores freeing output space)
  std::uint64_t stalled_dependency = 0;   ///< its next op queued, waiting for the ops that write its inputs
  std::uint64_t stalled_arbitration = 0;  ///< DMA: transfers ready while their channel moved other transfers' bursts
  std::uint64_t stalled_full_buffer = 0;  ///< its next op's inputs ready, waiting for scratchpad space other ops hold
};

/// Cycles of one unit over the whole run.
struct UnitReport {
  std::string name;   ///< "core0.array", "core0.vector", "core0.dma", "dram.ch0"
  UnitCycles cycles;  ///< busy and stalled
};

/// The counters of one unit, registered once with unit and description
/// (summary.json: `units.<name>.<counter>`, their definitions under `unit_counters`).
struct UnitStatIds {
  /// Registers every counter in `registry` (which must not hold them yet).
  explicit UnitStatIds(StatRegistry& registry);

  StatRegistry::Id busy_cycles;                 ///< UnitCycles::busy
  StatRegistry::Id stalled_dram_cycles;         ///< UnitCycles::stalled_dram
  StatRegistry::Id stalled_dependency_cycles;   ///< UnitCycles::stalled_dependency
  StatRegistry::Id stalled_arbitration_cycles;  ///< UnitCycles::stalled_arbitration
  StatRegistry::Id stalled_full_buffer_cycles;  ///< UnitCycles::stalled_full_buffer
  StatRegistry::Id idle_cycles;                 ///< the step's cycles minus busy and the unit's own stalls
  std::size_t size = 0;                         ///< registry size after registration
};

/// One unit's counters over a step of `step_cycles` cycles.
StatVector unit_stat_values(const UnitStatIds& ids, const UnitCycles& cycles, std::uint64_t step_cycles);

}  // namespace nibble::arch
