// The co-simulation (sim/cosim): the Verilated RTL tile against the SystemC
// tile model. Each test case is one SystemC simulation in a process of its
// own. Values and cycles are derived by hand from docs/timing.md and the PE
// arithmetic; the random runs must end with zero mismatches, and injected
// faults must be caught where they were injected.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/cosim/cosim.hpp"
#include "sim/cosim/rtl_tile.hpp"
#include "workloads/trace.hpp"
#include "workloads/trace_io.hpp"
#include "tests/support/trace_ops.hpp"

namespace {

using namespace nibble::cosim;
using nibble::numerics::Format;
using nibble::numerics::PeMode;

/// Index of the directed op named `origin` (the n-th one with that name) in feeding order.
std::uint64_t directed_index(std::uint64_t rows, std::uint64_t cols, const std::string& origin, int nth = 0) {
  const auto ops = directed_ops(rows, cols, tile_modes(), tile_accs());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].origin == origin && nth-- == 0) return i;
  }
  ADD_FAILURE() << "no directed op '" << origin << "'";
  return 0;
}

/// Captured RTL output C[m][c] of op `op`.
std::uint32_t out(const CosimReport& r, std::uint64_t op, std::uint64_t cols, std::uint64_t m, std::uint64_t c) {
  return r.captured.at(op).at(m * cols + c);
}

std::string build_path(const std::string& name) { return std::string(NIBBLE_BINARY_DIR) + "/tests/" + name; }

/// Where a value mismatch must be reported, and its two values.
struct ExpectedMismatch {
  std::uint64_t op;        ///< global op index
  std::uint64_t cycle;     ///< tile cycle
  std::uint64_t row;       ///< output row m
  std::uint64_t column;    ///< column c
  std::uint32_t expected;  ///< model value
  std::uint32_t actual;    ///< RTL value
};

/// The run stopped at exactly one value mismatch, the one `want` describes.
void expect_value_mismatch(const CosimReport& r, const ExpectedMismatch& want) {
  ASSERT_EQ(r.mismatches, 1u);
  ASSERT_TRUE(r.mismatch);
  EXPECT_EQ(r.mismatch->op, want.op);
  EXPECT_EQ(r.mismatch->cycle, want.cycle);
  EXPECT_EQ(r.mismatch->row, want.row);
  EXPECT_EQ(r.mismatch->column, want.column);
  EXPECT_EQ(r.mismatch->expected, want.expected);
  EXPECT_EQ(r.mismatch->actual, want.actual);
}

/// Writes a trace of `ops` to the build tree as `name`; returns its path.
std::string write_test_trace(const std::string& name, std::vector<nibble::workloads::TraceOp> ops) {
  nibble::workloads::Trace trace;
  trace.model = name;
  trace.policy = "test";
  trace.ops = std::move(ops);
  const std::string path = build_path(name + ".trace");
  nibble::workloads::write_trace_file(path, trace);
  return path;
}

/// Co-simulates the trace at `path` on a rows x cols tile (no directed or random ops).
CosimReport run_trace_on_tile(const std::string& path, std::size_t rows, std::size_t cols) {
  CosimOptions o;
  o.rows = rows;
  o.cols = cols;
  o.directed = false;
  o.trace_file = path;
  return run_cosim(o);
}

