#include "sim/arch/engine.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "sim/arch/fold_clock.hpp"
#include "sim/common/error.hpp"
#include "sim/common/text.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/design/trace_names.hpp"

namespace nibble::arch {

using design::Dataflow;
using design::packed_bytes;
using design::stored_bytes;
using design::ScratchpadConfig;
using numerics::Format;

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// a * b, saturating: only used to ask "does it fit", where saturation means no.
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > kMax / a) return kMax;
  return a * b;
}

// Bytes of `elements` elements of `quarter_bits` (numerics::format_quarter_bits), saturating.
std::uint64_t sat_stored(std::uint64_t elements, std::uint64_t quarter_bits) {
  const std::uint64_t total = sat_mul(elements, quarter_bits);
  return total == kMax ? kMax : (total + 31) / 32;
}

// Largest count of items of `quarter_bits_per_item` that fit `bytes`.
std::uint64_t fit_stored(std::uint64_t bytes, std::uint64_t quarter_bits_per_item) {
  return quarter_bits_per_item == 0 ? kMax : sat_mul(bytes, 32) / quarter_bits_per_item;
}

// Largest count of items of `bits_per_item` that fit `bytes`.
std::uint64_t fit(std::uint64_t bytes, std::uint64_t bits_per_item) {
  return bits_per_item == 0 ? kMax : sat_mul(bytes, 8) / bits_per_item;
}

std::string op_name(const workloads::TraceOp& op) {
  return "op '" + op.layer + "' (" + std::string(workloads::phase_name(op.phase)) + ")";
}

InputError too_small(const design::Design& d, const workloads::TraceOp& op, const std::string& spad,
                     const std::string& what, std::uint64_t need, std::uint64_t have) {
  return InputError(d.source, 0, "scratchpads." + spad + ".capacity_bytes",
                    "too small for " + op_name(op) + ": " + what + " needs " + std::to_string(need) +
                        " bytes, a tile may use " + std::to_string(have));
}

// ceil(bytes * num / den): an operand's bytes as fetched or stored (on-chip im2col).
std::uint64_t scaled(std::uint64_t bytes, std::uint64_t num, std::uint64_t den) {
  if (num == den) return bytes;
  const unsigned __int128 product = static_cast<unsigned __int128>(bytes) * num;
  const unsigned __int128 q = (product + den - 1) / den;
  return q > kMax ? kMax : static_cast<std::uint64_t>(q);
}

std::uint64_t supply_interval(std::uint64_t demand_bits, const ScratchpadConfig& spad) {
  return std::max<std::uint64_t>(1, ceil_div(demand_bits, spad.bits_per_cycle()));
}

// supply_interval of a demand in quarter bits (operands with their block scales).
std::uint64_t supply_interval_q(std::uint64_t demand_quarter_bits, const ScratchpadConfig& spad) {
  return std::max<std::uint64_t>(1, ceil_div(demand_quarter_bits, 4 * spad.bits_per_cycle()));
}

}  // namespace

std::uint64_t burst_bytes(const design::Design& d, std::uint64_t bytes) {
  return ceil_div(bytes, d.dram.burst_bytes) * d.dram.burst_bytes;
}

