// timeline.json's writer (sim/report/timeline_json.hpp) on events made by
// hand: the order of tracks, pids and tids, the layers detail's merging, the
// microseconds of ts and dur, the size limit, and the Chrome trace-event shape
// parsed back with nlohmann::json.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "sim/common/error.hpp"
#include "sim/report/timeline_json.hpp"

namespace nibble::report {
namespace {

using arch::TimelineDetail;
using arch::TimelineEvent;

// Ops 0-1: layer a forward (conv, relu); op 2: a forward again (a second conv);
// op 3: b forward; op 4: a input_grad.
std::vector<TimelineOp> ops() {
  return {{"a", "forward", "conv"},
          {"a", "forward", "activation"},
          {"a", "forward", "conv"},
          {"b", "forward", "gemm"},
          {"a", "input_grad", "conv"}};
}

// Given out of order on purpose: the writer sorts.
std::vector<TimelineEvent> events() {
  return {{"dram.ch0", 0, 0, 4, "load"},          {"core1.array", 0, 0, 10, "gemm"},
          {"core0.vector", 1, 10, 14, "vector"},  {"core0.array", 2, 20, 30, "gemm"},
          {"core0.array", 0, 0, 10, "gemm"},      {"core0.array", 3, 30, 35, "gemm"},
          {"core0.array", 4, 40, 50, "gemm"},     {"core0.dma", 0, 0, 4, "load"},
          {"core10.array", 0, 0, 10, "gemm"}};
}

TEST(TimelineJson, SpansAreOrderedByCoreUnitAndStart) {
  const auto spans = timeline_spans(events(), ops(), TimelineDetail::kOps);
  std::vector<std::string> order;
  for (const auto& s : spans) order.push_back(s.track + "@" + std::to_string(s.start));
  EXPECT_EQ(order, (std::vector<std::string>{"core0.array@0", "core0.array@20", "core0.array@30", "core0.array@40",
                                             "core0.vector@10", "core0.dma@0", "core1.array@0", "core10.array@0",
                                             "dram.ch0@0"}));
  EXPECT_TRUE(timeline_spans(events(), ops(), TimelineDetail::kNone).empty());
}

// core0.array at layers detail: ops 0 and 2 (a forward, [0,10) and [20,30))
// are one run: span [0,30) with 20 busy cycles; op 3 (b) and op 4 (a
// input_grad) each their own span.
TEST(TimelineJson, LayersDetailMergesRunsOfOneLayerAndPhase) {
  const auto spans = timeline_spans(events(), ops(), TimelineDetail::kLayers);
  ASSERT_EQ(spans.size(), 8u);
  EXPECT_EQ(spans[0].track, "core0.array");
  EXPECT_EQ(spans[0].op, 0u);
  EXPECT_EQ(spans[0].start, 0u);
  EXPECT_EQ(spans[0].end, 30u);
  EXPECT_EQ(spans[0].busy, 20u);
  EXPECT_EQ(spans[0].ops, 2u);
  EXPECT_EQ(spans[1].op, 3u);
  EXPECT_EQ(spans[1].busy, 5u);
  EXPECT_EQ(spans[2].op, 4u);
  EXPECT_EQ(spans[2].start, 40u);
  // A track's busy cycles do not change with the detail.
  std::uint64_t busy_ops = 0, busy_layers = 0;
  for (const auto& s : timeline_spans(events(), ops(), TimelineDetail::kOps)) busy_ops += s.busy;
  for (const auto& s : spans) busy_layers += s.busy;
  EXPECT_EQ(busy_ops, busy_layers);
  // Work of different kinds merged into one span says so.
  const std::vector<TimelineEvent> mixed = {{"core0.dma", 0, 0, 4, "load"}, {"core0.dma", 1, 4, 6, "store"}};
  const auto m = timeline_spans(mixed, ops(), TimelineDetail::kLayers);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].what, "mixed");
}

// At 250 MHz a cycle is 0.004 us: [20, 30) is ts 0.08, dur 0.04.
TEST(TimelineJson, ChromeTraceEventsWithProcessesThreadsAndMicroseconds) {
  const auto spans = timeline_spans(events(), ops(), TimelineDetail::kOps);
  const auto text = timeline_json(spans, ops(), 250.0, TimelineDetail::kOps);
  ASSERT_TRUE(text.has_value());
  const nlohmann::json j = nlohmann::json::parse(*text);
  EXPECT_EQ(j.at("displayTimeUnit"), "ns");
  EXPECT_EQ(j.at("otherData").at("detail"), "ops");
  std::map<int, std::string> process;
  std::map<std::pair<int, int>, std::string> thread;
  std::vector<nlohmann::json> complete;
  for (const auto& e : j.at("traceEvents")) {
    const std::string ph = e.at("ph");
    if (ph == "M" && e.at("name") == "process_name") process[e.at("pid")] = e.at("args").at("name");
    if (ph == "M" && e.at("name") == "thread_name") thread[{e.at("pid"), e.at("tid")}] = e.at("args").at("name");
    if (ph == "X") complete.push_back(e);
  }
  EXPECT_EQ(process, (std::map<int, std::string>{{1, "core0"}, {2, "core1"}, {3, "core10"}, {4, "dram"}}));
  EXPECT_EQ(thread.at({1, 1}), "core0.array");
  EXPECT_EQ(thread.at({1, 2}), "core0.vector");
  EXPECT_EQ(thread.at({1, 3}), "core0.dma");
  EXPECT_EQ(thread.at({4, 1}), "dram.ch0");
  ASSERT_EQ(complete.size(), 9u);
  const nlohmann::json& e = complete[1];  // core0.array, op 2
  EXPECT_EQ(e.at("name"), "a conv");
  EXPECT_EQ(e.at("cat"), "forward");
  EXPECT_EQ(e.at("pid"), 1);
  EXPECT_EQ(e.at("tid"), 1);
  EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), 0.08);
  EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), 0.04);
  EXPECT_EQ(e.at("args").at("op"), 2);
  EXPECT_EQ(e.at("args").at("layer"), "a");
  EXPECT_EQ(e.at("args").at("phase"), "forward");
  EXPECT_EQ(e.at("args").at("kind"), "conv");
  EXPECT_EQ(e.at("args").at("start_cycle"), 20);
  EXPECT_EQ(e.at("args").at("end_cycle"), 30);

  const auto layers = timeline_json(timeline_spans(events(), ops(), TimelineDetail::kLayers), ops(), 250.0,
                                    TimelineDetail::kLayers);
  const nlohmann::json l = nlohmann::json::parse(*layers);
  const nlohmann::json* first = nullptr;
  for (const auto& x : l.at("traceEvents")) {
    if (x.at("ph") == "X") {
      first = &x;
      break;
    }
  }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->at("name"), "a forward");
  EXPECT_DOUBLE_EQ(first->at("dur").get<double>(), 0.12);  // [0, 30)
  EXPECT_EQ(first->at("args").at("ops"), 2);
  EXPECT_EQ(first->at("args").at("busy_cycles"), 20);
}

