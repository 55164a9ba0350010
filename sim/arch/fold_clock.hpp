// The fold schedules of the other dataflows and conventions, beside the
// weight-stationary contract of tile.hpp (docs/timing.md derives each rule).
// All times are array steps from the op's start; the engine maps them to
// cycles (one step per cycle unless a scratchpad is too narrow).
#pragma once

#include <cstdint>
#include <memory>

#include "sim/arch/tile.hpp"
#include "sim/design/design.hpp"

namespace nibble::arch {

/// Output-stationary tile (docs/timing.md, "Output-stationary tile").
class OsTileSchedule {
 public:
  OsTileSchedule(std::uint64_t rows, std::uint64_t cols);
  /// Next fold of `steps` (T >= 1) reduction steps whose operands are ready at `ready`.
  /// preload_start == stream_start (nothing is preloaded).
  FoldTiming next(std::uint64_t steps, std::uint64_t ready = 0);

 private:
  std::uint64_t m_rows;            ///< R
  std::uint64_t m_cols;            ///< C
  bool m_first = true;             ///< no fold yet
  FoldTiming m_last;               ///< previous fold
  std::uint64_t m_last_steps = 0;  ///< T of the previous fold
};

/// SCALE-Sim v2's compute timing: folds back to back, no overlap, each
/// 2R + C + T - 2 (ws, is) or R + C + T - 2 (os) cycles (SCALE-Sim, docs/references.md).
class ScaleSimSchedule {
 public:
  ScaleSimSchedule(std::uint64_t rows, std::uint64_t cols, design::Dataflow dataflow);
  /// Cycles of one fold of T temporal steps.
  std::uint64_t fold_cycles(std::uint64_t steps) const;
  /// Next fold; starts when the previous ended and its operands are ready.
  FoldTiming next(std::uint64_t steps, std::uint64_t ready = 0);

 private:
  std::uint64_t m_rows;      ///< R
  std::uint64_t m_cols;      ///< C
  design::Dataflow m_flow;   ///< os or ws/is
  std::uint64_t m_end = 0;   ///< end of the previous fold
};

/// One interface over the three schedules so the engine runs every dataflow
/// and convention through the same loop.
class FoldClock {
 public:
  virtual ~FoldClock() = default;
  /// Schedules the next fold: `steps` streamed vectors or reduction steps,
  /// stationary operand ready at `stationary_ready`, streamed operands and
  /// output space at `stream_ready`.
  virtual FoldTiming next(std::uint64_t steps, std::uint64_t stationary_ready, std::uint64_t stream_ready) = 0;
  /// Step at which the fold has read its stationary tile (os: its B tile) for the last time.
  virtual std::uint64_t stationary_released(const FoldTiming& t, std::uint64_t steps) const = 0;
  /// Step at which the fold has read its last streamed operand.
  virtual std::uint64_t stream_released(const FoldTiming& t, std::uint64_t steps) const = 0;
};

/// The clock for `dataflow` (a plan's: the mapper may pick another of the unit's) and the design's timing convention.
std::unique_ptr<FoldClock> make_fold_clock(const design::Design& design, design::Dataflow dataflow);

}  // namespace nibble::arch
