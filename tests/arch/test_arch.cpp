// The SystemC model: cycle counts of small GEMMs pinned to values derived by
// hand from docs/timing.md (derivations in the comments), for every dataflow,
// with ideal memory and with a DRAM slow enough that stalls dominate; DRAM
// traffic of tiled GEMMs; monotonicity in bandwidth; cores; the functional
// path for every PE kind and dataflow; the SCALE-Sim data point.
//
// Every simulate() call forks a child that runs the SystemC kernel, so one
// test may simulate many times.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/arch/components.hpp"
#include "sim/arch/deps.hpp"
#include "sim/arch/engine.hpp"
#include "sim/arch/fold_clock.hpp"
#include "sim/arch/mapper.hpp"
#include "sim/arch/scalesim_run.hpp"
#include "sim/arch/simulate.hpp"
#include "sim/arch/tile.hpp"
#include "sim/common/error.hpp"
#include "sim/design/design.hpp"
#include "sim/design/scalesim_config.hpp"
#include "sim/numerics/block_dot.hpp"
#include "sim/numerics/int4.hpp"
#include "workloads/scalesim.hpp"
#include "tests/support/trace_ops.hpp"
#include "workloads/trace.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::arch {
namespace {

using numerics::Format;
using workloads::Phase;
using test::gemm;
using test::vector_op;
using workloads::TraceOp;

const std::string kSource = NIBBLE_SOURCE_DIR;

design::Design test_design(const std::string& file, const std::vector<std::string>& sets = {}) {
  return design::load_design(kSource + "/hw/designs/" + file, sets);
}

workloads::Trace trace_of(const std::vector<TraceOp>& ops) {
  workloads::Trace t;
  t.model = "test";
  t.ops = ops;
  return t;
}

SimResult run(const design::Design& d, const std::vector<TraceOp>& ops, const SimOptions& options = {}) {
  return simulate(d, trace_of(ops), options);
}

std::uint64_t cycles(const design::Design& d, const std::vector<TraceOp>& ops) {
  return run(d, ops).total("cycles");
}

// ---------------------------------------------------------------- fold rules

TEST(TileSchedule, ContractExampleOfTimingMd) {
  // docs/timing.md: 4x4 tile, two folds, T = 10.
  WsTileSchedule s(4, 4);
  const FoldTiming f0 = s.next(10);
  EXPECT_EQ(f0.preload_start, 0u);
  EXPECT_EQ(f0.stream_start, 4u);  // S_0 = P_0 + R
  EXPECT_EQ(f0.done, 21u);         // 4 + 10 + 4 + 4 - 1
  const FoldTiming f1 = s.next(10);
  EXPECT_EQ(f1.preload_start, 11u);  // max(0 + 4, 4 + 4 + 4 - 1)
  EXPECT_EQ(f1.stream_start, 15u);   // max(11 + 4, 4 + 10)
  EXPECT_EQ(f1.done, 32u);           // 15 + 10 + 4 + 4 - 1
}

TEST(TileSchedule, ReadyTimesDelayPreloadAndStream) {
  WsTileSchedule s(4, 4);
  const FoldTiming f0 = s.next(10, /*weights_ready=*/12, /*inputs_ready=*/17);
  EXPECT_EQ(f0.preload_start, 12u);
  EXPECT_EQ(f0.stream_start, 17u);  // max(12 + 4, 17)
  EXPECT_EQ(f0.done, 34u);          // 17 + 10 + 7
}

TEST(TileSchedule, OutputStationaryRules) {
  // docs/timing.md, output-stationary: D = S + T + 2R + C - 2; a fold's first
  // result leaves no earlier than R cycles after the previous fold's first.
  OsTileSchedule s(4, 4);
  EXPECT_EQ(s.next(10).done, 20u);  // 0 + 10 + 8 + 4 - 2
  const FoldTiming f1 = s.next(10);
  EXPECT_EQ(f1.stream_start, 10u);  // input ports: S_0 + T_0
  EXPECT_EQ(f1.done, 30u);
  OsTileSchedule t(4, 4);
  t.next(2);                         // S_0 = 0
  EXPECT_EQ(t.next(2).stream_start, 4u);  // max(0 + 2, 0 + 2 + 4 - 2)
}

TEST(TileFunction, HandComputedInt4Fold) {
  // R = 2, C = 2, T = 1, int4 x int4 into int32.
  // b = [[1, -2], [3, 4]], a = [5, -6], psum_in = [10, 20]:
  // column 0: 10 + 5*1 + (-6)*3 = -3; column 1: 20 + 5*(-2) + (-6)*4 = -14.
  TileFold fold;
  fold.mode = numerics::PeMode::kInt4xInt4;
  fold.arith.acc = Format::kInt32;
  fold.b = {numerics::int4_bits(1), numerics::int4_bits(-2), numerics::int4_bits(3), numerics::int4_bits(4)};
  fold.a = {numerics::int4_bits(5), numerics::int4_bits(-6)};
  fold.psum_in = {10, 20};
  const auto out = compute_tile_fold(2, 2, fold);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(static_cast<std::int32_t>(out[0]), -3);
  EXPECT_EQ(static_cast<std::int32_t>(out[1]), -14);
}

TEST(TileFunction, HandComputedDotProductFold) {
  // 4 reduction rows, C = 2, T = 1, int4 x int4 into fp16, psum_in 2048 (0x6800)
  // in both columns, a = [1, 1, 1, 1], column 0's weights [1, 0, 1, 0],
  // column 1's [1, 1, 0, 0]. FP16's ulp on [2048, 4096) is 2, so 2048 + 1 ties
  // and stays 2048 (nearest-even), while 2048 + 2 = 2050 (0x6801) is exact.
  //   N = 1 (4 PE rows, one product each): every +1 ties back: 0x6800, 0x6800.
  //   N = 2 (2 PE rows): column 0 adds 1 + 0 twice: 0x6800; column 1 adds
  //          1 + 1 = 2 then 0 + 0: 0x6801.
  //   N = 4 (1 PE row): each column adds its exact sum 2 once: 0x6801, 0x6801.
  TileFold fold;
  fold.mode = numerics::PeMode::kInt4xInt4;
  fold.arith.acc = Format::kFp16;
  const std::uint32_t one = numerics::int4_bits(1);
  fold.b = {one, one, 0, one, one, 0, 0, 0};  // b[r * C + c]
  fold.a = {one, one, one, one};
  fold.psum_in = {0x6800u, 0x6800u};
  const std::vector<std::uint32_t> want[] = {{0x6800u, 0x6800u}, {0x6800u, 0x6801u}, {0x6801u, 0x6801u}};
  const std::uint64_t dots[] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    fold.dot = dots[i];
    EXPECT_EQ(compute_tile_fold(4, 2, fold), want[i]) << "N = " << dots[i];
  }
}

TEST(TileFunction, BlockFp4FoldEqualsBlockDotAccumulate) {
  // docs/timing.md, "Block-FP4 PEs": one fold of 2 PE rows of N = 32 (64
  // reduction rows: two MXFP4 blocks), C = 2, T = 1. Every code 0x2 (E2M1
  // 1.0), every scale 127 (2^0) but column 1's second block 128 (2^1):
  // column 0 = 32 + 32 = 64 (0x42800000), column 1 = 32 + 64 = 96 (0x42C00000).
  TileFold fold;
  fold.mode = numerics::PeMode::kMxfp4;
  fold.arith.acc = Format::kFp32;
  fold.dot = 32;
  fold.b.assign(64 * 2, 0x2u);
  fold.a.assign(64, 0x2u);
  fold.a_scales = {127, 127};
  fold.b_scales = {127, 127, 127, 128};  // b_scales[block * C + c]
  fold.psum_in = {0, 0};
  EXPECT_EQ(compute_tile_fold(64, 2, fold), (std::vector<std::uint32_t>{0x42800000u, 0x42C00000u}));

  // Seeded random codes and scales, MXFP4 and NVFP4, a partial last block
  // (rows = 72 = 2 x 32 + 8; NVFP4: 4 x 16 + 8), psum_in from a previous fold;
  // the reference calls block_dot_accumulate block by block here.
  std::mt19937_64 rng(7);
  for (const auto mode : {numerics::PeMode::kMxfp4, numerics::PeMode::kNvfp4}) {
    SCOPED_TRACE(numerics::pe_mode_name(mode));
    const numerics::BlockFormat& f = numerics::pe_block_format(mode);
    const std::uint64_t rows = 72;
    const std::uint64_t cols = 3;
    const std::uint64_t vectors = 2;
    const std::uint64_t blocks = (rows + f.block - 1) / f.block;
    const auto scale = [&] {
      return static_cast<std::uint32_t>(f.scale == numerics::ScaleKind::kE8M0 ? 120 + rng() % 15 : rng() % 0x7F);
    };
    TileFold r;
    r.mode = mode;
    r.arith.acc = Format::kFp32;
    r.dot = 32;
    for (std::uint64_t i = 0; i < rows * cols; ++i) r.b.push_back(static_cast<std::uint32_t>(rng() & 0xF));
    for (std::uint64_t i = 0; i < vectors * rows; ++i) r.a.push_back(static_cast<std::uint32_t>(rng() & 0xF));
    for (std::uint64_t i = 0; i < vectors * blocks; ++i) r.a_scales.push_back(scale());
    for (std::uint64_t i = 0; i < blocks * cols; ++i) r.b_scales.push_back(scale());
    for (std::uint64_t i = 0; i < vectors * cols; ++i) r.psum_in.push_back(0x3F800000u + static_cast<std::uint32_t>(i));
    const std::vector<std::uint32_t> got = compute_tile_fold(rows, cols, r);
    for (std::uint64_t v = 0; v < vectors; ++v) {
      for (std::uint64_t c = 0; c < cols; ++c) {
        std::uint64_t acc = r.psum_in[v * cols + c];
        for (std::uint64_t j = 0; j < blocks; ++j) {
          const std::uint64_t k0 = j * f.block;
          const std::uint64_t n = std::min<std::uint64_t>(f.block, rows - k0);
          std::vector<std::uint32_t> column(n);
          for (std::uint64_t i = 0; i < n; ++i) column[i] = r.b[(k0 + i) * cols + c];
          acc = numerics::block_dot_accumulate(acc, {&f, r.a.data() + v * rows + k0, r.a_scales[v * blocks + j]},
                                               {&f, column.data(), r.b_scales[j * cols + c]}, n);
        }
        EXPECT_EQ(got[v * cols + c], acc) << "vector " << v << " column " << c;
      }
    }
  }
}

// --------------------------------------------------- ideal memory, by hand

// The planning and timing functions on their own, without the SystemC kernel.

// docs/timing.md's in-order DRAM rule for one requester on one channel:
// 4 B/cycle, latency 10 (test-4x4's DRAM); records every transfer.
class InOrderDram final : public MemoryPort {
 public:
  std::uint64_t transfer(std::uint64_t ready, std::uint64_t bytes, bool write) override {
    const std::uint64_t begin = std::max(ready, m_free);
    m_free = begin + (bytes + 3) / 4;
    log.push_back({begin, bytes, write});
    return m_free + 10;
  }
  struct Transfer {
    std::uint64_t begin;
    std::uint64_t bytes;
    bool write;
  };
  std::vector<Transfer> log;  ///< in issue order

 private:
  std::uint64_t m_free = 0;
};

TEST(Engine, PlanAndRunAGemmDirectly) {
  const auto d = test_design("test-4x4.yaml");
  const TraceOp op = gemm("g", 10, 4, 8);
  const design::Execution exec = design::plan_execution(d, op);
  const GemmPlan p = plan_gemm(d, exec, op, op.m, op.n, op.k);
  // Both operands fit a half: resident per group; ws: B stationary in the weight scratchpad.
  EXPECT_EQ(p.stationary.residency, Residency::kPerGroup);
  EXPECT_EQ(p.streamed.residency, Residency::kPerGroup);
  EXPECT_FALSE(p.stationary.in_input);
  EXPECT_TRUE(p.streamed.in_input);
  EXPECT_EQ(p.stationary.bits, 4);
  EXPECT_EQ(p.block, 10u);  // Tm = M: all 10 vectors in one block
  // Ideal memory (docs/timing.md, 4x4 two folds): compute_end = end = 32; the
  // last fold read its operands by S_1 + T = 15 + 10 = 25.
  IdealMemory ideal;
  StatRegistry registry;
  const ArchStats st(registry);
  const RunTimes t = run_gemm(d, exec, p, ideal, 0, nullptr, st, 0);
  EXPECT_EQ(t.compute_end, 32u);
  EXPECT_EQ(t.end, 32u);
  EXPECT_EQ(t.released, 25u);
  // The DRAM example of docs/timing.md: B0 0..2, A0 2..7, B1 7..9, A1 9..14,
  // folds done at 45 (released max(P_1 + R, S_1 + T) = max(28, 38) = 38), store 45..85 done 95.
  InOrderDram dram;
  const RunTimes slow = run_gemm(d, exec, p, dram, 0, nullptr, st, 0);
  EXPECT_EQ(slow.compute_end, 45u);
  EXPECT_EQ(slow.released, 38u);
  EXPECT_EQ(slow.end, 95u);
  ASSERT_EQ(dram.log.size(), 5u);
  EXPECT_EQ(dram.log[1].begin, 2u);
  EXPECT_EQ(dram.log[1].bytes, 20u);
  EXPECT_EQ(dram.log[4].begin, 45u);
  EXPECT_TRUE(dram.log[4].write);
  // Prefetched: the first tiles may load from 0 while the folds start at 20:
  // B0 done 12, A0 done 17, B1 done 19, A1 done 24, all before the array
  // starts; fold 0 P = 20, S = 24, D = 41; fold 1 P = max(24, 24 + 7) = 31,
  // S = max(35, 34) = 35, D = 52; store 52..92 done 102.
  InOrderDram early;
  const RunTimes pre = run_gemm(d, exec, p, early, 20, nullptr, st, 0);
  EXPECT_EQ(pre.compute_end, 52u);
  EXPECT_EQ(pre.end, 102u);
}