TEST(Cosim, DirectedAndRandomOps8x8MatchWithHandDerivedValues) {
  CosimOptions o;
  o.rows = 8;
  o.cols = 8;
  o.ops_per_mode = 3000;
  o.seed = 1;
  o.capture_ops = 200;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  const std::uint64_t directed = directed_ops(8, 8, tile_modes(), tile_accs()).size();
  EXPECT_EQ(r.directed_ops, directed);
  EXPECT_EQ(r.ops, directed + 9000);
  EXPECT_EQ(r.ops_fed, r.ops);
  // Consecutive folds start at least 2R + C - 1 = 23 cycles apart (S_f >= P_f + R and
  // P_f >= S_{f-1} + R + C - 1), so the run lasts at least 23 cycles per op after the first.
  EXPECT_GE(r.cycles, 23u * (r.ops - 1));

  // B[r][c] = -8 (even c) or 7 (odd c) in every row; A = -8 (vector 0) or 7 (vector 1) in every row,
  // so each output is 8 equal products: 8 x 64 = 512, 8 x -56 = -448, 8 x -56 = -448, 8 x 49 = 392.
  const std::uint64_t ext = directed_index(8, 8, "int4 -8*-8 and -8*7", 0);  // int32 first
  EXPECT_EQ(out(r, ext, 8, 0, 0), 512u);
  EXPECT_EQ(out(r, ext, 8, 0, 1), static_cast<std::uint32_t>(-448));
  EXPECT_EQ(out(r, ext, 8, 1, 2), static_cast<std::uint32_t>(-448));
  EXPECT_EQ(out(r, ext, 8, 1, 7), 392u);
  // The same in FP16: 512 = 2^9 -> 0x6000; -448 = -1.75 x 2^8 -> 0xDF00; 392 = 1.53125 x 2^8 -> 0x5E20.
  const std::uint64_t ext16 = directed_index(8, 8, "int4 -8*-8 and -8*7", 1);
  EXPECT_EQ(out(r, ext16, 8, 0, 0), 0x6000u);
  EXPECT_EQ(out(r, ext16, 8, 0, 1), 0xDF00u);
  EXPECT_EQ(out(r, ext16, 8, 1, 7), 0x5E20u);

  // UINT4 activations (fwd): B = 7 (even c) or -8 (odd c); A = 15 (vector 0) or code 8 read as +8
  // (vector 1) in every row: 8 x 105 = 840, 8 x -120 = -960, 8 x 56 = 448, 8 x -64 = -512.
  const std::uint64_t u4 = directed_index(8, 8, "uint4 15*7 and 15*-8", 0);  // int32
  EXPECT_EQ(out(r, u4, 8, 0, 0), 840u);
  EXPECT_EQ(out(r, u4, 8, 0, 1), static_cast<std::uint32_t>(-960));
  EXPECT_EQ(out(r, u4, 8, 1, 0), 448u);
  EXPECT_EQ(out(r, u4, 8, 1, 1), static_cast<std::uint32_t>(-512));
  // FP16 (every partial sum is an integer below 2048, exact): 840 = 1.640625 x 2^9 -> 0x6000 + 656 =
  // 0x6290; -960 = -1.875 x 2^9 -> 0xE380; 448 = 1.75 x 2^8 -> 0x5F00; -512 -> 0xE000.
  const std::uint64_t u4h = directed_index(8, 8, "uint4 15*7 and 15*-8", 1);
  EXPECT_EQ(out(r, u4h, 8, 0, 0), 0x6290u);
  EXPECT_EQ(out(r, u4h, 8, 0, 1), 0xE380u);
  EXPECT_EQ(out(r, u4h, 8, 1, 0), 0x5F00u);
  EXPECT_EQ(out(r, u4h, 8, 1, 1), 0xE000u);
  // UINT4 x the largest FP4 shift (bwd-even): B = +-4^0 (e = 7, shift 12; minus in odd columns).
  // int32 (LSB 4^(1-7) = 2^-12): 8 rows x (15 << 12) = 491520; code 8 reads +8: 8 x (8 << 12) = 262144.
  const std::uint64_t u4s = directed_index(8, 8, "uint4 15 x largest FP4 shift", 0);
  EXPECT_EQ(out(r, u4s, 8, 0, 0), 491520u);
  EXPECT_EQ(out(r, u4s, 8, 0, 1), static_cast<std::uint32_t>(-491520));
  EXPECT_EQ(out(r, u4s, 8, 1, 0), 262144u);
  EXPECT_EQ(out(r, u4s, 8, 1, 1), static_cast<std::uint32_t>(-262144));
  // FP16: each product is 15 (or 8) exactly: 120 = 1.875 x 2^6 -> 0x5780, -120 -> 0xD780; 64 -> 0x5400.
  const std::uint64_t u4sh = directed_index(8, 8, "uint4 15 x largest FP4 shift", 1);
  EXPECT_EQ(out(r, u4sh, 8, 0, 0), 0x5780u);
  EXPECT_EQ(out(r, u4sh, 8, 0, 1), 0xD780u);
  EXPECT_EQ(out(r, u4sh, 8, 1, 0), 0x5400u);
  EXPECT_EQ(out(r, u4sh, 8, 1, 1), 0xD400u);

  // int32 saturation, per add. Vector 0: INT32_MAX - c + 64 saturates, then 7 rows of -8 x 7 = -56:
  // 0x7FFFFFFF - 392 = 0x7FFFFE77. Vector 1: INT32_MIN + c - 56 saturates, then 7 x 49 = +343:
  // 0x80000157. Vector 3: INT32_MAX + 64 stays INT32_MAX.
  const std::uint64_t sat = directed_index(8, 8, "fwd int32 saturation");
  for (std::uint64_t c = 0; c < 8; ++c) {
    EXPECT_EQ(out(r, sat, 8, 0, c), 0x7FFFFE77u) << "column " << c;
    EXPECT_EQ(out(r, sat, 8, 1, c), 0x80000157u) << "column " << c;
    EXPECT_EQ(out(r, sat, 8, 3, c), 0x7FFFFFFFu) << "column " << c;
  }
  // FP4 with the largest shift, int32: vector 0 = +2^15 from INT32_MAX - c (saturates), then 7 rows of
  // -(7 << 12) = -28672: 0x7FFFFFFF - 200704 = 0x7FFCEFFF.
  const std::uint64_t sat_odd = directed_index(8, 8, "bwd-odd int32 saturation");
  EXPECT_EQ(out(r, sat_odd, 8, 0, 3), 0x7FFCEFFFu);

  // FP16 subnormals (bwd-even): column 0: 0x0BFF = 2^-12 - 2^-23, plus -1 x 4^(1-7) = -2^-12,
  // is -2^-23: subnormal 0x8002; vector 1 mirrors it: 0x0002. Column 1: 2^-24 - 2^-12 is a tie
  // between 2047 and 2048 ulps of 2^-23: even, -2^-12 = 0x8C00.
  const std::uint64_t sub = directed_index(8, 8, "bwd-even fp16 subnormals");
  EXPECT_EQ(out(r, sub, 8, 0, 0), 0x8002u);
  EXPECT_EQ(out(r, sub, 8, 1, 0), 0x0002u);
  EXPECT_EQ(out(r, sub, 8, 0, 1), 0x8C00u);
  // FP16 overflow (fwd): 65504 + 64 >= 65520 -> +inf, and it stays inf; -65504 - 56 -> -inf;
  // 32768 (ulp 32) + 8 x 64 = 33280 exactly: 0x7800 + 512/32 = 0x7810.
  const std::uint64_t ovf = directed_index(8, 8, "fwd fp16 overflow");
  EXPECT_EQ(out(r, ovf, 8, 0, 0), 0x7C00u);
  EXPECT_EQ(out(r, ovf, 8, 1, 0), 0xFC00u);
  EXPECT_EQ(out(r, ovf, 8, 0, 2), 0x7810u);
  // Near the top in the FP4 modes a product is at most 8: 65504 + 8 rounds back to 65504, every row.
  const std::uint64_t ovf_odd = directed_index(8, 8, "bwd-odd fp16 overflow");
  EXPECT_EQ(out(r, ovf_odd, 8, 0, 0), 0x7BFFu);
  // NaN in (any payload, either sign) leaves as 0x7E00; -inf + finite stays -inf.
  const std::uint64_t nan = directed_index(8, 8, "fwd fp16 NaN and inf psum_in");
  EXPECT_EQ(out(r, nan, 8, 0, 0), 0x7E00u);  // psum_in 0x7E00
  EXPECT_EQ(out(r, nan, 8, 0, 2), 0x7E00u);  // psum_in 0xFE55
  EXPECT_EQ(out(r, nan, 8, 0, 4), 0xFC00u);  // psum_in 0xFC00
  // Ties (fwd): 2048 + 1 -> 2048 (0x6800); 2050 + 1 -> 2052 (0x6802). 56 - 56 = +0; -0 plus
  // eight zero products is +0.
  const std::uint64_t tie = directed_index(8, 8, "fwd fp16 ties and cancellation");
  EXPECT_EQ(out(r, tie, 8, 0, 0), 0x6800u);
  EXPECT_EQ(out(r, tie, 8, 0, 1), 0x6802u);
  EXPECT_EQ(out(r, tie, 8, 1, 0), 0x0000u);
  EXPECT_EQ(out(r, tie, 8, 1, 1), 0x0000u);
  // One rounding per PE: eight MACs of +1 onto 2048 (ulp 2) each tie back to 2048.
  const std::uint64_t per_pe = directed_index(8, 8, "fwd fp16 one rounding per PE");
  for (std::uint64_t c = 0; c < 8; ++c) EXPECT_EQ(out(r, per_pe, 8, 0, c), 0x6800u) << "column " << c;
}