GemmPlan plan_gemm(const design::Design& d, const design::Execution& exec, const workloads::TraceOp& op,
                   std::uint64_t m, std::uint64_t n, std::uint64_t k, const PlanChoice* choice) {
  // A fold reduces R x N elements of K: each of the R PE rows holds N weights
  // per column (docs/timing.md, "Dot-product PEs"); N = 1 except in ws.
  const std::uint64_t dot = d.array.dot_product;
  const std::uint64_t r = d.array.rows * dot;
  const std::uint64_t c = d.array.cols;
  GemmPlan p;
  p.dataflow = choice != nullptr ? choice->dataflow : d.array.dataflow;
  const std::uint64_t block_cap = choice != nullptr && choice->block != 0 ? choice->block : kMax;
  p.scalesim = d.timing == design::TimingConvention::kScaleSim;
  p.groups = op.groups;
  p.passes = exec.passes;
  p.psum_bits = design::psum_bits(exec.acc);
  p.pe_psum_bits = numerics::format_bits(exec.pe_acc == Format::kFp16Chunked ? Format::kFp16 : exec.pe_acc);
  p.out_bits = numerics::format_bits(op.stored_format());
  // Rounding on the way out (a narrower storage format than the accumulator) is
  // output work costed as a quantize per element (docs/timing.md, "Storage format").
  p.rounds = op.stored_format() != op.acc_format;
  p.chunk = exec.acc == Format::kFp16Chunked ? d.array.chunk : 0;
  p.reduction = k;
  std::string stat_name = "weight";
  std::string str_name = "input";
  if (p.dataflow == Dataflow::kIs) {
    // is = ws on C^T = B^T A^T: A stays in the PEs, B's columns stream.
    p.vectors = n;
    p.columns = m;
    p.stationary.bits = exec.a_bits;
    p.streamed.bits = exec.b_bits;
    p.stationary.quarter_bits = exec.a_quarter_bits;
    p.streamed.quarter_bits = exec.b_quarter_bits;
    p.stationary.in_input = true;
    p.streamed.in_input = false;
    std::swap(stat_name, str_name);
  } else {
    p.vectors = m;
    p.columns = n;
    p.stationary.bits = exec.b_bits;
    p.streamed.bits = exec.a_bits;
    p.stationary.quarter_bits = exec.b_quarter_bits;
    p.streamed.quarter_bits = exec.a_quarter_bits;
  }
  if (op.conv && op.conv->im2col == workloads::Im2col::kOnChip) {
    // On-chip im2col (docs/timing.md, "On-chip im2col"): per channel and sample,
    // im2col(X) and dCol have E*F*R*S elements, X has H*W (rows_read*cols_read read).
    const workloads::ConvGeometry& g = *op.conv;
    const std::uint64_t window = g.out_h() * g.out_w() * g.r * g.s;
    if (op.phase == workloads::Phase::kInputGrad) {
      p.store_num = g.h * g.w;
      p.store_den = window;
      p.scatter_adds = !g.is_identity();
    } else {
      // A = im2col(X) (forward) or its transpose (weight_grad): is holds A stationary.
      OperandPlan& a = p.dataflow == Dataflow::kIs ? p.stationary : p.streamed;
      a.fetch_num = g.rows_read() * g.cols_read();
      a.fetch_den = window;
    }
  }
  const ScratchpadConfig* stat_buf = &p.stationary.buffer(d);
  const ScratchpadConfig* str_buf = &p.streamed.buffer(d);
  const std::uint64_t big_m = p.vectors;
  const std::uint64_t big_n = p.columns;
  const std::uint64_t sb = static_cast<std::uint64_t>(p.stationary.quarter_bits);  // quarter bits: scales included
  const std::uint64_t tb = static_cast<std::uint64_t>(p.streamed.quarter_bits);
  const std::uint64_t pb = static_cast<std::uint64_t>(p.psum_bits);  // passes chain into one partial sum
  const ScratchpadConfig& out = d.output;

  // Scratchpad supply: the array takes one step per `interval` cycles when a
  // buffer cannot deliver a step's operands in one cycle.
  // Per step: os reads R + C operands and drains C results; ws/is reads R x N
  // operands, preloads C x N stationary operands (N-wide preload chains), and
  // reads and writes C partial sums of the PE's accumulator width.
  const std::uint64_t pe_pb = static_cast<std::uint64_t>(p.pe_psum_bits);
  if (p.dataflow == Dataflow::kOs) {
    p.interval = std::max({supply_interval_q(r * tb, *str_buf), supply_interval_q(c * sb, *stat_buf),
                           supply_interval(c * pe_pb, out)});
  } else {
    p.interval = std::max({supply_interval_q(r * tb, *str_buf), supply_interval_q(c * dot * sb, *stat_buf),
                           supply_interval(2 * c * pe_pb, out)});
  }
  if (big_m == 0 || big_n == 0 || k == 0) return p;  // an empty share: nothing to plan

  const bool stat_group = sat_stored(sat_mul(k, big_n), sb) <= stat_buf->tile_capacity();
  const bool str_group = sat_stored(sat_mul(big_m, k), tb) <= str_buf->tile_capacity();

  if (p.scalesim) {
    // SCALE-Sim's folds: the whole temporal dimension streams through each
    // fold; tiles that do not fit a buffer half are reloaded per fold.
    p.block = p.dataflow == Dataflow::kOs ? k : big_m;
    p.stationary.residency = stat_group ? Residency::kPerGroup : Residency::kPerFold;
    p.streamed.residency = str_group ? Residency::kPerGroup : Residency::kPerFold;
    return p;
  }

  if (p.dataflow == Dataflow::kOs) {
    // Output-stationary: an R x C output tile per fold, the reduction in
    // chunks of Tk steps that the input and weight buffers can hold.
    const std::uint64_t out_tile = packed_bytes(r * c, pb);
    if (out_tile > out.tile_capacity()) {
      throw too_small(d, op, "output", "one " + std::to_string(r) + " x " + std::to_string(c) + " tile of partial sums",
                      out_tile, out.tile_capacity());
    }
    p.streamed.residency = str_group ? Residency::kPerGroup : Residency::kPerFold;
    const bool stat_block = sat_stored(sat_mul(k, c), sb) <= stat_buf->tile_capacity();
    p.stationary.residency = stat_group ? Residency::kPerGroup : stat_block ? Residency::kPerBlock : Residency::kPerFold;
    std::uint64_t tk = k;
    if (p.streamed.residency == Residency::kPerFold) tk = std::min(tk, fit_stored(str_buf->tile_capacity(), r * tb));
    if (p.stationary.residency == Residency::kPerFold) tk = std::min(tk, fit_stored(stat_buf->tile_capacity(), c * sb));
    if (tk != 0 && p.chunk == 0) tk = std::min(tk, block_cap);  // a chunked fold is one chunk
    if (p.chunk != 0) {
      // Each fold is one FP16 chunk: the PEs accumulate it, the output buffer adds it in FP32.
      const std::uint64_t want = std::min(k, p.chunk);
      if (tk < want) {
        const bool input_short = fit_stored(str_buf->tile_capacity(), r * tb) < want;
        throw too_small(d, op, input_short ? str_name : stat_name,
                        "one fold of an fp16-chunked accumulator (" + std::to_string(want) + " steps)",
                        input_short ? stored_bytes(r * want, tb) : stored_bytes(c * want, sb),
                        input_short ? str_buf->tile_capacity() : stat_buf->tile_capacity());
      }
      tk = want;
    }
    if (tk == 0) {
      const bool input_short = fit_stored(str_buf->tile_capacity(), r * tb) == 0;
      throw too_small(d, op, input_short ? str_name : stat_name, "one reduction step of the tile",
                      input_short ? stored_bytes(r, tb) : stored_bytes(c, sb),
                      input_short ? str_buf->tile_capacity() : stat_buf->tile_capacity());
    }
    p.block = tk;
    return p;
  }

  // Weight- and input-stationary: an R x C stationary tile per fold, blocks of
  // Tm streamed vectors whose partial sums stay in the output buffer.
  const std::uint64_t stat_tile = stored_bytes(r * c, sb);
  if (stat_tile > stat_buf->tile_capacity()) {
    throw too_small(d, op, stat_name, "one " + std::to_string(r) + " x " + std::to_string(c) + " stationary tile",
                    stat_tile, stat_buf->tile_capacity());
  }
  const std::uint64_t out_limit = fit(out.tile_capacity(), c * pb);
  if (out_limit == 0) {
    throw too_small(d, op, "output", "one row of " + std::to_string(c) + " partial sums", packed_bytes(c, pb),
                    out.tile_capacity());
  }
  const bool stat_block = sat_stored(sat_mul(k, c), sb) <= stat_buf->tile_capacity();
  const std::uint64_t a_bytes = sat_stored(sat_mul(big_m, k), tb);
  const std::uint64_t b_bytes = sat_stored(sat_mul(k, big_n), sb);
  const std::uint64_t n_blocks = ceil_div(big_n, c);

  // Loop order "columns outside": for each column block, every vector block.
  std::uint64_t tm_n = std::min({big_m, out_limit, block_cap});
  if (!str_group) tm_n = std::min(tm_n, fit_stored(str_buf->tile_capacity(), r * tb));
  if (tm_n == 0) {
    throw too_small(d, op, str_name, "one " + std::to_string(r) + "-element streamed vector", stored_bytes(r, tb),
                    str_buf->tile_capacity());
  }
  const std::uint64_t traffic_n = sat_mul(a_bytes, str_group ? 1 : n_blocks) +
                                  sat_mul(b_bytes, (stat_group || stat_block) ? 1 : ceil_div(big_m, tm_n));
  // Loop order "vectors outside": a block of Tm vectors with all of K stays
  // in the streamed buffer while every column block passes.
  const std::uint64_t tm_m =
      std::min({big_m, out_limit, block_cap, fit_stored(str_buf->tile_capacity(), sat_mul(k, tb))});
  const std::uint64_t traffic_m =
      tm_m == 0 || str_group ? kMax : sat_mul(a_bytes, 1) + sat_mul(b_bytes, stat_group ? 1 : ceil_div(big_m, tm_m));
  const bool m_outer_fits = traffic_m != kMax;
  if (choice != nullptr && choice->m_outer.has_value() ? *choice->m_outer && m_outer_fits : traffic_m < traffic_n) {
    p.m_outer = true;
    p.block = tm_m;
    p.streamed.residency = Residency::kPerBlock;
    p.stationary.residency = stat_group ? Residency::kPerGroup : Residency::kPerFold;
  } else {
    p.block = tm_n;
    p.streamed.residency = str_group ? Residency::kPerGroup : Residency::kPerFold;
    p.stationary.residency = stat_group ? Residency::kPerGroup : stat_block ? Residency::kPerBlock : Residency::kPerFold;
  }
  return p;
}