// ------------------------------------------------------------------ mapper

// docs/timing.md, "Mapper": m = 4, n = 40, k = 4 on test-4x4 (ideal memory).
// ws: 10 column blocks of one fold, T = 4, folds max(T, 2R + C - 1) = 11 apart:
//   4 + 9 x 11 + 4 + 4 + 4 - 1 = 114.
// is: one fold, the 40 columns of B streamed past A: 2R + C + T - 1 = 8 + 4 + 40 - 1 = 51.
// os: 10 output tiles of one row block, T = 4, max(T, R) = 4 apart: S_9 = 36,
//   D_9 = 36 + 4 + 2R + C - 2 = 50.
TEST(Mapper, SearchPicksTheFastestDataflow) {
  const TraceOp op = gemm("g", 4, 40, 4);
  EXPECT_EQ(cycles(test_design("test-4x4.yaml"), {op}), 114u);
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"array.dataflow=is"}), {op}), 51u);
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"array.dataflow=os"}), {op}), 50u);
  // The fixed mapper keeps `dataflow` whatever the list says.
  const SimResult fixed = run(test_design("test-4x4.yaml", {"array.dataflows=[ws,is,os]"}), {op});
  EXPECT_EQ(fixed.total("cycles"), 114u);
  EXPECT_EQ(fixed.rows.at(0).dataflow, "ws");
  EXPECT_EQ(fixed.rows.at(0).loop_order, "nmk");
  EXPECT_EQ(fixed.rows.at(0).tile, "4x4x4");
  // The search among ws and is takes is; among all three, os.
  const SimResult two = run(test_design("test-4x4.yaml", {"mapper=search", "array.dataflows=[ws,is]"}), {op});
  EXPECT_EQ(two.total("cycles"), 51u);
  EXPECT_EQ(two.rows.at(0).dataflow, "is");
  EXPECT_EQ(two.rows.at(0).loop_order, "mnk");
  EXPECT_EQ(two.rows.at(0).tile, "4x40x4");
  const SimResult three = run(test_design("test-4x4.yaml", {"mapper=search", "array.dataflows=[ws,is,os]"}), {op});
  EXPECT_EQ(three.total("cycles"), 50u);
  EXPECT_EQ(three.rows.at(0).dataflow, "os");
  EXPECT_EQ(three.rows.at(0).tile, "4x4x4");
  // --set array.dataflow pins it: the search keeps ws.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"mapper=search", "array.dataflows=[ws,is,os]", "array.dataflow=ws"}),
                   {op}),
            114u);
}

// docs/timing.md, "Mapper": the loop order. m = n = k = 8 on test-4x4 (ideal memory) with a
// 32-byte input scratchpad: A (32 B) no longer fits its 16-byte half, B (32 B) stays resident.
// Columns outside: Tm = min(8, 16 B / (R x 4 bits)) = 8; traffic 2 x 32 + 32 = 96 B.
// Vectors outside: Tm = min(8, 16 B / (k x 4 bits)) = 4; traffic 32 + 32 = 64 B: the fixed
// mapper takes it. Its 2 x 2 x 2 = 8 folds of T = 4 run 11 apart: 4 + 7 x 11 + 4 + 4 + 4 - 1 = 92.
// Columns outside runs 2 x 1 x 2 = 4 folds of T = 8: 4 + 3 x 11 + 8 + 4 + 4 - 1 = 52.
TEST(Mapper, SearchPicksTheFasterLoopOrder) {
  const TraceOp op = gemm("g", 8, 8, 8);
  const SimResult fixed = run(test_design("test-4x4.yaml", {"scratchpads.input.capacity_bytes=32"}), {op});
  EXPECT_EQ(fixed.total("cycles"), 92u);
  EXPECT_EQ(fixed.total("folds"), 8u);
  EXPECT_EQ(fixed.rows.at(0).loop_order, "mnk");
  EXPECT_EQ(fixed.rows.at(0).tile, "4x4x4");
  EXPECT_EQ(fixed.total("dram_bytes_read"), 64u);
  const SimResult search =
      run(test_design("test-4x4.yaml", {"scratchpads.input.capacity_bytes=32", "mapper=search"}), {op});
  EXPECT_EQ(search.total("cycles"), 52u);
  EXPECT_EQ(search.total("folds"), 4u);
  EXPECT_EQ(search.rows.at(0).dataflow, "ws");
  EXPECT_EQ(search.rows.at(0).loop_order, "nmk");
  EXPECT_EQ(search.rows.at(0).tile, "8x4x4");
  EXPECT_EQ(search.total("dram_bytes_read"), 96u);  // faster, and more bytes: cycles come first
}

// StreamMemory is docs/timing.md's in-order rule: the DRAM example there ends at 95.
TEST(Mapper, StreamMemoryIsTheInOrderRule) {
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  const TraceOp op = gemm("g", 10, 4, 8);
  const design::Execution exec = design::plan_execution(d, op);
  StatRegistry registry;
  const ArchStats st(registry);
  const GemmPlan p = plan_gemm(d, exec, op, op.m, op.n, op.k);
  const PlanCost cost = *cost_plan(d, exec, p, st);
  EXPECT_EQ(cost.cycles, 95u);
  EXPECT_EQ(cost.dram_bytes, 16u + 40u + 160u);  // B 2 x 8, A 2 x 20, C 10 x 4 x 32 bits
  // A limit below the end stops the costing.
  EXPECT_FALSE(cost_plan(d, exec, p, st, 94).has_value());
  EXPECT_EQ(cost_plan(d, exec, p, st, 95)->cycles, 95u);
  // Two cores: each share gets half the bandwidth, 2 B/cycle. B0 (8 B) 0..4 done 14,
  // A0 (20 B) 4..14 done 24: fold 0 P = 14, S = 24, D = 41; B1 14..18 done 28, A1 18..28
  // done 38: fold 1 P = max(28, 31) = 31, S = 38, D = 55; store (160 B) 55..135, done 145.
  const auto two = test_design("test-4x4.yaml", {"dram.ideal=false", "cores=2"});
  EXPECT_EQ(cost_plan(two, exec, p, st)->cycles, 145u);
}

TEST(Mapper, ChoicesAreDeterministic) {
  const auto d = test_design("test-4x4.yaml", {"mapper=search", "array.dataflows=[ws,is,os]", "dram.ideal=false",
                                                "scratchpads.input.capacity_bytes=256"});
  const TraceOp op = gemm("g", 37, 29, 23);
  const design::Execution exec = design::plan_execution(d, op);
  StatRegistry registry;
  const ArchStats st(registry);
  Mapper a(d, st);
  Mapper b(d, st);
  const std::vector<GemmPlan> ca = a.candidates(exec, op, op.m, op.n, op.k);
  const std::vector<GemmPlan> cb = b.candidates(exec, op, op.m, op.n, op.k);
  ASSERT_EQ(ca.size(), cb.size());
  ASSERT_GT(ca.size(), 3u);
  for (std::size_t i = 0; i < ca.size(); ++i) {
    EXPECT_EQ(plan_label(d, ca[i]).tile, plan_label(d, cb[i]).tile);
    EXPECT_EQ(ca[i].dataflow, cb[i].dataflow);
  }
  // The first candidate is the fixed mapper's plan.
  const GemmPlan fixed = plan_gemm(d, exec, op, op.m, op.n, op.k);
  EXPECT_EQ(ca[0].dataflow, fixed.dataflow);
  EXPECT_EQ(ca[0].m_outer, fixed.m_outer);
  EXPECT_EQ(ca[0].block, fixed.block);
  // No candidate beats the choice; the cache gives the same plan again.
  const GemmPlan chosen = a.plan(exec, op, op.m, op.n, op.k);
  const PlanCost best = *cost_plan(d, exec, chosen, st);
  for (const auto& c : ca) EXPECT_GE(cost_plan(d, exec, c, st)->cycles, best.cycles);
  const GemmPlan again = a.plan(exec, op, op.m, op.n, op.k);
  EXPECT_EQ(plan_label(d, again).tile, plan_label(d, chosen).tile);
  EXPECT_EQ(again.dataflow, chosen.dataflow);
  // Two simulations write the same plan columns.
  const SimResult r1 = run(d, {op});
  const SimResult r2 = run(d, {op});
  EXPECT_EQ(r1.total("cycles"), r2.total("cycles"));
  EXPECT_EQ(r1.rows.at(0).tile, r2.rows.at(0).tile);
  EXPECT_EQ(r1.rows.at(0).dataflow, r2.rows.at(0).dataflow);
}

TEST(IdealMemory, WeightStationary4x4) {
  const auto d = test_design("test-4x4.yaml");
  // m=10, n=4, k=8: k in 2 tiles of R=4, one column block, both operands
  // resident, T = 10: the two folds of the timing.md example, D_1 = 32.
  EXPECT_EQ(cycles(d, {gemm("g", 10, 4, 8)}), 32u);
  // n = 8 adds a column block: 4 folds, each S 11 = 2R + C - 1 apart (> T):
  // S_3 = 4 + 3 * 11 = 37, D_3 = 37 + 10 + 4 + 4 - 1 = 54.
  EXPECT_EQ(cycles(d, {gemm("g", 10, 8, 8)}), 54u);
  // T = 20 >= 11: folds back to back: S_1 = 4 + 20 = 24, D_1 = 24 + 20 + 7 = 51.
  EXPECT_EQ(cycles(d, {gemm("g", 20, 4, 8)}), 51u);
}

TEST(IdealMemory, StepBudgetIsASettingErrorFromTheChild) {
  const auto d = test_design("test-4x4.yaml");
  // m=10, n=8, k=8 on 4x4: 2 k tiles x 2 column blocks = 4 folds (above).
  SimOptions options;
  options.max_steps = 4;
  EXPECT_EQ(run(d, {gemm("g", 10, 8, 8)}, options).total("cycles"), 54u);
  options.max_steps = 3;
  try {
    run(d, {gemm("g", 10, 8, 8)}, options);
    ADD_FAILURE() << "4 folds ran on a budget of 3";
  } catch (const SettingError& e) {  // thrown in the forked child, rethrown as the same kind
    EXPECT_EQ(e.setting(), "max_steps");
    EXPECT_EQ(e.message(), "the simulation would take more than 3 engine steps (GEMM folds and vector chunks), "
                           "reached at op 0 (g); raise {setting:max_steps} to run it anyway");
  }
}

TEST(IdealMemory, DotProductWeightStationary) {
  // docs/timing.md, "Dot-product PEs": 4x4 PEs of width N, m = 10, n = 4, k = 16.
  // N = 2: a fold reduces R x N = 8 elements, ceil(16 / 8) = 2 folds of T = 10
  // with today's rules: P_0 = 0, S_0 = 4, D_0 = 21; P_1 = 11, S_1 = 15, D_1 = 32.
  const auto d2 = test_design("test-4x4.yaml", {"array.dot_product=2"});
  const SimResult r2 = run(d2, {gemm("g", 10, 4, 16)});
  EXPECT_EQ(r2.total("cycles"), 32u);
  EXPECT_EQ(r2.total("macs"), 640u);
  EXPECT_EQ(r2.total("folds"), 2u);
  EXPECT_DOUBLE_EQ(r2.utilization(r2.totals), 640.0 / (32.0 * 4 * 2 * 4));
  // N = 1: 4 folds S 11 apart: S_3 = 4 + 33 = 37, D_3 = 37 + 10 + 4 + 4 - 1 = 54.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml"), {gemm("g", 10, 4, 16)}), 54u);
  // N = 4: one fold, D = 2R + C + T - 1 = 8 + 4 + 10 - 1 = 21.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"array.dot_product=4"}), {gemm("g", 10, 4, 16)}), 21u);
  // A step reads R x N = 8 INT4 inputs (32 bits): a 16-bit input word halves
  // the step rate, every rule counts steps of 2 cycles: 2 x 32 = 64. With
  // N = 1 a step reads 16 bits and the same word keeps up: 54.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"array.dot_product=2", "scratchpads.input.word_bits=16"}),
                   {gemm("g", 10, 4, 16)}),
            64u);
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"scratchpads.input.word_bits=16"}), {gemm("g", 10, 4, 16)}), 54u);
}

TEST(IdealMemory, DotProductPesAccumulateOncePerPeOperation) {
  // docs/timing.md, "Action counts": an INT4/FP4 dot-product PE adds its N
  // products in its exact tree (N - 1 adders from 17-bit products, one carry
  // bit wider per level) and accumulates once. m = 10, n = 4, k = 16 (INT4,
  // int32 accumulator on test-4x4).
  // N = 1: every product is an accumulate, no tree: 10 x 4 x 16 = 640.
  const SimResult r1 = run(test_design("test-4x4.yaml"), {gemm("g", 10, 4, 16)});
  EXPECT_EQ(r1.total("acc_add_int32"), 640u);
  EXPECT_EQ(r1.total("dot_tree_add_bits"), 0u);
  // N = 2: 2 folds x T 10 x 4 PE rows x 4 columns = 320 accumulates; one 18-bit adder each.
  const SimResult r2 = run(test_design("test-4x4.yaml", {"array.dot_product=2"}), {gemm("g", 10, 4, 16)});
  EXPECT_EQ(r2.total("mac_int4_int4"), 640u);
  EXPECT_EQ(r2.total("acc_add_int32"), 320u);
  EXPECT_EQ(r2.total("dot_tree_add_bits"), 320u * 18u);
  // N = 4: one fold, 10 x 4 x 4 = 160 accumulates; 18 + 18 + 19 = 55 bits each.
  const auto d4 = test_design("test-4x4.yaml", {"array.dot_product=4"});
  const SimResult r4 = run(d4, {gemm("g", 10, 4, 16)});
  EXPECT_EQ(r4.total("acc_add_int32"), 160u);
  EXPECT_EQ(r4.total("dot_tree_add_bits"), 160u * 55u);
  // k = 9: PE rows 0 and 1 take 4 products, row 2 one (a shorter pe_dot that still
  // runs the tree and accumulates once), row 3 none: 10 x 3 x 4 = 120.
  const SimResult r9 = run(d4, {gemm("g", 10, 4, 9)});
  EXPECT_EQ(r9.total("mac_int4_int4"), 360u);
  EXPECT_EQ(r9.total("acc_add_int32"), 120u);
  EXPECT_EQ(r9.total("dot_tree_add_bits"), 120u * 55u);
  // A floating-point dot-product PE has no tree figure and is charged as N MAC
  // PEs (docs/energy-model.md, "PE area"): one accumulate per product.
  const SimResult f4 = run(test_design("test-4x4.yaml", {"array.pe_kind=fp16", "array.dot_product=4"}),
                           {gemm("g", 10, 4, 16, Format::kFp16, Format::kFp16, Format::kFp32)});
  EXPECT_EQ(f4.total("mac_fp16"), 640u);
  EXPECT_EQ(f4.total("acc_add_fp32"), 640u);
  EXPECT_EQ(f4.total("dot_tree_add_bits"), 0u);
}