TEST(Cosim, RandomOps4x4AllModesMatch) {
  CosimOptions o;
  o.rows = 4;
  o.cols = 4;
  o.ops_per_mode = 3000;
  o.seed = 42;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  for (const PeMode m : tile_modes()) EXPECT_GE(r.ops_by_mode.at(static_cast<std::size_t>(m)), 3000u);
}

TEST(Cosim, NonSquare2x3Matches) {
  CosimOptions o;
  o.rows = 2;
  o.cols = 3;
  o.ops_per_mode = 2000;
  o.seed = 3;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
}

TEST(Cosim, TraceFoldsFollowTheTimingContract) {
  // One int4 x int4 GEMM, m = 10, n = 4, k = 8 on the 4x4 tile: ceil(4/4) x ceil(8/4) = 2 folds of
  // T = 10 with ideal memory, the example of docs/timing.md: P_0 = 0, S_0 = 4, D_0 = 4+10+4+4-1 = 21;
  // P_1 = max(0+4, 4+4+4-1) = 11, S_1 = max(11+4, 4+10) = 15, D_1 = 15+10+4+4-1 = 32.
  // Besides it: an fp32-accumulated GEMM and a vector op, which the tile cannot run.
  using nibble::test::gemm;
  nibble::workloads::TraceOp fp32 = gemm("fc_fp32", 10, 4, 8, Format::kInt4, Format::kInt4, Format::kFp32);
  const std::string path = write_test_trace(
      "cosim-test", {gemm("fc", 10, 4, 8), fp32,
                     nibble::test::vector_op("relu", nibble::workloads::VectorKind::kActivation, 40, Format::kFp32,
                                             Format::kFp32)});
  const CosimReport r = run_trace_on_tile(path, 4, 4);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  EXPECT_EQ(r.ops, 2u);
  EXPECT_EQ(r.cycles, 32u);
  EXPECT_EQ(r.skipped_trace_ops, 1u);
}

