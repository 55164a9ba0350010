#include "sim/arch/tile.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/common/text.hpp"
#include "sim/numerics/block_dot.hpp"

namespace nibble::arch {

WsTileSchedule::WsTileSchedule(std::uint64_t rows, std::uint64_t cols) : m_rows(rows), m_cols(cols) {
  if (rows == 0 || cols == 0) throw std::logic_error("WsTileSchedule: the tile needs at least one row and column");
}

FoldTiming WsTileSchedule::next(std::uint64_t vectors, std::uint64_t weights_ready, std::uint64_t inputs_ready) {
  if (vectors == 0) throw std::logic_error("WsTileSchedule::next: a fold streams at least one vector");
  const std::uint64_t r = m_rows;
  const std::uint64_t c = m_cols;
  FoldTiming t;
  // docs/timing.md, "Overlap of consecutive folds": each start as early as the rules allow.
  t.preload_start = weights_ready;                                           // P_f >= W_f
  if (!m_first) {
    t.preload_start = std::max(t.preload_start, m_last.preload_start + r);   // shift chain busy with f-1
    t.preload_start = std::max(t.preload_start, m_last.stream_start + r + c - 1);  // PE(R-1,C-1) copied f-1
  }
  t.stream_start = std::max(t.preload_start + r, inputs_ready);              // shadows full; S_f >= A_f
  if (!m_first) t.stream_start = std::max(t.stream_start, m_last.stream_start + m_last_vectors);  // input port
  t.done = t.stream_start + vectors + r + c - 1;                             // D_f = S_f + T_f + R + C - 1
  m_first = false;
  m_last = t;
  m_last_vectors = vectors;
  return t;
}

std::vector<std::uint32_t> compute_tile_fold(std::uint64_t rows, std::uint64_t cols, const TileFold& fold) {
  if (rows == 0 || cols == 0) throw std::logic_error("compute_tile_fold: empty tile");
  if (fold.b.size() != rows * cols) {
    throw std::logic_error("compute_tile_fold: b has " + std::to_string(fold.b.size()) + " codes, tile has " +
                           std::to_string(rows * cols) + " PEs");
  }
  if (fold.a.size() % rows != 0) throw std::logic_error("compute_tile_fold: a is not T whole vectors of R codes");
  const std::uint64_t vectors = fold.a.size() / rows;
  if (fold.psum_in.size() != vectors * cols) {
    throw std::logic_error("compute_tile_fold: psum_in must hold T x C accumulator words");
  }
  if (fold.dot == 0) throw std::logic_error("compute_tile_fold: a PE takes at least one product");
  std::vector<std::uint32_t> out(fold.psum_in);
  if (fold.dot == 1) {
    for (std::uint64_t m = 0; m < vectors; ++m) {
      const std::uint32_t* a = fold.a.data() + m * rows;
      std::uint32_t* acc = out.data() + m * cols;
      // Column c's partial sum passes rows 0..R-1 top to bottom, one add per row.
      for (std::uint64_t r = 0; r < rows; ++r) {
        const std::uint32_t* b = fold.b.data() + r * cols;
        for (std::uint64_t c = 0; c < cols; ++c) acc[c] = numerics::pe_mac(fold.arith, fold.mode, acc[c], a[r], b[c]);
      }
    }
    return out;
  }
  // Dot-product PEs: PE row p holds the N weights of reduction rows pN..pN+N-1
  // of its column and adds their N products to the partial sum at once.
  std::vector<std::uint32_t> weights(fold.dot);
  const bool block = numerics::pe_block_mode(fold.mode);
  const numerics::BlockFormat* format = block ? &numerics::pe_block_format(fold.mode) : nullptr;
  const std::uint64_t blk = block ? format->block : 1;
  const std::uint64_t blocks = ceil_div(rows, blk);  // block scales per streamed vector / tile column
  if (block && (fold.dot % blk != 0 || fold.a_scales.size() != vectors * blocks || fold.b_scales.size() != blocks * cols)) {
    throw std::logic_error("compute_tile_fold: a block mode needs N a multiple of the block and T x ceil(R/B) + "
                           "ceil(R/B) x C block scales");
  }
  const numerics::FloatSpec& acc_spec = fold.arith.acc == numerics::Format::kFp16 ? numerics::kFp16Spec : numerics::kFp32Spec;
  std::vector<std::uint32_t> wscales(block ? fold.dot / blk : 0);
  for (std::uint64_t m = 0; m < vectors; ++m) {
    const std::uint32_t* a = fold.a.data() + m * rows;
    std::uint32_t* acc = out.data() + m * cols;
    for (std::uint64_t r0 = 0; r0 < rows; r0 += fold.dot) {
      const std::uint64_t n = std::min(fold.dot, rows - r0);
      for (std::uint64_t c = 0; c < cols; ++c) {
        for (std::uint64_t i = 0; i < n; ++i) weights[i] = fold.b[(r0 + i) * cols + c];
        if (!block) {
          acc[c] = numerics::pe_dot(fold.arith, fold.mode, acc[c], a + r0, weights.data(), n);
          continue;
        }
        for (std::uint64_t j = 0; j * blk < n; ++j) wscales[j] = fold.b_scales[(r0 / blk + j) * cols + c];
        acc[c] = static_cast<std::uint32_t>(numerics::block_dot_run(acc[c], *format, a + r0,
                                                                    fold.a_scales.data() + m * blocks + r0 / blk,
                                                                    weights.data(), wscales.data(), n, acc_spec));
      }
    }
  }
  return out;
}

}  // namespace nibble::arch