TEST(IdealMemory, BlockFp4WeightStationary) {
  // docs/timing.md, "Block-FP4 PEs": 4x4 PEs of N = 32 lanes, 1024-bit input
  // and weight words (a step's 544 bits fit: one step per cycle), m = 10, n = 4.
  const std::vector<std::string> sets = {"array.pe_kind=fp4-block", "array.dot_product=32",
                                         "scratchpads.input.word_bits=1024", "scratchpads.weight.word_bits=1024"};
  const auto d = test_design("test-4x4.yaml", sets);
  const auto op = [](std::uint64_t k, Format f) { return gemm("g", 10, 4, k, f, f, Format::kFp32); };
  // MXFP4, k = 256: two folds of 128, the 4x4 example's 32 cycles, 4 blocks per fold and output;
  // k = 200: folds of 128 and 72 elements (4 + 3 MXFP4 blocks, 8 + 5 NVFP4 blocks), still 32 cycles.
  // The functional path checks the array's values against block_dot_run's, bit for bit.
  struct Case {
    std::uint64_t k;
    Format format;
    const char* counter;
    std::uint64_t products;
    std::uint64_t fp32_adds;
  };
  SimOptions functional;
  functional.functional = true;
  for (const Case& c : {Case{256, Format::kMxfp4, "mac_mxfp4", 10240, 320}, Case{200, Format::kMxfp4, "mac_mxfp4", 8000, 280},
                        Case{200, Format::kNvfp4, "mac_nvfp4", 8000, 520}}) {
    SCOPED_TRACE(std::string(c.counter) + " k = " + std::to_string(c.k));
    const SimResult r = run(d, {op(c.k, c.format)}, functional);
    EXPECT_EQ(r.total("cycles"), 32u);
    EXPECT_EQ(r.total("macs"), c.products);
    EXPECT_EQ(r.total(c.counter), c.products);
    EXPECT_EQ(r.total("mac_mxfp4") + r.total("mac_nvfp4"), c.products);  // counted once, in its own datapath
    EXPECT_EQ(r.total("acc_add_fp32"), c.fp32_adds);
    EXPECT_EQ(r.functional_checked, 1u);
  }
  // test-4x4's own 256-bit words: ceil(544 / 256) = 3 cycles per step, 3 x 32.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"array.pe_kind=fp4-block", "array.dot_product=32"}),
                   {op(256, Format::kMxfp4)}),
            96u);
}

TEST(IdealMemory, WeightStationary8x4) {
  const auto d = test_design("test-8x4.yaml");
  // R = 8, C = 4, m=10, n=4, k=16: P_0 = 0, S_0 = 8, D_0 = 8 + 10 + 8 + 4 - 1 = 29;
  // P_1 = max(0 + 8, 8 + 8 + 4 - 1) = 19, S_1 = max(19 + 8, 8 + 10) = 27, D_1 = 27 + 10 + 11 = 48.
  EXPECT_EQ(cycles(d, {gemm("g", 10, 4, 16)}), 48u);
}

TEST(IdealMemory, OutputStationary4x4) {
  const auto d = test_design("test-4x4.yaml", {"array.dataflow=os"});
  // m=8 (two row blocks of R=4), n=4, k=10: two folds of T=10.
  // S_0 = 0, D_0 = 0 + 10 + 8 + 4 - 2 = 20; S_1 = max(10, 14 - 10) = 10, D_1 = 30.
  EXPECT_EQ(cycles(d, {gemm("g", 8, 4, 10)}), 30u);
  // k = 2: S_1 = max(0 + 2, 0 + 2 + 4 - 2) = 4, D_1 = 4 + 2 + 10 = 16.
  EXPECT_EQ(cycles(d, {gemm("g", 8, 4, 2)}), 16u);
  const auto d8 = test_design("test-8x4.yaml", {"array.dataflow=os"});
  // R = 8: one fold of 8 rows, T = 10: D = 10 + 16 + 4 - 2 = 28.
  EXPECT_EQ(cycles(d8, {gemm("g", 8, 4, 10)}), 28u);
}

TEST(IdealMemory, InputStationaryIsWeightStationaryTransposed) {
  const auto d = test_design("test-4x4.yaml", {"array.dataflow=is"});
  // m=4, n=10, k=8: A^T (8 x 4) stays, B's 10 columns stream: the ws case
  // m=10, n=4, k=8 again: 32 cycles.
  EXPECT_EQ(cycles(d, {gemm("g", 4, 10, 8)}), 32u);
  const auto d8 = test_design("test-8x4.yaml", {"array.dataflow=is"});
  EXPECT_EQ(cycles(d8, {gemm("g", 4, 10, 16)}), 48u);  // the 8x4 ws case transposed
}

TEST(IdealMemory, ScaleSimConvention) {
  // SCALE-Sim (docs/references.md): folds x per-fold - 1, per fold 2R + C + T - 2 (ws, is), R + C + T - 2 (os).
  // ws m=10, n=4, k=8 on 4x4: Sr = k = 8 -> 2 folds of 2*4 + 4 + 10 - 2 = 20 -> 39.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"timing=scalesim"}), {gemm("g", 10, 4, 8)}), 39u);
  // os m=8, n=4, k=10: Sr = m = 8 -> 2 folds of 4 + 4 + 10 - 2 = 16 -> 31.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"timing=scalesim", "array.dataflow=os"}), {gemm("g", 8, 4, 10)}),
            31u);
  // is m=4, n=10, k=8: Sr = k = 8, Sc = m = 4, T = n = 10 -> 39.
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", {"timing=scalesim", "array.dataflow=is"}), {gemm("g", 4, 10, 8)}),
            39u);
  // 8x4 ws m=10, n=4, k=16: 2 folds of 16 + 4 + 10 - 2 = 28 -> 55.
  EXPECT_EQ(cycles(test_design("test-8x4.yaml", {"timing=scalesim"}), {gemm("g", 10, 4, 16)}), 55u);
}

TEST(IdealMemory, VectorOp) {
  const auto d = test_design("test-4x4.yaml");
  TraceOp op;
  op.layer = "relu";
  op.kind = workloads::OpKind::kVector;
  op.vector = workloads::VectorKind::kNorm;  // 2 cycles per element on test-4x4
  op.elements = 100;
  op.in_format = op.out_format = Format::kFp32;
  // One chunk (the output half holds 4096 elements in and out): ceil(100 / 4 lanes) x 2 = 50.
  const SimResult r = run(d, {op});
  EXPECT_EQ(r.total("cycles"), 50u);
  EXPECT_EQ(r.total("vec_ops"), 100u);
  EXPECT_EQ(r.total("vec_ops_norm"), 100u);
  EXPECT_EQ(r.total("dram_bytes_read"), 400u);
}

// docs/timing.md, "Vector kinds without a key of their own": passes x the keyed kind's cycles.
// test-4x4: 4 lanes; activation 1, activation-grad 1, eltwise 1, norm 2, norm-grad 4 cycles.
TEST(IdealMemory, TransformerVectorKinds) {
  const auto one = [](const design::Design& d, workloads::VectorKind kind) {
    TraceOp op;
    op.layer = "x";
    op.kind = workloads::OpKind::kVector;
    op.vector = kind;
    op.elements = 100;
    op.in_format = op.out_format = Format::kFp32;
    return run(d, {op});
  };
  using workloads::VectorKind;
  const auto d = test_design("test-4x4.yaml");
  const SimResult gelu = one(d, VectorKind::kGelu);
  EXPECT_EQ(gelu.total("cycles"), 50u);  // ceil(100 / 4) x 1 x 2 passes
  EXPECT_EQ(gelu.total("vec_ops_gelu"), 100u);
  EXPECT_EQ(gelu.total("vec_ops_activation"), 0u);
  EXPECT_EQ(one(d, VectorKind::kGeluGrad).total("cycles"), 50u);      // 25 x 1 x 2
  const SimResult softmax_grad = one(d, VectorKind::kSoftmaxGrad);
  EXPECT_EQ(softmax_grad.total("cycles"), 50u);                        // 25 x eltwise 1 x 2
  EXPECT_EQ(softmax_grad.total("vec_ops_softmax_grad"), 100u);
  EXPECT_EQ(one(d, VectorKind::kLayerNorm).total("cycles"), 50u);      // 25 x norm 2
  EXPECT_EQ(one(d, VectorKind::kLayerNormGrad).total("cycles"), 100u); // 25 x norm-grad 4
  const SimResult hadamard = one(d, VectorKind::kHadamard);
  EXPECT_EQ(hadamard.total("cycles"), 100u);                           // 25 x eltwise 1 x 4 butterfly stages
  EXPECT_EQ(hadamard.total("vec_ops_hadamard"), 100u);
  EXPECT_EQ(hadamard.total("vec_ops_eltwise"), 0u);
  // A design may give such a kind its own value (a butterfly unit: 1 cycle per element):
  // 25 x 1; the rule's kind is untouched.
  const auto butterfly = test_design("test-4x4.yaml", {"vector.cycles_per_element.hadamard=1"});
  EXPECT_EQ(one(butterfly, VectorKind::kHadamard).total("cycles"), 25u);
  EXPECT_EQ(one(butterfly, VectorKind::kEltwise).total("cycles"), 25u);
  EXPECT_EQ(one(butterfly, VectorKind::kSoftmaxGrad).total("cycles"), 50u);
  // The rule follows the keyed kind: norm 3 -> layer-norm 25 x 3 = 75.
  EXPECT_EQ(one(test_design("test-4x4.yaml", {"vector.cycles_per_element.norm=3"}), VectorKind::kLayerNorm).total("cycles"),
            75u);
}

TEST(IdealMemory, FusedVectorOpsReadTheirInputOnChip) {
  // docs/timing.md, "Fused vector ops": an activation / activation-grad /
  // quantize reading exactly what the vector op before it wrote (same
  // elements, out format = in format) loads nothing from DRAM.
  const auto d = test_design("test-4x4.yaml");  // ideal DRAM, 4 lanes, 4-byte bursts
  const auto vec = [](workloads::VectorKind kind, std::uint64_t elements, Format in, Format out) {
    TraceOp op;
    op.layer = "x";
    op.kind = workloads::OpKind::kVector;
    op.vector = kind;
    op.elements = elements;
    op.in_format = in;
    op.out_format = out;
    return op;
  };
  using workloads::VectorKind;
  const std::vector<TraceOp> ops = {
      vec(VectorKind::kNorm, 100, Format::kFp32, Format::kFp16),        // not fused: first op
      vec(VectorKind::kActivation, 100, Format::kFp16, Format::kFp16),  // fused into the norm
      vec(VectorKind::kQuantize, 100, Format::kFp16, Format::kInt4),    // fused into the activation
      vec(VectorKind::kQuantize, 50, Format::kFp32, Format::kInt4),     // not fused: other elements
      vec(VectorKind::kActivation, 50, Format::kFp32, Format::kFp16),   // not fused: int4 written, fp32 read
      vec(VectorKind::kEltwise, 50, Format::kFp16, Format::kFp16),      // not fused: eltwise (two operands)
  };
  const SimResult r = run(d, ops);
  // DRAM reads (bytes, 4-byte bursts): norm 100 x 4 = 400; activation 0; quantize 0;
  // quantize 50 x 4 = 200; activation 50 x 4 = 200; eltwise 50 x 2 = 100. Sum 900.
  EXPECT_EQ(r.total("dram_bytes_read"), 900u);
  // Writes: 100 x 2 = 200; 200; 100 x 0.5 = 50 -> 52; 50 x 0.5 = 25 -> 28; 50 x 2 = 100; 100. Sum 680.
  EXPECT_EQ(r.total("dram_bytes_written"), 680u);
  // Scratchpad fills: input + result, but a fused op's input is already there:
  // (400 + 200) + 200 + 50 + (200 + 25) + (200 + 100) + (100 + 100) = 1575;
  // reads always cover both: 600 + 400 + 250 + 225 + 300 + 200 = 1975.
  EXPECT_EQ(r.total("spad_output_write_bytes"), 1575u);
  EXPECT_EQ(r.total("spad_output_read_bytes"), 1975u);
  // Cycles (ideal memory): ceil(elements / 4 lanes) x cycles per element:
  // 25 x 2 + 25 + 25 + 13 + 13 + 13 = 139. Fusion saves traffic, not vector-unit time.
  EXPECT_EQ(r.total("cycles"), 139u);
}

// ----------------------------------------------------- slow DRAM, by hand

