#include "sim/flow/timeline_outputs.hpp"

#include <algorithm>
#include <limits>

#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/report/svg_chart.hpp"
#include "workloads/trace.hpp"

namespace nibble::flow {

namespace {

using arch::TimelineDetail;

std::string size_text(std::uint64_t bytes) { return format_si(static_cast<double>(bytes)) + " bytes"; }

std::size_t phase_index(const std::string& name) {
  const auto phase = workloads::parse_phase(name);
  return phase ? static_cast<std::size_t>(*phase) : 0;
}

// One Gantt chart of the spans from cycle `from` to `to`.
std::string gantt(const std::vector<report::TimelineSpan>& spans, const std::vector<report::TimelineOp>& ops,
                  const std::string& title, std::uint64_t from, std::uint64_t to) {
  report::GanttChart chart;
  chart.title = title;
  chart.x_label = "cycle";
  chart.from = static_cast<double>(from);
  chart.to = static_cast<double>(to);
  for (const auto phase : workloads::all_phases()) chart.legend.emplace_back(workloads::phase_name(phase));
  for (const auto& s : spans) {
    if (chart.rows.empty() || chart.rows.back().name != s.track) chart.rows.push_back({s.track, {}});
    const report::TimelineOp& op = ops.at(s.op);
    const std::string tooltip = s.track + ": " + op.layer + " " + op.phase + ", cycles " + std::to_string(s.start) +
                                " to " + std::to_string(s.end) + " (" + std::to_string(s.busy) + " busy, " +
                                std::to_string(s.ops) + (s.ops == 1 ? " event)" : " events)");
    chart.rows.back().bars.push_back({static_cast<double>(s.start), static_cast<double>(s.end),
                                      phase_index(op.phase), op.layer, tooltip});
  }
  return report::gantt_chart(chart);
}

}  // namespace

std::vector<report::TimelineOp> timeline_ops(const arch::SimResult& sim) {
  std::vector<report::TimelineOp> ops;
  ops.reserve(sim.op_labels.size());
  for (const auto& label : sim.op_labels) {
    const arch::SimRow& row = sim.rows.at(label.row);
    ops.push_back({row.layer, std::string(workloads::phase_name(row.phase)), label.kind});
  }
  return ops;
}

TimelineChoice choose_timeline(const arch::SimResult& sim, TimelineDetail requested, std::uint64_t limit_bytes) {
  TimelineChoice c;
  c.requested = requested;
  if (requested == TimelineDetail::kNone) {
    c.reason = "not requested (" + setting_ref("timeline") + " none): no timeline.json";
    return c;
  }
  const std::vector<report::TimelineOp> ops = timeline_ops(sim);
  const double clock = sim.design.clock_mhz;
  if (requested == TimelineDetail::kOps) {
    const auto spans = report::timeline_spans(sim.timeline, ops, TimelineDetail::kOps);
    if (auto text = report::timeline_json(spans, ops, clock, TimelineDetail::kOps, limit_bytes)) {
      c.detail = TimelineDetail::kOps;
      c.events = spans.size();
      c.json = std::move(*text);
      c.reason = "one event per unit and op: " + size_text(c.json.size()) + ", within the limit of " +
                 size_text(limit_bytes);
      return c;
    }
    c.reason = "one event per unit and op would exceed the limit of " + size_text(limit_bytes) + " (" +
               std::to_string(spans.size()) + " events): one event per unit, layer and phase instead";
  } else {
    c.reason = "one event per unit, layer and phase (" + setting_ref("timeline") + " layers)";
  }
  const auto spans = report::timeline_spans(sim.timeline, ops, TimelineDetail::kLayers);
  c.detail = TimelineDetail::kLayers;
  c.events = spans.size();
  c.json = *report::timeline_json(spans, ops, clock, TimelineDetail::kLayers);
  return c;
}

nlohmann::ordered_json timeline_summary(const TimelineChoice& choice, const SettingWords& words) {
  nlohmann::ordered_json j;
  j["detail"] = report::timeline_detail_name(choice.detail);
  j["requested"] = report::timeline_detail_name(choice.requested);
  j["reason"] = words(choice.reason);
  j["events"] = choice.events;
  j["bytes"] = choice.json.size();
  return j;
}

void gantt_figures(report::HtmlPage& page, const std::vector<report::TimelineSpan>& spans,
                   const std::vector<report::TimelineOp>& ops, std::uint64_t end, const std::string& who,
                   bool zoom_per_phase) {
  page.figure(gantt(spans, ops, "Units over the whole step" + who, 0, std::max<std::uint64_t>(end, 1)),
              "Busy intervals of every unit over the training step (" + std::to_string(end) + " cycles).");
  if (!zoom_per_phase) return;
  for (const auto phase : workloads::all_phases()) {
    const std::string name(workloads::phase_name(phase));
    std::uint64_t from = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t to = 0;
    for (const auto& s : spans) {
      if (ops.at(s.op).phase != name) continue;
      from = std::min(from, s.start);
      to = std::max(to, s.end);
    }
    if (to == 0) continue;  // no work in this phase
    page.details_figure("Zoom: " + name + " (cycles " + std::to_string(from) + " to " + std::to_string(to) + ")",
                        gantt(spans, ops, "Units during " + name + who, from, to),
                        "The units between the first and the last cycle of the " + name +
                            " phase; bars of other phases in this window are drawn too.");
  }
}

void timeline_section(report::HtmlPage& page, const arch::SimResult& sim, const TimelineChoice& choice,
                      const SettingWords& words) {
  page.section("Timeline");
  if (choice.requested == TimelineDetail::kNone) {
    page.paragraph(words("No timeline: the run was made with " + setting_ref("timeline") + " none."));
    return;
  }
  const std::vector<report::TimelineOp> ops = timeline_ops(sim);
  page.paragraph("When each unit of the chip was busy, as the simulation recorded it; one bar per run of a layer "
                 "and phase on a unit, coloured by phase; hover a bar for its cycles. The same intervals, at the "
                 "detail given in summary.json, are in timeline.json: open it in Perfetto (ui.perfetto.dev, "
                 "Open trace file) or chrome://tracing to zoom to single ops.");
  gantt_figures(page, report::timeline_spans(sim.timeline, ops, TimelineDetail::kLayers), ops, sim.total(sim.ids.cycles), "",
                true);
}

void timeline_figure(report::HtmlPage& page, const arch::SimResult& sim, const std::string& who) {
  const std::vector<report::TimelineOp> ops = timeline_ops(sim);
  gantt_figures(page, report::timeline_spans(sim.timeline, ops, TimelineDetail::kLayers), ops, sim.total(sim.ids.cycles), who,
                false);
}

void timeline_file_figure(report::HtmlPage& page, const std::string& path, std::uint64_t end, const std::string& who) {
  const report::TimelineDoc doc = report::read_timeline_json(read_file(path), path);
  gantt_figures(page, report::merge_layer_runs(doc.spans, doc.ops), doc.ops, end, who, false);
}

}  // namespace nibble::flow
