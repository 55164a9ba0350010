// The files `nibble simulate` writes, built by iterating the counter
// registry: summary.json, layers.csv and the short table on stdout.
#pragma once

#include <string>

#include "sim/arch/simulate.hpp"

namespace nibble::arch {

/// summary.json: the resolved design, the workload, the headline totals,
/// the same per phase, every counter's total with its unit, and the
/// functional path's outcome (docs/design-file.md describes the keys).
std::string summary_json(const SimResult& result);

/// layers.csv: one row per (layer, phase) with every registered counter as a
/// column, then utilization.
std::string layers_csv(const SimResult& result);

/// A short human-readable table: per phase and total cycles, stalls,
/// utilization, MACs and DRAM traffic.
std::string summary_table(const SimResult& result);

}  // namespace nibble::arch
