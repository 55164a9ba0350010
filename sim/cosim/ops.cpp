#include "sim/cosim/ops.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/int4.hpp"
#include "workloads/trace.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::cosim {

using numerics::PeMode;

const std::vector<OpMode>& tile_modes() {
  static const std::vector<OpMode> modes{PeMode::kInt4xInt4, PeMode::kFp4xInt4, PeMode::kInt4xFp4};
  return modes;
}

std::string_view mode_name(OpMode mode) {
  switch (mode) {
    case PeMode::kInt4xInt4: return "fwd";
    case PeMode::kFp4xInt4: return "bwd-odd";
    case PeMode::kInt4xFp4: return "bwd-even";
    default: break;
  }
  throw std::logic_error("cosim::mode_name: the tile has no datapath for this PE mode");
}

std::optional<OpMode> parse_mode(std::string_view name) {
  for (const OpMode mode : tile_modes()) {
    if (mode_name(mode) == name) return mode;
  }
  return std::nullopt;
}

const std::vector<AccKind>& tile_accs() {
  static const std::vector<AccKind> accs{Format::kInt32, Format::kFp16};
  return accs;
}

namespace {

constexpr std::uint32_t kInt32Max = 0x7FFFFFFFu;
constexpr std::uint32_t kInt32Min = 0x80000000u;

bool contains(const std::vector<OpMode>& modes, OpMode mode) {
  return std::find(modes.begin(), modes.end(), mode) != modes.end();
}
bool contains(const std::vector<AccKind>& accs, AccKind acc) {
  return std::find(accs.begin(), accs.end(), acc) != accs.end();
}

std::uint32_t int4(int value) { return numerics::int4_bits(value); }
std::uint32_t fp4(bool negative, int exponent) { return numerics::fp4_code(negative, exponent); }

/// An all-zero op (zero codes are zero in INT4 and FP4; psum_in +0 / 0).
CosimOp blank_op(std::uint64_t rows, std::uint64_t cols, OpMode mode, AccKind acc, std::uint64_t vectors,
                 std::string origin) {
  CosimOp op;
  op.fold.mode = mode;
  op.fold.arith.acc = acc;
  op.fold.b.assign(rows * cols, 0);
  op.fold.a.assign(vectors * rows, 0);
  op.fold.psum_in.assign(vectors * cols, 0);
  op.vectors = vectors;
  op.origin = std::move(origin);
  return op;
}

/// Mutable view of an op's operands by (row, column) / (vector, row) / (vector, column).
struct OpView {
  CosimOp& op;
  std::uint64_t rows;
  std::uint64_t cols;
  std::uint32_t& b(std::uint64_t r, std::uint64_t c) { return op.fold.b.at(r * cols + c); }
  std::uint32_t& a(std::uint64_t m, std::uint64_t r) { return op.fold.a.at(m * rows + r); }
  std::uint32_t& psum(std::uint64_t m, std::uint64_t c) { return op.fold.psum_in.at(m * cols + c); }
};

/// Random codes and psum_in words, the same distributions as the random source.
/// Draws come from 64-bit words of one mt19937_64 stream, a few bits at a time:
/// stimulus needs no rejection-free uniformity, and the generator must stay
/// cheap next to the two tiles it feeds (docs/rtl.md, "Speed").
class OperandDraws {
 public:
  explicit OperandDraws(std::uint64_t seed) : m_rng(seed) {}

  /// `count` (1..32) fresh random bits.
  std::uint64_t bits(int count) {
    if (m_left < count) {
      m_buffer = m_rng();
      m_left = 64;
    }
    const std::uint64_t value = m_buffer & ((std::uint64_t{1} << count) - 1);
    m_buffer >>= count;
    m_left -= count;
    return value;
  }
  /// A number in lo..hi: from 32 bits by multiply-shift for a span below 2^32.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    const std::uint64_t span = hi - lo;
    if (span >= 0xFFFFFFFFull) return lo + (span == ~std::uint64_t{0} ? m_rng() : m_rng() % (span + 1));
    return lo + ((bits(32) * (span + 1)) >> 32);
  }
  /// True with probability p (in steps of 2^-16).
  bool chance(double p) { return static_cast<double>(bits(16)) < p * 65536.0; }
  std::uint32_t code() { return static_cast<std::uint32_t>(bits(4)); }

