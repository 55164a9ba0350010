// `nibble cosim`: the Verilated RTL tile (hw/rtl) against the SystemC tile
// model, bit for bit and cycle for cycle (sim/cosim, docs/rtl.md).
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"

#ifdef NIBBLE_HAVE_COSIM
#include "sim/cosim/cosim.hpp"
#include "sim/cosim/rtl_tile.hpp"
#endif

namespace nibble::cli {

namespace {

int run_cosim_command(const std::vector<std::string>& args) {
  std::uint64_t rows = 8, cols = 8, dot = 1, ops = 1000, seed = 1;
  std::string mode = "all", acc = "all", trace, wave, fault;
  bool no_directed = false, quiet = false;
  ArgParser parser(
      "nibble cosim", "[--rows R --cols C [--dot N]] [--mode fwd|bwd-even|bwd-odd|all] [--acc int32|fp16|all] [--ops N]",
      "Runs the same tile operations (folds) through the Verilated RTL tile of hw/rtl and the SystemC tile\n"
      "model (the weight-stationary rules of docs/timing.md with the PE arithmetic of sim/numerics) in one\n"
      "SystemC simulation, and compares every cycle: when each weight row and input vector is accepted,\n"
      "every output value and the cycle it appears in, and the cycle each fold is done. The directed corner\n"
      "cases run first, then N random ops per mode (or the folds of a trace's GEMMs). It stops at the first\n"
      "mismatch and prints the op, the output row and column, the cycle, the expected and the RTL value.\n"
      "Modes: fwd = INT4 x INT4 (forward), bwd-odd = FP4 x INT4 (input gradient, the odd TPR phase),\n"
      "bwd-even = INT4 x FP4 (weight gradient, the even TPR phase). A quarter of the random fwd and bwd-even\n"
      "ops stream UINT4 activations (0..15, post-ReLU), as do a trace's uint4 GEMMs. Exit code 0 only if all\n"
      "matched, 1 on a mismatch, 2 on bad input. The last line is\n"
      "'cosim: ops=N cycles=N mismatches=N cycles_per_s=N'.",
      "nibble cosim --rows 8 --cols 8 --mode all --ops 2000 --seed 7 --wave tile.fst");
  parser.option("--rows", "R", "tile rows (a Verilated size: see the error message for the list)", &rows, 1);
  parser.option("--cols", "C", "tile columns", &cols, 1);
  parser.option("--dot", "N",
                "products per PE: dot-product PEs, a fold reduces R*N rows (a Verilated size; default 1)", &dot, 1);
  parser.option("--mode", "MODE", "fwd, bwd-even, bwd-odd or all (default all)", &mode);
  parser.option("--acc", "ACC", "accumulator: int32, fp16 or all (default all)", &acc);
  parser.option("--ops", "N", "random ops per mode, or at most N trace folds per mode (default 1000)", &ops, 1);
  parser.option("--seed", "S", "seed of every random choice (default 1)", &seed);
  parser.option("--trace", "FILE", "take the folds of this trace's GEMMs instead of random ops", &trace);
  parser.option("--wave", "FILE", "write the RTL's waveform to FILE.vcd or FILE.fst (open with GTKWave)", &wave);
  parser.flag("--no-directed", "skip the directed corner cases", &no_directed);
  parser.flag("--quiet", "no progress on stderr", &quiet);
  parser.option("--inject-fault", "SPEC",
                "testing: corrupt what the RTL gets, weight:OP:ROW:COL, psum:OP:VECTOR:COL or delay:OP", &fault);
  parser.parse(args);

#ifndef NIBBLE_HAVE_COSIM
  throw InputError("", 0, "cosim",
                   "this build has no co-simulation: Verilator was not found when it was configured (install "
                   "the Debian package 'verilator' with `make deps`, then configure again)");
#else
  cosim::CosimOptions options;
  options.rows = rows;
  options.cols = cols;
  options.dot = dot;
  if (mode != "all") {
    const auto parsed = cosim::parse_mode(mode);
    if (!parsed) throw UsageError("--mode: expected fwd, bwd-even, bwd-odd or all, got '" + mode + "'");
    options.modes = {*parsed};
  }
  if (acc == "int32") {
    options.accs = {numerics::Format::kInt32};
  } else if (acc == "fp16") {
    options.accs = {numerics::Format::kFp16};
  } else if (acc != "all") {
    throw UsageError("--acc: expected int32, fp16 or all, got '" + acc + "'");
  }
  options.ops_per_mode = ops;
  options.seed = seed;
  options.directed = !no_directed;
  options.trace_file = trace;
  options.wave_file = wave;
  if (parser.given("--inject-fault")) options.fault = cosim::parse_fault(fault);
  options.progress = !quiet;

  const cosim::CosimReport report = cosim::run_cosim(options);
  std::string modes_text, accs_text;
  for (const auto m : options.modes.empty() ? cosim::tile_modes() : options.modes) {
    modes_text += " " + std::string(cosim::mode_name(m));
  }
  for (const auto a : options.accs.empty() ? cosim::tile_accs() : options.accs) {
    accs_text += " " + std::string(numerics::format_name(a));
  }
  std::cout << "cosim: " << rows << "x" << cols << " tile" << (dot > 1 ? " of " + std::to_string(dot) + "-product PEs" : "")
            << "; modes" << modes_text << "; accumulators" << accs_text
            << "; " << (options.directed ? "directed cases, then " : "")
            << (trace.empty() ? std::to_string(ops) + " random ops per mode, seed " + std::to_string(seed)
                              : "up to " + std::to_string(ops) + " folds per mode of " + trace)
            << "\n";
  if (!trace.empty()) {
    std::cout << "cosim: " << report.skipped_trace_ops << " trace GEMMs left out (no tile datapath for their formats)\n";
  }
  std::cout << "cosim: matched " << report.ops << " of " << report.ops_fed << " ops scheduled (" << report.directed_ops
            << " directed);";
  for (const auto m : cosim::tile_modes()) {
    std::cout << " " << cosim::mode_name(m) << "=" << report.ops_by_mode.at(static_cast<std::size_t>(m));
  }
  std::cout << "\n";
  if (report.mismatch) {
    std::cout << cosim::describe(*report.mismatch);
    if (!wave.empty()) std::cout << "cosim: waveform up to the mismatch in " << wave << "\n";
  } else if (!wave.empty()) {
    std::cout << "cosim: waveform in " << wave << "\n";
  }
  std::cout << "cosim: ops=" << report.ops << " cycles=" << report.cycles << " mismatches=" << report.mismatches
            << " cycles_per_s=" << report.cycles_per_second() << "\n";
  return report.mismatches == 0 ? kExitOk : kExitFailure;
#endif
}

}  // namespace

NIBBLE_COMMAND("cosim", 60, "Verilated RTL tile against the SystemC tile model, bit and cycle exact",
               run_cosim_command);

}  // namespace nibble::cli