TEST(Cosim, TraceUint4ActivationsRunUnsignedAndUint4WeightsAreLeftOut) {
  // uint4 x fp4 (a post-ReLU weight-gradient GEMM) runs with PeArith::a_unsigned: m = 3, n = 5,
  // k = 6 on the 4x4 tile is ceil(5/4) x ceil(6/4) = 4 folds. int4 x uint4 has no datapath in the
  // SystemC model (sim/design/pe_support.cpp), so it is left out here too.
  using nibble::test::gemm;
  const std::string path = write_test_trace(
      "cosim-uint4", {gemm("fc_wgrad", 3, 5, 6, Format::kUint4, Format::kFp4, Format::kFp16),
                      gemm("fc_uint4_weights", 3, 5, 6, Format::kInt4, Format::kUint4, Format::kFp16)});
  const CosimReport r = run_trace_on_tile(path, 4, 4);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  EXPECT_EQ(r.ops, 4u);
  EXPECT_EQ(r.ops_by_mode.at(static_cast<std::size_t>(PeMode::kInt4xFp4)), 4u);
  EXPECT_EQ(r.skipped_trace_ops, 1u);
}

TEST(Cosim, CycleTableOfDocsRtlMd) {
  // docs/rtl.md's cycle table: a 2x3 tile, fold 0 with T = 2 then fold 1 with T = 1, ideal memory.
  // P_0 = 0, S_0 = P_0 + R = 2, D_0 = 2 + 2 + 2 + 3 - 1 = 8; P_1 = max(0 + 2, 2 + 2 + 3 - 1) = 6,
  // S_1 = max(6 + 2, 2 + 2) = 8, D_1 = 8 + 1 + 2 + 3 - 1 = 13. The co-simulation checks every
  // handshake and output cycle of the table against the model; the run ends in D_1.
  const std::string path = write_test_trace(
      "cosim-cycle-table", {nibble::test::gemm("fold0", 2, 3, 2, Format::kInt4, Format::kInt4, Format::kFp16),
                              nibble::test::gemm("fold1", 1, 3, 2, Format::kInt4, Format::kInt4, Format::kFp16)});
  const CosimReport r = run_trace_on_tile(path, 2, 3);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  EXPECT_EQ(r.ops, 2u);
  EXPECT_EQ(r.cycles, 13u);
}