  /// An accumulator word: int32 mostly small, sometimes anywhere or near the
  /// saturation limits; fp16 any finite value (subnormals included), small
  /// ones, or a special (+-0, +-inf, NaN, +-max).
  std::uint32_t psum(AccKind acc) {
    if (acc == Format::kInt32) {
      const std::uint64_t kind = bits(2);
      if (kind <= 1) return static_cast<std::uint32_t>(static_cast<std::int64_t>(bits(13)) - 4096);
      if (kind == 2) return static_cast<std::uint32_t>(bits(32));
      const auto offset = static_cast<std::uint32_t>(bits(18));
      return bits(1) ? kInt32Max - offset : kInt32Min + offset;
    }
    const std::uint32_t sign = bits(1) ? 0x8000u : 0u;
    const std::uint64_t kind = uniform(0, 9);
    if (kind <= 5) return sign | static_cast<std::uint32_t>(uniform(0, 30) << 10 | bits(10));
    if (kind <= 7) return sign | static_cast<std::uint32_t>(uniform(0, 5) << 10 | bits(10));
    static const std::uint32_t specials[] = {0x0000u, 0x7C00u, 0x7E00u, 0x7BFFu, 0x7C01u, 0x7FFFu};
    return sign | specials[uniform(0, 5)];
  }

 private:
  std::mt19937_64 m_rng;       ///< the one stream every draw comes from
  std::uint64_t m_buffer = 0;  ///< unused bits of the last draw
  int m_left = 0;              ///< how many
};

/// Fills every operand of `op` at random.
void randomize(OperandDraws& draws, CosimOp& op) {
  for (auto& code : op.fold.b) code = draws.code();
  for (auto& code : op.fold.a) code = draws.code();
  for (auto& word : op.fold.psum_in) word = draws.psum(op.fold.arith.acc);
}

class ListSource : public OpSource {
 public:
  explicit ListSource(std::vector<CosimOp> ops) : m_ops(std::move(ops)) {}
  std::optional<CosimOp> next() override {
    if (m_next >= m_ops.size()) return std::nullopt;
    return std::move(m_ops[m_next++]);
  }

 private:
  std::vector<CosimOp> m_ops;  ///< in feeding order
  std::size_t m_next = 0;      ///< the next one to hand out
};

class ChainSource : public OpSource {
 public:
  ChainSource(std::unique_ptr<OpSource> first, std::unique_ptr<OpSource> second)
      : m_first(std::move(first)), m_second(std::move(second)) {}
  std::optional<CosimOp> next() override {
    if (m_first) {
      if (auto op = m_first->next()) return op;
      m_first.reset();
    }
    return m_second ? m_second->next() : std::nullopt;
  }

 private:
  std::unique_ptr<OpSource> m_first;   ///< drained first
  std::unique_ptr<OpSource> m_second;  ///< then this one
};

class RandomSource : public OpSource {
 public:
  RandomSource(std::uint64_t rows, std::uint64_t cols, std::vector<OpMode> modes, std::vector<AccKind> accs,
               std::uint64_t per_mode, std::uint64_t seed)
      : m_rows(rows), m_cols(cols), m_modes(std::move(modes)), m_accs(std::move(accs)),
        m_left(m_modes.size(), per_mode), m_draws(seed) {}

