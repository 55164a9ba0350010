// Where each unit of the chip spent the step (summary.json `units`,
// docs/timing.md "Unit statistics"). Plain data, no SystemC: the parent of a
// simulation reads it back from the child.
#pragma once

#include <cstdint>
#include <string>

namespace nibble::arch {

/// Cycles of one unit, by what it was doing; idle is the rest of the step.
struct UnitCycles {
  std::uint64_t busy = 0;                 ///< working as it would with ideal memory (DMA, DRAM: moving bursts)
  std::uint64_t stalled_dram = 0;         ///< in an op, waiting for DRAM transfers (operands, or stores freeing output space)
  std::uint64_t stalled_dependency = 0;   ///< its next op queued, waiting for the ops that write its inputs
  std::uint64_t stalled_arbitration = 0;  ///< DMA: transfers ready while their channel moved other transfers' bursts
};

/// Cycles of one unit over the whole run.
struct UnitReport {
  std::string name;   ///< "core0.array", "core0.vector", "core0.dma", "dram.ch0"
  UnitCycles cycles;  ///< busy and stalled
};

}  // namespace nibble::arch