TEST(Cosim, InjectedWeightFaultIsReportedAtItsOpColumnAndCycle) {
  // Op 0 is the first directed case, int4 -8*-8 (fwd, int32). B[2][4] = -8 reaches the RTL as
  // -8 ^ 1 = 0x9 = -7, so column 4 of vector 0 sums 7 x 64 + 56 = 504 instead of 512. With W = 0:
  // P_0 = 0, S_0 = R = 8, and output vector 0 appears in S + R + C - 1 = 8 + 8 + 8 - 1 = 23.
  CosimOptions o;
  o.fault = parse_fault("weight:0:2:4");
  o.ops_per_mode = 10;
  const CosimReport r = run_cosim(o);
  expect_value_mismatch(r, {0, 23, 0, 4, 512, 504});
  ASSERT_TRUE(r.mismatch);
  EXPECT_EQ(r.ops, 0u);
  EXPECT_NE(describe(*r.mismatch).find("column c=4"), std::string::npos) << describe(*r.mismatch);
}

TEST(Cosim, InjectedPsumFaultIsReportedAtItsVector) {
  // psum_in[1][3] of op 0 reaches the RTL as 0 ^ 1 = 1: C[1][3] = 1 + 8 x (7 x 7) = 393, not 392,
  // in cycle S + 1 + R + C - 1 = 8 + 1 + 15 = 24.
  CosimOptions o;
  o.fault = parse_fault("psum:0:1:3");
  o.ops_per_mode = 10;
  const CosimReport r = run_cosim(o);
  ASSERT_TRUE(r.mismatch);
  EXPECT_EQ(r.mismatch->op, 0u);
  EXPECT_EQ(r.mismatch->cycle, 24u);
  EXPECT_EQ(r.mismatch->row, 1u);
  EXPECT_EQ(r.mismatch->column, 3u);
  EXPECT_EQ(r.mismatch->expected, 392u);
  EXPECT_EQ(r.mismatch->actual, 393u);
}

TEST(Cosim, InjectedDelayIsReportedAsATimingMismatch) {
  // The RTL is not offered op 0's first vector in S_0 = 8, when the model accepts it.
  CosimOptions o;
  o.fault = parse_fault("delay:0");
  o.ops_per_mode = 10;
  const CosimReport r = run_cosim(o);
  ASSERT_TRUE(r.mismatch);
  EXPECT_EQ(r.mismatch->op, 0u);
  EXPECT_EQ(r.mismatch->cycle, 8u);
  EXPECT_FALSE(r.mismatch->column);
  EXPECT_NE(r.mismatch->what.find("input vector 0"), std::string::npos) << r.mismatch->what;
}

TEST(Cosim, WritesAVcdWaveform) {
  const std::string path = build_path("cosim-test.vcd");
  std::remove(path.c_str());
  CosimOptions o;
  o.rows = 4;
  o.cols = 4;
  o.ops_per_mode = 5;
  o.directed = false;
  o.wave_file = path;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u);
  std::ifstream in(path);
  ASSERT_TRUE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("$timescale"), std::string::npos);
  EXPECT_NE(text.find("w_ready"), std::string::npos);
  EXPECT_NE(text.find("shadow_q"), std::string::npos);  // internals too, not only the ports
}

TEST(Cosim, WritesAnFstWaveform) {
  const std::string path = build_path("cosim-test.fst");
  std::remove(path.c_str());
  CosimOptions o;
  o.rows = 2;
  o.cols = 3;
  o.ops_per_mode = 5;
  o.directed = false;
  o.wave_file = path;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u);
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good());
  in.seekg(0, std::ios::end);
  EXPECT_GT(in.tellg(), 100);
}

TEST(Cosim, RejectsSizesThatWereNotVerilated) {
  CosimOptions o;
  o.rows = 5;
  o.cols = 5;
  try {
    run_cosim(o);
    FAIL() << "5x5 accepted";
  } catch (const nibble::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("8x8, 4x4, 2x3"), std::string::npos) << e.what();
  }
}

TEST(Cosim, RejectsAWaveFileWithoutVcdOrFst) {
  CosimOptions o;
  o.wave_file = "tile.txt";
  EXPECT_THROW(run_cosim(o), nibble::InputError);
}

TEST(Cosim, ParsesFaultsAndRejectsMalformedOnes) {
  const Fault w = parse_fault("weight:3:2:1");
  EXPECT_EQ(w.kind, Fault::Kind::kWeight);
  EXPECT_EQ(w.op, 3u);
  EXPECT_EQ(w.row, 2u);
  EXPECT_EQ(w.col, 1u);
  EXPECT_EQ(parse_fault("delay:7").kind, Fault::Kind::kDelay);
  EXPECT_THROW(parse_fault("weight:3:2"), nibble::InputError);
  EXPECT_THROW(parse_fault("delay:x"), nibble::InputError);
  EXPECT_THROW(parse_fault("flip:1:2:3"), nibble::InputError);
}