  std::optional<CosimOp> next() override {
    std::uint64_t total = 0;
    for (const auto left : m_left) total += left;
    if (total == 0) return std::nullopt;
    // Each mode keeps exactly per_mode ops; the order interleaves them at random.
    std::uint64_t pick = m_draws.uniform(0, total - 1);
    std::size_t index = 0;
    while (pick >= m_left[index]) pick -= m_left[index++];
    --m_left[index];
    const AccKind acc = m_accs[m_draws.uniform(0, m_accs.size() - 1)];
    // T below and above 2R+C-1, the length from which preload and fill hide under the stream.
    const std::uint64_t vectors = m_draws.uniform(1, 2 * (2 * m_rows + m_cols - 1));
    CosimOp op = blank_op(m_rows, m_cols, m_modes[index], acc, vectors, "random");
    // A quarter of the ops whose streamed operand is an activation read it as UINT4 (post-ReLU).
    if (op.fold.mode != PeMode::kFp4xInt4) op.fold.arith.a_unsigned = m_draws.bits(2) == 0;
    randomize(m_draws, op);
    if (m_draws.chance(0.15)) op.weights_gap = m_draws.uniform(1, 2 * (m_rows + m_cols));
    if (m_draws.chance(0.15)) op.inputs_gap = m_draws.uniform(1, 2 * (m_rows + m_cols));
    return op;
  }

 private:
  std::uint64_t m_rows;               ///< R
  std::uint64_t m_cols;               ///< C
  std::vector<OpMode> m_modes;        ///< modes to draw from
  std::vector<AccKind> m_accs;        ///< accumulators to draw from
  std::vector<std::uint64_t> m_left;  ///< ops still to produce, per mode
  OperandDraws m_draws;               ///< every random choice
};

bool is_int4(Format f) { return f == Format::kInt4 || f == Format::kUint4; }

/// Maps a trace GEMM's operand formats onto a tile datapath. A UINT4 A (post-ReLU
/// activations) runs with the a_unsigned flag, as in the SystemC model
/// (sim/design/pe_support.cpp); a UINT4 B has no datapath there, nor here.
std::optional<OpMode> mode_of(const workloads::TraceOp& op) {
  if (op.b_format == Format::kUint4) return std::nullopt;
  if (is_int4(op.a_format) && op.b_format == Format::kInt4) return PeMode::kInt4xInt4;
  if (op.a_format == Format::kFp4 && op.b_format == Format::kInt4) return PeMode::kFp4xInt4;
  if (is_int4(op.a_format) && op.b_format == Format::kFp4) return PeMode::kInt4xFp4;
  return std::nullopt;
}

class TraceSource : public OpSource {
 public:
  TraceSource(workloads::Trace trace, std::uint64_t rows, std::uint64_t cols, std::vector<OpMode> modes,
              std::vector<AccKind> accs, std::uint64_t per_mode, std::uint64_t seed, std::uint64_t* skipped)
      : m_trace(std::move(trace)), m_rows(rows), m_cols(cols), m_modes(std::move(modes)),
        m_accs(std::move(accs)), m_left(m_modes.size(), per_mode), m_draws(seed) {
    std::uint64_t count = 0;
    for (const auto& op : m_trace.ops) {
      if (!op.is_gemm()) continue;
      const auto mode = mode_of(op);
      if (!mode || !contains(tile_accs(), op.acc_format)) ++count;
    }
    if (skipped) *skipped = count;
  }

  std::optional<CosimOp> next() override {
    while (true) {
      if (!m_current && !advance_op()) return std::nullopt;
      if (m_left.at(mode_index()) == 0) {
        m_current.reset();  // this mode's quota is used up: skip the rest of the GEMM
        continue;
      }
      --m_left[mode_index()];
      return next_fold();
    }
  }

 private:
  struct Gemm {
    const workloads::TraceOp* op = nullptr;
    OpMode mode = PeMode::kInt4xInt4;
    std::uint64_t group = 0;   ///< current group
    std::uint64_t n_tile = 0;  ///< current column tile
    std::uint64_t k_tile = 0;  ///< current reduction tile
    std::vector<std::uint32_t> carry;  ///< output of the previous k-fold, T x C
  };

  std::size_t mode_index() const {
    return static_cast<std::size_t>(std::find(m_modes.begin(), m_modes.end(), m_current->mode) - m_modes.begin());
  }

  bool advance_op() {
    while (m_next_op < m_trace.ops.size()) {
      const auto& op = m_trace.ops[m_next_op++];
      if (!op.is_gemm()) continue;
      const auto mode = mode_of(op);
      if (!mode || !contains(m_modes, *mode) || !contains(m_accs, op.acc_format)) continue;
      if (!contains(tile_accs(), op.acc_format)) continue;
      m_current = Gemm{};
      m_current->op = &op;
      m_current->mode = *mode;
      return true;
    }
    return false;
  }

