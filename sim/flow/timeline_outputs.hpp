// The timeline of one evaluation as the outputs show it: timeline.json (its
// detail chosen by --timeline and by size), the `timeline` block of
// summary.json, and the Gantt chart of the units in report.html
// (docs/design-file.md, "timeline.json").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/arch/simulate.hpp"
#include "sim/common/error.hpp"
#include "sim/report/html.hpp"
#include "sim/report/timeline_json.hpp"

namespace nibble::flow {

/// Above this many bytes at ops detail, timeline.json falls back to layers
/// detail: the size Perfetto's web UI still loads without waiting long.
constexpr std::uint64_t kTimelineLimitBytes = 50'000'000;

/// What a run writes of its timeline, and why.
struct TimelineChoice {
  arch::TimelineDetail requested = arch::TimelineDetail::kNone;  ///< --timeline
  arch::TimelineDetail detail = arch::TimelineDetail::kNone;     ///< what timeline.json holds (kNone: no file)
  std::string reason;      ///< one sentence for summary.json
  std::uint64_t events = 0;  ///< complete events ("ph": "X") in the file
  std::string json;        ///< the file's bytes (empty when detail is kNone)
};

/// The layer, phase and kind of every op of `sim`, in trace order.
std::vector<report::TimelineOp> timeline_ops(const arch::SimResult& sim);

/// `requested` as far as the size allows: ops detail while its file stays
/// within `limit_bytes`, else layers detail (written whatever its size).
TimelineChoice choose_timeline(const arch::SimResult& sim, arch::TimelineDetail requested,
                               std::uint64_t limit_bytes = kTimelineLimitBytes);

/// summary.json's `timeline`: detail, requested, reason (its setting
/// references in `words`), events, bytes.
nlohmann::ordered_json timeline_summary(const TimelineChoice& choice, const SettingWords& words);

/// The section "Timeline" of report.html: a Gantt chart of the units over the
/// whole step (one row per unit, one bar per run of a layer and phase,
/// coloured by phase) and the same chart zoomed into each phase, folded.
void timeline_section(report::HtmlPage& page, const arch::SimResult& sim, const TimelineChoice& choice,
                      const SettingWords& words);

/// The whole-step Gantt chart of `sim` alone, titled "Units over the whole
/// step" + `who` (e.g. compare's A and B one above the other).
void timeline_figure(report::HtmlPage& page, const arch::SimResult& sim, const std::string& who);

/// The whole-step Gantt chart of a timeline.json that nibble wrote (`path`),
/// `end` cycles wide, titled "Units over the whole step" + `who`; for pages
/// rendered from files. InputError naming the file when it is not one.
void timeline_file_figure(report::HtmlPage& page, const std::string& path, std::uint64_t end, const std::string& who);

}  // namespace nibble::flow