namespace {

/// How one fold uses one operand's tile (docs/timing.md, "Issue order and
/// double buffering").
struct TileUse {
  bool load = false;          ///< this fold loads the tile
  std::uint64_t bytes = 0;    ///< bytes of the tile
  std::uint64_t unit = 0;     ///< residency unit (fold, block or group) number, in loop order
  std::uint64_t slot = 0;     ///< the tile's place within its unit
  std::uint64_t slots = 1;    ///< tiles per unit
  bool unit_first = false;    ///< the unit's first load
  bool unit_last = false;     ///< the unit's last fold
};

/// One fold as the controller issues it.
struct Fold {
  std::uint64_t steps = 0;       ///< T: streamed vectors (ws/is) or reduction steps (os)
  std::uint64_t rows = 0;        ///< PE rows in use
  std::uint64_t cols = 0;        ///< PE columns in use
  std::uint64_t pass = 0;        ///< slice pair of a multi-pass op
  TileUse stat;                  ///< the stationary operand's tile (os: B)
  TileUse str;                   ///< the streamed operand's tile (os: A)
  // Output block (partial sums held in the output buffer).
  std::uint64_t out_block = 0;   ///< block number
  bool out_first = false;        ///< first fold of the block: needs its half of the output buffer
  bool out_last = false;         ///< last fold of the block: its results are stored
  std::uint64_t store_bytes = 0; ///< bytes stored after an out_last fold
  bool psum_read = false;        ///< ws/is: psum_in comes from the output buffer
  bool chunk_end = false;        ///< ws/is fp16-chunked: the chunk's FP16 sums are added into FP32 totals
  bool os_add = false;           ///< os: the fold's results are added to the output buffer's partial sums
};

/// Walks the folds of a plan in the controller's loop order (docs/timing.md).
class FoldSequence {
 public:
  // m_r: the reduction elements of a ws/is fold (R x N; docs/timing.md, "Dot-product PEs").
  FoldSequence(const design::Design& d, const GemmPlan& p)
      : m_p(p), m_r(d.array.rows * d.array.dot_product), m_c(d.array.cols) {
    const bool os = p.dataflow == Dataflow::kOs;
    m_cblocks = ceil_div(p.columns, m_c);
    if (os) {
      m_vblocks = ceil_div(p.vectors, m_r);
      m_ktiles = p.scalesim ? 1 : ceil_div(p.reduction, p.block);
    } else {
      m_vblocks = ceil_div(p.vectors, p.block);
      m_ktiles = ceil_div(p.reduction, m_r);
    }
    m_empty = p.vectors == 0 || p.columns == 0 || p.reduction == 0 || p.groups == 0;
  }

  /// Saturates at UINT64_MAX: an enormous op must be refused, not wrap to a small count.
  std::uint64_t folds() const {
    if (m_empty) return 0;
    std::uint64_t n = 1;
    for (const std::uint64_t f : {m_p.groups, m_cblocks, m_vblocks, m_ktiles, m_p.passes}) {
      n = checked_mul(n, f).value_or(std::numeric_limits<std::uint64_t>::max());
    }
    return n;
  }

  /// Output blocks (saturated at UINT64_MAX), and the blocks of each loop.
  std::uint64_t out_blocks() const {
    if (m_empty) return 0;
    return checked_mul(checked_mul(m_p.groups, m_cblocks).value_or(kMax), m_vblocks).value_or(kMax);
  }
  std::uint64_t column_blocks() const { return m_cblocks; }  ///< blocks of C columns (per group)
  std::uint64_t vector_blocks() const { return m_vblocks; }  ///< ws/is: blocks of Tm vectors; os: of R rows (per group)

  /// The next fold; false at the end.
  bool next(Fold& f) {
    if (m_empty || m_done) return false;
    fill(f);
    advance();
    return true;
  }

 private:
  // Indices: g, then (columns, vectors) in loop order, then k, then pass.
  void advance() {
    if (++m_pass < m_p.passes) return;
    m_pass = 0;
    if (++m_kt < m_ktiles) return;
    m_kt = 0;
    if (m_p.m_outer) {
      if (++m_cb < m_cblocks) return;
      m_cb = 0;
      if (++m_vb < m_vblocks) return;
      m_vb = 0;
    } else {
      if (++m_vb < m_vblocks) return;
      m_vb = 0;
      if (++m_cb < m_cblocks) return;
      m_cb = 0;
    }
    if (++m_g < m_p.groups) return;
    m_done = true;
  }