  CosimOp next_fold() {
    Gemm& g = *m_current;
    const auto& op = *g.op;
    const std::uint64_t k0 = g.k_tile * m_rows;
    const std::uint64_t n0 = g.n_tile * m_cols;
    CosimOp fold = blank_op(m_rows, m_cols, g.mode, op.acc_format, op.m,
                            "trace " + op.layer + " " + std::string(workloads::phase_name(op.phase)) + " group " +
                                std::to_string(g.group) + " n0=" + std::to_string(n0) + " k0=" + std::to_string(k0));
    fold.fold.arith.a_unsigned = op.a_format == Format::kUint4;  // codes 0..15 read as UINT4
    OpView view{fold, m_rows, m_cols};
    // A trace holds shapes, not data: each fold's operand tiles are drawn here;
    // the rows past k and the columns past n stay zero (padding).
    for (std::uint64_t r = 0; r < m_rows && k0 + r < op.k; ++r) {
      for (std::uint64_t c = 0; c < m_cols && n0 + c < op.n; ++c) {
        view.b(r, c) = static_cast<std::uint32_t>(m_draws.bits(4));
      }
      for (std::uint64_t m = 0; m < op.m; ++m) view.a(m, r) = static_cast<std::uint32_t>(m_draws.bits(4));
    }
    // The sum over k starts from zero and runs through the k-folds in order (docs/timing.md).
    if (g.k_tile > 0) fold.fold.psum_in = g.carry;
    // Next fold: k innermost so that each output's k-folds follow each other.
    if ((g.k_tile + 1) * m_rows >= op.k) {
      g.k_tile = 0;
      g.carry.clear();
      if (++g.n_tile * m_cols >= op.n) {
        g.n_tile = 0;
        if (++g.group >= op.groups) m_current.reset();
      }
    } else {
      ++g.k_tile;
      g.carry = arch::compute_tile_fold(m_rows, m_cols, fold.fold);
    }
    return fold;
  }

  workloads::Trace m_trace;           ///< the whole trace (ops are referenced by pointer)
  std::uint64_t m_rows;               ///< R
  std::uint64_t m_cols;               ///< C
  std::vector<OpMode> m_modes;        ///< modes to take
  std::vector<AccKind> m_accs;        ///< accumulators to take
  std::vector<std::uint64_t> m_left;  ///< folds still allowed, per mode
  OperandDraws m_draws;               ///< operand codes
  std::size_t m_next_op = 0;          ///< next trace op to look at
  std::optional<Gemm> m_current;      ///< the GEMM being split into folds
};

}  // namespace

