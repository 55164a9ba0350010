// Where each unit of the chip spent simulated time: the busy intervals behind
// timeline.json (Chrome trace-event format, opened by Perfetto) and the Gantt
// chart of report.html. The SystemC units record them; the writers only read them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nibble::arch {

/// One busy interval of one unit of the chip.
struct TimelineEvent {
  std::string track;        ///< the unit: "core0.array", "core0.vector", "core0.dma", "dram.ch0"
  std::uint32_t op = 0;     ///< index of the op in the trace (names its layer and phase)
  std::uint64_t start = 0;  ///< first busy cycle
  std::uint64_t end = 0;    ///< first cycle after the interval (end > start)
  std::string what;         ///< the kind of work: "fold", "load", "store", "vector", ...
};

/// How much of the timeline a run keeps (`--timeline`).
enum class TimelineDetail {
  kNone,    ///< no timeline.json
  kLayers,  ///< one event per (unit, layer, phase): small files for large runs
  kOps,     ///< one event per (unit, op)
};

}  // namespace nibble::arch