  void fill(Fold& f) {
    const GemmPlan& p = m_p;
    const bool os = p.dataflow == Dataflow::kOs;
    const bool first_pass = m_pass == 0;
    const bool last_pass = m_pass + 1 == p.passes;
    const bool last_k = m_kt + 1 == m_ktiles;
    const bool last_v = m_vb + 1 == m_vblocks;
    const bool last_c = m_cb + 1 == m_cblocks;
    const bool last_in_group = last_pass && last_k && last_v && last_c;
    f = Fold{};
    f.pass = m_pass;
    f.cols = std::min(m_c, p.columns - m_cb * m_c);
    const std::uint64_t sb = static_cast<std::uint64_t>(p.stationary.quarter_bits);  // quarter bits: scales included
    const std::uint64_t tb = static_cast<std::uint64_t>(p.streamed.quarter_bits);
    // Which loop is inner decides what a block of the inner loop reuses.
    const bool first_v = m_vb == 0;
    const bool first_c = m_cb == 0;
    // How each operand's tile is found: per fold, per block of the inner
    // loop, or per group (docs/timing.md, "Tiling").
    const std::uint64_t stat_block = m_g * m_cblocks + m_cb;  // column block: reused while vector blocks pass
    const std::uint64_t str_block = m_g * m_vblocks + m_vb;   // vector block: reused while column blocks pass
    if (os) {
      f.rows = std::min(m_r, p.vectors - m_vb * m_r);
      f.steps = p.scalesim ? p.reduction : std::min(p.block, p.reduction - m_kt * p.block);
      f.out_block = (m_g * m_cblocks + m_cb) * m_vblocks + m_vb;
      f.os_add = !p.scalesim && (m_kt > 0 || !first_pass);
    } else {
      f.rows = std::min(m_r, p.reduction - m_kt * m_r);
      f.steps = std::min(p.block, p.vectors - m_vb * p.block);
      f.out_block = p.m_outer ? (m_g * m_vblocks + m_vb) * m_cblocks + m_cb : (m_g * m_cblocks + m_cb) * m_vblocks + m_vb;
      if (!p.scalesim) {
        // Partial sums chain through k-tiles and, within a k-tile, through the
        // passes of a multi-pass op; a chunk starts at its first k-tile's first pass.
        const std::uint64_t k0 = m_kt * m_r;
        const bool chunk_start = p.chunk != 0 && k0 % p.chunk == 0 && first_pass;
        f.psum_read = (m_kt > 0 || !first_pass) && !chunk_start;
        f.chunk_end = p.chunk != 0 && last_pass && (last_k || (k0 + m_r) % p.chunk == 0);
      }
    }
    const std::uint64_t stat_tile = os ? stored_bytes(f.steps * f.cols, sb) : stored_bytes(f.rows * f.cols, sb);
    const std::uint64_t str_tile = stored_bytes(f.rows * f.steps, tb);
    f.stat = unit(p.stationary.residency, first_pass, last_pass, first_v, stat_block, m_kt, m_ktiles,
                  last_pass && last_k && last_v, m_cb * m_ktiles + m_kt, m_cblocks * m_ktiles, last_in_group,
                  m_stat_count);
    f.stat.bytes = scaled(stat_tile, p.stationary.fetch_num, p.stationary.fetch_den);
    f.str = unit(p.streamed.residency, first_pass, last_pass, first_c, str_block, m_kt, m_ktiles,
                 last_pass && last_k && last_c, m_vb * m_ktiles + m_kt, m_vblocks * m_ktiles, last_in_group,
                 m_str_count);
    f.str.bytes = scaled(str_tile, p.streamed.fetch_num, p.streamed.fetch_den);
    if (p.scalesim) {
      // SCALE-Sim drains every fold's outputs; no output block waits.
      f.out_first = false;
      f.out_last = last_pass;
    } else {
      f.out_first = m_kt == 0 && first_pass;
      f.out_last = last_k && last_pass;
    }
    const std::uint64_t outputs = os ? f.rows * f.cols : f.steps * f.cols;
    f.store_bytes =
        f.out_last ? scaled(packed_bytes(outputs, static_cast<std::uint64_t>(p.out_bits)), p.store_num, p.store_den) : 0;
  }

  // Where one operand's tile comes from, for its residency.
  TileUse unit(Residency residency, bool first_pass, bool last_pass, bool first_of_reuse, std::uint64_t block,
               std::uint64_t slot_in_block, std::uint64_t block_slots, bool block_last, std::uint64_t slot_in_group,
               std::uint64_t group_slots, bool group_last, std::uint64_t& loads) const {
    TileUse u;
    switch (residency) {
      case Residency::kPerFold:
        u.load = first_pass;
        if (first_pass) ++loads;
        u.unit = loads - 1;
        u.unit_first = first_pass;
        u.unit_last = last_pass;
        break;
      case Residency::kPerBlock:
        u.load = first_pass && first_of_reuse;
        u.unit = block;
        u.slot = slot_in_block;
        u.slots = block_slots;
        u.unit_first = u.load && slot_in_block == 0;
        u.unit_last = block_last;
        break;
      case Residency::kPerGroup:
        u.load = first_pass && first_of_reuse;
        u.unit = m_g;
        u.slot = slot_in_group;
        u.slots = group_slots;
        u.unit_first = u.load && slot_in_group == 0;
        u.unit_last = group_last;
        break;
    }
    return u;
  }

  const GemmPlan& m_p;
  std::uint64_t m_r;
  std::uint64_t m_c;
  std::uint64_t m_cblocks = 0;
  std::uint64_t m_vblocks = 0;
  std::uint64_t m_ktiles = 0;
  bool m_empty = false;
  bool m_done = false;
  std::uint64_t m_g = 0;
  std::uint64_t m_cb = 0;
  std::uint64_t m_vb = 0;
  std::uint64_t m_kt = 0;
  std::uint64_t m_pass = 0;
  std::uint64_t m_stat_count = 0;
  std::uint64_t m_str_count = 0;
};

/// Completion cycles of the tiles of the residency unit in use, and the
/// release cycles of past units (a unit's buffer half is reused L units later).
class OperandTrack {
 public:
  /// `slots`: when each reserved slot is the op's own (null or short: from the start).
  OperandTrack(std::uint64_t lookahead, const std::vector<std::uint64_t>* slots)
      : m_lookahead(lookahead), m_slots(slots) {}

