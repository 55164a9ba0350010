// Sweep points through the evaluation pipeline, the sweep page and its
// re-rendering from files (sim/flow/sweep_eval.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/design.hpp"
#include "sim/flow/evaluate.hpp"
#include "sim/flow/sweep_eval.hpp"
#include "sim/flow/workload.hpp"
#include "tests/report/xml_check.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble::flow {
namespace {

namespace fs = std::filesystem;

const std::string kDesign = std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/test-4x4.yaml";

std::string metric_of(const sweep::PointOutcome& outcome, const std::string& key) {
  for (const auto& [k, v] : outcome.metrics) {
    if (k == key) return v;
  }
  return "<missing>";
}

sweep::SweepPoint mlp_point(std::vector<std::pair<std::string, std::string>> overrides) {
  sweep::SweepPoint point;
  point.design = kDesign;
  // test-4x4 is a plain int4-fp4 array: the policy's FP16 first/last layers need multi-pass.
  point.overrides = {{"array.unsupported", "multi-pass"}};
  point.overrides.insert(point.overrides.end(), overrides.begin(), overrides.end());
  point.workload.model = "fmnist-mlp";
  point.workload.batch = 4;
  point.policy = "natural";
  return point;
}

// A point is exactly `simulate --design D --set K=V --model M --batch B`:
// the same numbers as flow::evaluate on the overridden design.
TEST(SweepEval, PointEqualsTheSimulatePipeline) {
  const sweep::PointOutcome outcome = evaluate_sweep_point(mlp_point({{"array.dataflow", "os"}}), "");
  ASSERT_TRUE(outcome.ok) << outcome.error;

  const design::Design design = design::load_design(kDesign, {"array.unsupported=multi-pass", "array.dataflow=os"});
  WorkloadSource source;
  source.model = "fmnist-mlp";
  source.batch = 4;
  const Workload workload = Workload::load(source);
  EvalOptions options;
  const Evaluation eval = evaluate(design, workload.trace_for(design, {}), options);

  EXPECT_EQ(metric_of(outcome, "cycles"), std::to_string(eval.sim.total("cycles")));
  EXPECT_EQ(metric_of(outcome, "energy_per_step_j"), format_double(eval.energy.metrics.energy_per_step_j));
  EXPECT_EQ(metric_of(outcome, "area_mm2"), format_double(eval.energy.metrics.area_mm2));
  std::vector<std::string> keys;
  for (const auto& [k, v] : outcome.metrics) keys.push_back(k);
  EXPECT_EQ(keys, sweep_metric_columns());
  // The dataflow override took effect: os and ws give different cycles for this GEMM mix.
  const sweep::PointOutcome ws = evaluate_sweep_point(mlp_point({}), "");
  ASSERT_TRUE(ws.ok) << ws.error;
  EXPECT_NE(metric_of(ws, "cycles"), metric_of(outcome, "cycles"));
}

TEST(SweepEval, BadOverrideIsAFailedPointNamingTheKey) {
  const sweep::PointOutcome outcome = evaluate_sweep_point(mlp_point({{"array.rows", "0"}}), "");
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.error.find("array.rows"), std::string::npos) << outcome.error;
  EXPECT_TRUE(outcome.metrics.empty());
}

// Hand-made results: (seconds, energy) = p0 (1, 5), p1 (2, 3), p2 (3, 4)
// dominated by p1, p3 (4, 1), p4 failed, p5 (2, 3) ties p1 (both kept).
sweep::SweepResults synthetic_results() {
  const std::vector<std::pair<double, double>> xy = {{1, 5}, {2, 3}, {3, 4}, {4, 1}, {0, 0}, {2, 3}};
  sweep::SweepResults results;
  for (std::size_t i = 0; i < xy.size(); ++i) {
    sweep::SweepPoint point;
    point.design = kDesign;
    point.overrides = {{"array.rows", std::to_string(4 * (i + 1))}};
    point.workload.model = "fmnist-mlp";
    point.workload.batch = 4;
    point.policy = "natural";
    point.index = i;
    sweep::PointOutcome outcome;
    outcome.ok = i != 4;
    if (outcome.ok) {
      for (const auto& column : sweep_metric_columns()) {
        std::string value = "7";
        if (column == "seconds_per_step") value = format_double(xy[i].first);
        if (column == "energy_per_step_j") value = format_double(xy[i].second);
        if (column == "area_mm2") value = format_double(1.5 * static_cast<double>(i + 1));
        outcome.metrics.emplace_back(column, value);
      }
    } else {
      outcome.error = "hw/designs/x.yaml:3: array.rows: expected 1..65536";
    }
    results.points.push_back(point);
    results.outcomes.push_back(outcome);
  }
  return results;
}

TEST(SweepEval, ParetoFrontOfHandMadePoints) {
  EXPECT_EQ(sweep_pareto_front(synthetic_results()), (std::vector<std::size_t>{0, 1, 5, 3}));
}

TEST(SweepEval, PageIsWellFormedAndRerendersFromItsFiles) {
  sweep::SweepSpec spec;
  spec.name = "unit";
  spec.file = "unit.yaml";
  spec.parameter_keys = {"array.rows"};
  const sweep::SweepResults results = synthetic_results();
  const std::string page = sweep_report_html(spec, results);
  std::string text;
  ASSERT_EQ(report::testing::xml_errors(page, &text), "");
  for (const char* expected : {"p0000", "p0005", "Failed points", "expected 1..65536", "least energy per step"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected;
  }

  const fs::path dir = test::fresh_dir("sweep_eval");
  write_sweep_outputs(spec, results, dir.string());
  EXPECT_TRUE(is_sweep_dir(dir.string()));
  const std::string original = read_file((dir / "report.html").string());
  EXPECT_EQ(original, page);
  fs::remove(dir / "report.html");
  rerender_sweep_report(dir.string());
  EXPECT_EQ(read_file((dir / "report.html").string()), original);

  // A damaged sweep.csv is an error naming the file, the line and the column.
  std::string csv = read_file((dir / "sweep.csv").string());
  const auto ok = csv.find(",ok,");
  csv.replace(ok, 4, ",maybe,");
  write_file_atomic((dir / "sweep.csv").string(), csv);
  try {
    rerender_sweep_report(dir.string());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sweep.csv:2: status: expected ok or error"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nibble::flow
