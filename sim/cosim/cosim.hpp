// `nibble cosim`: the Verilated RTL tile (hw/rtl) and the SystemC tile model
// (TileModel: arch::WsTileSchedule + arch::compute_tile_fold) side by side in
// one SystemC simulation, fed the same tile operations by one driver, compared
// every cycle: the handshakes that start each preload and stream, every output
// value with the cycle it appears in, and the cycle each fold is done.
//
// A SystemC kernel elaborates once per process, so run_cosim() can be called
// once per process (a second call is a std::logic_error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/cosim/ops.hpp"

namespace nibble::cosim {

/// A deliberate fault the driver injects on the RTL side only (testing: it
/// proves that the comparison catches and locates a wrong value or cycle).
struct Fault {
  enum class Kind : std::uint8_t {
    kNone,    ///< no fault
    kWeight,  ///< B[row][col] of op `op` reaches the RTL with bit 0 flipped
    kPsum,    ///< psum_in[vector][col] of op `op` reaches the RTL with bit 0 flipped
    kDelay,   ///< the RTL sees op `op`'s first input vector one cycle late
  };
  Kind kind = Kind::kNone;  ///< what is injected
  std::uint64_t op = 0;     ///< global op index (feeding order)
  std::uint64_t row = 0;    ///< kWeight: stationary row r; kPsum: vector m
  std::uint64_t col = 0;    ///< column c
};

/// Parses `weight:OP:ROW:COL`, `psum:OP:VECTOR:COL` or `delay:OP`; InputError
/// (field setting_ref("inject_fault")) naming the expected forms otherwise.
Fault parse_fault(const std::string& text);

/// Everything one co-simulation run needs.
struct CosimOptions {
  std::uint64_t rows = 8;                 ///< R, one of rtl_tile_sizes()
  std::uint64_t cols = 8;                 ///< C
  std::uint64_t dot = 1;                  ///< N, products per PE (a Verilated DOT_N; 1 = MAC PEs)
  std::vector<OpMode> modes;              ///< datapaths to run (empty = all three)
  std::vector<AccKind> accs;              ///< accumulators to run (empty = both)
  std::uint64_t ops_per_mode = 1000;      ///< random (or trace) ops per selected mode
  std::uint64_t seed = 1;                 ///< seeds every random choice
  bool directed = true;                   ///< run the directed corner cases first
  std::string trace_file;                 ///< non-empty: ops from this trace instead of random ones
  std::string wave_file;                  ///< non-empty: waveform (.vcd or .fst) of the RTL
  Fault fault;                            ///< testing only
  std::uint64_t capture_ops = 0;          ///< keep the RTL outputs of the first N ops (tests)
  bool progress = false;                  ///< report progress on stderr
};

/// Where and how the first disagreement showed.
struct Mismatch {
  std::uint64_t cycle = 0;   ///< tile cycle (docs/timing.md numbering)
  std::uint64_t op = 0;      ///< global op index
  std::string what;          ///< the port activity or value that differed, in words
  std::optional<std::uint64_t> row;     ///< output row m of C (output mismatches)
  std::optional<std::uint64_t> column;  ///< column c of the tile (output mismatches)
  std::optional<std::uint32_t> expected;  ///< model value (output mismatches)
  std::optional<std::uint32_t> actual;    ///< RTL value (output mismatches)
  std::string detail;        ///< further lines: the op, the expected partial sums
};

/// Outcome of a run.
struct CosimReport {
  std::uint64_t ops = 0;             ///< ops whose every output and cycle matched
  std::uint64_t ops_fed = 0;         ///< ops scheduled (handed to the model; the RTL gets them in order)
  std::uint64_t cycles = 0;          ///< tile cycles simulated (the last op's done cycle)
  std::uint64_t mismatches = 0;      ///< 0 or 1: the run stops at the first one
  std::optional<Mismatch> mismatch;  ///< the first disagreement
  std::vector<std::uint64_t> ops_by_mode;  ///< matched ops per OpMode (index = enum value)
  std::uint64_t directed_ops = 0;    ///< of which directed corner cases
  std::uint64_t skipped_trace_ops = 0;  ///< trace GEMMs whose formats the tile has no datapath for
  double seconds = 0;                ///< wall time of the simulation proper
  std::vector<std::vector<std::uint32_t>> captured;  ///< RTL outputs out[m*C+c] of the first capture_ops ops

  /// Tile cycles per second of wall time, rounded down (0 if no time passed).
  std::uint64_t cycles_per_second() const;
};

/// Runs one co-simulation. Bad options (size not built, wave suffix, trace
/// file) are InputErrors. Once per process (SystemC elaborates once).
CosimReport run_cosim(const CosimOptions& options);

/// The human-readable description of a mismatch (several lines).
std::string describe(const Mismatch& mismatch);

}  // namespace nibble::cosim