  /// The cycle from which unit `unit` may be loaded: when its slot is the
  /// op's own, then when unit - L released its half.
  std::uint64_t slot_free(std::uint64_t unit, std::uint64_t start) const {
    if (unit < m_lookahead) {
      return m_slots != nullptr && unit < m_slots->size() ? std::max(start, (*m_slots)[unit]) : start;
    }
    const std::uint64_t earlier = unit - m_lookahead;
    return earlier < m_released.size() ? m_released[earlier] : start;
  }
  void begin_unit(std::uint64_t slots) { m_done.assign(slots, 0); }
  void loaded(std::uint64_t slot, std::uint64_t cycle) { m_done.at(slot) = cycle; }
  std::uint64_t ready(std::uint64_t slot) const { return m_done.at(slot); }
  void release(std::uint64_t unit, std::uint64_t cycle) {
    if (m_released.size() <= unit) m_released.resize(unit + 1, 0);
    m_released[unit] = cycle;
  }

 private:
  std::uint64_t m_lookahead;              ///< 2 with double buffering, else 1
  const std::vector<std::uint64_t>* m_slots;  ///< reserved slots' start cycles (may be null)
  std::vector<std::uint64_t> m_done;      ///< load completion per tile of the current unit
  std::vector<std::uint64_t> m_released;  ///< release cycle per unit number
};

struct Counter {
  StatVector* counts;
  void add(StatRegistry::Id id, std::uint64_t value) const {
    if (counts != nullptr) (*counts)[id] += value;
  }
};

}  // namespace

std::uint64_t output_blocks_in_flight(const ScratchpadConfig& output, std::uint64_t block_bytes) {
  if (!output.double_buffer) return 1;
  return std::max<std::uint64_t>(2, block_bytes == 0 ? 2 : output.capacity_bytes / block_bytes);
}

namespace {

// One output block of a plan in the output scratchpad: ws/is Tm x C, os R x C
// partial sums (docs/timing.md, "Output blocks in flight").
std::uint64_t output_block_bytes(const design::Design& d, const GemmPlan& p) {
  const bool os = p.dataflow == Dataflow::kOs;
  return packed_bytes((os ? d.array.rows : p.block) * d.array.cols, static_cast<std::uint64_t>(p.psum_bits));
}

// `count` slots of `bytes`, as many as the scratchpad holds (a SCALE-Sim tile
// may exceed a half: its slots share the capacity).
SlotNeed fitted(const ScratchpadConfig& spad, std::uint64_t bytes, std::uint64_t count) {
  if (count == 0 || bytes == 0) return SlotNeed{};
  const std::uint64_t cap = spad.capacity_bytes;
  bytes = std::min(bytes, cap);
  return SlotNeed{bytes, std::max<std::uint64_t>(1, std::min(count, cap / bytes))};
}

}  // namespace

Reservation gemm_reservation(const design::Design& d, const GemmPlan& p) {
  Reservation r;
  const FoldSequence seq(d, p);
  const std::uint64_t folds = seq.folds();
  if (folds == 0) return r;
  const bool os = p.dataflow == Dataflow::kOs;
  const std::uint64_t rows = std::min(d.array.rows * d.array.dot_product, os ? p.vectors : p.reduction);
  const std::uint64_t cols = std::min<std::uint64_t>(d.array.cols, p.columns);
  const std::uint64_t k = p.reduction;
  const std::uint64_t fold_units = folds / p.passes;  // a multi-pass fold's passes share its tiles
  // One operand: min(L, units) of its largest residency unit (docs/timing.md,
  // "Scratchpad reservations"; the units of "A whole GEMM").
  const auto operand = [&](const OperandPlan& o, std::uint64_t fold_elems, std::uint64_t block_elems,
                           std::uint64_t group_elems, std::uint64_t blocks) {
    std::uint64_t elems = fold_elems;
    std::uint64_t units = fold_units;
    if (o.residency == Residency::kPerBlock) {
      elems = block_elems;
      units = sat_mul(p.groups, blocks);
    } else if (o.residency == Residency::kPerGroup) {
      elems = group_elems;
      units = p.groups;
    }
    const std::uint64_t lookahead = o.buffer(d).double_buffer ? 2 : 1;
    return fitted(o.buffer(d), sat_stored(elems, static_cast<std::uint64_t>(o.quarter_bits)),
                  std::min(lookahead, units));
  };
  const std::uint64_t steps = std::min(p.block, os ? k : p.vectors);  // Tk (os) or Tm (ws/is) of a full fold
  // Stationary: a fold's tile (ws/is R x C; os Tk x C), a column block's k x C, a group's k x N.
  const SlotNeed stat = operand(p.stationary, (os ? steps : rows) * cols, sat_mul(k, cols),
                                sat_mul(k, p.columns), seq.column_blocks());
  // Streamed: a fold's tile (ws/is Tm x R; os R x Tk), a vector block's Tm x k, a group's M x k.
  const SlotNeed str = operand(p.streamed, rows * steps, sat_mul(steps, k),
                               sat_mul(p.vectors, k), seq.vector_blocks());
  (p.stationary.in_input ? r.input : r.weight) = stat;
  (p.streamed.in_input ? r.input : r.weight) = str;
  // Output blocks in flight: as run_gemm counts them.
  const std::uint64_t block = output_block_bytes(d, p);
  r.output = fitted(d.output, block, std::min(seq.out_blocks(), output_blocks_in_flight(d.output, block)));
  return r;
}

Reservation vector_reservation(const design::Design& d, const workloads::TraceOp& op, std::uint64_t elements,
                               bool streams) {
  Reservation r;
  const std::uint64_t chunk = vector_chunk(d, op);
  if (elements == 0 || chunk == 0) return r;
  const std::uint64_t in_q = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.in_format));
  const std::uint64_t out_q = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.out_format));
  // A streamed op's inputs stay in the GEMM's output blocks: it holds room for its results only.
  r.output = fitted(d.output, stored_bytes(std::min(chunk, elements), streams ? out_q : in_q + out_q),
                    std::min<std::uint64_t>(ceil_div(elements, chunk), d.output.double_buffer ? 2 : 1));
  return r;
}

std::uint64_t run_gemm(const design::Design& d, const design::Execution& exec, const GemmPlan& p, MemoryPort& port,
                       std::uint64_t start, StatVector* counts, const ArchStats& st) {
  return run_gemm(d, exec, p, port, start, counts, st, start).end;
}

std::uint64_t gemm_folds(const design::Design& d, const GemmPlan& p) { return FoldSequence(d, p).folds(); }

