// `nibble report DIR`: re-renders the page of an output directory from the
// files in it, without simulating or training again: the main job's page
// (nibble run) and a sweep's page (nibble sweep).
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/flow/main_report.hpp"
#include "sim/flow/sweep_eval.hpp"

namespace nibble::cli {

namespace {

int run_report(const std::vector<std::string>& args) {
  std::string dir;
  ArgParser parser("nibble report", "DIR",
                   "Re-renders DIR/report.html (and for the main job DIR/summary.json and the table on stdout)\n"
                   "from the files a run left in DIR: a main-job directory (nibble run: compare/summary.json,\n"
                   "train-*/summary.json) or a sweep directory (nibble sweep: sweep.csv, sweep.json). Use it\n"
                   "after editing or merging result files, or to get the page of a newer nibble. The pages of\n"
                   "simulate, compare and train directories are written by those commands and are not\n"
                   "re-rendered.",
                   "nibble report out");
  parser.positional("DIR", "an output directory of nibble run or nibble sweep", &dir, true);
  parser.parse(args);
  if (flow::is_main_job_dir(dir)) {
    OutputDir out_dir(dir, true);
    flow::write_main_job_outputs(dir);
    out_dir.commit();
    std::cout << flow::main_job_table(dir) << "wrote " << dir << "/report.html\n";
    return kExitOk;
  }
  if (flow::is_sweep_dir(dir)) {
    OutputDir out_dir(dir, true);
    flow::rerender_sweep_report(dir);
    out_dir.commit();
    std::cout << "wrote " << dir << "/report.html\n";
    return kExitOk;
  }
  throw InputError(dir, 0, "",
                   "not a directory nibble can re-render: expected the outputs of `nibble run` (compare/summary.json "
                   "and train-*/summary.json) or of `nibble sweep` (sweep.csv and sweep.json)");
}

}  // namespace

NIBBLE_COMMAND("report", 80, "re-render the page of a main-job or sweep output directory from its files", run_report);

}  // namespace nibble::cli
