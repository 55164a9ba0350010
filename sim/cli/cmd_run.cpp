// `nibble run`: the main job (`make run`). On built-in defaults it answers the
// question nibble exists for: one ResNet-18 training step on the 4-bit design
// and on the FP16 baseline of equal area (cycles, energy, TOPS/W, area), the
// same step on other designs at their own area and technology (flow::
// default_other_designs: rapid-like), and the accuracy of fmnist-mlp trained
// in fp32 and in int4-fp4 with that design's arithmetic. Each part is an
// ordinary `nibble compare` / `nibble simulate` / `nibble train` run into a
// sub-directory; the page on top is rendered from their files.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "models/train/idx.hpp"
#include "models/train/report.hpp"
#include "models/train/trainer.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/design.hpp"
#include "sim/flow/compare.hpp"
#include "sim/flow/evaluate.hpp"
#include "sim/flow/main_report.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/workload.hpp"

namespace nibble::cli {

namespace {

namespace fs = std::filesystem;

// The shipped designs are found from the working directory (a checkout) or,
// failing that, in the source tree this binary was built from.
std::string shipped_file(const std::string& relative) {
  if (fs::exists(relative)) return relative;
  const std::string in_source = std::string(NIBBLE_SOURCE_DIR) + "/" + relative;
  return fs::exists(in_source) ? in_source : relative;
}

int run_main_job(const std::vector<std::string>& args) {
  std::string out = "out", model = "resnet18", train_model = "fmnist-mlp";
  std::string design_a = "hw/designs/int4-train.yaml", design_b = "hw/designs/fp16-baseline.yaml";
  std::uint64_t batch = 32, epochs = 1, train_subset = 0, seed = 1;
  std::uint64_t threads = std::max(1u, std::thread::hardware_concurrency());
  bool force = false, quiet = false;
  ArgParser parser(
      "nibble run", "[--out DIR] [options]",
      "The main job, on built-in defaults: simulates one training step of ResNet-18 (batch 32) on\n"
      "hw/designs/int4-train.yaml (A) and on hw/designs/fp16-baseline.yaml (B) resized to A's area,\n"
      "and on hw/designs/rapid-like.yaml in HFP8 at its own area and 7 nm table (not resized),\n"
      "trains fmnist-mlp for one epoch in fp32 and in int4-fp4 (with design A's accumulators), and\n"
      "prints one table: cycles, time, energy per step, TOPS/W, area, speedup and energy ratio, and the\n"
      "two accuracies, then rapid-like's row with its time and energy over A's. DIR/report.html is the\n"
      "page on top; DIR/compare, DIR/rapid-like, DIR/train-fp32 and DIR/train-int4-fp4 hold each run's\n"
      "own files, and DIR/commands.txt the equivalent commands.",
      "nibble run --out out");
  parser.option("--out", "DIR", "output directory (default out)", &out);
  parser.alias("-o", "--out");
  parser.option("--design-a", "FILE", "the 4-bit design (default hw/designs/int4-train.yaml)", &design_a);
  parser.option("--design-b", "FILE", "the baseline, resized to A's area (default hw/designs/fp16-baseline.yaml)",
                &design_b);
  parser.option("--model", "NAME", "the simulated network (default resnet18)", &model);
  parser.option("--batch", "N", "its training batch (default 32)", &batch, 1);
  parser.option("--train-model", "NAME", "the trained network, fmnist-mlp or fmnist-cnn (default fmnist-mlp)",
                &train_model);
  parser.option("--epochs", "N", "training epochs (default 1)", &epochs, 1);
  parser.option("--train-subset", "N", "train on the first N images only (default all 60,000)", &train_subset, 1);
  parser.option("--seed", "S", "training seed (default 1)", &seed);
  parser.option("--threads", "N", "training threads (default: all cores; results do not depend on it)", &threads, 1);
  parser.flag("--force", "write into DIR even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "print only the table and the last line", &quiet);
  parser.parse(args);
  if (threads > 256) throw UsageError("--threads: expected at most 256");

  const std::string path_a = shipped_file(design_a), path_b = shipped_file(design_b);
  const design::Design a = design::load_design(path_a);
  const design::Design b = design::load_design(path_b);
  train::TrainConfig base;
  base.model = train_model;
  base.epochs = epochs;
  base.train_subset = train_subset;
  base.seed = seed;
  base.threads = static_cast<unsigned>(threads);
  train::validate_config(base);  // a bad --train-model fails before the long part
  OutputDir out_dir(out, force);

  const flow::MainJobLayout layout;
  std::vector<design::Design> others;
  for (const auto& other : layout.others) others.push_back(design::load_design(shipped_file(other.design)));
  const std::string steps = std::to_string(3 + others.size());
  std::string commands;
  // 1. The two designs on the same workload, at equal area.
  if (!quiet) std::cerr << "nibble run: [1/" << steps << "] " << model << " batch " << batch << " on " << a.name
                        << " and " << b.name << " (iso-area)\n";
  flow::WorkloadSource source;
  source.model = model;
  source.batch = batch;
  const flow::Workload workload = flow::Workload::load(source);
  flow::CompareOptions compare_options;
  compare_options.iso_area = true;
  compare_options.sim.progress = !quiet;
  compare_options.words = render_settings;
  compare_options.sim.timeline = arch::TimelineDetail::kOps;  // as `nibble compare` (commands.txt) by default
  const flow::Comparison comparison = flow::compare(a, b, workload, compare_options);
  flow::write_compare_outputs(comparison, out + "/compare", true);
  commands += "nibble compare " + path_a + " " + path_b + " --model " + model + " --batch " + std::to_string(batch) +
              " --iso-area --out " + out + "/compare\n";

  // 2. The other designs on the same workload, each at its own area and table.
  std::size_t step = 2;
  for (std::size_t i = 0; i < others.size(); ++i) {
    const flow::OtherDesign& other = layout.others[i];
    if (!quiet) {
      std::cerr << "nibble run: [" << step++ << "/" << steps << "] " << model << " batch " << batch << " on "
                << others[i].name << " in " << other.policy << " (its own area)\n";
    }
    flow::PolicyChoice policy;
    policy.name = other.policy;
    flow::EvalOptions options;
    options.sim.progress = !quiet;
    options.words = render_settings;
    const flow::Evaluation eval = flow::evaluate(others[i], workload.trace_for(others[i], policy), options);
    const std::string dir = out + "/" + other.dir;
    prepare_output_dir(dir, true);
    flow::write_outputs(eval, dir);
    commands += "nibble simulate --design " + shipped_file(other.design) + " --model " + model + " --batch " +
                std::to_string(batch) + " --policy " + other.policy + " --out " + dir + "\n";
  }

  // Then accuracy in fp32 and in int4-fp4 with design A's arithmetic.
  const train::Dataset data = train::load_dataset(base.data_dir);
  for (const std::string policy : {"fp32", "int4-fp4"}) {
    train::TrainConfig config = base;
    config.policy = policy;
    std::string flags = "--model " + train_model + " --policy " + policy;
    if (policy != "fp32") {
      config.hardware = train::hardware_of(a, path_a);
      flags += " --design " + path_a;
    }
    flags += " --epochs " + std::to_string(epochs) + " --seed " + std::to_string(seed);
    if (train_subset != 0) flags += " --train-subset " + std::to_string(train_subset);
    if (!quiet) std::cerr << "nibble run: [" << step++ << "/" << steps << "] training " << train_model << " in " << policy << "\n";
    const auto on_epoch = [&](const train::TrainResult&, const train::EpochStats& e) {
      if (quiet) return;
      std::cerr << "nibble run:   epoch " << e.epoch << "/" << epochs << "  loss " << format_fixed(e.train_loss, 4)
                << "  test " << format_fixed(e.test_accuracy, 2) << "%  " << format_fixed(e.images_per_s, 0)
                << " images/s\n";
    };
    const train::TrainResult result = train::train(config, data, on_epoch);
    if (const std::string note = train::precision_note(result); !note.empty()) {
      std::cerr << "nibble run: note: " << render_settings(note) << "\n";
    }
    const std::string dir = out + "/train-" + policy;
    prepare_output_dir(dir, true);
    train::write_train_outputs(dir, result, "nibble train " + flags + " --out " + dir, render_settings);
    commands += "nibble train " + flags + " --out " + dir + "\n";
  }
  write_file_atomic(out + "/commands.txt", commands);
  // The main page is built from the files just written: they go in place first.
  out_dir.commit();
  flow::write_main_job_outputs(out, layout);
  out_dir.commit();
  std::cout << flow::main_job_table(out, layout);
  std::cout << "open " << out << "/report.html (every number's run has its own report under " << out << "/)\n";
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("run", 10, "the main job: 4-bit vs FP16 at equal area (cycles, energy) and 4-bit accuracy", run_main_job);

}  // namespace nibble::cli