TEST(SlowDram, WeightStationaryStallsDominate) {
  // test-4x4 DRAM: 4 bytes/cycle, latency 10, 4-byte bursts. m=10, n=4, k=8,
  // int4 operands, int32 outputs. Transfers in issue order (docs/timing.md):
  //   B tile 0 (4x4x4 bits = 8 B):  channel 0..2,  done 2 + 10 = 12
  //   A tile 0 (10x4x4 bits = 20 B): channel 2..7,  done 17
  //   fold 0: P = 12, S = max(16, 17) = 17, D = 17 + 17 = 34
  //   B tile 1 (8 B): channel 7..9, done 19;  A tile 1 (20 B): 9..14, done 24
  //   fold 1: P = max(19, 12 + 4, 17 + 7) = 24, S = max(28, 17 + 10) = 28, D = 45
  //   store C (10x4x32 bits = 160 B): channel 45..85, done 95.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  const SimResult r = run(d, {gemm("g", 10, 4, 8)});
  EXPECT_EQ(r.total("cycles"), 95u);
  EXPECT_EQ(r.total("compute_cycles"), 32u);
  EXPECT_EQ(r.total("stall_cycles"), 63u);
  EXPECT_EQ(r.total("dram_bytes_read"), 56u);
  EXPECT_EQ(r.total("dram_bytes_written"), 160u);
  EXPECT_EQ(r.total("dram_transfers"), 5u);
}

TEST(SlowDram, StorageFormatSetsTheStoredBytes) {
  // docs/timing.md, "Storage format": WeightStationaryStallsDominate's GEMM with its int32
  // sums rounded to fp16 on the way out. Same loads and folds (D = 45); the store is
  // 10x4x16 bits = 80 B: channel 45..65, done 75. 40 roundings, costed as conversions.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  TraceOp op = gemm("g", 10, 4, 8);
  op.store_format = Format::kFp16;
  const SimResult r = run(d, {op});
  EXPECT_EQ(r.total("cycles"), 75u);
  EXPECT_EQ(r.total("compute_cycles"), 32u);
  EXPECT_EQ(r.total("stall_cycles"), 43u);
  EXPECT_EQ(r.total("dram_bytes_read"), 56u);
  EXPECT_EQ(r.total("dram_bytes_written"), 80u);
  EXPECT_EQ(r.total("vec_ops"), 40u);
  EXPECT_EQ(r.total("vec_ops_quantize"), 40u);
  // Stored as accumulated (a trace before version 3): no rounding.
  EXPECT_EQ(run(d, {gemm("g", 10, 4, 8)}).total("vec_ops"), 0u);
}

// docs/timing.md, "On-chip im2col", worked example: a 2x2 convolution of a 1x2x3x6 int4
// input into 4 filters (E = 2, F = 5) on test-4x4 with the slow DRAM. Forward GEMM m = N*E*F = 10,
// n = K = 4, k = C*R*S = 8: WeightStationaryStallsDominate's shape. Input gradient: m = 10,
// n = C*R*S = 8, k = K = 4.
TraceOp conv_op(Phase phase, workloads::Im2col im2col) {
  workloads::ConvGeometry g;
  g.n = 1; g.c = 2; g.h = 3; g.w = 6; g.k = 4; g.r = 2; g.s = 2;
  g.im2col = im2col;
  TraceOp op = phase == Phase::kInputGrad ? gemm("c", 10, 8, 4, Format::kInt4, Format::kInt4, Format::kInt32, phase)
                                          : gemm("c", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, phase);
  op.kind = workloads::OpKind::kConv;
  op.conv = g;
  return op;
}

TEST(SlowDram, OnChipIm2colFetchesTheInputOnce) {
  using workloads::Im2col;
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  const auto expect = [](const SimResult& r, std::uint64_t cycles, std::uint64_t read, std::uint64_t written) {
    EXPECT_EQ(r.total("cycles"), cycles);
    EXPECT_EQ(r.total("dram_bytes_read"), read);
    EXPECT_EQ(r.total("dram_bytes_written"), written);
  };
  // dram: the GEMM of WeightStationaryStallsDominate: A tiles of 10x4 int4 = 20 B; 95 cycles.
  const SimResult dram = run(d, {conv_op(Phase::kForward, Im2col::kDram)});
  expect(dram, 95, 56, 160);
  // on-chip: each k-tile (4 of C*R*S = one channel's 2x2 taps) fetches that channel's 3x6
  // input = 18 int4 = 9 B, 12 B in bursts. B0 0..2 done 12; A0 2..5 done 15; fold 0 P = 12,
  // S = max(16, 15) = 16, D = 33; B1 5..7 done 17; A1 7..10 done 20; fold 1
  // P = max(17, 16, 16+7) = 23, S = max(27, 26, 20) = 27, D = 44; store 160 B 44..84, done 94.
  const SimResult chip = run(d, {conv_op(Phase::kForward, Im2col::kOnChip)});
  expect(chip, 94, 40, 160);  // 8 + 12 + 8 + 12 read
  EXPECT_EQ(chip.total("compute_cycles"), 32u);
  EXPECT_EQ(chip.total("spad_input_write_bytes"), 18u);  // X once: 36 int4
  // Input gradient, dram: B = W^T resident (two 8 B tiles), A = dY (20 B) resident; two
  // column blocks store dCol, 10x4 int32 = 160 B each. B0 0..2 done 12; A 2..7 done 17;
  // fold 0 P = 12, S = 17, D = 34; B1 7..9 done 19; store 0 34..74 done 84; fold 1
  // P = max(19, 16, 24) = 24, S = 28, D = 45; store 1 74..114 done 124.
  const SimResult ig_dram = run(d, {conv_op(Phase::kInputGrad, Im2col::kDram)});
  expect(ig_dram, 124, 36, 320);
  // on-chip: each column block (one channel's taps) leaves as that channel's dX, 3x6 int32 =
  // 72 B: store 0 34..52 done 62, store 1 52..70 done 80.
  const SimResult ig_chip = run(d, {conv_op(Phase::kInputGrad, Im2col::kOnChip)});
  expect(ig_chip, 80, 36, 144);
  EXPECT_EQ(ig_chip.total("acc_add_int32") - ig_dram.total("acc_add_int32"), 80u);  // dCol added into dX
}

TEST(SlowDram, InputStationaryStallsDominate) {
  // The transposed case of WeightStationaryStallsDominate: same tiles, same 95.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", "array.dataflow=is"});
  const SimResult r = run(d, {gemm("g", 4, 10, 8)});
  EXPECT_EQ(r.total("cycles"), 95u);
  EXPECT_EQ(r.total("stall_cycles"), 63u);
}

TEST(SlowDram, OutputStationaryStallsDominate) {
  // m=8, n=4, k=10 os: fold f = row block f, T = 10.
  //   B (10x4x4 bits = 20 B): channel 0..5, done 15; A block 0 (4x10x4 bits = 20 B): 5..10, done 20
  //   fold 0: S = 20, D = 20 + 10 + 8 + 4 - 2 = 40
  //   A block 1 (20 B): 10..15, done 25
  //   store block 0 (4x4x32 bits = 64 B): ready 40, channel 40..56, done 66
  //   fold 1: S = max(25, 20 + 10) = 30, D = 50; store block 1: channel 56..72, done 82.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", "array.dataflow=os"});
  const SimResult r = run(d, {gemm("g", 8, 4, 10)});
  EXPECT_EQ(r.total("cycles"), 82u);
  EXPECT_EQ(r.total("compute_cycles"), 30u);
  EXPECT_EQ(r.total("stall_cycles"), 52u);
}

TEST(SlowDram, ScaleSimConventionAddsStalls) {
  // scalesim timing with nibble's DRAM: ws m=10, n=4, k=8 (ideal: 39 cycles).
  //   B0 8 B: 0..2 done 12; A0 20 B: 2..7 done 17; fold 0 starts 17, ends 37
  //   B1: 7..9 done 19; A1: 9..14 done 24; store 0 (10x4x32 bits): 37..77 done 87
  //   fold 1: starts max(37, 24) = 37, ends 57; store 1: 77..117 done 127; reported 127 - 1.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", "timing=scalesim"});
  const SimResult r = run(d, {gemm("g", 10, 4, 8)});
  EXPECT_EQ(r.total("compute_cycles"), 39u);
  EXPECT_EQ(r.total("cycles"), 126u);
}

// ----------------------------------------------------------- memory system

// docs/trace-format.md, "Block formats": scale factors are data. A 40 x 32 MXFP4 matrix
// with blocks of 32 along its rows is 1,280 x 4 bits = 640 B of elements and 40 x 8 bits
// = 40 B of scales: 680 B. NVFP4: 640 B + 80 scales of 8 bits + a 4-byte tensor scale = 724 B.
TEST(Memory, BlockFormatsCountTheirScales) {
  const auto d = test_design("test-4x4.yaml");  // ideal DRAM: bytes counted, 4-byte bursts
  TraceOp q;
  q.layer = "q";
  q.kind = workloads::OpKind::kVector;
  q.vector = workloads::VectorKind::kQuantize;
  q.elements = 40 * 32;
  q.in_format = Format::kBf16;
  q.out_format = Format::kMxfp4;
  const SimResult mx = run(d, {q});
  EXPECT_EQ(mx.total("dram_bytes_read"), 2560u);  // 1,280 x 2 B of bf16
  EXPECT_EQ(mx.total("dram_bytes_written"), 680u);
  EXPECT_EQ(mx.total("vec_ops_quantize"), 1280u);
  q.out_format = Format::kNvfp4;
  EXPECT_EQ(run(d, {q}).total("dram_bytes_written"), 724u);
  // A GEMM reads its block-format operands with their scales: on an 8x4 FP32 array
  // (promoted), 1-byte bursts, m = 40, n = 4, k = 32 runs 4 k-tiles of 8; each loads a
  // stationary tile of B, 8 x 4 = 32 elements = 17 B, and a streamed tile of A, 40 x 8 = 320
  // elements = 170 B: 4 x 187 = 748 B = A's 680 B + B's 68 B (128 x 4 bits + 4 scales).
  // C = 40 x 4 FP32 = 640 B.
  const auto fp32 = test_design("test-8x4.yaml", {"array.pe_kind=fp32", "dram.burst_bytes=1"});
  const SimResult g = run(fp32, {gemm("g", 40, 4, 32, Format::kMxfp4, Format::kMxfp4, Format::kFp32)});
  EXPECT_EQ(g.total("dram_bytes_read"), 680u + 68u);
  EXPECT_EQ(g.total("dram_bytes_written"), 640u);
}

TEST(Memory, TiledGemmMovesMoreBytesThanOneThatFits) {
  // m=64, n=8, k=8 int4 on 4x4. Fits: A (256 B) and B (32 B) each loaded once.
  const std::vector<TraceOp> op = {gemm("g", 64, 8, 8)};
  const SimResult fits = run(test_design("test-4x4.yaml"), op);
  EXPECT_EQ(fits.total("dram_bytes_read"), 288u);
  // Tiny buffers: input 64 B (32 B per half), weight 16 B (one 8 B tile per half).
  // The controller keeps 8-vector blocks of A (8 x 8 x 4 bits = 32 B) across
  // column blocks (A once: 256 B) and reloads B per fold: 8 blocks x 2 column
  // blocks x 2 k-tiles x 8 B = 256 B. Total 512 B.
  const SimResult tiled =
      run(test_design("test-4x4.yaml", {"scratchpads.input.capacity_bytes=64", "scratchpads.weight.capacity_bytes=16",
                                           "scratchpads.weight.word_bits=128"}),
          op);
  EXPECT_EQ(tiled.total("dram_bytes_read"), 512u);
  EXPECT_GT(tiled.total("dram_bytes_read"), fits.total("dram_bytes_read"));
  EXPECT_EQ(tiled.total("dram_bytes_written"), fits.total("dram_bytes_written"));  // 64 x 8 x 4 B both
  EXPECT_EQ(tiled.total("macs"), fits.total("macs"));
  // A tile that cannot fit at all is an error naming the op and the scratchpad.
  try {
    run(test_design("test-4x4.yaml", {"scratchpads.weight.capacity_bytes=16", "scratchpads.weight.word_bits=128"}),
        {gemm("wide", 8, 8, 8, Format::kFp8E4M3, Format::kFp8E4M3, Format::kFp32)},
        {});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "array.pe_kind");  // fp8 on int4-fp4 without multi-pass: the op itself is refused
  }
  try {
    run(test_design("test-4x4.yaml", {"scratchpads.weight.capacity_bytes=16", "scratchpads.weight.word_bits=128",
                                       "array.unsupported=multi-pass"}),
        {gemm("wide", 8, 8, 8, Format::kFp8E4M3, Format::kFp8E4M3, Format::kFp32)}, {});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "scratchpads.weight.capacity_bytes");
    EXPECT_EQ(e.message(), "too small for op 'wide' (forward): one 4 x 4 stationary tile needs 16 bytes, a tile may use 8");
  }
}

TEST(Memory, HalvingBandwidthNeverReducesCycles) {
  const std::vector<TraceOp> ops = {gemm("a", 37, 9, 13), gemm("b", 64, 8, 8), gemm("c", 5, 17, 30),
                                    gemm("d", 100, 4, 4, Format::kFp4, Format::kInt4, Format::kFp16, Phase::kInputGrad)};
  for (const char* flow : {"ws", "os", "is"}) {
    SCOPED_TRACE(flow);
    std::uint64_t previous = 0;
    for (const char* bw : {"64", "32", "16", "8", "4", "2", "1"}) {
      const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", std::string("array.dataflow=") + flow,
                                                   std::string("dram.bandwidth_bytes_per_cycle=") + bw,
                                                   "scratchpads.input.capacity_bytes=128"});
      const std::uint64_t c = cycles(d, ops);
      EXPECT_GE(c, previous) << "bandwidth " << bw;
      previous = c;
    }
  }
}

