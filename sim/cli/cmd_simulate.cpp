// `nibble simulate`: one training step of a workload on one design through
// the evaluation pipeline (sim/flow): the SystemC model's cycles and action
// counts, then energy and area; writes summary.json, layers.csv and
// report.html and prints a short table.
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sim/arch/functional.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/cli/timeline_flag.hpp"
#include "sim/cli/workload_flags.hpp"
#include "sim/common/files.hpp"
#include "sim/design/design.hpp"
#include "sim/energy/accelergy.hpp"
#include "sim/flow/evaluate.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/workload.hpp"

namespace nibble::cli {

namespace {

int run_simulate(const std::vector<std::string>& args) {
  std::string design_path, policy_name, out;
  WorkloadFlags workload_flags;
  TimelineFlag timeline;
  flow::PolicyChoice policy;
  flow::EvalOptions options;
  std::vector<std::string> sets;
  std::uint64_t seed = 1, max_macs = 1u << 20;
  bool functional = false, force = false, quiet = false, accelergy = false;
  ArgParser parser(
      "nibble simulate", "--design FILE (--model NAME | --trace FILE | --onnx FILE) --out DIR [options]",
      "Simulates one training step (forward, input-gradient, weight-gradient and update ops) of a\n"
      "workload on an accelerator design with the SystemC model (cycles with memory stalls and the\n"
      "action counts), then costs it with the design's energy/area table (or --tech). Writes\n"
      "DIR/summary.json (totals, per phase, an `energy` block), DIR/layers.csv (one row per layer and\n"
      "phase: every counter, utilization and the energy columns), DIR/report.html (one\n"
      "self-contained page, with a Gantt chart of the units) and DIR/timeline.json (when each unit was\n"
      "busy, in the Chrome trace-event format: open it in ui.perfetto.dev), and prints a short table.\n"
      "Timing rules: docs/timing.md; design files and outputs: docs/design-file.md; energy:\n"
      "docs/energy-model.md. The precision policy defaults to the design's PE kind (int4-fp4, fp16,\n"
      "hfp8, fp32 or bf16; mxfp4 for fp4-block).",
      "nibble simulate --design hw/designs/int4-train.yaml --model resnet50 --batch 32 --out out/r50");
  parser.option("--design", "FILE", "design file (hw/designs/*.yaml)", &design_path);
  workload_flags.add(parser, "a trace file (docs/trace-format.md); fixes its own batch and policy");
  parser.option("--policy", "NAME", "precision policy: fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4 (default: the design's PE kind)",
                &policy_name);
  parser.option("--policy-file", "FILE", "YAML policy with per-layer overrides (docs/trace-format.md)", &policy.file);
  parser.repeated("--set", "KEY=VALUE", "override a design field, e.g. --set array.rows=64 (repeatable)", &sets);
  parser.option("--tech", "FILE|NAME",
                "energy/area table: a file (hw/tech/*.yaml schema) or a shipped name (45nm, 7nm); default: the "
                "design's `tech`",
                &options.tech);
  parser.flag("--functional", "also run seeded random values through the PEs and check them bit for bit", &functional);
  parser.option("--functional-max-macs", "N", "largest op (MACs per group) the functional check runs (default 1048576)",
                &max_macs, 1);
  parser.option("--seed", "N", "seed of the functional operands (default 1)", &seed);
  timeline.add(parser, "DIR/timeline.json");
  parser.flag("--accelergy",
              "also write DIR/accelergy/ERT.yaml and ART.yaml: the action energies and areas of this design "
              "under its table, as Accelergy reference tables",
              &accelergy);
  parser.flag("--force", "write into DIR even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "no progress and no table", &quiet);
  parser.option("--out", "DIR", "output directory", &out);
  parser.alias("-o", "--out");
  parser.required("--design", "missing --design FILE");
  parser.required("--out", "missing --out DIR");
  workload_flags.rules(parser, {"--policy", "--policy-file"});
  parser.parse(args);

  const flow::WorkloadSource source = workload_flags.source(parser);
  if (parser.given("--policy")) policy.name = policy_name;
  options.sim.timeline = timeline.detail();
  options.words = render_settings;

  const design::Design design = design::load_design(design_path, sets);
  const flow::Workload workload = flow::Workload::load(source);
  const workloads::Trace trace = workload.trace_for(design, policy);
  OutputDir out_dir(out, force);
  options.sim.functional = functional;
  options.sim.functional_max_macs = max_macs;
  options.sim.seed = seed;
  options.sim.max_steps = workload_flags.max_steps();
  options.sim.progress = !quiet;
  const flow::Evaluation eval = flow::evaluate(design, trace, options);
  flow::write_outputs(eval, out);
  if (accelergy) {
    std::filesystem::create_directories(out + "/accelergy");
    write_file_atomic(out + "/accelergy/ERT.yaml", energy::accelergy_ert_yaml(eval.model));
    write_file_atomic(out + "/accelergy/ART.yaml", energy::accelergy_art_yaml(eval.model));
  }
  out_dir.commit();
  if (!quiet) {
    std::cout << flow::summary_table(eval);
    if (functional) {
      std::cout << "functional: " << eval.sim.functional_checked << " ops equal the reference bit for bit, "
                << eval.sim.functional_too_large << " above --functional-max-macs, " << eval.sim.functional_no_arith
                << " without a sim/numerics mode on this design (not checked)\n";
    }
    std::cout << "wrote " << out << "/summary.json, " << out << "/layers.csv"
              << (eval.timeline.json.empty() ? "" : ", " + out + "/timeline.json") << " and " << out
              << "/report.html\n";
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

NIBBLE_COMMAND("simulate", 30, "cycles, action counts, energy and area of a training step on a design",
               run_simulate_checked);

}  // namespace nibble::cli
