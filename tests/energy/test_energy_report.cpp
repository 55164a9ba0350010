// The energy parts of the reports: CSV columns, summary.json block, and an
// HTML section that parses as XML and names every layer.
#include <gtest/gtest.h>

#include "sim/energy/energy_report.hpp"
#include "tests/report/xml_check.hpp"
#include "sim/report/html.hpp"
#include "sim/report/json.hpp"
#include "tests/energy/counters.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::energy {
namespace {

struct Fixture {
  StatRegistry registry = testing::contract_registry();
  std::vector<StatVector> rows;
  std::vector<RowLabel> labels;
};

Fixture make_rows(std::size_t layers) {
  Fixture f;
  const char* phases[] = {"forward", "input_grad", "weight_grad"};
  for (std::size_t l = 0; l < layers; ++l) {
    for (const char* phase : phases) {
      StatVector v(f.registry.size());
      v[f.registry.at("cycles")] = 1000 + 7 * l;
      v[f.registry.at("macs")] = 50000 + 11 * l;
      v[f.registry.at(std::string(phase) == "forward" ? "mac_int4_int4" : "mac_int4_fp4")] = 50000 + 11 * l;
      v[f.registry.at("acc_add_fp16")] = 50000 + 11 * l;
      v[f.registry.at("pe_reg_write_bits")] = 1000000;
      v[f.registry.at("spad_input_read_bytes")] = 4096;
      v[f.registry.at("dram_bytes_read")] = 2048 + l;
      v[f.registry.at("vec_ops")] = 100;
      f.rows.push_back(v);
      f.labels.push_back({"layer<" + std::to_string(l) + ">&'\"", phase});
    }
  }
  return f;
}

design::Design report_design() {
  design::Design d = test::test_design("int4-train", design::PeKind::kInt4Fp4, 16, 16);
  d.array.acc_int4 = numerics::Format::kFp16;
  d.array.acc_fp4 = numerics::Format::kFp16;
  d.input = d.weight = d.output = test::scratchpad(64 * 1024, 128, 1);
  return d;
}

TEST(EnergyReport, CsvHasStableColumnsAndATotalRow) {
  const Fixture f = make_rows(2);
  const EnergyModel model(builtin_tech_table("45nm"), report_design());
  const EnergyReport r = model.account(f.registry, f.rows);
  const std::string csv = energy_csv(r, f.labels);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "layer,phase,energy_mac_pj,energy_accumulator_pj,energy_registers_pj,energy_scratchpad_input_pj,"
            "energy_scratchpad_weight_pj,energy_scratchpad_output_pj,energy_dram_pj,energy_vector_pj,"
            "energy_leakage_pj,energy_total_pj");
  EXPECT_NE(csv.find("\ntotal,all,"), std::string::npos);
  EXPECT_NE(csv.find("\"layer<0>&'\"\"\",forward,"), std::string::npos);  // quoted by the CSV writer
  EXPECT_THROW(energy_csv(r, {}), std::logic_error);
}

TEST(EnergyReport, JsonBlockHasTheDocumentedKeys) {
  const Fixture f = make_rows(3);
  const EnergyModel model(builtin_tech_table("45nm"), report_design());
  const EnergyReport r = model.account(f.registry, f.rows);
  const nlohmann::ordered_json j = energy_json(model, r);
  for (const char* key : {"tech", "energy_pj", "energy_per_step_j", "seconds", "macs", "tops_per_watt", "edp_js",
                          "average_power_w", "leakage_w", "area_mm2", "area_mm2_by_part", "peak"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(j["energy_pj"]["total"].get<double>(), r.total.total_pj());
  EXPECT_TRUE(j["peak"].contains("int4_int4"));
  EXPECT_TRUE(j["peak"].contains("int4_fp4"));
  EXPECT_EQ(report::json_text(j), report::json_text(energy_json(model, r)));
}

TEST(EnergyReport, HtmlSectionIsWellFormedAndNamesEveryLayer) {
  const Fixture f = make_rows(120);
  const EnergyModel model(builtin_tech_table("7nm"), report_design());
  const EnergyReport r = model.account(f.registry, f.rows);
  report::HtmlPage page("energy report", "int4-train on 7nm");
  add_energy_section(page, model, r, f.labels);
  const std::string html = page.str();
  for (const auto& label : f.labels) EXPECT_NE(html.find(report::escape_xml(label.layer)), std::string::npos);
  // Every source of the table is on the page.
  for (const auto& e : model.tech().energy) EXPECT_NE(html.find(report::escape_xml(e.source)), std::string::npos);
  EXPECT_EQ(report::testing::xml_errors(html), "") << "report.html is not well-formed XML";
  report::HtmlPage again("energy report", "int4-train on 7nm");
  add_energy_section(again, model, r, f.labels);
  EXPECT_EQ(again.str(), html);
}

}  // namespace
}  // namespace nibble::energy