/// Runs `nibble ARGS`, returns the exit code and stdout+stderr.
int run_nibble(const std::string& args, std::string* output) {
  const char* nibble = std::getenv("NIBBLE");
  if (!nibble || ::access(nibble, X_OK) != 0) return -1;  // the command is not built
  const std::string command = std::string(nibble) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  output->clear();
  while (std::fgets(buf.data(), buf.size(), pipe)) *output += buf.data();
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Dot-product PEs: the 8x4 tile of N = 4 (sim/cosim/CMakeLists.txt), a fold of 32 reduction rows.

/// Options for the 8x4 tile of 4-product PEs.
CosimOptions dot_tile() {
  CosimOptions o;
  o.rows = 8;
  o.cols = 4;
  o.dot = 4;
  return o;
}

TEST(CosimDot, DirectedAndRandomOps8x4Dot4MatchWithHandDerivedValues) {
  CosimOptions o = dot_tile();
  o.ops_per_mode = 1500;
  o.seed = 15;
  o.capture_ops = 200;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  // The op sources make folds of R x N = 32 reduction rows.
  const std::uint64_t directed = directed_ops(32, 4, tile_modes(), tile_accs()).size();
  EXPECT_EQ(r.directed_ops, directed);
  EXPECT_EQ(r.ops, directed + 4500);
  for (const PeMode m : tile_modes()) EXPECT_GE(r.ops_by_mode.at(static_cast<std::size_t>(m)), 1500u);
  // Consecutive folds start at least 2R + C - 1 = 19 cycles apart (the PE rows, not the 32 reduction rows).
  EXPECT_GE(r.cycles, 19u * (r.ops - 1));

  // 32 equal products per output: 32 x 64 = 2048, 32 x -56 = -1792, 32 x 49 = 1568.
  const std::uint64_t ext = directed_index(32, 4, "int4 -8*-8 and -8*7", 0);  // int32 first
  EXPECT_EQ(out(r, ext, 4, 0, 0), 2048u);
  EXPECT_EQ(out(r, ext, 4, 0, 1), static_cast<std::uint32_t>(-1792));
  EXPECT_EQ(out(r, ext, 4, 1, 3), 1568u);
  // In FP16: 2048 = 0x6800; -1792 = -1.75 x 2^10 -> 0xE700; 1568 = 1.53125 x 2^10 -> 0x6620.
  const std::uint64_t ext16 = directed_index(32, 4, "int4 -8*-8 and -8*7", 1);
  EXPECT_EQ(out(r, ext16, 4, 0, 0), 0x6800u);
  EXPECT_EQ(out(r, ext16, 4, 0, 1), 0xE700u);
  EXPECT_EQ(out(r, ext16, 4, 1, 3), 0x6620u);
  // One rounding per PE: each of the 8 PE rows adds 1 + 1 + 1 + 1 = 4 exactly onto 2048 (ulp 2), where
  // 32 MACs would each tie back to 2048: 2048 + 32 = 2080 = 0x6800 + 32 / 2 = 0x6810.
  const std::uint64_t per_pe = directed_index(32, 4, "fwd fp16 one rounding per PE");
  for (std::uint64_t c = 0; c < 4; ++c) EXPECT_EQ(out(r, per_pe, 4, 0, c), 0x6810u) << "column " << c;
}

TEST(CosimDot, OtherSeedFp16OnlyMatches) {
  CosimOptions o = dot_tile();
  o.accs = {Format::kFp16};
  o.ops_per_mode = 1000;
  o.seed = 2021;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  EXPECT_EQ(r.ops, directed_ops(32, 4, tile_modes(), {Format::kFp16}).size() + 3000);
}

TEST(CosimDot, TraceFoldsFollowTheDotProductTimingContract) {
  // One int4 x int4 GEMM, m = 10, n = 4, k = 64, on 8x4 PEs of N = 4: a fold reduces 32 rows, so
  // ceil(64/32) = 2 folds of T = 10 (docs/timing.md, "Dot-product PEs"), with the 8x4 rules:
  // P_0 = 0, S_0 = 8, D_0 = 8+10+8+4-1 = 29; P_1 = max(0+8, 8+8+4-1) = 19, S_1 = max(19+8, 8+10) = 27,
  // D_1 = 27+10+8+4-1 = 48. (MAC PEs would need 8 folds.)
  const std::string path = write_test_trace(
      "cosim-dot", {nibble::test::gemm("fc", 10, 4, 64, Format::kInt4, Format::kInt4, Format::kFp16)});

  CosimOptions o = dot_tile();
  o.directed = false;
  o.trace_file = path;
  const CosimReport r = run_cosim(o);
  ASSERT_EQ(r.mismatches, 0u) << describe(*r.mismatch);
  EXPECT_EQ(r.ops, 2u);
  EXPECT_EQ(r.cycles, 48u);
}

TEST(CosimDot, InjectedWeightFaultIsReportedAtItsColumnAndCycle) {
  // Op 0 is the first directed case, int4 -8*-8 (fwd, int32), with B[r][c] = -8 for even c. B[9][2]
  // (PE row 2, lane 1 of column 2's 4-wide chain) reaches the RTL as 0x9 = -7: column 2 of vector 0
  // sums 31 x 64 + 56 = 2040, not 2048, in cycle S + R + C - 1 = 8 + 8 + 4 - 1 = 19.
  CosimOptions o = dot_tile();
  o.fault = parse_fault("weight:0:9:2");
  o.ops_per_mode = 10;
  expect_value_mismatch(run_cosim(o), {0, 19, 0, 2, 2048, 2040});
}

TEST(CosimDot, RejectsADotProductSizeThatWasNotVerilated) {
  CosimOptions o;
  o.rows = 8;
  o.cols = 4;
  o.dot = 2;
  try {
    run_cosim(o);
    FAIL() << "8x4 --dot 2 accepted";
  } catch (const nibble::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("8x4 {setting:dot} 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not 8x4 {setting:dot} 2"), std::string::npos) << e.what();
  }
}

