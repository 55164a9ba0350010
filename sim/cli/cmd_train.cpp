// `nibble train`: trains a Fashion-MNIST network with a precision policy's
// arithmetic (and a design's accumulators) in the training emulator
// (models/train, docs/training.md) and reports accuracy.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "models/train/gemm.hpp"
#include "models/train/idx.hpp"
#include "models/train/policy.hpp"
#include "models/train/report.hpp"
#include "models/train/trainer.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/design.hpp"

namespace nibble::cli {

namespace {

numerics::Fp4Rounding parse_rounding(const std::string& text) {
  if (text == "nearest-log2") return numerics::Fp4Rounding::kNearestLog2;
  if (text == "nearest-value") return numerics::Fp4Rounding::kNearestValue;
  if (text == "stochastic") return numerics::Fp4Rounding::kStochastic;
  throw UsageError("--fp4-rounding: expected nearest-log2, nearest-value or stochastic, got '" + text + "'");
}

std::string quote_arg(const std::string& a) {
  if (!a.empty() && a.find_first_of(" \t\"'\\$`") == std::string::npos) return a;
  std::string out = "'";
  for (const char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_train(const std::vector<std::string>& args) {
  std::string model, policy = "int4-fp4", policy_file, design_path, out, data_dir = train::kDefaultDataDir;
  std::string rounding = "nearest-log2";
  std::uint64_t epochs = 10, batch = 64, seed = 1, train_subset = 0, test_subset = 0;
  std::uint64_t threads = std::max(1u, std::thread::hardware_concurrency());
  double lr = 0.05;
  double warmup = 0.0;
  std::string optimizer = "default";
  bool force = false, quiet = false;
  ArgParser parser(
      "nibble train", "--model fmnist-mlp|fmnist-cnn|fmnist-resnet|fmnist-vit --policy NAME --out DIR [options]",
      "Trains a network on Fashion-MNIST (or any MNIST-layout IDX dataset, --data) with the arithmetic of a\n"
      "precision policy: every GEMM's operands quantized and its products accumulated as the PEs do\n"
      "(sim/numerics), the accumulators and FP4 bias taken from --design when given. Prints one line per\n"
      "epoch on stderr and writes summary.json, epochs.csv, confusion.csv, layers.csv, trace.txt and\n"
      "report.html to --out. Same options and seed -> the same numbers at any --threads.\n"
      "SGD with momentum 0.9 and weight decay 5e-4 (fmnist-vit: AdamW, weight decay 0.05), cosine learning-rate\n"
      "decay per step (docs/training.md).\n\n"
      "Policies:\n" + train::train_policy_summary(),
      "nibble train --model fmnist-cnn --policy int4-fp4 --epochs 10 --out runs/cnn-int4");
  parser.option("--model", "NAME",
                "fmnist-mlp (784-256-10), fmnist-cnn (conv32-conv64-fc128-fc10) or fmnist-resnet (basic blocks "
                "16-32-64 with batch norm) or fmnist-vit (4x4 patches, 4 pre-LN blocks of width 64, 4 heads)",
                &model);
  parser.option("--policy", "NAME", "precision policy (list above; default int4-fp4)", &policy);
  parser.option("--policy-file", "FILE", "YAML per-layer overrides of the policy (docs/trace-format.md)",
                &policy_file);
  parser.option("--design", "FILE", "take the accumulators, chunk and FP4 bias from this design file", &design_path);
  parser.option("--epochs", "N", "passes over the training set (default 10)", &epochs, 1);
  parser.option("--batch", "B", "images per SGD step (default 64)", &batch, 1);
  parser.option("--lr", "X", "peak learning rate (default 0.05 with SGD, 0.1 for fmnist-resnet, 0.001 with AdamW)", &lr);
  parser.option("--warmup", "F",
                "fraction of the run's steps with a linear learning-rate warm-up (default: the model's, 0.05 for "
                "fmnist-resnet, 0 for the others)",
                &warmup);
  parser.option("--optimizer", "NAME",
                "sgd or adamw (default: the model's, AdamW for fmnist-vit, SGD for the others)", &optimizer);
  parser.option("--seed", "S", "seed of initialization, shuffling and stochastic rounding (default 1)", &seed);
  parser.option("--train-subset", "N", "train on the first N training images (default all)", &train_subset, 1);
  parser.option("--test-subset", "N", "evaluate on the first N test images (default all)", &test_subset, 1);
  parser.option("--data", "DIR", "folder of MNIST-layout IDX files, gzip or plain (default " +
                std::string(train::kDefaultDataDir) + ")", &data_dir);
  parser.option("--fp4-rounding", "MODE", "FP4 gradient rounding: nearest-log2 (default), nearest-value, stochastic",
                &rounding);
  parser.option("--threads", "N", "worker threads (default: all cores; results do not depend on it)", &threads, 1);
  parser.option("--out", "DIR", "output folder", &out);
  parser.alias("-o", "--out");
  parser.flag("--force", "write into --out even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "no progress lines", &quiet);
  parser.required("--model", "--model is required (fmnist-mlp, fmnist-cnn, fmnist-resnet or fmnist-vit)");
  parser.required("--out", "--out DIR is required");
  parser.parse(args);
  if (threads > 256) throw UsageError("--threads: expected at most 256");

  train::TrainConfig config;
  config.model = model;
  config.policy = policy;
  if (parser.given("--policy-file")) config.policy_file = policy_file;
  config.epochs = epochs;
  config.batch = batch;
  if (optimizer == "sgd") {
    config.optimizer = train::Optimizer::kSgd;
  } else if (optimizer == "adamw") {
    config.optimizer = train::Optimizer::kAdamW;
  } else if (optimizer != "default") {
    throw InputError("", 0, "--optimizer", "unknown optimizer '" + optimizer + "'; expected sgd or adamw");
  }
  if (parser.given("--lr")) config.lr = lr;
  if (parser.given("--warmup")) config.warmup = warmup;
  config.seed = seed;
  config.train_subset = train_subset;
  config.test_subset = test_subset;
  config.threads = static_cast<unsigned>(threads);
  config.data_dir = data_dir;
  if (parser.given("--design")) config.hardware = train::hardware_of(design::load_design(design_path), design_path);
  config.hardware.fp4_rounding = parse_rounding(rounding);

  train::validate_config(config);  // before the data is read: a typo fails at once
  OutputDir out_dir(out, force);
  const train::Dataset data = train::load_dataset(data_dir);
  std::string command_line = "nibble train";
  for (const auto& a : args) command_line += " " + quote_arg(a);

  const auto on_epoch = [&](const train::TrainResult&, const train::EpochStats& e) {
    if (quiet) return;
    std::cerr << "nibble train: epoch " << e.epoch << "/" << epochs << "  loss " << format_fixed(e.train_loss, 4)
              << "  train " << format_fixed(e.train_accuracy, 2) << "%  test " << format_fixed(e.test_accuracy, 2)
              << "%  " << format_fixed(e.images_per_s, 0) << " images/s"
              << (e.skipped_steps ? "  (" + std::to_string(e.skipped_steps) + " steps skipped: inf/NaN gradients)" : "")
              << "\n";
  };
  const train::TrainResult result = train::train(config, data, on_epoch);
  train::write_train_outputs(out, result, command_line, render_settings);
  out_dir.commit();
  if (const std::string note = train::precision_note(result); !note.empty()) {
    std::fprintf(stderr, "nibble train: note: %s\n", render_settings(note).c_str());  // even with --quiet: it changes what the number means
  }
  if (!quiet) {
    std::cerr << "nibble train: test accuracy " << format_fixed(result.epochs.back().test_accuracy, 2) << "% after "
              << epochs << " epochs; wrote " << out << "/summary.json\n";
  }
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("train", 40, "train a Fashion-MNIST network with the hardware's arithmetic (accuracy)", run_train);

}  // namespace nibble::cli
