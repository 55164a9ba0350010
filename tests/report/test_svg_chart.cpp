// SVG charts: ticks, number formats and the Pareto front computed by hand;
// every chart kind well-formed XML; bars drawn to scale.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/report/svg_chart.hpp"
#include "tests/report/xml_check.hpp"

namespace nibble::report {
namespace {

void expect_ticks(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9 * std::max(1.0, std::fabs(want[i])));
}

TEST(SvgChart, NiceTicks) {
  // (1 - 0) / 6 = 0.167 -> step 0.2.
  expect_ticks(nice_ticks(0, 1), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  // 9500 / 6 = 1583 -> step 2000, last tick 10000 >= 9500.
  expect_ticks(nice_ticks(0, 9500), {0, 2000, 4000, 6000, 8000, 10000});
  // -7..23: 30 / 6 = 5 -> step 5 from -10 to 25.
  expect_ticks(nice_ticks(-7, 23), {-10, -5, 0, 5, 10, 15, 20, 25});
  // 0..2.4 with 6: 0.4 -> step 0.5.
  expect_ticks(nice_ticks(0, 2.4), {0, 0.5, 1, 1.5, 2, 2.5});
  // A single value is widened by half its magnitude: 3 -> [1.5, 4.5], step 0.5.
  expect_ticks(nice_ticks(3, 3), {1.5, 2, 2.5, 3, 3.5, 4, 4.5});
  expect_ticks(nice_ticks(0, 0), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  expect_ticks(nice_ticks(NAN, 1), {0, 1});
}

TEST(SvgChart, NumberFormats) {
  EXPECT_EQ(format_tick(2500000, 500000), "2.5M");
  EXPECT_EQ(format_tick(1000000, 500000), "1M");
  EXPECT_EQ(format_tick(500000, 500000), "500k");
  EXPECT_EQ(format_tick(0.25, 0.25), "0.25");
  EXPECT_EQ(format_tick(0.6000000000000001, 0.2), "0.6");
  EXPECT_EQ(format_tick(1500, 250), "1.5k");
  EXPECT_EQ(format_tick(-2000, 1000), "-2k");
  EXPECT_EQ(format_tick(0, 7), "0");
  EXPECT_EQ(format_tick(3e15, 1e15), "3P");
}

TEST(SvgChart, ParetoFrontByHand) {
  // Lower x and lower y are better.
  const std::vector<ScatterPoint> p = {
      {"A", 1, 10, 1}, {"B", 2, 5, 1}, {"C", 3, 5, 1},   // C: same y as B, larger x -> dominated
      {"D", 2, 7, 1},  {"E", 4, 1, 1}, {"F", 5, 2, 1},   // D by B, F by E
      {"G", 1, 10, 1},                                   // equal to A: neither dominates the other
      {"H", NAN, 0, 1}, {"I", 0.5, INFINITY, 1}};        // not finite: never on the front
  EXPECT_EQ(pareto_front(p), (std::vector<std::size_t>{0, 6, 1, 4}));
  EXPECT_TRUE(pareto_front({}).empty());
}

TEST(SvgChart, StackedBarsAreDrawnToScale) {
  // One category, series 1 and 3: axis 0..4 (step 1); the plot starts at
  // 16 + 6.4 x 6 = 54.4 and ends at 820 - 28 = 792, 737.6 wide: widths 184.4 and 553.2.
  const std::string svg = stacked_bar_chart({"t", "v", {"a"}, {{"s1", {1}}, {"s2", {3}}}});
  EXPECT_NE(svg.find("x=\"54.4\" y=\""), std::string::npos);
  EXPECT_NE(svg.find("width=\"184.4\" height=\"12.0\" fill=\"#4e79a7\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("x=\"238.8\""), std::string::npos);  // second segment starts where the first ends
  EXPECT_NE(svg.find("width=\"553.2\" height=\"12.0\" fill=\"#f28e2b\""), std::string::npos);
  // Negative and NaN values are drawn as nothing.
  const std::string none = stacked_bar_chart({"t", "v", {"a"}, {{"s1", {-1}}, {"s2", {NAN}}}});
  EXPECT_EQ(none.find("height=\"12.0\" fill="), std::string::npos);
}

TEST(SvgChart, EveryKindIsWellFormed) {
  std::vector<std::string> cats;
  for (int i = 0; i < 130; ++i) cats.push_back("layer " + std::to_string(i) + " <&>");
  std::vector<double> values(cats.size());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 1e9 * static_cast<double>(i % 7);
  const std::vector<std::string> charts = {
      stacked_bar_chart({"stacked", "pJ", cats, {{"mac", values}, {"dram", values}}}),
      grouped_bar_chart({"grouped", "cycles", cats, {{"A", values}, {"B", values}, {"C", values}}}),
      line_chart({"lines", "epoch", "loss", {{"a", {0, 1, 2}, {2.3, 1.1, 0.7}}, {"b", {0, 1}, {NAN, 1}}}}),
      scatter_chart({"scatter", "s", "J", "mm2", {{"p1", 1e-3, 2, 3}, {"p2", 2e-3, 1, 30}, {"p3", -1, 1, 1}}, true, true}),
      scatter_chart({"scatter lin", "s", "J", "", {{"p1", 1, 2, 3}, {"p2", 1, 2, 3}}, false, false}),
      stacked_bar_chart({"empty", "pJ", {}, {}}),
      line_chart({"empty", "x", "y", {}}),
  };
  for (const auto& svg : charts) {
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_EQ(testing::xml_errors(svg), "") << svg.substr(0, 200);
  }
  // The log-log scatter leaves out the point at x = -1 and says so.
  EXPECT_NE(charts[3].find("1 point(s) with non-finite"), std::string::npos);
  EXPECT_NE(charts[5].find("no data"), std::string::npos);
}

// Row labels up to "core0.vector" (12 characters): the plot starts at
// 16 + 6.4 x 12 = 92.8 and ends at 792, 699.2 px for 0..100 (ticks every 20).
// [25, 75) starts at 92.8 + 0.25 x 699.2 = 267.6 and is 349.6 wide;
// [90, 130) is cut at 100: x 92.8 + 629.28 = 722.1, width 69.9; [120, 130) is left out.
TEST(SvgChart, GanttBarsAreDrawnToScaleAndClipped) {
  GanttChart chart;
  chart.title = "units";
  chart.x_label = "cycle";
  chart.from = 0;
  chart.to = 100;
  chart.legend = {"forward", "input_grad"};
  chart.rows = {{"core0.array", {{25, 75, 0, "conv1", "conv1 forward"}, {90, 130, 1, "fc", "fc input_grad"}}},
                {"core0.vector", {{120, 130, 1, "late", "late <&>"}}}};
  const std::string svg = gantt_chart(chart);
  EXPECT_EQ(testing::xml_errors(svg), "") << svg;
  EXPECT_NE(svg.find("<rect x=\"267.6\" y=\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("width=\"349.6\" height=\"16.0\" fill=\"#4e79a7\"><title>conv1 forward</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("<rect x=\"722.1\""), std::string::npos);
  EXPECT_NE(svg.find("width=\"69.9\" height=\"16.0\" fill=\"#f28e2b\""), std::string::npos);
  EXPECT_EQ(svg.find("late &lt;&amp;&gt;"), std::string::npos);  // outside the window
  EXPECT_NE(svg.find(">conv1</text>"), std::string::npos);         // the label fits inside its bar
  EXPECT_NE(svg.find(">core0.vector</text>"), std::string::npos);  // every row is drawn, even an empty one
  chart.rows.clear();
  EXPECT_NE(gantt_chart(chart).find("no data"), std::string::npos);
}

TEST(SvgChart, MismatchedSeriesAreProgrammingErrors) {
  EXPECT_THROW(stacked_bar_chart({"t", "v", {"a", "b"}, {{"s", {1}}}}), std::logic_error);
  EXPECT_THROW(grouped_bar_chart({"t", "v", {"a"}, {{"s", {1, 2}}}}), std::logic_error);
  EXPECT_THROW(line_chart({"t", "x", "y", {{"s", {1, 2}, {1}}}}), std::logic_error);
}

}  // namespace
}  // namespace nibble::report

namespace nibble::report {
namespace {

TEST(SvgChart, ExtremeValuesNeitherCrashNorHang) {
  EXPECT_EQ(nice_ticks(-1e308, 1e308).size(), 2u);
  EXPECT_LE(nice_ticks(1e300, 1e300 * (1 + 1e-15)).size(), 200u);
  const std::string svg = stacked_bar_chart({"t", "v", {"a", "b"}, {{"s", {1e308, 1e308}}, {"u", {1e308, 0}}}});
  EXPECT_EQ(testing::xml_errors(svg), "");
  EXPECT_EQ(testing::xml_errors(line_chart({"t", "x", "y", {{"s", {0, 1e308}, {-1e308, 1e308}}}})), "");
}

}  // namespace
}  // namespace nibble::report