TEST(CosimDot, RejectsAnFstWaveformForTheVcdOnlyTile) {
  CosimOptions o = dot_tile();
  o.wave_file = build_path("cosim-dot.fst");
  EXPECT_THROW(run_cosim(o), nibble::InputError);
}

TEST(CosimCommand, PrintsTheSummaryLineLastAndExitsZero) {
  std::string text;
  const int rc = run_nibble("cosim --rows 4 --cols 4 --ops 50 --seed 9 --quiet", &text);
  ASSERT_NE(rc, -1) << "$NIBBLE does not name the built nibble command (a build dependency of this test)";
  EXPECT_EQ(rc, 0) << text;
  const auto last = text.rfind("cosim: ops=");
  ASSERT_NE(last, std::string::npos) << text;
  const std::string line = text.substr(last);
  unsigned long long ops = 0, cycles = 0, mismatches = 9, speed = 0;
  ASSERT_EQ(std::sscanf(line.c_str(), "cosim: ops=%llu cycles=%llu mismatches=%llu cycles_per_s=%llu", &ops, &cycles,
                        &mismatches, &speed),
            4)
      << line;
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // nothing after it
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GE(ops, 150u);
}

TEST(CosimCommand, ExitsOneOnAMismatchAndTwoOnBadInput) {
  std::string text;
  int rc = run_nibble("cosim --ops 10 --quiet --inject-fault weight:0:2:4", &text);
  ASSERT_NE(rc, -1) << "$NIBBLE does not name the built nibble command (a build dependency of this test)";
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("MISMATCH in cycle 23, op 0"), std::string::npos) << text;
  EXPECT_NE(text.find("cosim: ops=0 cycles=23 mismatches=1"), std::string::npos) << text;
  rc = run_nibble("cosim --rows 3 --cols 3", &text);
  EXPECT_EQ(rc, 2) << text;
  EXPECT_NE(text.find("8x8, 4x4, 2x3"), std::string::npos) << text;
  EXPECT_EQ(run_nibble("cosim --mode sideways", &text), 2) << text;
  EXPECT_EQ(run_nibble("cosim --acc fp8", &text), 2) << text;
  EXPECT_EQ(run_nibble("cosim --wave out.png", &text), 2) << text;
  EXPECT_EQ(run_nibble("cosim --inject-fault weight:1", &text), 2) << text;
  EXPECT_EQ(run_nibble("cosim --trace /nonexistent/x.trace", &text), 2) << text;
}

}  // namespace
