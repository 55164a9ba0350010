// `nibble scalesim`: SCALE-Sim v2's own config and topology files through
// this model; writes OUTDIR/<run_name>/COMPUTE_REPORT.csv in SCALE-Sim's
// format. InterfaceBandwidth CALC reproduces SCALE-Sim's cycles exactly; USER
// takes the stalls from nibble's memory system (docs/timing.md).
#include <iostream>
#include <string>
#include <vector>

#include "sim/arch/scalesim_run.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/design/scalesim_config.hpp"
#include "workloads/scalesim.hpp"

namespace nibble::cli {

namespace {

int run_scalesim(const std::vector<std::string>& args) {
  std::string cfg_path, topo_path, out_dir;
  bool force = false, quiet = false;
  ArgParser parser("nibble scalesim", "-c FILE.cfg -t TOPOLOGY.csv -p OUTDIR",
                   "Runs SCALE-Sim v2's configuration and topology files through nibble's model with the\n"
                   "scalesim timing convention and writes OUTDIR/<run_name>/COMPUTE_REPORT.csv with SCALE-Sim's\n"
                   "columns. With InterfaceBandwidth CALC the cycles equal SCALE-Sim's; with USER the stalls\n"
                   "come from nibble's DRAM model (docs/timing.md, \"SCALE-Sim convention\"). Config keys nibble\n"
                   "does not model are listed on stderr.",
                   "nibble scalesim -c hw/designs/scalesim/scale.cfg -t hw/designs/scalesim/published.csv -p out");
  parser.option("--config", "FILE", "SCALE-Sim .cfg file", &cfg_path);
  parser.alias("-c", "--config");
  parser.option("--topology", "FILE", "SCALE-Sim topology CSV (conv or M, N, K form)", &topo_path);
  parser.alias("-t", "--topology");
  parser.option("--path", "OUTDIR", "output directory (the report goes to OUTDIR/<run_name>/)", &out_dir);
  parser.alias("-p", "--path");
  parser.flag("--force", "write into OUTDIR/<run_name> even if it holds files nibble did not write", &force);
  parser.flag("--quiet", "print nothing but errors", &quiet);
  parser.required("--config", "missing -c FILE.cfg");
  parser.required("--topology", "missing -t TOPOLOGY.csv");
  parser.required("--path", "missing -p OUTDIR");
  parser.parse(args);

  const design::ScaleSimConfig config = design::load_scalesim_config(cfg_path);
  if (!config.ignored.empty()) {
    std::string list;
    for (const auto& key : config.ignored) list += (list.empty() ? "" : ", ") + key;
    std::cerr << "nibble scalesim: ignored (not modelled): " << list << "\n";
  }
  const workloads::ScaleSimTopology topology = workloads::read_scalesim_topology(topo_path);
  std::vector<arch::ScaleSimLayerGemm> layers;
  for (const auto& row : topology.layers) {
    models::GemmShape shape;
    try {
      shape = workloads::scalesim_gemm(row, topology.format);
    } catch (const InputError& e) {
      throw e.relocated(topo_path, row.line);
    }
    layers.push_back(arch::ScaleSimLayerGemm{row.name, shape.groups, shape.m, shape.n, shape.k});
  }
  const std::string dir = out_dir + "/" + config.run_name;
  OutputDir output(dir, force);
  arch::SimOptions options;
  options.progress = false;
  // One simulation per process: nothing to keep apart, so no child to fork.
  options.fork = false;
  const arch::ScaleSimRun run = arch::run_scalesim(config, layers, options);
  write_file_atomic(dir + "/COMPUTE_REPORT.csv", arch::compute_report_csv(run));
  output.commit();
  if (!quiet) {
    for (std::size_t i = 0; i < run.rows.size(); ++i) {
      const auto& r = run.rows[i];
      std::cout << "layer " << i << " (" << layers[i].name << "): " << r.total_cycles << " cycles, " << r.stall_cycles
                << " stall, " << arch::python_float(r.overall_util) << " % util, "
                << arch::python_float(r.mapping_efficiency) << " % mapping efficiency\n";
    }
    std::cout << "total " << run.total_cycles << " cycles; wrote " << dir << "/COMPUTE_REPORT.csv\n";
  }
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("scalesim", 35, "SCALE-Sim v2 config + topology through this model (COMPUTE_REPORT.csv)", run_scalesim);

}  // namespace nibble::cli