RunTimes run_gemm(const design::Design& d, const design::Execution& exec, const GemmPlan& p, MemoryPort& port,
                  std::uint64_t start, StatVector* counts, const ArchStats& st, std::uint64_t load_from,
                  OutputLog* produced, const SlotTimes* slots) {
  FoldSequence seq(d, p);
  RunTimes times{start, start, start, {}};
  if (seq.folds() == 0) return times;
  load_from = std::min(load_from, start);
  const Counter count{counts};
  const bool os = p.dataflow == Dataflow::kOs;
  const std::uint64_t dot = d.array.dot_product;  // products per PE (1 in os)
  const std::uint64_t interval = p.interval;
  // Array steps count from the op's start; a scratchpad too narrow for one
  // step per cycle stretches every step to `interval` cycles.
  const auto to_step = [&](std::uint64_t cycle) { return cycle <= start ? 0 : ceil_div(cycle - start, interval); };
  const auto to_cycle = [&](std::uint64_t step) { return start + step * interval; };

  // Each operand: its tiles' load and release times, and the counters of its scratchpad.
  struct Operand {
    OperandTrack track;       ///< load completion and release per residency unit
    StatRegistry::Id read;    ///< its scratchpad's read counter
    StatRegistry::Id write;   ///< its scratchpad's write (fill) counter
  };
  const auto operand = [&](const OperandPlan& o) {
    const std::vector<std::uint64_t>* reserved = slots == nullptr ? nullptr : o.in_input ? &slots->input : &slots->weight;
    return Operand{OperandTrack(o.buffer(d).double_buffer ? 2 : 1, reserved),
                   o.in_input ? st.spad_input_read_bytes : st.spad_weight_read_bytes,
                   o.in_input ? st.spad_input_write_bytes : st.spad_weight_write_bytes};
  };
  Operand stat = operand(p.stationary);
  Operand str = operand(p.streamed);
  // Output blocks in flight: as many as the output scratchpad holds
  // (docs/timing.md, "Output blocks in flight").
  const std::uint64_t out_block_bytes = output_block_bytes(d, p);
  // (As many as reserved when the op has a reservation: the same number unless
  // a SCALE-Sim tile exceeds a half, docs/timing.md, "Scratchpad reservations".)
  const std::uint64_t out_lookahead = slots != nullptr && !slots->output.empty()
                                          ? slots->output.size()
                                          : output_blocks_in_flight(d.output, out_block_bytes);
  std::vector<std::uint64_t> stored;  // store completion per output block
  // The last stores, one per block slot held: they free the op's output space.
  const std::uint64_t ring = std::max<std::uint64_t>(1, std::min(out_lookahead, seq.out_blocks()));
  times.freed.reserve(ring);
  std::uint64_t last_slot = 0;
  std::uint64_t end = start;

  const std::uint64_t sb = static_cast<std::uint64_t>(p.stationary.bits);
  const std::uint64_t tb = static_cast<std::uint64_t>(p.streamed.bits);
  const std::uint64_t sq = static_cast<std::uint64_t>(p.stationary.quarter_bits);  // storage: scales included
  const std::uint64_t tq = static_cast<std::uint64_t>(p.streamed.quarter_bits);
  const std::uint64_t pb = static_cast<std::uint64_t>(p.psum_bits);
  const std::uint64_t peb = static_cast<std::uint64_t>(p.pe_psum_bits);
  const StatRegistry::Id mac_id = st.mac(exec.pe_mode);
  const StatRegistry::Id pe_add_id = st.acc_add(exec.pe_acc);
  // Adds in the output buffer: chunk totals in FP32, otherwise the accumulator's format.
  const StatRegistry::Id buf_add_id = st.acc_add(p.chunk != 0 ? Format::kFp32 : exec.acc);
  // An INT4/FP4 dot-product PE sums its N products in an exact tree and
  // accumulates once (docs/energy-model.md, "Dot-product PEs"); a MAC PE, and a
  // floating-point dot-product PE (charged as N MAC PEs), once per product.
  const bool tree = design::has_dot_tree(d.array);
  const std::uint64_t tree_bits = design::dot_tree_adder_bits(d.array);

  // A fold's loads: the stationary tile, then the streamed one.
  const auto load_tile = [&](const TileUse& use, Operand& o) {
    if (!use.load) return;
    if (use.unit_first) o.track.begin_unit(use.slots);
    const std::uint64_t bytes = burst_bytes(d, use.bytes);
    const std::uint64_t done = port.transfer(o.track.slot_free(use.unit, load_from), bytes, false);
    o.track.loaded(use.slot, done);
    end = std::max(end, done);
    count.add(st.dram_bytes_read, bytes);
    count.add(st.dram_transfers, 1);
    count.add(o.write, use.bytes);
  };
  const auto load = [&](const Fold& f) {
    load_tile(f.stat, stat);
    load_tile(f.str, str);
  };

  std::unique_ptr<FoldClock> clock = make_fold_clock(d, p.dataflow);
  Fold cur;
  Fold nxt;
  seq.next(cur);
  load(cur);
  bool more = true;
  while (more) {
    // Output space: the block's half of the output buffer is free once the
    // block L_O earlier has been stored.
    std::uint64_t stream_ready = str.track.ready(cur.str.slot);
    if (cur.out_first && cur.out_block >= out_lookahead && cur.out_block - out_lookahead < stored.size()) {
      stream_ready = std::max(stream_ready, stored[cur.out_block - out_lookahead]);
    } else if (cur.out_first && slots != nullptr && cur.out_block < slots->output.size()) {
      stream_ready = std::max(stream_ready, slots->output[cur.out_block]);  // reserved from then on
    }
    const FoldTiming t = clock->next(cur.steps, to_step(stat.track.ready(cur.stat.slot)), to_step(stream_ready));
    const std::uint64_t done = to_cycle(t.done);
    end = std::max(end, done);
    times.compute_end = std::max(times.compute_end, done);
    const std::uint64_t stat_free = to_cycle(clock->stationary_released(t, cur.steps));
    const std::uint64_t str_free = to_cycle(clock->stream_released(t, cur.steps));
    times.released = std::max({times.released, stat_free, str_free});
    if (cur.stat.unit_last) stat.track.release(cur.stat.unit, stat_free);
    if (cur.str.unit_last) str.track.release(cur.str.unit, str_free);

    // Action counts of the fold (docs/timing.md, "Action counts").
    const std::uint64_t pe_ops = cur.steps * cur.rows * cur.cols;
    count.add(st.folds, 1);
    if (cur.pass == 0) count.add(st.macs, pe_ops);
    count.add(mac_id, pe_ops);
    // PE operations: a k-tile's last PE row may take fewer than N products,
    // but it still runs its tree and accumulates once (docs/timing.md). A
    // block-FP4 PE adds one result per block into the partial sum (its products
    // meet in the exact tree first): ceil(rows / B) adds per column and vector
    // (docs/timing.md, "Block-FP4 PEs"); every other PE one per product.
    const std::uint64_t pe_accumulates = exec.block != 0 ? cur.steps * cur.cols * ceil_div(cur.rows, exec.block)
                                         : tree          ? cur.steps * ceil_div(cur.rows, dot) * cur.cols
                                                         : pe_ops;
    count.add(pe_add_id, pe_accumulates);
    if (tree) count.add(st.dot_tree_add_bits, pe_accumulates * tree_bits);
    if (os) {
      count.add(st.pe_reg_write_bits, pe_ops * (tb + sb) + cur.rows * (cur.rows + 1) / 2 * cur.cols * peb);
      count.add(str.read, stored_bytes(cur.steps * cur.rows, tq));
      count.add(stat.read, stored_bytes(cur.steps * cur.cols, sq));
      const std::uint64_t tile = cur.rows * cur.cols;
      count.add(st.spad_output_write_bytes, packed_bytes(tile, pb));
      // The output buffer adds each reduction chunk's results into the
      // running sums; fp16-chunked adds every chunk, the first one into +0.
      if (cur.os_add || p.chunk != 0) count.add(buf_add_id, tile);
      if (cur.os_add) count.add(st.spad_output_read_bytes, packed_bytes(tile, pb));
    } else {
      // A dot-product PE row holds N weights: the chains are `pe_rows` deep and
      // N wide, and one partial sum passes each PE row per vector.
      const std::uint64_t pe_rows = ceil_div(cur.rows, dot);
      const std::uint64_t preload_hops = pe_rows * (pe_rows + 1) / 2 * dot + cur.rows;  // shifts + shadow->active copy
      count.add(st.pe_reg_write_bits,
                preload_hops * cur.cols * sb + pe_ops * tb + cur.steps * pe_rows * cur.cols * peb);
      count.add(stat.read, stored_bytes(cur.rows * cur.cols, sq));
      count.add(str.read, stored_bytes(cur.steps * cur.rows, tq));
      const std::uint64_t row = cur.steps * cur.cols;
      count.add(st.spad_output_write_bytes, packed_bytes(row, pb));
      if (cur.psum_read) count.add(st.spad_output_read_bytes, packed_bytes(row, pb));
      if (cur.chunk_end) {
        count.add(buf_add_id, row);
        count.add(st.spad_output_read_bytes, packed_bytes(row, 32));
        count.add(st.spad_output_write_bytes, packed_bytes(row, 32));
      }
    }
    more = seq.next(nxt);
    if (more) load(nxt);  // prefetch: issued now, starts when its buffer half is free
    if (cur.out_last) {
      const std::uint64_t outputs = os ? cur.rows * cur.cols : cur.steps * cur.cols;
      if (produced != nullptr) {
        produced->emplace_back(done, (produced->empty() ? 0 : produced->back().second) + outputs);
      }
      const std::uint64_t bytes = burst_bytes(d, cur.store_bytes);
      const std::uint64_t written = port.transfer(done, bytes, true);
      if (times.freed.size() < ring) {
        times.freed.push_back(written);
      } else {
        times.freed[last_slot] = written;
        last_slot = (last_slot + 1) % ring;
      }
      if (!p.scalesim) {
        if (stored.size() <= cur.out_block) stored.resize(cur.out_block + 1, 0);
        stored[cur.out_block] = written;
      }
      end = std::max(end, written);
      count.add(st.spad_output_read_bytes, packed_bytes(outputs, pb));
      if (p.scatter_adds) {
        // On-chip col2im: each dCol element is added into its dX sum in the output buffer.
        count.add(buf_add_id, outputs);
        count.add(st.spad_output_read_bytes, packed_bytes(outputs, pb));
        count.add(st.spad_output_write_bytes, packed_bytes(outputs, pb));
      }
      if (p.rounds) {
        count.add(st.vec_ops, outputs);
        count.add(st.vec(workloads::VectorKind::kQuantize), outputs);
      }
      count.add(st.dram_bytes_written, bytes);
      count.add(st.dram_transfers, 1);
    }
    cur = nxt;
  }
  // SCALE-Sim reports folds x per-fold - 1 cycles (docs/references.md): its count ends
  // one cycle before the last fold's end.
  if (p.scalesim && end > start) --end;
  times.end = end;
  times.compute_end = std::min(times.compute_end, end);
  times.released = std::min(times.released, times.compute_end);
  return times;
}