TEST(Cores, TwoCoresHalveABatchParallelWorkload) {
  // m = 20000 rows split 10000 + 10000; k = n = 4: one k-tile, one column
  // block; blocks of 2048 vectors (the output half: 32 KiB / (4 x 4 B)) stream
  // back to back (T >= 2R + C - 1), so D = S_0 + m + R + C - 1 = 4 + m + 7.
  const std::vector<TraceOp> op = {gemm("fc", 20000, 4, 4)};
  const SimResult one = run(test_design("test-4x4.yaml"), op);
  const SimResult two = run(test_design("test-4x4.yaml", {"cores=2"}), op);
  EXPECT_EQ(one.total("compute_cycles"), 20011u);
  EXPECT_EQ(two.total("compute_cycles"), 10011u);
  EXPECT_EQ(one.total("macs"), two.total("macs"));
  EXPECT_NEAR(static_cast<double>(two.total("compute_cycles")) / static_cast<double>(one.total("compute_cycles")), 0.5,
              0.001);
}

TEST(Counters, MacsByModeAndAccumulatorAdds) {
  const auto d = test_design("test-4x4.yaml", {"array.unsupported=multi-pass"});
  const SimResult r = run(d, {gemm("f", 8, 8, 8),  // 512 int4 x int4 MACs into int32
                              gemm("b", 8, 8, 8, Format::kFp4, Format::kInt4, Format::kFp16, Phase::kInputGrad),
                              gemm("w", 8, 8, 8, Format::kInt4, Format::kFp4, Format::kFp16, Phase::kWeightGrad),
                              gemm("h", 8, 8, 8, Format::kFp16, Format::kFp16, Format::kFp32)});
  // "h" runs in 9 passes of 4-bit slices on the INT4 datapath (3 x 3 slices);
  // its slice products add into the FP32 float accumulator.
  EXPECT_EQ(r.total("macs"), 4u * 512u);
  EXPECT_EQ(r.total("mac_int4_int4"), 512u + 9u * 512u);
  EXPECT_EQ(r.total("mac_int4_fp4"), 1024u);
  EXPECT_EQ(r.total("mac_fp16"), 0u);
  EXPECT_EQ(r.total("acc_add_int32"), 512u);
  EXPECT_EQ(r.total("acc_add_fp16"), 1024u);
  EXPECT_EQ(r.total("acc_add_fp32"), 9u * 512u);
  // 8x8x8 on 4x4: 2 column blocks x 2 k-tiles = 4 folds per op; "h" 9 x 4 = 36.
  EXPECT_EQ(r.total("folds"), 3u * 4u + 36u);
  EXPECT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[1].phase, Phase::kInputGrad);
  EXPECT_EQ(r.phase_totals[static_cast<std::size_t>(Phase::kWeightGrad)][r.registry.at("macs")], 512u);
}

// ------------------------------------------------------------ functional

// A 9 x 7 GEMM with reduction k in every mode of every PE kind.
struct PeKindOps {
  const char* pe;
  std::vector<TraceOp> ops;
};
std::vector<PeKindOps> every_pe_kind_ops(std::uint64_t k) {
  return {
      {"int4-fp4",
       {gemm("f", 9, 7, k), gemm("b", 9, 7, k, Format::kFp4, Format::kInt4, Format::kFp16, Phase::kInputGrad),
        gemm("w", 9, 7, k, Format::kUint4, Format::kFp4, Format::kFp16, Phase::kWeightGrad)}},
      {"hfp8",
       {gemm("f", 9, 7, k, Format::kFp8E4M3, Format::kFp8E4M3, Format::kFp32),
        gemm("b", 9, 7, k, Format::kFp8E5M2, Format::kFp8E4M3, Format::kFp32, Phase::kInputGrad)}},
      {"fp16", {gemm("f", 9, 7, k, Format::kFp16, Format::kFp16, Format::kFp32)}},
      {"fp32", {gemm("f", 9, 7, k, Format::kFp32, Format::kFp32, Format::kFp32)}},
  };
}

TEST(Functional, EveryPeKindAndDataflowEqualsTheReference) {
  const std::vector<PeKindOps> kinds = every_pe_kind_ops(13);
  SimOptions options;
  options.functional = true;
  for (const auto& kind : kinds) {
    for (const char* flow : {"ws", "os", "is"}) {
      for (const char* timing : {"nibble", "scalesim"}) {
        SCOPED_TRACE(std::string(kind.pe) + " " + flow + " " + timing);
        // Small input and weight buffers make os split k into chunks too.
        const auto d = test_design("test-8x4.yaml", {std::string("array.pe_kind=") + kind.pe,
                                                     std::string("array.dataflow=") + flow,
                                                     std::string("timing=") + timing,
                                                     "scratchpads.input.capacity_bytes=256",
                                                     "scratchpads.weight.capacity_bytes=256"});
        const SimResult r = run(d, kind.ops, options);
        EXPECT_EQ(r.functional_checked, kind.ops.size());
      }
    }
  }
}

TEST(Functional, ChunkedAccumulatorsAndTimingUnchanged) {
  // fp16-chunked with chunk = 8 = rows on 8x4: every fold's column sum is one chunk.
  const std::vector<std::string> sets = {"array.accumulators.fp4=fp16-chunked", "array.accumulators.int4=fp16-chunked",
                                         "array.chunk=8"};
  const std::vector<TraceOp> ops = {
      gemm("f", 9, 7, 29), gemm("b", 9, 7, 29, Format::kFp4, Format::kInt4, Format::kFp16, Phase::kInputGrad)};
  for (const char* flow : {"ws", "os", "is"}) {
    SCOPED_TRACE(flow);
    std::vector<std::string> s = sets;
    s.push_back(std::string("array.dataflow=") + flow);
    const auto d = test_design("test-8x4.yaml", s);
    SimOptions on;
    on.functional = true;
    const SimResult checked = run(d, ops, on);
    EXPECT_EQ(checked.functional_checked, ops.size());
    const SimResult plain = run(d, ops);
    // Timing never depends on the functional switch.
    EXPECT_EQ(checked.totals.values(), plain.totals.values());
    // One FP32 add per output per chunk: 63 outputs x ceil(29 / 8) = 4 chunks, for both ops.
    EXPECT_EQ(plain.total("acc_add_fp32"), 2u * 63u * 4u);
  }
}

TEST(Functional, DotProductPesEqualThePeDotReference) {
  // Each PE kind with N = 4 on 8x4 (a fold reduces 32 elements of k); k = 37
  // leaves a last fold of 5 elements: one full dot product and one of 1.
  const std::vector<PeKindOps> kinds = every_pe_kind_ops(37);
  SimOptions options;
  options.functional = true;
  for (const auto& kind : kinds) {
    SCOPED_TRACE(kind.pe);
    const auto d = test_design("test-8x4.yaml", {std::string("array.pe_kind=") + kind.pe, "array.dot_product=4"});
    EXPECT_EQ(run(d, kind.ops, options).functional_checked, kind.ops.size());
  }
  // fp16-chunked with chunk = 32 = R x N: each fold's dot products are one chunk.
  const auto chunked = test_design("test-8x4.yaml", {"array.dot_product=4", "array.accumulators.fp4=fp16-chunked",
                                                     "array.accumulators.int4=fp16-chunked", "array.chunk=32"});
  const std::vector<TraceOp>& ops = kinds[0].ops;
  const SimResult r = run(chunked, ops, options);
  EXPECT_EQ(r.functional_checked, ops.size());
  // One FP32 add per output per chunk: 63 outputs x ceil(37 / 32) = 2 chunks, three ops.
  EXPECT_EQ(r.total("acc_add_fp32"), 3u * 63u * 2u);
}

TEST(Functional, OpsAboveTheLimitAreCountedNotChecked) {
  SimOptions options;
  options.functional = true;
  options.functional_max_macs = 100;
  const SimResult r = run(test_design("test-4x4.yaml"), {gemm("small", 4, 4, 4), gemm("big", 8, 8, 8)}, options);
  EXPECT_EQ(r.functional_checked, 1u);
  EXPECT_EQ(r.functional_too_large, 1u);
}

// ------------------------------------------------------ results and files

TEST(Results, DeterministicAndComplete) {
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  TraceOp v;
  v.layer = "a";
  v.kind = workloads::OpKind::kVector;
  v.phase = Phase::kForward;
  v.vector = workloads::VectorKind::kActivationGrad;
  v.elements = 77;
  v.in_format = Format::kFp16;
  v.out_format = Format::kFp16;
  const std::vector<TraceOp> ops = {gemm("a", 12, 9, 7), v, gemm("b", 3, 5, 11, Format::kFp4, Format::kInt4,
                                                                 Format::kFp16, Phase::kInputGrad)};
  const SimResult r1 = run(d, ops);
  const SimResult r2 = run(d, ops);
  // Same inputs, same counts (the files written from them: tests/flow).
  ASSERT_EQ(r1.rows.size(), r2.rows.size());
  for (std::size_t i = 0; i < r1.rows.size(); ++i) {
    EXPECT_EQ(r1.rows[i].layer, r2.rows[i].layer);
    EXPECT_EQ(r1.rows[i].stats.values(), r2.rows[i].stats.values());
  }
  EXPECT_EQ(r1.totals.values(), r2.totals.values());
  // Rows: (a, forward) holds the GEMM and the vector op; (b, input_grad).
  ASSERT_EQ(r1.rows.size(), 2u);
  EXPECT_EQ(r1.rows[0].layer, "a");
  EXPECT_EQ(r1.rows[0].phase, Phase::kForward);
  EXPECT_EQ(r1.rows[1].layer, "b");
  EXPECT_EQ(r1.rows[1].phase, Phase::kInputGrad);
  EXPECT_EQ(r1.rows[0].stats[r1.registry.at("vec_ops_activation_grad")], 77u);
  // Totals are the sum of the rows; per phase likewise; cycles = compute + stalls.
  const auto id = [&](const char* name) { return r1.registry.at(name); };
  EXPECT_EQ(r1.total("cycles"), r1.rows[0].stats[id("cycles")] + r1.rows[1].stats[id("cycles")]);
  EXPECT_EQ(r1.total("cycles"), r1.total("compute_cycles") + r1.total("stall_cycles"));
  EXPECT_EQ(r1.phase_totals[0][id("cycles")], r1.rows[0].stats[id("cycles")]);
  EXPECT_EQ(r1.phase_totals[1][id("cycles")], r1.rows[1].stats[id("cycles")]);
  EXPECT_EQ(r1.design.array.rows, 4u);
  // The registry starts with the counters docs/design-file.md lists first.
  const std::vector<std::string> first = {"cycles", "compute_cycles", "stall_cycles", "macs", "mac_int4_int4"};
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(r1.registry.def(i).name, first[i]);
  EXPECT_TRUE(r1.registry.find("vec_ops_activation_grad").has_value());
}

TEST(Results, ChildErrorsComeBackAsTheSameKind) {
  // The op is refused in the child (before SystemC starts): an InputError in the parent.
  try {
    run(test_design("test-4x4.yaml"), {gemm("x", 4, 4, 4, Format::kFp32, Format::kFp32, Format::kFp32)});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "array.pe_kind");
    EXPECT_NE(e.message().find("op 'x' (forward, fp32 x fp32)"), std::string::npos);
  }
}

// ------------------------------------------------- overlap (docs/timing.md)

std::uint64_t row_cycles(const SimResult& r, const std::string& layer, Phase phase) {
  for (const auto& row : r.rows) {
    if (row.layer == layer && row.phase == phase) return row.stats[r.registry.at("cycles")];
  }
  ADD_FAILURE() << "no row " << layer;
  return 0;
}

const UnitReport& unit(const SimResult& r, const std::string& name) {
  for (const auto& u : r.units) {
    if (u.name == name) return u;
  }
  throw std::runtime_error("no unit " + name);
}

