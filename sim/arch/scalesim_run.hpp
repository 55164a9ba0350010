// `nibble scalesim`: SCALE-Sim v2's inputs (a .cfg turned into a design with
// the scalesim timing convention, and a topology's GEMMs) through this model,
// reported as SCALE-Sim's COMPUTE_REPORT.csv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/arch/simulate.hpp"
#include "sim/design/scalesim_config.hpp"

namespace nibble::arch {

/// One topology row as GEMMs (workloads::scalesim_gemm gives them).
struct ScaleSimLayerGemm {
  std::string name;          ///< the row's layer name
  std::uint64_t groups = 1;  ///< independent GEMMs (depthwise rows: one per channel)
  std::uint64_t m = 0;       ///< SCALE-Sim's ofmap pixels (E x F)
  std::uint64_t n = 0;       ///< filters
  std::uint64_t k = 0;       ///< window (R x S x C)
};

/// One line of COMPUTE_REPORT.csv.
struct ScaleSimReportRow {
  std::uint64_t total_cycles = 0;   ///< compute + stall cycles
  std::uint64_t stall_cycles = 0;   ///< waiting for DRAM (0 with InterfaceBandwidth CALC)
  double overall_util = 0;          ///< MACs x 100 / (total cycles x R x C)
  double mapping_efficiency = 0;    ///< mean over folds of used PEs / (R x C), x 100
  double compute_util = 0;          ///< mean over folds of used PEs x T / (R x C x fold cycles), x 100
};

struct ScaleSimRun {
  std::vector<ScaleSimReportRow> rows;  ///< one per topology row
  std::uint64_t total_cycles = 0;       ///< sum of the rows
};

/// Simulates every row (batch 1, forward only, 8-bit operands as SCALE-Sim's 1-byte words).
ScaleSimRun run_scalesim(const design::ScaleSimConfig& config, const std::vector<ScaleSimLayerGemm>& layers,
                         const SimOptions& options = {});

/// COMPUTE_REPORT.csv text with SCALE-Sim's exact header, ", " separators and trailing commas.
std::string compute_report_csv(const ScaleSimRun& run);

/// A double as Python's str() prints it (shortest round trip, ".0" on whole numbers).
std::string python_float(double value);

}  // namespace nibble::arch