bool needs_whole_input(const design::Design& d, const workloads::TraceOp& op) {
  // NVFP4's tensor scale is amax(tensor) / (6 x 448), taken afresh for every tensor as the
  // recipe does: no block can be scaled before the producer wrote the last element. The amax
  // itself is taken on the producer's write path as it stores the tensor.
  return d.vector.tensor_scale == design::TensorScaleTiming::kCurrent && !op.is_gemm() &&
         op.vector == workloads::VectorKind::kQuantize && numerics::format_tensor_bits(op.out_format) > 0;
}

bool fuses_into_previous(const workloads::TraceOp& prev, const workloads::TraceOp& op) {
  using workloads::VectorKind;
  if (prev.is_gemm() || op.is_gemm()) return false;
  // Unary elementwise ops only: each output element needs only its own input
  // element, so the op can run on a chunk as soon as the producer computed it.
  // Reductions (norms, pools, softmax) need the whole tensor first, and
  // eltwise has a second operand from DRAM.
  const bool unary = op.vector == VectorKind::kActivation || op.vector == VectorKind::kActivationGrad ||
                     op.vector == VectorKind::kGelu || op.vector == VectorKind::kGeluGrad ||
                     op.vector == VectorKind::kQuantize;
  return unary && prev.elements == op.elements && prev.out_format == op.in_format;
}

