// The mapper: which plan (dataflow, loop order, block size) each GEMM share
// runs with (docs/timing.md, "Mapper"). `mapper: fixed` keeps plan_gemm's
// own rule (the design's dataflow, the loop order with fewer DRAM bytes, the
// largest blocks that fit); `mapper: search` runs every candidate through
// run_gemm against a one-stream DRAM and keeps the fastest. Pure C++, no
// SystemC, so the choice can be tested on its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sim/arch/arch_stats.hpp"
#include "sim/arch/engine.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/trace.hpp"

namespace nibble::arch {

/// The DRAM as one GEMM share sees it while every core runs its own share:
/// in order, bandwidth / cores bytes per cycle, a latency after each
/// transfer's last byte (docs/timing.md, "Mapper"). Ideal DRAM: no wait.
class StreamMemory final : public MemoryPort {
 public:
  /// Thrown by transfer() when a transfer would complete after `limit`.
  struct OverLimit {};

  /// `limit`: the cycle after which the caller no longer cares (0: none).
  explicit StreamMemory(const design::Design& design, std::uint64_t limit = 0);
  std::uint64_t transfer(std::uint64_t ready, std::uint64_t bytes, bool write) override;

 private:
  bool m_ideal;                  ///< every transfer completes when ready
  std::uint64_t m_bandwidth;     ///< whole-chip bytes per cycle
  std::uint64_t m_cores;         ///< cores sharing it: a share gets 1 / cores of it
  std::uint64_t m_latency;       ///< cycles from the last byte to completion
  std::uint64_t m_limit;         ///< completion after this throws OverLimit (0: never)
  std::uint64_t m_free = 0;      ///< first cycle the stream is free
};

/// What the mapper ranks a plan by: cycles first, then the bytes it moves
/// (the energy proxy: DRAM, then scratchpad), then enumeration order.
struct PlanCost {
  std::uint64_t cycles = 0;       ///< run_gemm's end from cycle 0 on StreamMemory: the last store complete
  std::uint64_t dram_bytes = 0;   ///< DRAM bytes read and written
  std::uint64_t spad_bytes = 0;   ///< scratchpad bytes read and written
};

/// Runs `plan` alone on StreamMemory and reports its cost; nullopt once a
/// transfer completes after `limit` (> 0): the plan takes more cycles than that.
std::optional<PlanCost> cost_plan(const design::Design& unit, const design::Execution& exec, const GemmPlan& plan,
                                  const ArchStats& stats, std::uint64_t limit = 0);

/// A plan in the words of layers.csv: `dataflow`, `loop_order` (the GEMM's
/// dimensions from the outer loop to the inner one, "nmk" or "mnk"), `tile`
/// (one fold's M x N x K).
struct PlanLabel {
  std::string dataflow;    ///< ws, os, is
  std::string loop_order;  ///< nmk or mnk
  std::string tile;        ///< "MxNxK" of one fold
};
/// `plan`'s label on `unit` (the design seen from its matrix unit).
PlanLabel plan_label(const design::Design& unit, const GemmPlan& plan);

/// Chooses the plans of one matrix unit's GEMM shares and remembers them per
/// distinct shape, so a network's repeated layers are searched once.
class Mapper {
 public:
  /// `unit`: the design seen from the matrix unit (Design::unit_view); `stats` costs candidates.
  Mapper(const design::Design& unit, const ArchStats& stats);

  /// The plan for a share (m, n, k) of `op` run as `exec`. Throws what
  /// plan_gemm throws when no candidate fits the scratchpads.
  GemmPlan plan(const design::Execution& exec, const workloads::TraceOp& op, std::uint64_t m, std::uint64_t n,
                std::uint64_t k);

  /// The candidates `search` considers for a share, in enumeration order
  /// (the first is the fixed mapper's plan when it fits); those that do not fit are left out.
  std::vector<GemmPlan> candidates(const design::Execution& exec, const workloads::TraceOp& op, std::uint64_t m,
                                   std::uint64_t n, std::uint64_t k) const;

 private:
  /// Everything a plan and its cost depend on besides the design.
  /// The last element: what else plan_gemm reads from the op (stored quarter bits of block
  /// formats, the phase, and an on-chip im2col's geometry, which scales the operand bytes).
  using Key = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, int, int, int, int, int,
                         std::uint64_t, int, int, std::vector<std::uint64_t>>;

  design::Design m_unit;            ///< the design seen from the unit
  const ArchStats& m_stats;         ///< counters run_gemm fills while costing
  std::map<Key, GemmPlan> m_cache;  ///< chosen plan per distinct share
};

}  // namespace nibble::arch
