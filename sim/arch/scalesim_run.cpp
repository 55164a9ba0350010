#include "sim/arch/scalesim_run.hpp"

#include <algorithm>

#include "sim/common/text.hpp"
#include "sim/report/csv.hpp"

namespace nibble::arch {

namespace {
}  // namespace

std::string python_float(double value) {
  std::string text = format_double(value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

ScaleSimRun run_scalesim(const design::ScaleSimConfig& config, const std::vector<ScaleSimLayerGemm>& layers,
                         const SimOptions& options) {
  const design::Design& d = config.design;
  workloads::Trace trace;
  trace.model = config.run_name;
  trace.batch = 1;
  trace.policy = "scalesim";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ScaleSimLayerGemm& layer = layers[i];
    workloads::TraceOp op;
    // Topology names may repeat; one unique name per row keeps one result row per op.
    op.layer = "row" + std::to_string(i);
    op.kind = workloads::OpKind::kGemm;
    op.phase = workloads::Phase::kForward;
    op.m = layer.m;
    op.n = layer.n;
    op.k = layer.k;
    op.groups = layer.groups;
    // SCALE-Sim's words are one byte: 8-bit operands and 8-bit stored outputs.
    op.a_format = numerics::Format::kFp8E4M3;
    op.b_format = numerics::Format::kFp8E4M3;
    op.acc_format = numerics::Format::kFp8E4M3;
    trace.ops.push_back(op);
  }
  const SimResult result = simulate(d, trace, options);
  ScaleSimRun run;
  const std::uint64_t r = d.array.rows;
  const std::uint64_t c = d.array.cols;
  const std::size_t cycles_id = result.ids.cycles;
  const std::size_t stall_id = result.ids.stall_cycles;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ScaleSimLayerGemm& layer = layers[i];
    ScaleSimReportRow out;
    const StatVector& s = result.rows.at(i).stats;
    out.total_cycles = s[cycles_id];
    out.stall_cycles = s[stall_id];
    // SCALE-Sim's mapping (docs/references.md): spatial rows Sr, columns Sc, temporal T.
    std::uint64_t sr = layer.k, sc = layer.n, t = layer.m;
    if (d.array.dataflow == design::Dataflow::kOs) {
      sr = layer.m;
      sc = layer.n;
      t = layer.k;
    } else if (d.array.dataflow == design::Dataflow::kIs) {
      sr = layer.k;
      sc = layer.m;
      t = layer.n;
    }
    const double pes = static_cast<double>(r * c);
    const double macs = static_cast<double>(layer.groups) * static_cast<double>(layer.m) *
                        static_cast<double>(layer.n) * static_cast<double>(layer.k);
    out.overall_util = out.total_cycles == 0 ? 0.0 : macs * 100.0 / (static_cast<double>(out.total_cycles) * pes);
    // Mapping efficiency and compute utilization as SCALE-Sim computes them
    // (systolic_compute_*.py): a value per fold, column folds outside, summed
    // in that order, divided by the fold count, times 100 — the same doubles.
    // Its fold cycles in this formula: os T + R + C - 2; ws and is 2R + 2C + T - 3.
    const std::uint64_t fold_cycles =
        d.array.dataflow == design::Dataflow::kOs ? t + r + c - 2 : 2 * r + 2 * c + t - 3;
    const std::uint64_t row_folds = ceil_div(sr, r);
    const std::uint64_t col_folds = ceil_div(sc, c);
    double mapping_sum = 0.0;
    double compute_sum = 0.0;
    for (std::uint64_t fc = 0; fc < col_folds; ++fc) {
      for (std::uint64_t fr = 0; fr < row_folds; ++fr) {
        const std::uint64_t row_used = std::min(r, sr - fr * r);
        const std::uint64_t col_used = std::min(c, sc - fc * c);
        const std::uint64_t used = row_used * col_used;
        mapping_sum += static_cast<double>(used) / static_cast<double>(r * c);
        compute_sum += static_cast<double>(used * t) / static_cast<double>(r * c * fold_cycles);
      }
    }
    const double folds = static_cast<double>(row_folds * col_folds);
    out.mapping_efficiency = mapping_sum / folds * 100.0;
    out.compute_util = compute_sum / folds * 100.0;
    run.rows.push_back(out);
    run.total_cycles += out.total_cycles;
  }
  return run;
}

std::string compute_report_csv(const ScaleSimRun& run) {
  // SCALE-Sim writes "LayerID, Total Cycles, ...,\n": fields after the first
  // start with a space and every line ends with a comma (an empty last field).
  report::CsvWriter csv({"LayerID", " Total Cycles", " Stall Cycles", " Overall Util %", " Mapping Efficiency %",
                         " Compute Util %", ""});
  for (std::size_t i = 0; i < run.rows.size(); ++i) {
    const ScaleSimReportRow& r = run.rows[i];
    csv.row({std::to_string(i), " " + std::to_string(r.total_cycles), " " + std::to_string(r.stall_cycles),
             " " + python_float(r.overall_util), " " + python_float(r.mapping_efficiency),
             " " + python_float(r.compute_util), ""});
  }
  return csv.str();
}

}  // namespace nibble::arch
