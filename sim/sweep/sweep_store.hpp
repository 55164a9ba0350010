// Internal to sim/sweep: the per-point result files that make --resume work,
// shared by the local and the MPI runner.
#pragma once

#include <string>

#include "sim/sweep/sweep_runner.hpp"

namespace nibble::sweep {

/// out_dir/points/<name>.json, one file per finished point, written atomically.
class PointStore {
 public:
  PointStore(const RunOptions& options, std::size_t total);
  /// Loads a finished point whose stored signature and key match, that
  /// succeeded (failed points are evaluated again) and whose metrics are the
  /// expected columns with finite numbers; false otherwise.
  bool load(const SweepPoint& point, PointOutcome* out) const;
  void save(const SweepPoint& point, const PointOutcome& outcome) const;

 private:
  /// The point's signature and key, as stored.
  std::string stored_signature(const SweepPoint& point) const;

  std::string m_dir;                                ///< out_dir/points
  std::size_t m_total;                              ///< points in the sweep (sets the width of the names)
  std::function<std::string(const SweepPoint&)> m_key;  ///< RunOptions::key
  std::vector<std::string> m_metric_columns;        ///< RunOptions::metric_columns
};

/// Runs the evaluator; an exception becomes a failed outcome naming it, so
/// one bad point never stops a sweep.
PointOutcome evaluate_safely(const Evaluator& evaluate, const SweepPoint& point);

}  // namespace nibble::sweep
