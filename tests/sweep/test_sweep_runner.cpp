#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "sim/common/files.hpp"
#include "sim/sweep/sweep_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble::sweep {
namespace {

namespace fs = std::filesystem;

SweepSpec probe_spec() { return load_sweep(std::string(NIBBLE_SOURCE_DIR) + "/tests/sweep/probe-sweep.yaml"); }

PointOutcome fake(const SweepPoint& point) {
  PointOutcome out;
  if (point.overrides[0].second == "16" && point.workload.model == "fmnist-mlp" && point.overrides[1].second == "os") {
    out.error = "scratchpad too small";  // one failing point must not stop the sweep
    return out;
  }
  out.ok = true;
  out.metrics = {{"seconds_per_step", std::to_string(point.index * 2)}, {"energy_per_step_j", std::to_string(100 - point.index)}};
  return out;
}

TEST(SweepRunner, ParallelRunIsIdenticalToSerialAndKeepsFailures) {
  const auto spec = probe_spec();
  RunOptions serial;
  serial.out_dir = test::fresh_dir("sweep_serial").string();
  serial.progress = false;
  RunOptions parallel = serial;
  parallel.out_dir = test::fresh_dir("sweep_parallel").string();
  parallel.jobs = 4;
  const std::string a = results_csv(spec, run_local(spec, serial, fake));
  const std::string b = results_csv(spec, run_local(spec, parallel, fake));
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("\n11,p0011,"), std::string::npos);
  EXPECT_NE(a.find(",os,fmnist-mlp,64,0,natural,error,scratchpad too small,,\n"), std::string::npos);
  EXPECT_EQ(a.substr(0, a.find('\n')),
            "index,point,design,array.rows,array.dataflow,model,batch,seq,policy,status,error,seconds_per_step,"
            "energy_per_step_j");
}

TEST(SweepRunner, ResumeReusesFinishedPointsOnly) {
  const auto spec = probe_spec();
  RunOptions options;
  options.out_dir = test::fresh_dir("sweep_resume").string();
  options.progress = false;
  std::atomic<int> calls{0};
  const Evaluator counting = [&](const SweepPoint& p) {
    ++calls;
    return fake(p);
  };
  const std::string first = results_csv(spec, run_local(spec, options, counting));
  EXPECT_EQ(calls.load(), 12);
  // An interrupted run: two result files lost, one corrupted, one from another sweep.
  fs::remove(fs::path(options.out_dir) / "points" / "p0003.json");
  fs::remove(fs::path(options.out_dir) / "points" / "p0009.json");
  write_file_atomic((fs::path(options.out_dir) / "points" / "p0004.json").string(), "{not json");
  PointOutcome other;
  other.ok = true;
  write_file_atomic((fs::path(options.out_dir) / "points" / "p0005.json").string(), other.to_json("design=elsewhere"));
  calls = 0;
  options.resume = true;
  const auto results = run_local(spec, options, counting);
  // 12 points: the 4 damaged ones and the one failed point (evaluated again:
  // the cause may be gone) are evaluated, the other 7 reused.
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(results.reused, 7u);
  EXPECT_EQ(results_csv(spec, results), first);
}

// The key stands for everything a point depends on beyond its signature (the
// design file's bytes, the table, the version): a changed key reuses nothing;
// a stored value that is not a finite number, or a missing column, is evaluated again.
TEST(SweepRunner, ResumeChecksTheKeyAndTheStoredValues) {
  const auto spec = probe_spec();
  RunOptions options;
  options.out_dir = test::fresh_dir("sweep_resume-key").string();
  options.progress = false;
  options.metric_columns = {"seconds_per_step", "energy_per_step_j"};
  std::string version = "design-v1";
  options.key = [&version](const SweepPoint&) { return version; };
  std::atomic<int> calls{0};
  const Evaluator counting = [&](const SweepPoint& p) {
    ++calls;
    return fake(p);
  };
  const std::string first = results_csv(spec, run_local(spec, options, counting));
  options.resume = true;
  calls = 0;
  version = "design-v2";  // e.g. the design file was edited
  auto results = run_local(spec, options, counting);
  EXPECT_EQ(calls.load(), 12);
  EXPECT_EQ(results.reused, 0u);

  const auto points = fs::path(options.out_dir) / "points";
  const auto stored = [&](const char* name, const char* energy) {
    PointOutcome bad;
    bad.ok = true;
    bad.metrics = {{"seconds_per_step", "0"}, {"energy_per_step_j", energy}};
    write_file_atomic((points / name).string(), bad.to_json(spec.points()[0].signature() + ";key=" + version));
  };
  stored("p0000.json", "banana");
  PointOutcome nan_point;
  nan_point.ok = true;
  nan_point.metrics = {{"seconds_per_step", "2"}, {"energy_per_step_j", "nan"}};
  write_file_atomic((points / "p0001.json").string(), nan_point.to_json(spec.points()[1].signature() + ";key=" + version));
  PointOutcome short_point;
  short_point.ok = true;
  short_point.metrics = {{"seconds_per_step", "4"}};
  write_file_atomic((points / "p0002.json").string(),
                    short_point.to_json(spec.points()[2].signature() + ";key=" + version));
  calls = 0;
  results = run_local(spec, options, counting);
  // 3 damaged points + the failed point evaluated again; 8 reused.
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(results.reused, 8u);
  const std::string csv = results_csv(spec, results);
  EXPECT_EQ(csv, first);
  EXPECT_EQ(csv.find("banana"), std::string::npos);
  EXPECT_EQ(csv.find("nan"), std::string::npos);
}

TEST(SweepRunner, OutcomeJsonRoundTripsAndRejectsForeignSignatures) {
  PointOutcome outcome;
  outcome.ok = true;
  outcome.metrics = {{"a", "1.5"}, {"b", "x,y"}};
  PointOutcome back;
  ASSERT_TRUE(PointOutcome::from_json(outcome.to_json("sig"), "sig", &back));
  EXPECT_EQ(back.metrics, outcome.metrics);
  EXPECT_FALSE(PointOutcome::from_json(outcome.to_json("sig"), "other", &back));
  EXPECT_FALSE(PointOutcome::from_json("[]", "sig", &back));
}

}  // namespace
}  // namespace nibble::sweep
