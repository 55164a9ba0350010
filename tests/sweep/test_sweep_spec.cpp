#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/common/error.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace nibble::sweep {
namespace {

namespace fs = std::filesystem;

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("nibble_sweep_spec_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / name;
  std::ofstream(file) << text;
  return file.string();
}

std::string error_of(const std::string& text) {
  try {
    load_sweep(write_temp("bad.yaml", text));
  } catch (const InputError& e) {
    return std::string(e.what()).substr(std::string(e.what()).find("bad.yaml"));
  }
  return "(no error)";
}

TEST(SweepSpec, ProductExpandsInFileOrder) {
  const auto spec = load_sweep(std::string(NIBBLE_SOURCE_DIR) + "/tests/sweep/probe-sweep.yaml");
  EXPECT_EQ(spec.name, "probe");
  ASSERT_EQ(spec.parameter_keys, (std::vector<std::string>{"array.rows", "array.dataflow"}));
  const auto points = spec.points();
  ASSERT_EQ(points.size(), 12u);  // 3 rows x 2 dataflows x 2 workloads x 1 policy
  // Last key varies fastest among parameters; workloads vary faster than parameters.
  EXPECT_EQ(points[0].overrides, (std::vector<std::pair<std::string, std::string>>{{"array.rows", "4"}, {"array.dataflow", "ws"}}));
  EXPECT_EQ(points[0].workload.model, "resnet18");
  EXPECT_EQ(points[1].workload.model, "fmnist-mlp");
  EXPECT_EQ(points[2].overrides[1].second, "os");
  EXPECT_EQ(points[11].overrides[0].second, "16");
  EXPECT_EQ(points[11].policy, "natural");
  EXPECT_EQ(points[7].name(12), "p0007");
  EXPECT_TRUE(fs::path(points[0].design).is_absolute());
  EXPECT_EQ(fs::path(points[0].design).filename(), "probe-design.yaml");
}

TEST(SweepSpec, ListedPointsAndPolicies) {
  const auto spec = load_sweep(write_temp("list.yaml",
                                          "design: [a.yaml, b.yaml]\nsweep: list\npoints:\n"
                                          "  - {array.rows: 8}\n  - {array.rows: 16, clock_mhz: 500}\n"
                                          "workloads: [{model: resnet18}]\npolicies: [int4-fp4, fp16]\n"));
  EXPECT_EQ(spec.parameter_keys, (std::vector<std::string>{"array.rows", "clock_mhz"}));
  const auto points = spec.points();
  ASSERT_EQ(points.size(), 8u);  // 2 designs x 2 points x 1 workload x 2 policies
  EXPECT_EQ(points[0].workload.batch, 32u);
  EXPECT_EQ(points[1].policy, "fp16");
  EXPECT_EQ(points[3].overrides.size(), 2u);
  EXPECT_NE(points[0].signature(), points[4].signature());  // same overrides, other design
}

TEST(SweepSpec, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("workloads: [{model: resnet18}]\n"), "bad.yaml: design: missing key");
  EXPECT_EQ(error_of("design: a.yaml\nsweep: grid\nworkloads: [{model: x}]\n"),
            "bad.yaml:2: sweep: expected one of product, list, got 'grid'");
  EXPECT_EQ(error_of("design: a.yaml\nworkloads: [{model: x, bacth: 3}]\n"),
            "bad.yaml:2: workloads[0].bacth: unknown key");
  EXPECT_EQ(error_of("design: a.yaml\nworkloads: [{model: x, batch: 0}]\n"),
            "bad.yaml:2: workloads[0].batch: expected a whole number in [1, 1048576], got 0");
  // A misspelt required key points at the typo rather than saying "missing key".
  EXPECT_EQ(error_of("design: a.yaml\nworkload: [{model: x}]\n"),
            "bad.yaml:2: workload: unknown key (did you mean 'workloads'?)");
  EXPECT_EQ(error_of("design: a.yaml\npolicies: [a]\n"), "bad.yaml: workloads: missing key");
  EXPECT_EQ(error_of("design: a.yaml\nparameters:\n  array.rows: [1, 2]\n  array.cols: [1, 2]\nworkloads: [{model: x}]\n"
                     "policies: [a, b]\nname: n\nextra: 1\n"),
            "bad.yaml:8: extra: unknown key");
}

// Found by fuzz_sweep (tests/fuzz/regressions/fuzz_sweep/): a key written twice under
// `parameters` was expanded with the first key's values twice and its own ignored.
// The same for a key written twice at the top level or in a listed point.
TEST(SweepSpec, KeysWrittenTwiceAreErrors) {
  EXPECT_EQ(error_of("design: a.yaml\nparameters:\n  array.rows: [1, 2]\n  array.rows: [4, 8]\n"
                     "workloads: [{model: x}]\n"),
            "bad.yaml:4: parameters.array.rows: listed twice; give each key once");
  EXPECT_EQ(error_of("design: a.yaml\nsweep: list\npoints:\n  - {array.rows: 1, array.rows: 2}\n"
                     "workloads: [{model: x}]\n"),
            "bad.yaml:4: points[0].array.rows: listed twice; give each key once");
  EXPECT_EQ(error_of("design: a.yaml\nworkloads: [{model: x}]\nworkloads: [{model: y}]\n"),
            "bad.yaml:3: workloads: appears twice; give each key once");
}

// Found by fuzz_sweep: the product was built key by key, copying every partial
// set per key, so a few hundred one-value keys after a 1000-point product cost
// points x keys^2 copies (seconds). It is now built once. The order is unchanged:
// the last key varies fastest.
TEST(SweepSpec, ProductOfManyKeysIsBuiltOnce) {
  std::string text = "design: a.yaml\nparameters:\n  a: [0,1,2,3,4,5,6,7,8,9]\n  b: [0,1,2,3,4,5,6,7,8,9]\n"
                     "  c: [0,1,2,3,4,5,6,7,8,9]\n";
  for (int k = 0; k < 100; ++k) text += "  k" + std::to_string(k) + ": " + std::to_string(k) + "\n";
  text += "workloads: [{model: x}]\n";
  const SweepSpec spec = parse_sweep(text, "many.yaml", 1000);
  ASSERT_EQ(spec.parameter_sets.size(), 1000u);  // 10 x 10 x 10 x 1^100
  ASSERT_EQ(spec.parameter_keys.size(), 103u);
  // Set 123 is a=1, b=2, c=3 (c fastest), then every one-value key.
  const auto& set = spec.parameter_sets[123];
  ASSERT_EQ(set.size(), 103u);
  EXPECT_EQ(set[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ(set[1], (std::pair<std::string, std::string>{"b", "2"}));
  EXPECT_EQ(set[2], (std::pair<std::string, std::string>{"c", "3"}));
  EXPECT_EQ(set[102], (std::pair<std::string, std::string>{"k99", "99"}));
}

TEST(SweepSpec, RefusesSweepsBeyondTheLimit) {
  const std::string path = write_temp("big.yaml", "design: a.yaml\nparameters:\n  a: [1,2,3,4,5,6,7,8,9,10]\n"
                                                  "  b: [1,2,3,4,5,6,7,8,9,10]\nworkloads: [{model: x}]\n");
  EXPECT_NO_THROW(load_sweep(path, 100));
  EXPECT_THROW(load_sweep(path, 99), InputError);
}

}  // namespace
}  // namespace nibble::sweep