// Runs `check` in a forked child (which may start a SystemC kernel of its
// own); returns the child's exit status: 0 when `check` returned true.
int in_child(const std::function<bool()>& check) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = check();
    } catch (...) {
      ok = false;
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(Dependencies, ChainWeightGradientsAndUpdates) {
  // docs/timing.md, "Dependencies": forward/backward ops form one chain; a
  // weight gradient of a layer with an update waits for the chain's latest op
  // and its layer's earlier off-chain op; the chain does not wait for it.
  using workloads::VectorKind;
  workloads::Trace t;
  t.ops = {gemm("a", 4, 4, 4),                                                                  // 0: chain
           vector_op("a", VectorKind::kQuantize, 8, Format::kFp16, Format::kInt4, Phase::kWeightGrad),  // 1: off (a)
           gemm("a", 4, 4, 4, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),     // 2: off (a)
           vector_op("b", VectorKind::kActivationGrad, 8, Format::kFp16, Format::kFp16, Phase::kInputGrad),  // 3: chain
           gemm("m", 4, 4, 4, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),     // 4: chain (no update)
           vector_op("a", VectorKind::kOptimizer, 8, Format::kFp32, Format::kFp32, Phase::kUpdate)};   // 5: off (a)
  const auto deps = op_dependencies(t);
  using V = std::vector<std::uint32_t>;
  EXPECT_EQ(deps[0], V{});
  EXPECT_EQ(deps[1], V{0});
  EXPECT_EQ(deps[2], (V{0, 1}));
  EXPECT_EQ(deps[3], V{0});
  EXPECT_EQ(deps[4], V{3});
  EXPECT_EQ(deps[5], (V{2, 4}));
}

TraceOp named(TraceOp op, std::vector<std::string> reads, std::vector<std::string> writes) {
  op.reads = std::move(reads);
  op.writes = std::move(writes);
  return op;
}

TEST(Dependencies, NamedTensorsReadAfterWriteWriteAfterReadAndWrite) {
  // docs/timing.md, "Dependencies": with named tensors an op waits for the last
  // writer of what it reads (RAW), and for what it writes, for the last writer
  // (WAW) and the readers since (WAR); nothing else, whatever the phases.
  using workloads::VectorKind;
  workloads::Trace t;
  t.inputs = {"x", "W"};
  t.ops = {named(vector_op("L", VectorKind::kQuantize, 8, Format::kFp32, Format::kInt4, Phase::kForward), {"W"}, {"W.q"}),      // 0
           named(gemm("L", 4, 4, 4), {"x", "W.q"}, {"y"}),                                                   // 1: RAW 0
           named(gemm("S", 4, 4, 4), {"x", "W"}, {"s"}),                                                     // 2: none
           named(vector_op("A", VectorKind::kEltwise, 16, Format::kFp16, Format::kFp16, Phase::kForward), {"y", "s"}, {"y"}),    // 3: RAW 1, 2; WAW 1
           named(gemm("L", 4, 4, 4, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kInputGrad), {"y", "W"},
                 {"dx"}),                                                                                     // 4: RAW 3
           named(vector_op("L", VectorKind::kOptimizer, 8, Format::kFp32, Format::kFp32, Phase::kUpdate), {"W", "dx"},
                 {"W"}),                                                                                      // 5: RAW 4; WAR 0, 2, 4
           named(vector_op("B", VectorKind::kActivation, 16, Format::kFp16, Format::kFp16, Phase::kForward), {"s"}, {"y"})};     // 6: WAR 4; WAW 3
  const auto deps = op_dependencies(t);
  using V = std::vector<std::uint32_t>;
  EXPECT_EQ(deps[0], V{});
  EXPECT_EQ(deps[1], V{0});
  EXPECT_EQ(deps[2], V{});  // the shortcut GEMM: its inputs exist at the start
  EXPECT_EQ(deps[3], (V{1, 2}));
  EXPECT_EQ(deps[4], V{3});
  EXPECT_EQ(deps[5], (V{0, 2, 4}));  // the update of W waits for every op that read W
  EXPECT_EQ(deps[6], (V{2, 3, 4}));  // RAW s (2); y's last writer (3) and its reader since (4)
  // On chip from the op before only when it reads what that op wrote.
  EXPECT_TRUE(reads_output_of(t.ops[1], t.ops[0], true));
  EXPECT_FALSE(reads_output_of(t.ops[2], t.ops[1], true));
  EXPECT_TRUE(reads_output_of(t.ops[2], t.ops[1], false));  // no names: the shapes decide, as before
}

// docs/timing.md, "Fused vector ops": NVFP4's Hadamard transform feeds the quantize fused after
// it; when nothing else reads the transform's result, it is not stored (test-4x4, ideal DRAM,
// 4 lanes, 4-byte bursts; eltwise 1, quantize 1 cycle per element). 100 fp32 elements:
// the transform reads 400 B and computes ceil(100 / 4) x 1 x 4 = 100 cycles; the quantize
// reads nothing from DRAM, computes 25 cycles and stores 100 x 4 bits = 50 B -> 52 B of bursts.
TEST(Dependencies, HadamardResultOnlyTheQuantizeReadsStaysOnChip) {
  using workloads::VectorKind;
  const auto step = [](bool another_reader) {
    std::vector<TraceOp> ops = {
        named(vector_op("L", VectorKind::kHadamard, 100, Format::kFp32, Format::kFp32, Phase::kWeightGrad), {"x"},
              {"L.X.H"}),
        named(vector_op("L", VectorKind::kQuantize, 100, Format::kFp32, Format::kInt4, Phase::kWeightGrad), {"L.X.H"},
              {"L.X.T"})};
    if (another_reader) {
      ops.push_back(named(
          vector_op("M", VectorKind::kActivation, 100, Format::kFp32, Format::kFp32, Phase::kWeightGrad), {"L.X.H"},
          {"M.y"}));
    }
    workloads::Trace t = trace_of(ops);
    t.inputs = {"x"};
    return simulate(test_design("test-4x4.yaml"), t);
  };
  const SimResult kept = step(false);
  EXPECT_EQ(kept.total("dram_bytes_read"), 400u);
  EXPECT_EQ(kept.total("dram_bytes_written"), 52u);
  EXPECT_EQ(kept.total("cycles"), 125u);
  // Another op reads the transform's result: it is stored (400 B) and read again (400 B) by that op,
  // which writes 400 B and computes 25 cycles.
  const SimResult stored = step(true);
  EXPECT_EQ(stored.total("dram_bytes_written"), 52u + 400u + 400u);
  EXPECT_EQ(stored.total("dram_bytes_read"), 400u + 400u);
}

TEST(Dependencies, Nvfp4QuantizeWaitsForTheWholeTensor) {
  // docs/timing.md, "Fused vector ops": NVFP4's per-tensor scale needs the amax of the whole
  // input, so its quantize is neither fused into the producer nor fed by a kept result. The same
  // two chains as above and in IdealMemory.FusedVectorOpsReadTheirInputOnChip, quantizing into
  // nvfp4 instead of int4 (test-4x4: ideal memory, 4 lanes, 4-byte bursts).
  using workloads::VectorKind;
  const auto chain = [](VectorKind first, Format out, const std::vector<std::string>& set = {}) {
    std::vector<TraceOp> ops = {
        named(vector_op("L", first, 100, Format::kFp32, Format::kFp32, Phase::kWeightGrad), {"x"}, {"L.y"}),
        named(vector_op("L", VectorKind::kQuantize, 100, Format::kFp32, out, Phase::kWeightGrad), {"L.y"}, {"L.q"})};
    workloads::Trace t = trace_of(ops);
    t.inputs = {"x"};
    return simulate(test_design("test-4x4.yaml", set), t);
  };
  // int4: the quantize takes the producer's chunks on chip (reads only x's 400 B) and the
  // transform's result is not stored; nvfp4: L.y is stored (400 B) and read back (400 B).
  // nvfp4's 100 elements are 100 x (4 + 8 / 16) bits = 56.25 B, with the FP32 tensor scale
  // 60.25 B -> 64 B in 4-byte bursts.
  const SimResult int4_act = chain(VectorKind::kActivation, Format::kInt4);
  EXPECT_EQ(int4_act.total("dram_bytes_read"), 400u);
  EXPECT_EQ(int4_act.total("dram_bytes_written"), 400u + 52u);
  const SimResult nv_act = chain(VectorKind::kActivation, Format::kNvfp4);
  EXPECT_EQ(nv_act.total("dram_bytes_read"), 400u + 400u);
  EXPECT_EQ(nv_act.total("dram_bytes_written"), 400u + 64u);
  const SimResult int4_h = chain(VectorKind::kHadamard, Format::kInt4);
  EXPECT_EQ(int4_h.total("dram_bytes_written"), 52u);
  const SimResult nv_h = chain(VectorKind::kHadamard, Format::kNvfp4);
  EXPECT_EQ(nv_h.total("dram_bytes_read"), 400u + 400u);
  EXPECT_EQ(nv_h.total("dram_bytes_written"), 400u + 64u);
  // Cycles are the vector unit's either way (ideal memory): 25 x 4 + 25 = 125 with the transform.
  EXPECT_EQ(nv_h.total("cycles"), 125u);
  EXPECT_EQ(int4_h.total("cycles"), 125u);
  // With the previous step's amax (vector.tensor_scale: delayed) it fuses as int4 does: only
  // x's 400 B read, and no transform result stored.
  const SimResult delayed = chain(VectorKind::kHadamard, Format::kNvfp4, {"vector.tensor_scale=delayed"});
  EXPECT_EQ(delayed.total("dram_bytes_read"), 400u);
  EXPECT_EQ(delayed.total("dram_bytes_written"), 64u);
  // Nor does it stream from a GEMM (the same rule, checked before streams_from_gemm).
  const design::Design current = test_design("test-4x4.yaml");
  TraceOp q = vector_op("g", VectorKind::kQuantize, 160, Format::kInt32, Format::kInt4, Phase::kForward);
  EXPECT_FALSE(needs_whole_input(current, q));
  q.out_format = Format::kNvfp4;
  EXPECT_TRUE(needs_whole_input(current, q));
  EXPECT_FALSE(needs_whole_input(test_design("test-4x4.yaml", {"vector.tensor_scale=delayed"}), q));
  q.out_format = Format::kMxfp4;  // MX scales are per block only
  EXPECT_FALSE(needs_whole_input(current, q));
}

TEST(Dependencies, ResidualBlockShortcutBesideTheMainPath) {
  // docs/timing.md, "Dependencies", the worked example (test-4x4, ideal memory):
  // conv1 (m=10, n=4, k=8: 32 cycles, IdealMemory.WeightStationary4x4) on the
  // array [0, 32); its norm over the 40 outputs, ceil(40 / 4) x 2 = 20 cycles,
  // on the vector unit [32, 52); the shortcut GEMM (same shape) reads only the
  // block input and its weights: the array runs it [32, 64) beside the norm;
  // the add (ceil(40 / 4) x 1 = 10) waits for both: [64, 74). 74 cycles; the
  // same ops without names (a version-3 trace) run one after another: 94.
  using workloads::VectorKind;
  const std::vector<TraceOp> ops = {
      named(gemm("conv1", 10, 4, 8), {"x", "conv1.W"}, {"conv1.y"}),
      named(vector_op("bn1", VectorKind::kNorm, 40, Format::kInt32, Format::kFp16, Phase::kForward), {"conv1.y"}, {"bn1.y"}),
      named(gemm("shortcut", 10, 4, 8), {"x", "shortcut.W"}, {"shortcut.y"}),
      named(vector_op("add", VectorKind::kEltwise, 40, Format::kFp16, Format::kFp16, Phase::kForward), {"bn1.y", "shortcut.y"}, {"add.y"})};
  workloads::Trace t = trace_of(ops);
  t.inputs = {"x", "conv1.W", "shortcut.W"};
  const auto d = test_design("test-4x4.yaml");
  const SimResult r = simulate(d, t);
  EXPECT_EQ(r.total("cycles"), 74u);
  // Charged as each op moves the step's end: 32, 52 - 32, 64 - 52, 74 - 64.
  EXPECT_EQ(row_cycles(r, "conv1", Phase::kForward), 32u);
  EXPECT_EQ(row_cycles(r, "bn1", Phase::kForward), 20u);
  EXPECT_EQ(row_cycles(r, "shortcut", Phase::kForward), 12u);
  EXPECT_EQ(row_cycles(r, "add", Phase::kForward), 10u);
  EXPECT_EQ(unit(r, "core0.array").cycles.busy, 64u);
  EXPECT_EQ(unit(r, "core0.vector").cycles.busy, 30u);
  EXPECT_EQ(r.total("compute_cycles"), 74u);
  // Unnamed: the chain 32 + 20 + 32 + 10.
  EXPECT_EQ(cycles(d, {gemm("conv1", 10, 4, 8), vector_op("bn1", VectorKind::kNorm, 40, Format::kInt32, Format::kFp16, Phase::kForward),
                       gemm("shortcut", 10, 4, 8), vector_op("add", VectorKind::kEltwise, 40, Format::kFp16, Format::kFp16, Phase::kForward)}),
            94u);
}

TEST(Dependencies, Version3TraceKeepsItsNumbers) {
  // A trace written before tensors were named (fmnist-cnn, batch 32, int4-fp4, as
  // workloads/traces/ held it in trace version 3) still simulates with the inferred
  // rule: on int4-train it gave 332,793 cycles before version 4 existed (build/nibble
  // simulate --design hw/designs/int4-train.yaml --trace tests/arch/fmnist-cnn_b32_int4-fp4.v3.trace
  // at commit 88edfe9), and gives them still.
  const workloads::Trace t = workloads::read_trace_file(kSource + "/tests/arch/fmnist-cnn_b32_int4-fp4.v3.trace");
  EXPECT_FALSE(t.names_tensors());
  EXPECT_EQ(simulate(test_design("int4-train.yaml"), t).total("cycles"), 332793u);
}

TEST(Overlap, IndependentOpsOnArrayAndVectorUnit) {
  // docs/timing.md, "Overlap", example 1 (ideal memory): the weight-gradient
  // GEMM (32 cycles, as IdealMemory.WeightStationary4x4) runs on the array
  // from 0 to 32 while the chain's activation-grad runs on the vector unit
  // from 0 to ceil(100 / 4) = 25; the update waits for both: 32 + ceil(16 / 4) x 3 = 44.
  using workloads::VectorKind;
  const auto d = test_design("test-4x4.yaml");
  const SimResult r =
      run(d, {gemm("L", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
              vector_op("M", VectorKind::kActivationGrad, 100, Format::kFp16, Format::kFp16, Phase::kInputGrad),
              vector_op("L", VectorKind::kOptimizer, 16, Format::kFp32, Format::kFp32, Phase::kUpdate)});
  EXPECT_EQ(r.total("cycles"), 44u);  // 32 + 25 + 12 = 69 one after another
  // Each op is charged the cycles by which it moves the step's end.
  EXPECT_EQ(row_cycles(r, "L", Phase::kWeightGrad), 32u);
  EXPECT_EQ(row_cycles(r, "M", Phase::kInputGrad), 0u);
  EXPECT_EQ(row_cycles(r, "L", Phase::kUpdate), 12u);
  EXPECT_EQ(r.total("compute_cycles"), 44u);
  EXPECT_EQ(unit(r, "core0.array").cycles.busy, 32u);
  EXPECT_EQ(unit(r, "core0.vector").cycles.busy, 37u);                // 25 + 12
  EXPECT_EQ(unit(r, "core0.vector").cycles.stalled_dependency, 7u);  // 25 .. 32 waiting for the GEMM
  EXPECT_EQ(unit(r, "core0.vector").cycles.stalled_dram, 0u);
}

TEST(Overlap, NextGemmLoadsBeforeTheStoreAndComputesUnderIt) {
  // docs/timing.md, "Overlap", example 2: two independent weight-gradient GEMMs
  // m=10, n=4, k=8 on test-4x4 with its slow DRAM. The first is
  // SlowDram.WeightStationaryStallsDominate (95 cycles, folds done at 45, its
  // operands read by 38, channel busy [0, 14) and [45, 85) for the store).
  // The second loads from 38: B0 38..40 done 50, A0 40..45 done 55 (in the
  // gap before the store), B1 85..87 done 97, A1 87..92 done 102; folds from
  // 45: fold 0 P = 50, S = 55, D = 72; fold 1 P = 97, S = 102, D = 119; store
  // 119..159 done 169. The updates (1 element each) follow their GEMMs.
  using workloads::VectorKind;
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false"});
  const std::vector<TraceOp> ops = {
      gemm("L1", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
      gemm("L2", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
      vector_op("L1", VectorKind::kOptimizer, 1, Format::kFp32, Format::kFp32, Phase::kUpdate),
      vector_op("L2", VectorKind::kOptimizer, 1, Format::kFp32, Format::kFp32, Phase::kUpdate)};
  const SimResult r = run(d, ops);
  EXPECT_EQ(row_cycles(r, "L1", Phase::kWeightGrad), 95u);
  EXPECT_EQ(row_cycles(r, "L2", Phase::kWeightGrad), 74u);  // 169 - 95; alone it takes 95
  // L1's update: load 95..96 done 106, 3 cycles, store 109..110 done 120: hidden.
  EXPECT_EQ(row_cycles(r, "L1", Phase::kUpdate), 0u);
  // L2's update from 169: load done 180, computed by 183, store done 194.
  EXPECT_EQ(row_cycles(r, "L2", Phase::kUpdate), 25u);
  EXPECT_EQ(r.total("cycles"), 194u);
  // The timeline (simulated here in a child of our own, without the pipe): the
  // second GEMM's folds, its loads and its store.
  const int status = in_child([&] {
    SimOptions here;
    here.fork = false;
    here.timeline = TimelineDetail::kOps;
    const SimResult h = simulate(d, trace_of(ops), here);
    int found = 0;
    for (const auto& e : h.timeline) {
      if (e.track == "core0.array" && e.op == 1 && e.start == 45 && e.end == 119 && e.what == "fold") found |= 1;
      if (e.track == "core0.dma" && e.op == 1 && e.what == "load" && e.start == 38 && e.end == 102) found |= 2;
      if (e.track == "dram.ch0" && e.op == 1 && e.what == "store" && e.start == 119 && e.end == 159) found |= 4;
      if (e.track == "core0.dma" && e.op == 0 && e.what == "store" && e.start == 45 && e.end == 95) found |= 8;
    }
    return found == 15;
  });
  EXPECT_EQ(status, 0);
}

TEST(Overlap, TwoCoresShareOneDramChannel) {
  // docs/timing.md, "DRAM channels and arbitration", example: m=20 split
  // 10 + 10 on two cores, one channel of 4 B/cycle. Core 0 reserves first
  // (the SlowDram.WeightStationaryStallsDominate transfers: [0, 14), store
  // [45, 85), done 95); core 1's transfers take the gaps: B0 14..16 done 26,
  // A0 16..21 done 31, B1 21..23 done 33, A1 23..28 done 38; fold 0 P = 26,
  // S = 31, D = 48; fold 1 P = 38, S = 42, D = 59; store 85..125 done 135.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", "cores=2"});
  const SimResult r = run(d, {gemm("g", 20, 4, 8)});
  EXPECT_EQ(r.total("cycles"), 135u);
  EXPECT_EQ(unit(r, "dram.ch0").cycles.busy, 108u);  // 2 x (2 + 5 + 2 + 5 + 40)
  EXPECT_EQ(unit(r, "core1.dma").cycles.stalled_arbitration, 14u + 26u);  // B0 waited 14, the store 85 - 59
  // Two channels of 2 B/cycle each: every transfer's bursts alternate between them.
  const SimResult two = run(test_design("test-4x4.yaml", {"dram.ideal=false", "cores=2", "dram.channels=2"}),
                            {gemm("g", 20, 4, 8)});
  EXPECT_EQ(two.units.size(), 8u);  // 2 x (array, vector, dma) + 2 channels
  // Each channel moves half the bursts at half the rate: B 2 + 2, A 6 + 4, store 40 + 40 per core.
  EXPECT_EQ(unit(two, "dram.ch0").cycles.busy + unit(two, "dram.ch1").cycles.busy, 216u);
}

TEST(Overlap, UnitStatisticsPerOpAndPerUnit) {
  // Overlap.IndependentOpsOnArrayAndVectorUnit's step (44 cycles): the update
  // waited 7 cycles for the GEMM, the other ops none; as summary.json's `units`
  // the vector unit was busy 37, stalled 7 on a dependency, idle 44 - 44 = 0.
  using workloads::VectorKind;
  const SimResult r = run(test_design("test-4x4.yaml"),
                          {gemm("L", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
                           vector_op("M", VectorKind::kActivationGrad, 100, Format::kFp16, Format::kFp16, Phase::kInputGrad),
                           vector_op("L", VectorKind::kOptimizer, 16, Format::kFp32, Format::kFp32, Phase::kUpdate)});
  const auto row = [&](const std::string& layer, Phase phase, const char* counter) {
    for (const auto& x : r.rows) {
      if (x.layer == layer && x.phase == phase) return x.stats[r.registry.at(counter)];
    }
    return std::uint64_t{999};
  };
  EXPECT_EQ(row("L", Phase::kUpdate, "unit_stall_dependency_cycles"), 7u);
  EXPECT_EQ(row("L", Phase::kUpdate, "unit_busy_cycles"), 12u);
  EXPECT_EQ(row("M", Phase::kInputGrad, "unit_busy_cycles"), 25u);
  EXPECT_EQ(row("L", Phase::kWeightGrad, "unit_busy_cycles"), 32u);
  EXPECT_EQ(r.total("unit_stall_dram_cycles"), 0u);
  StatRegistry registry;
  const UnitStatIds ids(registry);
  const StatVector v = unit_stat_values(ids, unit(r, "core0.vector").cycles, r.total("cycles"));
  EXPECT_EQ(v[ids.busy_cycles], 37u);
  EXPECT_EQ(v[ids.stalled_dependency_cycles], 7u);
  EXPECT_EQ(v[ids.idle_cycles], 0u);
  const StatVector a = unit_stat_values(ids, unit(r, "core0.array").cycles, r.total("cycles"));
  EXPECT_EQ(a[ids.idle_cycles], 12u);  // 44 - 32
  EXPECT_EQ(registry.def(ids.busy_cycles).unit, "cycles");
}

TEST(Overlap, VectorOpStreamsTheGemmOutputWhenTheDesignSaysSo) {
  // docs/timing.md, "Streaming a GEMM's output", example: ws m=20, n=8, k=4 on
  // test-4x4 (ideal memory, output scratchpad 960 B: 480 B halves): two column
  // blocks of 80 outputs, done at 31 and 51. The activation over its 160 int32
  // results (fp16 out) runs in chunks of 480 x 8 / 48 = 80 elements, 20 cycles each.
  using workloads::VectorKind;
  const std::vector<TraceOp> ops = {
      gemm("g", 20, 8, 4),
      vector_op("g", VectorKind::kActivation, 160, Format::kInt32, Format::kFp16, Phase::kForward)};
  const std::vector<std::string> small = {"scratchpads.output.capacity_bytes=960"};
  // Streamed: chunk 0 from 31 to 51, chunk 1 from 51 to 71.
  std::vector<std::string> on = small;
  on.push_back("vector.stream_gemm_output=true");
  const SimResult streamed = run(test_design("test-4x4.yaml", on), ops);
  EXPECT_EQ(streamed.total("cycles"), 71u);
  EXPECT_EQ(streamed.total("dram_bytes_read"), 16u + 40u);  // B and A only: the activation reads nothing
  EXPECT_EQ(unit(streamed, "core0.vector").cycles.stalled_dependency, 31u);
  // Not streamed (the default): the activation waits for the whole result, then 51 + 40 = 91.
  const SimResult waits = run(test_design("test-4x4.yaml", small), ops);
  EXPECT_EQ(waits.total("cycles"), 91u);
  EXPECT_EQ(waits.total("dram_bytes_read"), 16u + 40u + 640u);  // + 160 x 4 B of int32 results
  EXPECT_TRUE(streams_from_gemm(ops[0], ops[1]));
  TraceOp other = ops[1];
  other.elements = 80;  // half of C: not the GEMM's output
  EXPECT_FALSE(streams_from_gemm(ops[0], other));
  other = ops[1];
  other.vector = VectorKind::kNorm;  // a reduction needs the whole tensor
  EXPECT_FALSE(streams_from_gemm(ops[0], other));
  // With named tensors it streams only what it reads: reading the GEMM's C, the same 71.
  // Reading another tensor it depends on nothing, but its 80-element chunks need a 480-B
  // slot of the output scratchpad, which the GEMM's two blocks hold until they are stored
  // (docs/timing.md, "Scratchpad reservations"): it takes block 0's slot at 31 and runs
  // [31, 51) and [51, 71) from DRAM: 71 again, its wait a full-buffer stall, not a dependency.
  workloads::Trace t = trace_of({named(ops[0], {"a", "b"}, {"c"}), named(ops[1], {"c"}, {"y"})});
  t.inputs = {"a", "b", "x"};
  EXPECT_EQ(simulate(test_design("test-4x4.yaml", on), t).total("cycles"), 71u);
  t.ops[1].reads = {"x"};
  const SimResult independent = simulate(test_design("test-4x4.yaml", on), t);
  EXPECT_EQ(independent.total("cycles"), 71u);
  EXPECT_EQ(unit(independent, "core0.vector").cycles.stalled_dependency, 0u);
}

TEST(MatrixUnits, AnInt4AndAnFp16GemmOverlapOnTheirUnits) {
  // docs/timing.md, "Several matrix units" (ideal memory, test-2unit: int 4x4
  // int4-fp4, fp 2x2 fp16): L1's INT4 weight gradient (m=10, n=4, k=8) routes to
  // int, two folds done at 32 (IdealMemory.WeightStationary4x4); L2's FP16 weight
  // gradient (m=10, n=2, k=4) to fp, two folds: P0 = 0, S0 = 2, D0 = 15;
  // P1 = max(2, 5) = 5, S1 = max(7, 12) = 12, D1 = 12 + 10 + 2 + 2 - 1 = 25. Both
  // have updates (off the chain), so they depend on nothing and run at once. The
  // updates (1 element, ceil(1/4) x 3 = 3 cycles each) run in program order on
  // the vector unit: L1's [32, 35), L2's [35, 38). Step: 38 (63 on one unit
  // after another: 32 + 25 + 3 + 3).
  using workloads::VectorKind;
  const auto d = test_design("test-2unit.yaml");
  const std::vector<TraceOp> ops = {
      gemm("L1", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
      gemm("L2", 10, 2, 4, Format::kFp16, Format::kFp16, Format::kFp32, Phase::kWeightGrad),
      vector_op("L1", VectorKind::kOptimizer, 1, Format::kFp32, Format::kFp32, Phase::kUpdate),
      vector_op("L2", VectorKind::kOptimizer, 1, Format::kFp32, Format::kFp32, Phase::kUpdate)};
  SimOptions options;
  options.timeline = TimelineDetail::kOps;
  const SimResult r = run(d, ops, options);
  EXPECT_EQ(r.total("cycles"), 38u);
  EXPECT_EQ(row_cycles(r, "L1", Phase::kWeightGrad), 32u);
  EXPECT_EQ(row_cycles(r, "L2", Phase::kWeightGrad), 0u);  // hidden under L1's
  EXPECT_EQ(row_cycles(r, "L1", Phase::kUpdate), 3u);
  EXPECT_EQ(row_cycles(r, "L2", Phase::kUpdate), 3u);
  EXPECT_EQ(unit(r, "core0.int").cycles.busy, 32u);
  EXPECT_EQ(unit(r, "core0.fp").cycles.busy, 25u);
  EXPECT_EQ(unit(r, "core0.vector").cycles.busy, 6u);
  EXPECT_EQ(r.total("mac_int4_int4"), 10u * 4u * 8u);
  EXPECT_EQ(r.total("mac_fp16"), 10u * 2u * 4u);
  for (const auto& row : r.rows) EXPECT_EQ(row.unit, row.phase == Phase::kUpdate ? "" : row.layer == "L1" ? "int" : "fp");
  int found = 0;
  for (const auto& e : r.timeline) {
    if (e.track == "core0.int" && e.op == 0 && e.start == 0 && e.end == 32) found |= 1;
    if (e.track == "core0.fp" && e.op == 1 && e.start == 0 && e.end == 25) found |= 2;
  }
  EXPECT_EQ(found, 3);
  // Utilization counts both units' PEs: 400 MACs in 38 cycles of 16 + 4 PEs.
  EXPECT_DOUBLE_EQ(r.utilization(r.totals), (320.0 + 80.0) / (38.0 * 20.0));
}

TEST(OutputBlocks, ManyOutputTilesInFlight) {
  // docs/timing.md, "Output blocks in flight", example: os m=16, n=8, k=10 on
  // test-4x4, DRAM 64 B/cycle, latency 100. The output scratchpad (64 KiB)
  // holds 1024 blocks of 4 x 4 x 32 bits, so no fold waits for an earlier
  // block's store; with 2 blocks in flight folds 6 and 7 waited for the
  // stores of blocks 4 and 5 (done 467 and 477) and the op took 598.
  const auto d = test_design("test-4x4.yaml", {"dram.ideal=false", "array.dataflow=os",
                                               "dram.bandwidth_bytes_per_cycle=64", "dram.latency_cycles=100"});
  const SimResult r = run(d, {gemm("g", 16, 8, 10)});
  EXPECT_EQ(r.total("cycles"), 497u);
  EXPECT_EQ(r.total("compute_cycles"), 90u);  // 8 folds of T = 10 back to back: 70 + 20
  EXPECT_EQ(output_blocks_in_flight(d.output, 64), 1024u);
  design::ScratchpadConfig single = d.output;
  single.double_buffer = false;
  EXPECT_EQ(output_blocks_in_flight(single, 64), 1u);
  EXPECT_EQ(output_blocks_in_flight(d.output, 40000), 2u);  // double buffered: at least 2
}

// ------------------------------------------------------ scratchpad reservations

// docs/timing.md, "Scratchpad reservations", example: layer L's weight-gradient
// GEMM m=20, n=4, k=8 (off the chain: L has an update), the chain's
// activation-grads of 4 and 80 FP16 elements, then L's update, on test-4x4
// with ideal memory.
std::vector<TraceOp> reservation_ops() {
  using workloads::VectorKind;
  return {gemm("L", 20, 4, 8, Format::kInt4, Format::kInt4, Format::kInt32, Phase::kWeightGrad),
          vector_op("A", VectorKind::kActivationGrad, 4, Format::kFp16, Format::kFp16, Phase::kInputGrad),
          vector_op("M", VectorKind::kActivationGrad, 80, Format::kFp16, Format::kFp16, Phase::kInputGrad),
          vector_op("L", VectorKind::kOptimizer, 16, Format::kFp32, Format::kFp32, Phase::kUpdate)};
}

TEST(Reservations, WhatEachOpReserves) {
  // 336-byte output scratchpad (168-byte halves): Tm = min(20, 168 B / (4 x
  // 32 bits)) = 10, two output blocks of 10 x 4 int32 sums (160 B), L_O =
  // max(2, 336 / 160) = 2: 2 slots of 160 B; A (80 B) and B (16 B) are
  // resident per group: one slot each. The 80-element activation-grad runs in
  // chunks of 168 B / 32 bits = 42, 40 in whole lane groups: two slots of 40 x 4 B.
  const auto d = test_design("test-4x4.yaml", {"scratchpads.output.capacity_bytes=336"});
  const auto ops = reservation_ops();
  const GemmPlan p = plan_gemm(d, design::plan_execution(d, ops[0]), ops[0], 20, 4, 8);
  const Reservation g = gemm_reservation(d, p);
  EXPECT_EQ(g.output.bytes, 160u);
  EXPECT_EQ(g.output.count, 2u);
  EXPECT_EQ(g.input.bytes, 80u);   // A: 20 x 8 int4
  EXPECT_EQ(g.input.count, 1u);
  EXPECT_EQ(g.weight.bytes, 16u);  // B: 8 x 4 int4
  EXPECT_EQ(g.weight.count, 1u);
  const Reservation m = vector_reservation(d, ops[2], 80, false);
  EXPECT_EQ(m.output.bytes, 160u);
  EXPECT_EQ(m.output.count, 2u);
  EXPECT_EQ(vector_reservation(d, ops[1], 4, false).output.bytes, 16u);
  // Streamed, its inputs are the GEMM's blocks: room for its FP16 results only.
  EXPECT_EQ(vector_reservation(d, ops[2], 80, true).output.bytes, 80u);
  // Not double buffered: one chunk (of 320 B / 32 bits = 80 elements) in flight.
  const auto single = test_design("test-4x4.yaml", {"scratchpads.output.capacity_bytes=320",
                                                    "scratchpads.output.double_buffer=false"});
  EXPECT_EQ(vector_reservation(single, ops[2], 80, false).output.count, 1u);
  // An os GEMM with 8 tiles: as many as the whole scratchpad holds (192 B: 3
  // tiles of 4 x 4 int32).
  const auto os = test_design("test-4x4.yaml", {"array.dataflow=os", "scratchpads.output.capacity_bytes=192"});
  const TraceOp g16 = gemm("g", 16, 8, 10);
  const Reservation o = gemm_reservation(os, plan_gemm(os, design::plan_execution(os, g16), g16, 16, 8, 10));
  EXPECT_EQ(o.output.bytes, 64u);
  EXPECT_EQ(o.output.count, 3u);
}

TEST(Reservations, VectorOpWaitsForTheGemmsStores) {
  // The GEMM's folds (T = 10) are done at 21, 32, 43, 54: block 0 at 32, block
  // 1 at 54, each stored (ideal) then; it holds 320 of the 336 B. A holds the
  // other 16 B over [0, 1). M needs 2 x 160 B at 1: its slots are handed over
  // at the GEMM's stores, 32 and 54; chunk 0 runs [32, 42), chunk 1 [54, 64);
  // the update runs [64, 76).
  const SimResult r = run(test_design("test-4x4.yaml", {"scratchpads.output.capacity_bytes=336"}), reservation_ops());
  EXPECT_EQ(r.total("cycles"), 76u);  // 66 when both used the whole scratchpad at once
  EXPECT_EQ(row_cycles(r, "L", Phase::kWeightGrad), 54u);
  EXPECT_EQ(row_cycles(r, "A", Phase::kInputGrad), 0u);
  EXPECT_EQ(row_cycles(r, "M", Phase::kInputGrad), 10u);
  EXPECT_EQ(row_cycles(r, "L", Phase::kUpdate), 12u);
  const UnitCycles v = unit(r, "core0.vector").cycles;
  EXPECT_EQ(v.busy, 33u);                 // 1 + 20 + 12
  EXPECT_EQ(v.stalled_full_buffer, 31u);  // 1 .. 32, before M's first chunk
  EXPECT_EQ(v.stalled_dram, 12u);         // 42 .. 54, M's second chunk waits for the GEMM's last store
  EXPECT_EQ(v.stalled_dependency, 0u);
  EXPECT_EQ(unit(r, "core0.array").cycles.stalled_full_buffer, 0u);
  EXPECT_EQ(r.total("unit_stall_full_buffer_cycles"), 31u);
  StatRegistry registry;
  const UnitStatIds ids(registry);
  const StatVector s = unit_stat_values(ids, v, r.total("cycles"));
  EXPECT_EQ(s[ids.stalled_full_buffer_cycles], 31u);
  EXPECT_EQ(s[ids.idle_cycles], 0u);  // 76 - 33 - 31 - 12
}

TEST(Reservations, LargeEnoughScratchpadLetsThemOverlap) {
  // 640 B (320-byte halves): Tm = 20, the GEMM is one block of 320 B, done at
  // 51; M is one chunk of 80 elements, 320 B, which fits beside it: M runs
  // [1, 21) under the GEMM and the update waits for the GEMM: [51, 63).
  const SimResult r = run(test_design("test-4x4.yaml", {"scratchpads.output.capacity_bytes=640"}), reservation_ops());
  EXPECT_EQ(r.total("cycles"), 63u);
  EXPECT_EQ(row_cycles(r, "L", Phase::kWeightGrad), 51u);
  EXPECT_EQ(row_cycles(r, "M", Phase::kInputGrad), 0u);
  const UnitCycles v = unit(r, "core0.vector").cycles;
  EXPECT_EQ(v.stalled_full_buffer, 0u);
  EXPECT_EQ(v.stalled_dependency, 30u);  // the update, 21 .. 51
  EXPECT_EQ(r.total("unit_stall_full_buffer_cycles"), 0u);
}

// Two holders of one 320-byte scratchpad (1 cycle = 1 ns): the first takes
// both 160-byte slots at 0 and schedules their releases (at 30 and 50) only
// when it starts, at 10; the second asks for one slot at 5, finds the space
// held without a release cycle, waits until 10 and gets the first release (30);
// a third, at 20, gets the one left (50); both come back at 60, where a
// fourth finds them free.
struct TwoHolders : sc_core::sc_module {
  SC_HAS_PROCESS(TwoHolders);
  explicit TwoHolders(sc_core::sc_module_name name, const design::ScratchpadConfig& config)
      : sc_core::sc_module(name), spad("spad", config) {
    SC_THREAD(first);
    SC_THREAD(second);
  }
  void first() {
    a = spad.claim(SlotNeed{160, 2}, 0);
    sc_core::wait(10, sc_core::SC_NS);
    spad.release(160, 30);
    spad.release(160, 50);
  }
  void second() {
    sc_core::wait(5, sc_core::SC_NS);
    b = spad.claim(SlotNeed{160, 1}, 5);
    b.push_back(static_cast<std::uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9 + 0.5));
    sc_core::wait(15, sc_core::SC_NS);
    c = spad.claim(SlotNeed{160, 1}, 20);
    spad.release(320, 60);  // both slots back at 60
    sc_core::wait(40, sc_core::SC_NS);
    d = spad.claim(SlotNeed{320, 1}, 60);
  }
  Scratchpad spad;
  std::vector<std::uint64_t> a, b, c, d;
};

TEST(Reservations, SlotsAreHandedOverInReleaseOrder) {
  design::ScratchpadConfig config = test_design("test-4x4.yaml").output;
  config.capacity_bytes = 320;
  const int status = in_child([&] {
    TwoHolders top("top", config);
    sc_core::sc_start();
    using V = std::vector<std::uint64_t>;
    return top.a == V{0, 0} && top.b == (V{30, 10}) && top.c == V{50} && top.d == V{60};
  });
  EXPECT_EQ(status, 0);
}

TEST(Reservations, OsTilesInFlightBoundedByCapacity) {
  // docs/timing.md, "Scratchpad reservations": OutputBlocks.ManyOutputTilesInFlight
  // with a 192-byte output scratchpad, 3 tiles in flight: fold 5 waits for
  // store 2 (345, S = 356 anyway), fold 7 for store 4 (467): S = 467, D = 487,
  // store 7 done 588 (497 with 1024 tiles, 598 with 2).
  const auto base = std::vector<std::string>{"dram.ideal=false", "array.dataflow=os",
                                             "dram.bandwidth_bytes_per_cycle=64", "dram.latency_cycles=100"};
  auto three = base;
  three.push_back("scratchpads.output.capacity_bytes=192");
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", three), {gemm("g", 16, 8, 10)}), 588u);
  auto two = base;
  two.push_back("scratchpads.output.capacity_bytes=128");
  EXPECT_EQ(cycles(test_design("test-4x4.yaml", two), {gemm("g", 16, 8, 10)}), 598u);
}

// ------------------------------------------------------------ SCALE-Sim

std::vector<ScaleSimLayerGemm> topology_gemms(const std::string& path) {
  const auto topo = workloads::read_scalesim_topology(path);
  std::vector<ScaleSimLayerGemm> out;
  for (const auto& row : topo.layers) {
    const auto shape = workloads::scalesim_gemm(row, topo.format);
    out.push_back(ScaleSimLayerGemm{row.name, shape.groups, shape.m, shape.n, shape.k});
  }
  return out;
}

TEST(ScaleSim, PublishedDataPoint) {
  // SCALE-Sim's published run (docs/references.md): 32x32 OS, 7x7 input, 3x3 filter, 192 channels, 384 filters ->
  // 21,479 cycles, 0 stalls, 75.42 % utilization, 78.12 % mapping efficiency.
  // E = F = 5: Sr = 25, Sc = 384, T = 1728; 12 folds of 32 + 32 + 1728 - 2 = 1790; 12 x 1790 - 1.
  const auto cfg = design::load_scalesim_config(kSource + "/hw/designs/scalesim/scale.cfg");
  const auto run_ = run_scalesim(cfg, topology_gemms(kSource + "/hw/designs/scalesim/published.csv"));
  ASSERT_EQ(run_.rows.size(), 1u);
  const auto& row = run_.rows[0];
  EXPECT_EQ(row.total_cycles, 21479u);
  EXPECT_EQ(row.stall_cycles, 0u);
  EXPECT_NEAR(row.overall_util, 75.42, 0.005);   // 25*384*1728*100 / (21479*1024)
  EXPECT_DOUBLE_EQ(row.mapping_efficiency, 78.125);  // 9600 / (12 * 1024)
  // SCALE-Sim's compute util: 25*384*1728 / (12 * 1024 * 1790) = 75.4190...
  EXPECT_NEAR(row.compute_util, 75.419, 0.001);
  const std::string csv = compute_report_csv(run_);
  EXPECT_EQ(csv.substr(0, csv.find('\n') + 1),
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n");
  EXPECT_EQ(csv.substr(csv.find('\n') + 1, 22), "0, 21479, 0, 75.422505");
  EXPECT_EQ(csv.back(), '\n');
  EXPECT_EQ(csv[csv.size() - 2], ',');
}

TEST(ScaleSim, UserBandwidthStallsComeFromTheDramModel) {
  const auto cfg = design::load_scalesim_config(kSource + "/hw/designs/scalesim/scale_user.cfg");
  EXPECT_TRUE(cfg.user_bandwidth);
  const auto run_ = run_scalesim(cfg, topology_gemms(kSource + "/hw/designs/scalesim/published.csv"));
  ASSERT_EQ(run_.rows.size(), 1u);
  EXPECT_GT(run_.rows[0].stall_cycles, 0u);
  EXPECT_EQ(run_.rows[0].total_cycles, 21479u + run_.rows[0].stall_cycles);
}

TEST(ScaleSim, CommandWritesTheReport) {
  const char* nibble = std::getenv("NIBBLE");
  // The binary is a build dependency of this test (tests/arch/CMakeLists.txt): its absence is a failure.
  ASSERT_TRUE(nibble != nullptr && std::filesystem::exists(nibble)) << "$NIBBLE does not name the built nibble command";
  const std::string out = std::string(NIBBLE_BINARY_DIR) + "/tests/arch_scalesim_out";
  std::filesystem::remove_all(out);
  const std::string cmd = std::string(nibble) + " scalesim -c " + kSource + "/hw/designs/scalesim/scale.cfg -t " +
                          kSource + "/hw/designs/scalesim/published.csv -p " + out + " --quiet 2>" + out + ".err";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out + "/scale_example_run_32x32_os/COMPUTE_REPORT.csv");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().substr(0, text.str().find('\n')),
            "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,");
  EXPECT_NE(text.str().find("\n0, 21479, 0, 75.42"), std::string::npos);
  std::ifstream err(out + ".err");
  std::stringstream errors;
  errors << err.rdbuf();
  EXPECT_NE(errors.str().find("ignored (not modelled): architecture_presets.IfmapOffset"), std::string::npos);
}

}  // namespace
}  // namespace nibble::arch
