// The HTML page: self-contained, well-formed XML by a real parser, every
// layer's name present, the same bytes for the same content.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "sim/common/files.hpp"
#include "sim/report/html.hpp"
#include "sim/report/svg_chart.hpp"
#include "tests/report/xml_check.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble::report {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Html, EscapesMarkupAndRepairsInvalidText) {
  EXPECT_EQ(escape_xml("a<b&c>\"'"), "a&lt;b&amp;c&gt;&quot;&#39;");
  EXPECT_EQ(escape_xml("\xC2\xB5m\xC2\xB2 \xE2\x80\x94 \xF0\x9F\x98\x80"), "\xC2\xB5m\xC2\xB2 \xE2\x80\x94 \xF0\x9F\x98\x80");
  EXPECT_EQ(escape_xml("tab\tlf\ncr\r"), "tab\tlf\ncr\r");
  EXPECT_EQ(escape_xml("nul\x01"), "nul" + kFffd);
  EXPECT_EQ(escape_xml(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(escape_xml("bad\xFF"), "bad" + kFffd);
  EXPECT_EQ(escape_xml("\xC0\xAF"), kFffd + kFffd);           // overlong '/'
  EXPECT_EQ(escape_xml("\xED\xA0\x80"), kFffd + kFffd + kFffd); // a UTF-16 surrogate
  EXPECT_EQ(escape_xml("\xEF\xBF\xBE"), kFffd + kFffd + kFffd); // U+FFFE is not an XML character
  EXPECT_EQ(escape_xml("cut\xE2\x80"), "cut" + kFffd + kFffd);  // truncated sequence
}

std::vector<std::string> layer_names(std::size_t n) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = "layer" + std::to_string(i);
    if (i % 5 == 1) name += " <b>bold</b> & \"quoted\" 'single'";
    if (i % 5 == 2) name = "resnet.layer" + std::to_string(i) + ".0.conv1/very/long/onnx/name/that/is/cut/in/charts";
    if (i % 5 == 3) name += " \xC3\xA9t\xC3\xA9 \xE2\x86\x92 \xCE\xB1";
    if (i % 5 == 4) name += "]]> <!-- -->";
    names.push_back(name);
  }
  return names;
}

std::string build_page(const std::vector<std::string>& names) {
  HtmlPage page("nibble report: <int4-train> & \"fp16\"", "ResNet-18, batch 32");
  page.section("Summary");
  page.headlines({{"speedup", "7.1", "x", "B time / A time"}, {"energy ratio", "6.4", "", ""}});
  page.paragraph("Energy & cycles <per layer> of 'both' designs.");
  page.section("Energy");
  BarChart stacked{"Energy per layer", "energy (pJ)", names, {}};
  for (const char* component : {"mac", "scratchpad_input", "dram", "leakage"}) {
    Series s{component, {}};
    for (std::size_t i = 0; i < names.size(); ++i) s.values.push_back(1000.0 * static_cast<double>((i * 7 + 3) % 11));
    stacked.series.push_back(s);
  }
  page.figure(stacked_bar_chart(stacked), "stacked & scrolled");
  page.section("Cycles");
  BarChart grouped{"Cycles per layer", "cycles", {names.begin(), names.begin() + 12}, {}};
  grouped.series = {{"A: int4-train", std::vector<double>(12, 100.0)}, {"B: fp16 <baseline>", std::vector<double>(12, 700.0)}};
  page.figure(grouped_bar_chart(grouped));
  page.section("Training");
  LineChart curves{"Learning curves", "epoch", "accuracy (%)", {}};
  curves.series.push_back({"fp32", {1, 2, 3, 4}, {70, 80, 85, 88}});
  curves.series.push_back({"int4-fp4", {1, 2, 3, 4}, {68, 79, NAN, 87}});
  page.figure(line_chart(curves));
  page.section("Sweep");
  ScatterChart sweep{"Pareto", "time per step (s)", "energy per step (J)", "area (mm\xC2\xB2)", {}, true, false};
  for (std::size_t i = 0; i < std::min<std::size_t>(30, names.size()); ++i) {
    sweep.points.push_back({names[i], 0.01 * static_cast<double>(i + 1), 1.0 / static_cast<double>(i + 1) + 0.1 * static_cast<double>(i % 3),
                            static_cast<double>(10 + i)});
  }
  page.figure(scatter_chart(sweep));
  HtmlTable table;
  table.columns = {"layer", "phase", "energy (pJ)"};
  table.numeric = {false, false, true};
  for (const auto& n : names) table.rows.push_back({n, "forward", "1.5k"});
  page.table(table);
  page.preformatted("build/nibble compare a.yaml b.yaml --out out/ > log && echo <done>");
  return page.str();
}

TEST(Html, PageIsWellFormedXmlAndNamesEveryLayer) {
  const std::vector<std::string> names = layer_names(150);
  const std::string html = build_page(names);
  std::string text;
  ASSERT_EQ(testing::xml_errors(html, &text), "");
  for (const auto& name : names) EXPECT_NE(text.find(name), std::string::npos) << name;
  EXPECT_NE(text.find("nibble report: <int4-train> & \"fp16\""), std::string::npos);
}

TEST(Html, PageIsSelfContained) {
  const std::string html = build_page(layer_names(20));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // The only http:// strings are XML namespace names, never fetched.
  std::size_t at = 0;
  while ((at = html.find("http://", at)) != std::string::npos) {
    const std::string ns = html.substr(at, 30);
    EXPECT_TRUE(ns.rfind("http://www.w3.org/1999/xhtml", 0) == 0 || ns.rfind("http://www.w3.org/2000/svg", 0) == 0)
        << ns;
    ++at;
  }
}

TEST(Html, SameContentSameBytesAndAtomicWrite) {
  const std::vector<std::string> names = layer_names(60);
  const std::string a = build_page(names);
  EXPECT_EQ(a, build_page(names));
  const auto dir = test::fresh_dir("html");
  HtmlPage page("t");
  page.paragraph("x");
  const std::string path = (dir / "report.html").string();
  page.write(path);
  EXPECT_EQ(read_file(path), page.str());
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary left behind
  std::filesystem::remove_all(dir);
}

TEST(Html, TallChartsScrollAndBadTablesThrow) {
  HtmlPage page("t");
  BarChart tall{"tall", "x", layer_names(100), {{"s", std::vector<double>(100, 1.0)}}};
  page.figure(stacked_bar_chart(tall));
  EXPECT_NE(page.str().find("<div class=\"scroll\" style=\"max-height:660px\">"), std::string::npos);
  HtmlTable bad;
  bad.columns = {"a", "b"};
  bad.rows = {{"only one"}};
  EXPECT_THROW(page.table(bad), std::logic_error);
  // Duplicate section titles get distinct anchors.
  page.section("Energy");
  page.section("Energy");
  EXPECT_NE(page.str().find("id=\"energy-2\""), std::string::npos);
}

TEST(Html, InvalidUtf8InNamesStillParses) {
  HtmlPage page("bad \xFF title");
  BarChart chart{"c", "v", {"ok", "bad\xFE\xFFname", std::string("nul\0x", 5)}, {{"s", {1, 2, 3}}}};
  page.figure(stacked_bar_chart(chart));
  std::string text;
  ASSERT_EQ(testing::xml_errors(page.str(), &text), "");
  EXPECT_NE(text.find("bad" + kFffd + kFffd + "name"), std::string::npos);
}

}  // namespace
}  // namespace nibble::report