TEST(TimelineJson, LimitSameBytesAndDetailNames) {
  const auto spans = timeline_spans(events(), ops(), TimelineDetail::kOps);
  const std::string text = *timeline_json(spans, ops(), 1000.0, TimelineDetail::kOps);
  EXPECT_EQ(*timeline_json(spans, ops(), 1000.0, TimelineDetail::kOps), text);
  EXPECT_TRUE(timeline_json(spans, ops(), 1000.0, TimelineDetail::kOps, text.size()).has_value());
  EXPECT_FALSE(timeline_json(spans, ops(), 1000.0, TimelineDetail::kOps, text.size() - 1).has_value());
  EXPECT_FALSE(timeline_json(spans, ops(), 1000.0, TimelineDetail::kOps, 100).has_value());
  for (const auto d : {TimelineDetail::kNone, TimelineDetail::kLayers, TimelineDetail::kOps}) {
    EXPECT_EQ(parse_timeline_detail(timeline_detail_name(d)), d);
  }
  EXPECT_FALSE(parse_timeline_detail("op").has_value());
  EXPECT_FALSE(parse_timeline_detail("").has_value());
  // Names that need escaping stay valid JSON.
  const std::vector<TimelineOp> odd = {{"la\"yer\\", "forward", "conv"}};
  const std::vector<TimelineEvent> one = {{"core0.array", 0, 0, 1, "gemm"}};
  const auto j = nlohmann::json::parse(
      *timeline_json(timeline_spans(one, odd, TimelineDetail::kOps), odd, 1000.0, TimelineDetail::kOps));
  EXPECT_EQ(j.at("traceEvents").back().at("args").at("layer"), "la\"yer\\");
}

// What the writer wrote reads back as the same spans, at both details; and
// the layers merge of the ops file equals the layers spans.
TEST(TimelineJson, ReadsBackWhatItWrote) {
  for (const auto detail : {TimelineDetail::kOps, TimelineDetail::kLayers}) {
    const auto spans = timeline_spans(events(), ops(), detail);
    const TimelineDoc doc = read_timeline_json(*timeline_json(spans, ops(), 250.0, detail), "t.json");
    EXPECT_EQ(doc.clock_mhz, 250.0);
    EXPECT_EQ(doc.detail, timeline_detail_name(detail));
    ASSERT_EQ(doc.spans.size(), spans.size());
    for (std::size_t i = 0; i < spans.size(); ++i) {
      EXPECT_EQ(doc.spans[i].track, spans[i].track);
      EXPECT_EQ(doc.spans[i].start, spans[i].start);
      EXPECT_EQ(doc.spans[i].end, spans[i].end);
      EXPECT_EQ(doc.spans[i].busy, spans[i].busy);
      EXPECT_EQ(doc.spans[i].ops, spans[i].ops);
      EXPECT_EQ(doc.ops[doc.spans[i].op].layer, ops()[spans[i].op].layer);
      EXPECT_EQ(doc.ops[doc.spans[i].op].phase, ops()[spans[i].op].phase);
    }
    const auto merged = merge_layer_runs(doc.spans, doc.ops);
    const auto layers = timeline_spans(events(), ops(), TimelineDetail::kLayers);
    ASSERT_EQ(merged.size(), layers.size());
    for (std::size_t i = 0; i < merged.size(); ++i) {
      EXPECT_EQ(merged[i].end, layers[i].end);
      EXPECT_EQ(merged[i].busy, layers[i].busy);
    }
  }
}

TEST(TimelineJson, DamagedFilesAreInputErrorsNamingTheFile) {
  const std::string good = *timeline_json(timeline_spans(events(), ops(), TimelineDetail::kOps), ops(), 250.0,
                                          TimelineDetail::kOps);
  const std::vector<std::string> damaged = {
      "{", "[]", R"({"traceEvents": 3})", good.substr(0, good.size() / 2),
      R"({"traceEvents": [{"ph": "X", "pid": 1, "tid": 1}], "otherData": {"clock_mhz": 1, "detail": "ops"}})",
      R"({"traceEvents": [], "otherData": {}})"};
  for (const std::string& bad : damaged) {
    try {
      read_timeline_json(bad, "dir/timeline.json");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "dir/timeline.json") << bad;
    }
  }
}

}  // namespace
}  // namespace nibble::report
