// `nibble simulate`: one training step of a workload on one design through
// the SystemC model; writes summary.json and layers.csv (every registered
// counter) and prints a short table.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "models/graph/graph.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/arch/sim_report.hpp"
#include "sim/arch/simulate.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::cli {

namespace {

int run_simulate(const std::vector<std::string>& args) {
  std::string design_path, model, trace_path, onnx, policy_name, policy_file, out;
  std::vector<std::string> sets;
  std::uint64_t batch = 1, seed = 1, max_macs = 1u << 20;
  bool functional = false, force = false, quiet = false;
  ArgParser parser(
      "nibble simulate", "--design FILE (--model NAME | --trace FILE | --onnx FILE) --out DIR [options]",
      "Simulates one training step (forward, input-gradient, weight-gradient and update ops) of a\n"
      "workload on an accelerator design with the SystemC model: cycles with memory stalls, and the\n"
      "action counts the energy model needs. Writes DIR/summary.json and DIR/layers.csv (one row per\n"
      "layer and phase, every counter as a column) and prints a short table. Timing rules:\n"
      "docs/timing.md; design files: docs/design-file.md. The precision policy defaults to the\n"
      "design's PE kind (int4-fp4, fp16, hfp8 or fp32).",
      "nibble simulate --design hw/designs/int4-train.yaml --model resnet50 --batch 32 --out out/r50");
  parser.option("--design", "FILE", "design file (hw/designs/*.yaml)", &design_path);
  parser.option("--model", "NAME", "a zoo model (nibble trace --list-models)", &model);
  parser.option("--trace", "FILE", "a trace file (docs/trace-format.md); fixes its own batch and policy", &trace_path);
  parser.option("--onnx", "FILE", "an ONNX model file", &onnx);
  parser.option("--batch", "N", "training batch size (default 1; for ONNX, the file's)", &batch, 1);
  parser.option("--policy", "NAME", "precision policy: fp32, fp16, hfp8, int4-fp4 (default: the design's PE kind)",
                &policy_name);
  parser.option("--policy-file", "FILE", "YAML policy with per-layer overrides (docs/trace-format.md)", &policy_file);
  parser.repeated("--set", "KEY=VALUE", "override a design field, e.g. --set array.rows=64 (repeatable)", &sets);
  parser.flag("--functional", "also run seeded random values through the PEs and check them bit for bit", &functional);
  parser.option("--functional-max-macs", "N", "largest op (MACs per group) the functional check runs (default 1048576)",
                &max_macs, 1);
  parser.option("--seed", "N", "seed of the functional operands (default 1)", &seed);
  parser.flag("--force", "write into DIR even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "no progress and no table", &quiet);
  parser.option("--out", "DIR", "output directory", &out);
  parser.alias("-o", "--out");
  parser.parse(args);

  if (!parser.given("--design")) throw UsageError("missing --design FILE");
  if (!parser.given("--out")) throw UsageError("missing --out DIR");
  const int sources =
      (parser.given("--model") ? 1 : 0) + (parser.given("--trace") ? 1 : 0) + (parser.given("--onnx") ? 1 : 0);
  if (sources != 1) throw UsageError("give exactly one of --model, --trace, --onnx");
  if (parser.given("--trace")) {
    for (const char* flag : {"--batch", "--policy", "--policy-file"}) {
      if (parser.given(flag)) throw UsageError(std::string(flag) + " does not apply to --trace: a trace fixes it");
    }
  }

  const design::Design design = design::load_design(design_path, sets);
  workloads::Trace trace;
  if (parser.given("--trace")) {
    trace = workloads::read_trace_file(trace_path);
  } else {
    const std::optional<std::string> cli_policy = parser.given("--policy") ? std::optional(policy_name) : std::nullopt;
    const workloads::Policy policy =
        parser.given("--policy-file")
            ? workloads::read_policy_file(policy_file, cli_policy)
            : workloads::named_policy(cli_policy.value_or(design::natural_policy(design.array.pe_kind)));
    std::optional<models::Graph> graph;
    if (parser.given("--model")) {
      models::ZooOptions options;
      options.batch = batch;
      graph.emplace(models::build_zoo_model(model, options));
    } else {
      models::OnnxOptions options;
      if (parser.given("--batch")) options.batch = batch;
      graph.emplace(models::import_onnx(onnx, options).graph);
    }
    trace = workloads::expand_training_step(*graph, policy);
  }

  prepare_output_dir(out, force);
  arch::SimOptions options;
  options.functional = functional;
  options.functional_max_macs = max_macs;
  options.seed = seed;
  options.progress = !quiet;
  const arch::SimResult result = arch::simulate(design, trace, options);
  write_file_atomic(out + "/summary.json", arch::summary_json(result));
  write_file_atomic(out + "/layers.csv", arch::layers_csv(result));
  if (!quiet) {
    std::cout << arch::summary_table(result);
    if (functional) {
      std::cout << "functional: " << result.functional_checked << " ops equal the reference bit for bit, "
                << result.functional_too_large << " above --functional-max-macs, " << result.functional_no_arith
                << " without a sim/numerics mode on this design (not checked)\n";
    }
    std::cout << "wrote " << out << "/summary.json and " << out << "/layers.csv\n";
  }
  return kExitOk;
}

// A functional mismatch is a failed check, not bad input: exit code 1.
int run_simulate_checked(const std::vector<std::string>& args) {
  try {
    return run_simulate(args);
  } catch (const arch::FunctionalMismatch& e) {
    std::cerr << "nibble simulate: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace

NIBBLE_COMMAND("simulate", 30, "cycles and action counts of a training step on a design (SystemC model)",
               run_simulate_checked);

}  // namespace nibble::cli
