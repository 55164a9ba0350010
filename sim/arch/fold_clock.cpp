#include "sim/arch/fold_clock.hpp"

#include <algorithm>
#include <stdexcept>

namespace nibble::arch {

OsTileSchedule::OsTileSchedule(std::uint64_t rows, std::uint64_t cols) : m_rows(rows), m_cols(cols) {
  if (rows == 0 || cols == 0) throw std::logic_error("OsTileSchedule: the tile needs at least one row and column");
}

FoldTiming OsTileSchedule::next(std::uint64_t steps, std::uint64_t ready) {
  if (steps == 0) throw std::logic_error("OsTileSchedule::next: a fold has at least one step");
  FoldTiming t;
  t.stream_start = ready;
  if (!m_first) {
    const std::uint64_t prev_end = m_last.stream_start + m_last_steps;
    t.stream_start = std::max(t.stream_start, prev_end);  // operand ports busy until then
    // Each column drains R results, one per cycle; fold f's first result may
    // not leave before fold f-1's last: S_f + T_f >= S_{f-1} + T_{f-1} + R.
    if (prev_end + m_rows > steps) t.stream_start = std::max(t.stream_start, prev_end + m_rows - steps);
  }
  t.preload_start = t.stream_start;
  t.done = t.stream_start + steps + 2 * m_rows + m_cols - 2;  // D_f = S_f + T_f + 2R + C - 2
  m_first = false;
  m_last = t;
  m_last_steps = steps;
  return t;
}

ScaleSimSchedule::ScaleSimSchedule(std::uint64_t rows, std::uint64_t cols, design::Dataflow dataflow)
    : m_rows(rows), m_cols(cols), m_flow(dataflow) {}

std::uint64_t ScaleSimSchedule::fold_cycles(std::uint64_t steps) const {
  return m_flow == design::Dataflow::kOs ? m_rows + m_cols + steps - 2 : 2 * m_rows + m_cols + steps - 2;
}

FoldTiming ScaleSimSchedule::next(std::uint64_t steps, std::uint64_t ready) {
  FoldTiming t;
  t.preload_start = std::max(ready, m_end);
  t.stream_start = t.preload_start;
  t.done = t.preload_start + fold_cycles(steps);
  m_end = t.done;
  return t;
}

namespace {

class WsClock final : public FoldClock {
 public:
  WsClock(std::uint64_t rows, std::uint64_t cols) : m_rows(rows), m_schedule(rows, cols) {}
  FoldTiming next(std::uint64_t steps, std::uint64_t stationary_ready, std::uint64_t stream_ready) override {
    return m_schedule.next(steps, stationary_ready, stream_ready);
  }
  // The weights sit in the shadow registers once the preload ends.
  std::uint64_t stationary_released(const FoldTiming& t, std::uint64_t /*steps*/) const override {
    return t.preload_start + m_rows;
  }
  std::uint64_t stream_released(const FoldTiming& t, std::uint64_t steps) const override {
    return t.stream_start + steps;
  }

 private:
  std::uint64_t m_rows;
  WsTileSchedule m_schedule;
};

class OsClock final : public FoldClock {
 public:
  OsClock(std::uint64_t rows, std::uint64_t cols) : m_schedule(rows, cols) {}
  FoldTiming next(std::uint64_t steps, std::uint64_t stationary_ready, std::uint64_t stream_ready) override {
    return m_schedule.next(steps, std::max(stationary_ready, stream_ready));
  }
  // Both operands stream: the B tile is read until the last step.
  std::uint64_t stationary_released(const FoldTiming& t, std::uint64_t steps) const override {
    return t.stream_start + steps;
  }
  std::uint64_t stream_released(const FoldTiming& t, std::uint64_t steps) const override {
    return t.stream_start + steps;
  }

 private:
  OsTileSchedule m_schedule;
};

class ScaleSimClock final : public FoldClock {
 public:
  ScaleSimClock(std::uint64_t rows, std::uint64_t cols, design::Dataflow flow) : m_schedule(rows, cols, flow) {}
  FoldTiming next(std::uint64_t steps, std::uint64_t stationary_ready, std::uint64_t stream_ready) override {
    return m_schedule.next(steps, std::max(stationary_ready, stream_ready));
  }
  // No overlap between folds: a tile is in use until its fold ends.
  std::uint64_t stationary_released(const FoldTiming& t, std::uint64_t /*steps*/) const override { return t.done; }
  std::uint64_t stream_released(const FoldTiming& t, std::uint64_t /*steps*/) const override { return t.done; }

 private:
  ScaleSimSchedule m_schedule;
};

}  // namespace

std::unique_ptr<FoldClock> make_fold_clock(const design::Design& d, design::Dataflow dataflow) {
  const std::uint64_t r = d.array.rows;
  const std::uint64_t c = d.array.cols;
  if (d.timing == design::TimingConvention::kScaleSim) return std::make_unique<ScaleSimClock>(r, c, dataflow);
  if (dataflow == design::Dataflow::kOs) return std::make_unique<OsClock>(r, c);
  return std::make_unique<WsClock>(r, c);  // is = ws on the transposed GEMM
}

}  // namespace nibble::arch
