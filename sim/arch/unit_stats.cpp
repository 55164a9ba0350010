#include "sim/arch/unit_stats.hpp"

namespace nibble::arch {

UnitStatIds::UnitStatIds(StatRegistry& r)
    : busy_cycles(r.add("busy_cycles", "cycles",
                        "working: array and vector unit as with ideal memory; DMA and DRAM channel moving bursts")),
      stalled_dram_cycles(r.add("stalled_dram_cycles", "cycles",
                                "array and vector unit inside an op, waiting for DRAM transfers (operands, or stores "
                                "freeing output scratchpad space)")),
      stalled_dependency_cycles(r.add("stalled_dependency_cycles", "cycles",
                                      "array and vector unit free, their next op waiting for the ops writing its "
                                      "inputs")),
      stalled_arbitration_cycles(r.add("stalled_arbitration_cycles", "cycles",
                                       "DMA: transfers ready while their DRAM channel moved other transfers' bursts "
                                       "(summed over transfers)")),
      stalled_full_buffer_cycles(r.add("stalled_full_buffer_cycles", "cycles",
                                       "array and vector unit free, their next op's inputs ready, waiting for "
                                       "scratchpad space that other ops hold")),
      idle_cycles(r.add("idle_cycles", "cycles", "the step's cycles minus busy and unit stalls: nothing to do")),
      size(r.size()) {}

StatVector unit_stat_values(const UnitStatIds& ids, const UnitCycles& c, std::uint64_t step_cycles) {
  StatVector v(ids.size);
  v[ids.busy_cycles] = c.busy;
  v[ids.stalled_dram_cycles] = c.stalled_dram;
  v[ids.stalled_dependency_cycles] = c.stalled_dependency;
  v[ids.stalled_arbitration_cycles] = c.stalled_arbitration;
  v[ids.stalled_full_buffer_cycles] = c.stalled_full_buffer;
  // Arbitration stalls overlap the DMA's busy time (other transfers move), so
  // idle is the rest after the unit's own busy and stalled cycles.
  const std::uint64_t used = c.busy + c.stalled_dram + c.stalled_dependency + c.stalled_full_buffer;
  v[ids.idle_cycles] = step_cycles > used ? step_cycles - used : 0;
  return v;
}

}  // namespace nibble::arch