std::vector<CosimOp> directed_ops(std::uint64_t rows, std::uint64_t cols, const std::vector<OpMode>& modes,
                                  const std::vector<AccKind>& accs) {
  const std::uint64_t R = rows;
  const std::uint64_t C = cols;
  std::vector<CosimOp> out;
  // Fixed seed: the directed cases do not change with --seed.
  OperandDraws draws(0x6e6962626c65ull);
  const bool fwd = contains(modes, PeMode::kInt4xInt4);
  const bool i32 = contains(accs, Format::kInt32);
  const bool f16 = contains(accs, Format::kFp16);
  std::vector<OpMode> used_modes;
  for (const OpMode m : tile_modes()) {
    if (contains(modes, m)) used_modes.push_back(m);
  }
  std::vector<AccKind> used_accs;
  for (const AccKind a : tile_accs()) {
    if (contains(accs, a)) used_accs.push_back(a);
  }
  if (used_modes.empty() || used_accs.empty()) {
    throw std::logic_error("cosim::directed_ops: no tile mode or accumulator selected");
  }
  // For the FP4 modes: put the FP4 code on whichever side the mode streams it.
  // set_pair(view, m, r, c, int4 value, fp4 code) assigns A[m][r] and B[r][c].
  const auto set_pair = [](OpView& v, OpMode mode, std::uint64_t m, std::uint64_t r, std::uint64_t c,
                           int int_value, std::uint32_t fp4_code_bits) {
    if (mode == PeMode::kFp4xInt4) {
      v.a(m, r) = fp4_code_bits;
      v.b(r, c) = int4(int_value);
    } else {
      v.a(m, r) = int4(int_value);
      v.b(r, c) = fp4_code_bits;
    }
  };

  // 1. The INT4 extremes: -8 x -8 = 64 (the only product needing 8 bits) and -8 x 7 = -56.
  if (fwd) {
    for (const AccKind acc : used_accs) {
      CosimOp op = blank_op(R, C, PeMode::kInt4xInt4, acc, 2, "int4 -8*-8 and -8*7");
      OpView v{op, R, C};
      for (std::uint64_t r = 0; r < R; ++r) {
        for (std::uint64_t c = 0; c < C; ++c) v.b(r, c) = int4(c % 2 == 0 ? -8 : 7);
        v.a(0, r) = int4(-8);
        v.a(1, r) = int4(7);
      }
      out.push_back(std::move(op));
    }
  }
  // 1b. UINT4 activations (a_unsigned): 15 x 7 = 105 and 15 x -8 = -120, the extremes, and
  //     code 8 read as +8 (it would be -8 signed): 8 x 7 = 56, 8 x -8 = -64.
  if (fwd) {
    for (const AccKind acc : used_accs) {
      CosimOp op = blank_op(R, C, PeMode::kInt4xInt4, acc, 2, "uint4 15*7 and 15*-8");
      op.fold.arith.a_unsigned = true;
      OpView v{op, R, C};
      for (std::uint64_t r = 0; r < R; ++r) {
        for (std::uint64_t c = 0; c < C; ++c) v.b(r, c) = int4(c % 2 == 0 ? 7 : -8);
        v.a(0, r) = 15;
        v.a(1, r) = 8;
      }
      out.push_back(std::move(op));
    }
  }
  //     And UINT4 15 (and 8) x the largest FP4 shift: +-15 << 12 = +-61440, the largest product.
  if (contains(modes, PeMode::kInt4xFp4)) {
    for (const AccKind acc : used_accs) {
      CosimOp op = blank_op(R, C, PeMode::kInt4xFp4, acc, 2, "uint4 15 x largest FP4 shift");
      op.fold.arith.a_unsigned = true;
      OpView v{op, R, C};
      for (std::uint64_t r = 0; r < R; ++r) {
        for (std::uint64_t c = 0; c < C; ++c) v.b(r, c) = fp4(c % 2 == 1, 7);
        v.a(0, r) = 15;
        v.a(1, r) = 8;
      }
      out.push_back(std::move(op));
    }
  }
  // 2. The largest FP4 shift (e = 7: << 12, |P| up to 2^15) and 3. the smallest (e = 1: << 0) and zero (e = 0, +-0).
  for (const OpMode mode : {PeMode::kFp4xInt4, PeMode::kInt4xFp4}) {
    if (!contains(modes, mode)) continue;
    for (const AccKind acc : used_accs) {
      CosimOp big = blank_op(R, C, mode, acc, 2, std::string(mode_name(mode)) + " largest FP4 shift");
      OpView vb{big, R, C};
      CosimOp small = blank_op(R, C, mode, acc, 4, std::string(mode_name(mode)) + " smallest FP4 shift and zeros");
      OpView vs{small, R, C};
      for (std::uint64_t r = 0; r < R; ++r) {
        for (std::uint64_t c = 0; c < C; ++c) {
          // Streamed FP4 (bwd-odd): B holds the INT4 side, same for both vectors.
          set_pair(vb, mode, 0, r, c, c % 2 == 0 ? -8 : 7, fp4((r + c) % 2 == 1, 7));
          set_pair(vb, mode, 1, r, c, c % 2 == 0 ? 7 : -8, fp4((r + c) % 2 == 0, 7));
          const int small_int = static_cast<int>((r * C + c) % 16) - 8;
          static const std::uint32_t kSmall[] = {0x1u, 0x9u, 0x0u, 0x8u};  // +-4^(1-bias), +0, -0
          for (std::uint64_t m = 0; m < 4; ++m) set_pair(vs, mode, m, r, c, small_int, kSmall[(m + r + c) % 4]);
        }
      }
      out.push_back(std::move(big));
      out.push_back(std::move(small));
    }
  }
  // 4. int32 saturation, per add: the first row's product pushes past the limit, the
  //    later rows come back from it (a wide accumulator would end elsewhere).
  if (i32) {
    for (const OpMode mode : used_modes) {
      CosimOp op = blank_op(R, C, mode, Format::kInt32, 4, std::string(mode_name(mode)) + " int32 saturation");
      OpView v{op, R, C};
      for (std::uint64_t c = 0; c < C; ++c) {
        if (mode == PeMode::kInt4xInt4) {
          // B: row 0 = -8, rows 1.. = 7. Vector 0: A = -8: +64 then -56 each; vector 1: A = 7: -56 then +49 each.
          for (std::uint64_t r = 0; r < R; ++r) v.b(r, c) = int4(r == 0 ? -8 : 7);
          for (std::uint64_t r = 0; r < R; ++r) {
            v.a(0, r) = int4(-8);
            v.a(1, r) = int4(7);
          }
          v.a(3, 0) = int4(-8);  // vector 3: +64 into INT32_MAX, the rest zero
        } else {
          // B (or A) INT4: row 0 = -8, rows 1.. = 7; FP4 e = 7: vector 0 (-) gives +2^15 then -7*2^12 each;
          // vector 1 (+) gives -2^15 then +7*2^12 each.
          for (std::uint64_t r = 0; r < R; ++r) {
            set_pair(v, mode, 0, r, c, r == 0 ? -8 : 7, fp4(true, 7));
            set_pair(v, mode, 1, r, c, r == 0 ? -8 : 7, fp4(false, 7));
          }
          if (mode == PeMode::kFp4xInt4) {
            v.a(3, 0) = fp4(true, 7);
          } else {
            v.a(3, 0) = int4(-8);
          }
        }
        v.psum(0, c) = kInt32Max - static_cast<std::uint32_t>(c);
        v.psum(1, c) = kInt32Min + static_cast<std::uint32_t>(c);
        v.psum(2, c) = c % 2 == 0 ? kInt32Max : kInt32Min;  // vector 2: all products zero
        v.psum(3, c) = kInt32Max;
      }
      out.push_back(std::move(op));
    }
  }
  if (f16) {
    for (const OpMode mode : used_modes) {
      const std::string name(mode_name(mode));
      // 5. Subnormals: only row 0 contributes; psum_in per column.
      {
        CosimOp op = blank_op(R, C, mode, Format::kFp16, 2, name + " fp16 subnormals");
        OpView v{op, R, C};
        static const std::uint32_t kPsum[] = {0x0BFFu, 0x0001u, 0x8001u, 0x03FFu, 0x83FFu, 0x0400u, 0x8400u, 0x0000u};
        for (std::uint64_t c = 0; c < C; ++c) {
          if (mode == PeMode::kInt4xInt4) {
            v.b(0, c) = int4(1);
            v.a(0, 0) = int4(-1);
            v.a(1, 0) = int4(1);
          } else {
            // -1 x 4^(1-7) = -2^-12 (vector 0) and +2^-12 (vector 1).
            set_pair(v, mode, 0, 0, c, -1, fp4(false, 1));
            set_pair(v, mode, 1, 0, c, 1, fp4(false, 1));
          }
          v.psum(0, c) = kPsum[c % 8];
          v.psum(1, c) = kPsum[c % 8] ^ 0x8000u;
        }
        out.push_back(std::move(op));
      }
      // 6. Overflow to +-inf, and the largest finite value that still rounds down.
      {
        CosimOp op = blank_op(R, C, mode, Format::kFp16, 2, name + " fp16 overflow");
        OpView v{op, R, C};
        for (std::uint64_t c = 0; c < C; ++c) {
          for (std::uint64_t r = 0; r < R; ++r) {
            if (mode == PeMode::kInt4xInt4) {
              v.b(r, c) = int4(-8);
              v.a(0, r) = int4(-8);  // +64 per row
              v.a(1, r) = int4(7);   // -56 per row
            } else {
              set_pair(v, mode, 0, r, c, -8, fp4(true, 7));   // +8 per row
              set_pair(v, mode, 1, r, c, -8, fp4(false, 7));  // -8 per row
            }
          }
          static const std::uint32_t kPsum[] = {0x7BFFu, 0x7BFEu, 0x7800u, 0x0000u};
          v.psum(0, c) = kPsum[c % 4];
          v.psum(1, c) = kPsum[c % 4] | 0x8000u;
        }
        out.push_back(std::move(op));
      }
      // 7. NaN and inf entering as psum_in (any NaN leaves as 0x7E00; inf + finite = inf).
      {
        CosimOp op = blank_op(R, C, mode, Format::kFp16, 2, name + " fp16 NaN and inf psum_in");
        OpView v{op, R, C};
        randomize(draws, op);
        static const std::uint32_t kPsum[] = {0x7E00u, 0x7C01u, 0xFE55u, 0x7C00u, 0xFC00u, 0x7FFFu, 0xFC01u, 0x7BFFu};
        for (std::uint64_t m = 0; m < 2; ++m) {
          for (std::uint64_t c = 0; c < C; ++c) v.psum(m, c) = kPsum[(c + m) % 8];
        }
        out.push_back(std::move(op));
      }
      // 8. Ties to even, and x + (-x) = +0.
      {
        CosimOp op = blank_op(R, C, mode, Format::kFp16, 2, name + " fp16 ties and cancellation");
        OpView v{op, R, C};
        for (std::uint64_t c = 0; c < C; ++c) {
          if (mode == PeMode::kInt4xInt4) {
            // +1 onto 2048 (ulp 2) and 2050: ties to 2048 and 2052; -56 onto +56: +0.
            v.b(0, c) = int4(1);
            v.a(0, 0) = int4(1);
            v.a(1, 1) = int4(-8);
            if (c % 2 == 0) v.b(1, c) = int4(7);  // odd columns: all products zero
            static const std::uint32_t kPsum[] = {0x6800u, 0x6801u, 0xE800u, 0xE801u};
            v.psum(0, c) = kPsum[c % 4];
            v.psum(1, c) = c % 2 == 0 ? 0x5300u : 0x8000u;  // 56 - 56 = +0; -0 + 0 = +0
          } else {
            // +2^-12 onto 0.5 (ulp 2^-11) and 0.5 + 2^-11: ties; -8 onto +8: +0.
            set_pair(v, mode, 0, 0, c, 1, fp4(false, 1));
            static const std::uint32_t kPsum[] = {0x3800u, 0x3801u, 0xB800u, 0xB801u};
            v.psum(0, c) = kPsum[c % 4];
            if (c % 2 == 0) set_pair(v, mode, 1, 1, c, -8, fp4(false, 7));  // odd columns: all products zero
            v.psum(1, c) = c % 2 == 0 ? 0x4800u : 0x8000u;  // 8 - 8 = +0; -0 + 0 = +0
          }
        }
        out.push_back(std::move(op));
      }
    }
  }
  // 9. Back to back with no idle cycle: T = 2R+C-1 (preload and fill hide exactly),
  //    one less and one more, and T = 1 (preload-bound).
  const AccKind acc0 = used_accs.front();
  const OpMode mode0 = used_modes.front();
  for (const std::uint64_t t : {2 * R + C - 1, 2 * R + C - 2, 2 * R + C, std::uint64_t{1}}) {
    if (t == 0) continue;
    for (int i = 0; i < 3; ++i) {
      CosimOp op = blank_op(R, C, mode0, acc0, t, "back-to-back T=" + std::to_string(t));
      randomize(draws, op);
      out.push_back(std::move(op));
    }
  }
  // 10. Mode and accumulator changes with folds in flight: short folds, every combination.
  for (int round = 0; round < 2; ++round) {
    for (const OpMode mode : used_modes) {
      for (const AccKind acc : used_accs) {
        CosimOp op = blank_op(R, C, mode, acc, 1 + draws.uniform(0, 2),
                              "switch to " + std::string(mode_name(mode)) + " " +
                                  std::string(numerics::format_name(acc)));
        randomize(draws, op);
        out.push_back(std::move(op));
      }
    }
  }
  // 11. Availability gaps: weights exactly at the chain's own bound (R+C-1 after the
  //     previous stream start), one cycle later, inputs later than the weights, both.
  const std::pair<std::uint64_t, std::uint64_t> gaps[] = {
      {R + C - 1, 0}, {R + C, 0}, {0, 2 * R + C + 3}, {3 * R, 3 * R + 1}, {0, 1}, {1, 0}};
  for (const auto& [wgap, igap] : gaps) {
    CosimOp op = blank_op(R, C, mode0, acc0, 2 + draws.uniform(0, 2 * R),
                          "gap weights+" + std::to_string(wgap) + " inputs+" + std::to_string(igap));
    randomize(draws, op);
    op.weights_gap = wgap;
    op.inputs_gap = igap;
    out.push_back(std::move(op));
  }
  // 12. One rounding per PE: every product is +1 onto FP16 2048 (ulp 2). A MAC
  //     PE rounds each 2048 + 1 back to 2048 (tie to even): 0x6800 after all
  //     rows. A dot-product PE of N >= 2 adds N exactly: 2048 + rows = 0x6800 + rows / 2
  //     while the sum stays below 4096. Last, so that no other case moves.
  if (fwd && f16) {
    CosimOp op = blank_op(R, C, PeMode::kInt4xInt4, Format::kFp16, 1, "fwd fp16 one rounding per PE");
    OpView v{op, R, C};
    for (std::uint64_t r = 0; r < R; ++r) {
      v.a(0, r) = int4(1);
      for (std::uint64_t c = 0; c < C; ++c) v.b(r, c) = int4(1);
    }
    for (std::uint64_t c = 0; c < C; ++c) v.psum(0, c) = 0x6800u;
    out.push_back(std::move(op));
  }
  return out;
}

