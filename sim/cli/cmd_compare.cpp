// `nibble compare`: two designs on the same workload through the evaluation
// pipeline (sim/flow), optionally at equal chip area; writes the ratios in
// DIR/summary.json, a side-by-side DIR/report.html, each design's outputs in
// DIR/a and DIR/b, and prints a short table.
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/cli/timeline_flag.hpp"
#include "sim/cli/workload_flags.hpp"
#include "sim/common/files.hpp"
#include "sim/design/design.hpp"
#include "sim/flow/compare.hpp"
#include "sim/flow/workload.hpp"

namespace nibble::cli {

namespace {

int run_compare(const std::vector<std::string>& args) {
  std::string design_a, design_b, policy, policy_a, policy_b, out;
  WorkloadFlags workload_flags;
  TimelineFlag timeline;
  flow::CompareOptions options;
  std::vector<std::string> sets_a, sets_b;
  bool force = false, quiet = false, serial = false;
  ArgParser parser(
      "nibble compare",
      "DESIGN_A DESIGN_B (--model NAME | --trace FILE | --onnx FILE) --out DIR [options]",
      "Simulates one training step of the same workload on two designs, each under its natural precision\n"
      "policy (its PE kind) unless --policy/--policy-a/--policy-b say otherwise, costs both with their\n"
      "energy/area tables (or --tech), and writes DIR/summary.json (speedup = B's time per step / A's,\n"
      "energy_ratio = B's energy per step / A's, edp_ratio, and per design its cycles, seconds,\n"
      "energy_per_step_j, tops_per_watt, edp_js, area_mm2 and resolved design), DIR/report.html (A and B\n"
      "side by side), each design's full outputs in DIR/a and DIR/b (timeline.json included), and a table\n"
      "on stdout.\n"
      "--iso-area resizes design B's PE array (rows and columns only; scratchpads, vector unit, cores and\n"
      "clock stay) so that B's chip area equals A's within 1 %: B keeps its rows/cols aspect ratio as\n"
      "closely as a whole number of PEs allows (docs/energy-model.md, \"Iso-area\"). The two\n"
      "simulations run at the same time; the results do not depend on it.",
      "nibble compare hw/designs/int4-train.yaml hw/designs/fp16-baseline.yaml --model resnet18 --batch 32 "
      "--iso-area --out out/cmp");
  parser.positional("DESIGN_A", "design file of A (the reference of the ratios)", &design_a, true);
  parser.positional("DESIGN_B", "design file of B", &design_b, true);
  workload_flags.add(parser, "a trace file (docs/trace-format.md); fixes its own batch and policy for both");
  parser.option("--policy", "NAME", "precision policy of both designs: fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4", &policy);
  parser.option("--policy-a", "NAME", "precision policy of A (default: A's PE kind)", &policy_a);
  parser.option("--policy-b", "NAME", "precision policy of B (default: B's PE kind)", &policy_b);
  parser.option("--policy-file-a", "FILE", "YAML policy with per-layer overrides for A (docs/trace-format.md)",
                &options.policy_a.file);
  parser.option("--policy-file-b", "FILE", "YAML policy with per-layer overrides for B", &options.policy_b.file);
  parser.flag("--iso-area", "resize B's array to A's chip area before the run (see above)", &options.iso_area);
  parser.option("--tech", "FILE|NAME",
                "energy/area table of both designs: a file or a shipped name (45nm, 7nm); default: each design's "
                "`tech`",
                &options.tech);
  parser.repeated("--set-a", "KEY=VALUE", "override a field of design A, e.g. --set-a array.rows=64 (repeatable)",
                  &sets_a);
  parser.repeated("--set-b", "KEY=VALUE", "override a field of design B (repeatable; applied before --iso-area)",
                  &sets_b);
  timeline.add(parser, "DIR/a/timeline.json and DIR/b/timeline.json");
  parser.flag("--serial", "simulate A, then B (same results, slower)", &serial);
  parser.flag("--force", "write into DIR even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "no progress and no table", &quiet);
  parser.option("--out", "DIR", "output directory", &out);
  parser.alias("-o", "--out");
  parser.required("--out", "missing --out DIR");
  workload_flags.rules(parser, {"--policy", "--policy-a", "--policy-b", "--policy-file-a", "--policy-file-b"});
  for (const char* one : {"--policy-a", "--policy-b"}) {
    parser.excludes("--policy", one, "give --policy (both designs) or --policy-a/--policy-b, not both");
  }
  parser.parse(args);

  const flow::WorkloadSource source = workload_flags.source(parser);
  if (parser.given("--policy")) options.policy_a.name = options.policy_b.name = policy;
  if (parser.given("--policy-a")) options.policy_a.name = policy_a;
  if (parser.given("--policy-b")) options.policy_b.name = policy_b;
  options.sim.timeline = timeline.detail();
  options.words = render_settings;
  options.sim.max_steps = workload_flags.max_steps();

  const design::Design a = design::load_design(design_a, sets_a);
  const design::Design b = design::load_design(design_b, sets_b);
  const flow::Workload workload = flow::Workload::load(source);
  OutputDir out_dir(out, force);
  options.concurrent = !serial;
  options.sim.progress = false;  // two children at once would fight over one progress line
  if (!quiet) std::cerr << "nibble compare: simulating A (" << a.name << ") and B (" << b.name << ")\n";
  const flow::Comparison comparison = flow::compare(a, b, workload, options);
  flow::write_compare_outputs(comparison, out, force);
  out_dir.commit();
  if (!quiet) {
    std::cout << flow::compare_table(comparison);
    std::cout << "wrote " << out << "/summary.json, " << out << "/report.html, " << out << "/a/ and " << out << "/b/\n";
  }
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("compare", 32, "two designs on one workload: speedup, energy ratio, side-by-side report (--iso-area)",
               run_compare);

}  // namespace nibble::cli
