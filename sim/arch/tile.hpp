// The weight-stationary tile rules of docs/timing.md as code: when each fold
// preloads, streams and is done, and what values it produces. The SystemC
// array uses them for every fold it simulates; the RTL co-simulation
// compares the Verilated tile against them, cycle for cycle and bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/numerics/dot.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::arch {

/// Cycles of one fold (docs/timing.md, "Weight-stationary tile").
struct FoldTiming {
  std::uint64_t preload_start = 0;  ///< P_f: first weight row enters
  std::uint64_t stream_start = 0;   ///< S_f: first input vector presented
  std::uint64_t done = 0;           ///< D_f = S_f + T_f + R + C - 1
};

/// Applies the overlap rules fold after fold, each fold as early as allowed.
class WsTileSchedule {
 public:
  WsTileSchedule(std::uint64_t rows, std::uint64_t cols);

  /// Schedules the next fold of `vectors` (T >= 1) input vectors whose
  /// weights are available from cycle `weights_ready` and inputs from
  /// `inputs_ready` (0 and 0 with ideal memory).
  FoldTiming next(std::uint64_t vectors, std::uint64_t weights_ready = 0, std::uint64_t inputs_ready = 0);

 private:
  std::uint64_t m_rows;                 ///< R
  std::uint64_t m_cols;                 ///< C
  bool m_first = true;                  ///< no fold scheduled yet
  FoldTiming m_last;                    ///< the previous fold
  std::uint64_t m_last_vectors = 0;     ///< T of the previous fold
};

/// Operands of one fold for the functional path.
struct TileFold {
  numerics::PeMode mode = numerics::PeMode::kInt4xInt4;  ///< datapath of every PE in this fold
  numerics::PeArith arith;                               ///< accumulator format, FP4 bias
  std::vector<std::uint32_t> b;        ///< R*C stationary codes, b[r * C + c]
  std::vector<std::uint32_t> a;        ///< T*R streamed codes, a[m * R + r]
  std::vector<std::uint32_t> psum_in;  ///< T*C accumulator words entering the top, psum_in[m * C + c]
  std::uint64_t dot = 1;               ///< N: reduction elements per PE (numerics::pe_dot); 1 = MAC PEs
  /// Block modes (numerics::pe_block_mode; N a multiple of the block B): the
  /// streamed vectors' block scales, T x ceil(R/B), a_scales[m * ceil(R/B) + j].
  std::vector<std::uint32_t> a_scales;
  std::vector<std::uint32_t> b_scales;  ///< block modes: the tile's block scales, ceil(R/B) x C, b_scales[j * C + c]
};

/// The fold's outputs out[m * C + c]: psum_in[m][c] accumulated with the
/// products of reduction rows r = 0..R-1 in that order (docs/timing.md); with
/// fold.dot = N each PE row p adds rows pN..pN+N-1 as one pe_dot (the last PE
/// row may take fewer), so `rows` counts reduction elements, not PE rows.
/// In a block mode each PE row adds its N elements as N/B blocks, one
/// numerics::block_dot_accumulate each, in k order (docs/timing.md, "Block-FP4 PEs").
std::vector<std::uint32_t> compute_tile_fold(std::uint64_t rows, std::uint64_t cols, const TileFold& fold);

}  // namespace nibble::arch