bool streams_from_gemm(const workloads::TraceOp& gemm, const workloads::TraceOp& op) {
  using workloads::VectorKind;
  if (!gemm.is_gemm() || op.is_gemm()) return false;
  // As fuses_into_previous: each output element needs only its own input element.
  const bool unary = op.vector == VectorKind::kActivation || op.vector == VectorKind::kActivationGrad ||
                     op.vector == VectorKind::kQuantize;
  // An on-chip input gradient stores dX, not its groups*m*n dCol outputs (unless they are the same).
  if (gemm.phase == workloads::Phase::kInputGrad && gemm.conv && gemm.conv->im2col == workloads::Im2col::kOnChip &&
      !gemm.conv->is_identity()) {
    return false;
  }
  const std::uint64_t outputs = gemm.groups * gemm.m * gemm.n;
  return unary && op.elements == outputs && op.in_format == gemm.stored_format();
}

std::uint64_t StreamSource::ready(std::uint64_t part, std::uint64_t whole) const {
  // The first block by which done / outputs >= part / whole (exact in integers;
  // 128-bit products: both sides may be large).
  for (const auto& [cycle, done] : *produced) {
    if (static_cast<unsigned __int128>(done) * whole >= static_cast<unsigned __int128>(part) * outputs) return cycle;
  }
  return produced->empty() ? 0 : produced->back().first;
}

std::uint64_t vector_chunk(const design::Design& d, const workloads::TraceOp& op) {
  // Quarter bits: a block format's elements with their share of the block scales.
  const std::uint64_t in_bits = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.in_format));
  const std::uint64_t out_bits = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.out_format));
  // A chunk's inputs and results share one half of the output scratchpad.
  std::uint64_t chunk = fit_stored(d.output.tile_capacity(), in_bits + out_bits);
  const std::uint64_t lanes = d.vector.lanes;
  if (chunk >= lanes) chunk -= chunk % lanes;  // whole lane groups
  return chunk;
}

RunTimes run_vector(const design::Design& d, const workloads::TraceOp& op, std::uint64_t elements,
                    MemoryPort& port, std::uint64_t start, StatVector* counts, const ArchStats& st,
                    bool input_on_chip, const StreamSource* source, const SlotTimes* slots,
                    bool output_on_chip) {
  if (elements == 0) return RunTimes{start, start, start, {}};
  const Counter count{counts};
  // Quarter bits: a block format's elements with their share of the block scales.
  const std::uint64_t in_bits = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.in_format));
  const std::uint64_t out_bits = static_cast<std::uint64_t>(numerics::format_quarter_bits(op.out_format));
  // NVFP4's FP32 tensor scale: written once, with the last chunk.
  const std::uint64_t tensor_bytes = static_cast<std::uint64_t>(numerics::format_tensor_bits(op.out_format)) / 8;
  const std::uint64_t chunk = vector_chunk(d, op);
  if (chunk == 0) {
    throw too_small(d, op, "output", "one vector element in and out", stored_bytes(1, in_bits + out_bits),
                    d.output.tile_capacity());
  }
  const std::uint64_t lanes = d.vector.lanes;
  const std::uint64_t cpe = d.vector.cycles_for(op.vector);
  const std::uint64_t chunks = ceil_div(elements, chunk);
  const std::uint64_t lookahead = d.output.double_buffer ? 2 : 1;
  std::vector<std::uint64_t> loaded(chunks, 0);
  std::vector<std::uint64_t> freed(chunks, 0);  // store completion: the chunk's half is free again
  const auto size_of = [&](std::uint64_t i) { return std::min(chunk, elements - i * chunk); };
  if (source != nullptr) input_on_chip = true;
  const auto load = [&](std::uint64_t i, std::uint64_t ready) {
    if (source != nullptr) {  // streamed: the chunk is there once the GEMM computed that share of its outputs
      loaded[i] = std::max(ready, source->ready(std::min(elements, (i + 1) * chunk), elements));
      return;
    }
    if (input_on_chip) {  // fused: the producer left the chunk in the scratchpad
      loaded[i] = ready;
      return;
    }
    const std::uint64_t bytes = burst_bytes(d, stored_bytes(size_of(i), in_bits));
    loaded[i] = port.transfer(ready, bytes, false);
    count.add(st.dram_bytes_read, bytes);
    count.add(st.dram_transfers, 1);
  };
  for (std::uint64_t i = 0; i < std::min(lookahead, chunks); ++i) {
    // The first chunks' slots are the op's own from their reservation on.
    load(i, slots != nullptr && i < slots->output.size() ? std::max(start, slots->output[i]) : start);
  }
  std::uint64_t compute_end = start;
  std::uint64_t end = start;
  for (std::uint64_t i = 0; i < chunks; ++i) {
    const std::uint64_t n = size_of(i);
    const std::uint64_t begin = std::max(loaded[i], compute_end);
    compute_end = begin + ceil_div(n, lanes) * cpe;
    if (output_on_chip) {
      freed[i] = compute_end;  // left in the scratchpad for the op fused after this one
    } else {
      const std::uint64_t bytes = burst_bytes(d, stored_bytes(n, out_bits) + (i + 1 == chunks ? tensor_bytes : 0));
      freed[i] = port.transfer(compute_end, bytes, true);
      count.add(st.dram_bytes_written, bytes);
      count.add(st.dram_transfers, 1);
    }
    end = std::max({end, compute_end, freed[i]});
    if (i + lookahead < chunks) load(i + lookahead, freed[i]);
  }
  count.add(st.vec_ops, elements);
  count.add(st.vec(op.vector), elements);
  // Fills and results pass through the output scratchpad (docs/timing.md); a
  // fused op's input was written there by the op before it.
  count.add(st.spad_output_write_bytes,
            (input_on_chip ? 0 : stored_bytes(elements, in_bits)) + stored_bytes(elements, out_bits) + tensor_bytes);
  // Results are read back to be stored; one kept on chip is read by the op fused after it.
  count.add(st.spad_output_read_bytes,
            stored_bytes(elements, in_bits) + (output_on_chip ? 0 : stored_bytes(elements, out_bits) + tensor_bytes));
  // The last chunk of each slot frees it (docs/timing.md, "Scratchpad reservations").
  RunTimes times{compute_end, end, compute_end, {}};
  times.freed.assign(freed.end() - static_cast<std::ptrdiff_t>(std::min(lookahead, chunks)), freed.end());
  return times;
}

}  // namespace nibble::arch
