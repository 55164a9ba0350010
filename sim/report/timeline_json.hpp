// timeline.json: the busy intervals of the chip's units (sim/arch/timeline.hpp)
// in the Chrome trace-event format that Perfetto (ui.perfetto.dev) and
// chrome://tracing open: complete events ("ph": "X") with `ts` and `dur` in
// microseconds of simulated time, one process per core and one for DRAM, one
// thread per unit. The format and its keys are documented in docs/design-file.md
// ("timeline.json"); the same events always give the same bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/arch/timeline.hpp"

namespace nibble::report {

/// What the timeline calls one trace op.
struct TimelineOp {
  std::string layer;  ///< layer name
  std::string phase;  ///< "forward", "input_grad", "weight_grad" or "update"
  std::string kind;   ///< "conv", "gemm", ... or the vector kind ("softmax", ...)
};

/// One bar of the timeline at the detail it is written: one recorded event
/// (ops detail), or a run of consecutive events of one layer and phase on one
/// track (layers detail).
struct TimelineSpan {
  std::string track;        ///< the unit, e.g. "core0.array"
  std::uint32_t op = 0;     ///< the (first) op of the span
  std::uint64_t ops = 1;    ///< events merged into the span
  std::uint64_t start = 0;  ///< first busy cycle
  std::uint64_t end = 0;    ///< first cycle after the span
  std::uint64_t busy = 0;   ///< busy cycles inside [start, end) (end - start unless events were merged)
  std::string what;         ///< the kind of work; "mixed" when merged events differ
};

/// Events of `detail` (kOps or kLayers; kNone gives none), ordered by track
/// (cores by number, then DRAM; per core array, vector, dma, then others by
/// name), then by start cycle and op. Layers detail merges, per track, each
/// run of events (in time order) whose ops share a layer and phase: one span
/// per (track, layer, phase) when a track runs the layers one after another.
std::vector<TimelineSpan> timeline_spans(const std::vector<arch::TimelineEvent>& events,
                                         const std::vector<TimelineOp>& ops, arch::TimelineDetail detail);

/// Spans of one track after another, each sorted by start (as timeline_spans
/// returns them), with every run of consecutive spans of one layer and phase
/// on one track merged into one: start of the first, latest end, busy cycles
/// and ops added up. Used for the layers detail and for charts read back from files.
std::vector<TimelineSpan> merge_layer_runs(const std::vector<TimelineSpan>& spans, const std::vector<TimelineOp>& ops);

/// The document: {"traceEvents": [...], "displayTimeUnit": "ns"} with the
/// process and thread names first, one event per line. std::nullopt when the
/// text would exceed `limit_bytes` (formatting stops there).
std::optional<std::string> timeline_json(const std::vector<TimelineSpan>& spans, const std::vector<TimelineOp>& ops,
                                         double clock_mhz, arch::TimelineDetail detail,
                                         std::uint64_t limit_bytes = UINT64_MAX);

/// A timeline.json read back (pages rendered from files, `nibble report`).
struct TimelineDoc {
  double clock_mhz = 0.0;           ///< otherData.clock_mhz
  std::string detail;               ///< otherData.detail: "ops" or "layers"
  std::vector<TimelineOp> ops;      ///< one per complete event, in file order
  std::vector<TimelineSpan> spans;  ///< one per complete event: span.op indexes ops; cycles from args
};
/// Parses what timeline_json() wrote; anything else is an InputError naming `file`.
TimelineDoc read_timeline_json(const std::string& text, const std::string& file);

/// "none", "layers" or "ops".
const char* timeline_detail_name(arch::TimelineDetail detail);
/// The detail of a name, std::nullopt for any other text.
std::optional<arch::TimelineDetail> parse_timeline_detail(const std::string& name);

}  // namespace nibble::report