std::unique_ptr<OpSource> random_ops(std::uint64_t rows, std::uint64_t cols, const std::vector<OpMode>& modes,
                                     const std::vector<AccKind>& accs, std::uint64_t per_mode,
                                     std::uint64_t seed) {
  if (modes.empty() || accs.empty()) throw std::logic_error("cosim::random_ops: no mode or accumulator");
  return std::make_unique<RandomSource>(rows, cols, modes, accs, per_mode, seed);
}

std::unique_ptr<OpSource> trace_ops(const std::string& path, std::uint64_t rows, std::uint64_t cols,
                                    const std::vector<OpMode>& modes, const std::vector<AccKind>& accs,
                                    std::uint64_t per_mode, std::uint64_t seed, std::uint64_t* skipped) {
  return std::make_unique<TraceSource>(workloads::read_trace_file(path), rows, cols, modes, accs, per_mode, seed,
                                       skipped);
}

std::unique_ptr<OpSource> chain(std::unique_ptr<OpSource> first, std::unique_ptr<OpSource> second) {
  return std::make_unique<ChainSource>(std::move(first), std::move(second));
}

std::unique_ptr<OpSource> list_ops(std::vector<CosimOp> ops) { return std::make_unique<ListSource>(std::move(ops)); }

namespace {

/// Sets fold.dot on every op of another source.
class DotSource : public OpSource {
 public:
  DotSource(std::unique_ptr<OpSource> source, std::uint64_t dot) : m_source(std::move(source)), m_dot(dot) {}
  std::optional<CosimOp> next() override {
    auto op = m_source->next();
    if (op) op->fold.dot = m_dot;
    return op;
  }

 private:
  std::unique_ptr<OpSource> m_source;  ///< the ops, made for R*N reduction rows
  std::uint64_t m_dot;                 ///< N
};

}  // namespace

std::unique_ptr<OpSource> with_dot(std::unique_ptr<OpSource> source, std::uint64_t dot) {
  return std::make_unique<DotSource>(std::move(source), dot);
}

}  // namespace nibble::cosim
