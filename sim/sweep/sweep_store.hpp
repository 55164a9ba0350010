// Internal to sim/sweep: the per-point result files that make --resume work,
// shared by the local and the MPI runner.
#pragma once

#include <string>

#include "sim/sweep/sweep_runner.hpp"

namespace nibble::sweep {

/// out_dir/points/<name>.json, one file per finished point, written atomically.
class PointStore {
 public:
  PointStore(const std::string& out_dir, std::size_t total);
  /// Loads a finished point whose stored signature matches; false otherwise.
  bool load(const SweepPoint& point, PointOutcome* out) const;
  void save(const SweepPoint& point, const PointOutcome& outcome) const;

 private:
  std::string m_dir;    ///< out_dir/points
  std::size_t m_total;  ///< points in the sweep (sets the width of the names)
};

/// Runs the evaluator; an exception becomes a failed outcome naming it, so
/// one bad point never stops a sweep.
PointOutcome evaluate_safely(const Evaluator& evaluate, const SweepPoint& point);

}  // namespace nibble::sweep
