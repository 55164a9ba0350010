// Evaluating a sweep's points on one machine (a pool of --jobs workers) or on
// a cluster (MPI ranks), with results that are byte-identical either way and
// a per-point store so that an interrupted sweep resumes where it stopped.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace nibble::sweep {

/// What evaluating one point produced. Metric values are already formatted
/// text so that every process writes the same bytes.
struct PointOutcome {
  bool ok = false;                                            ///< false: `error` says why
  std::string error;                                          ///< one line, when !ok
  std::vector<std::pair<std::string, std::string>> metrics;  ///< column -> value, same columns for every ok point

  /// JSON text of this outcome with the point's signature (the resume store's format).
  std::string to_json(const std::string& signature) const;
  /// Parses to_json() output; false if malformed or the signature differs.
  static bool from_json(const std::string& text, const std::string& signature, PointOutcome* out);
};

/// Evaluates one point; must be safe to call from several threads at once
/// and deterministic (same point, same outcome).
using Evaluator = std::function<PointOutcome(const SweepPoint&)>;

struct RunOptions {
  std::string out_dir;    ///< results go to out_dir/points/<name>.json and out_dir/sweep.csv
  std::size_t jobs = 1;   ///< concurrent evaluations in this process
  bool resume = false;    ///< reuse finished points found in out_dir/points
  bool progress = true;   ///< progress on stderr
  /// MPI: the longest a worker rank may stay silent (evaluating one point, or
  /// starting up) before the sweep ends with exit 1 naming it (setting point_timeout).
  std::uint64_t point_timeout_s = 3600;
  /// A fingerprint of everything a point's result depends on beyond its
  /// signature (file bytes, tables, nibble's version); a stored point is reused
  /// only when it matches. Empty: the signature alone.
  std::function<std::string(const SweepPoint&)> key;
  /// The metric columns a stored point must hold, in order (empty: any).
  std::vector<std::string> metric_columns;
  /// Words the setting references (setting_ref) of the lines the MPI
  /// coordinator prints when it gives a rank up (sim/cli: the flags).
  SettingWords words = keep_setting_refs;
};

struct SweepResults {
  std::vector<SweepPoint> points;      ///< every point, in order
  std::vector<PointOutcome> outcomes;  ///< outcomes[i] belongs to points[i]
  std::size_t reused = 0;              ///< points taken from the resume store
};

/// Evaluates every point with a pool of options.jobs threads.
SweepResults run_local(const SweepSpec& spec, const RunOptions& options, const Evaluator& evaluate);

/// Evaluates every point over the ranks of MPI_COMM_WORLD (rank 0 coordinates
/// and evaluates too); returns the full results on rank 0 and empty results
/// elsewhere. Throws std::runtime_error when nibble was built without MPI.
SweepResults run_mpi(const SweepSpec& spec, const RunOptions& options, const Evaluator& evaluate, bool* is_root);

/// True when this build can run sweeps under MPI.
bool mpi_available();

/// The sweep table: one row per point (index, point, design, each parameter
/// key, model, batch, seq, policy, status, error, then the metric columns).
std::string results_csv(const SweepSpec& spec, const SweepResults& results);

}  // namespace nibble::sweep
