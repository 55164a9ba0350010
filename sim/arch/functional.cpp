#include "sim/arch/functional.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "sim/arch/tile.hpp"
#include "sim/common/text.hpp"
#include "sim/design/trace_names.hpp"
#include "sim/numerics/accumulate.hpp"
#include "sim/numerics/block_dot.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::arch {

using numerics::Format;
using numerics::PeMode;

namespace {

struct Matrices {
  std::uint64_t m, n, k;
  std::vector<std::uint32_t> a;  // m x k, a[i * k + kk]
  std::vector<std::uint32_t> b;  // k x n, b[kk * n + j]
};

// Adds a finished chunk's FP16 sum into an FP32 total (fp16-chunked: the
// output buffer's add), as numerics::ChunkedFp16Accumulator does.
std::uint32_t add_chunk(std::uint32_t total, std::uint32_t chunk_sum) {
  const float exact = numerics::fp16_to_float(static_cast<std::uint16_t>(chunk_sum));  // FP16 -> FP32 is exact
  return numerics::fp32_add(total, numerics::fp32_bits(exact));
}

// Plain GEMM in the array's order: ws/is chain the partial sum over k (with
// FP32 chunk totals for fp16-chunked); os sums each reduction chunk of `tk`
// from zero and adds the chunk results in the output buffer.
// With dot-product PEs (dot = N > 1, ws only) the chain adds one pe_dot of N
// consecutive elements of k at a time.
std::vector<std::uint32_t> reference(const Matrices& x, PeMode mode, const numerics::PeArith& arith, Format acc,
                                     std::uint64_t chunk, bool os, std::uint64_t tk, std::uint64_t dot) {
  std::vector<std::uint32_t> c(x.m * x.n, 0);
  std::vector<std::uint32_t> column(x.k);
  for (std::uint64_t i = 0; i < x.m; ++i) {
    for (std::uint64_t j = 0; j < x.n; ++j) {
      std::uint32_t result = 0;
      if (dot > 1) {
        for (std::uint64_t kk = 0; kk < x.k; ++kk) column[kk] = x.b[kk * x.n + j];
        const std::uint32_t* a = x.a.data() + i * x.k;
        numerics::ChunkedFp16Accumulator sum(chunk != 0 ? chunk : 1);
        for (std::uint64_t k0 = 0; k0 < x.k; k0 += dot) {
          const std::uint64_t n = std::min(dot, x.k - k0);
          if (chunk != 0) {
            sum.dot(arith, mode, a + k0, column.data() + k0, n);
          } else {
            result = numerics::pe_dot(arith, mode, result, a + k0, column.data() + k0, n);
          }
        }
        if (chunk != 0) result = sum.total_fp32();
      } else if (chunk != 0) {
        // sim/numerics' own definition of chunked accumulation.
        numerics::ChunkedFp16Accumulator sum(chunk);
        for (std::uint64_t kk = 0; kk < x.k; ++kk) sum.mac(arith, mode, x.a[i * x.k + kk], x.b[kk * x.n + j]);
        result = sum.total_fp32();
      } else if (os) {
        for (std::uint64_t k0 = 0; k0 < x.k; k0 += tk) {
          std::uint32_t part = 0;
          for (std::uint64_t kk = k0; kk < std::min(x.k, k0 + tk); ++kk) {
            part = numerics::pe_mac(arith, mode, part, x.a[i * x.k + kk], x.b[kk * x.n + j]);
          }
          result = k0 == 0 ? part : accumulate(acc, result, part);
        }
      } else {
        for (std::uint64_t kk = 0; kk < x.k; ++kk) {
          result = numerics::pe_mac(arith, mode, result, x.a[i * x.k + kk], x.b[kk * x.n + j]);
        }
      }
      c[i * x.n + j] = result;
    }
  }
  return c;
}

// Weight-stationary through compute_tile_fold, fold by fold as the
// controller runs them: B's tile stays, A's rows stream, the partial sums
// chain through the k-tiles (restarting at each chunk of an fp16-chunked sum).
// Input-stationary keeps A's tile in the PEs and streams B's columns; its PEs
// multiply the same operands in the op's own roles (A x B), so the tile is
// computed in place here rather than through compute_tile_fold's A-streams form.
// `rows` is the reduction elements of one fold: R x N for dot-product PEs (ws only).
std::vector<std::uint32_t> run_stationary(const Matrices& x, std::uint64_t rows, std::uint64_t cols, PeMode mode,
                                          const numerics::PeArith& arith, std::uint64_t chunk, bool transposed,
                                          std::uint64_t dot) {
  // Roles: stationary S[k x N], streamed vectors V[M x k]; out[M x N].
  const std::uint64_t big_m = transposed ? x.n : x.m;
  const std::uint64_t big_n = transposed ? x.m : x.n;
  TileFold fold;
  fold.mode = mode;
  fold.arith = arith;
  fold.dot = dot;
  std::vector<std::uint32_t> c(x.m * x.n, 0);
  for (std::uint64_t n0 = 0; n0 < big_n; n0 += cols) {
    const std::uint64_t cn = std::min(cols, big_n - n0);
    std::vector<std::uint32_t> psum(big_m * cn, 0);
    std::vector<std::uint32_t> total(big_m * cn, 0);
    for (std::uint64_t k0 = 0; k0 < x.k; k0 += rows) {
      const std::uint64_t rk = std::min(rows, x.k - k0);
      const bool chunk_start = chunk != 0 && k0 % chunk == 0;
      if (chunk_start) std::fill(psum.begin(), psum.end(), 0);
      if (!transposed) {
        fold.b.assign(rk * cn, 0);
        for (std::uint64_t r = 0; r < rk; ++r) {
          for (std::uint64_t cc = 0; cc < cn; ++cc) fold.b[r * cn + cc] = x.b[(k0 + r) * x.n + n0 + cc];
        }
        fold.a.assign(big_m * rk, 0);
        for (std::uint64_t v = 0; v < big_m; ++v) {
          for (std::uint64_t r = 0; r < rk; ++r) fold.a[v * rk + r] = x.a[v * x.k + k0 + r];
        }
        fold.psum_in = psum;
        psum = compute_tile_fold(rk, cn, fold);
      } else {
        // PE (r, cc) holds A[n0 + cc][k0 + r]; column cc's partial sum for the
        // streamed column v of B passes rows r = 0..rk-1 in order.
        for (std::uint64_t v = 0; v < big_m; ++v) {
          for (std::uint64_t cc = 0; cc < cn; ++cc) {
            std::uint32_t& acc = psum[v * cn + cc];
            for (std::uint64_t r = 0; r < rk; ++r) {
              acc = numerics::pe_mac(arith, mode, acc, x.a[(n0 + cc) * x.k + k0 + r], x.b[(k0 + r) * x.n + v]);
            }
          }
        }
      }
      const bool chunk_end = chunk != 0 && (k0 + rk == x.k || (k0 + rows) % chunk == 0);
      if (chunk_end) {
        for (std::size_t i = 0; i < psum.size(); ++i) total[i] = add_chunk(total[i], psum[i]);
      }
    }
    const std::vector<std::uint32_t>& result = chunk != 0 ? total : psum;
    for (std::uint64_t v = 0; v < big_m; ++v) {
      for (std::uint64_t cc = 0; cc < cn; ++cc) {
        const std::uint32_t value = result[v * cn + cc];
        if (transposed) {
          c[(n0 + cc) * x.n + v] = value;
        } else {
          c[v * x.n + n0 + cc] = value;
        }
      }
    }
  }
  return c;
}

// Output-stationary: PE (r, c) of a fold sums its reduction chunk from zero in
// step order; the output buffer adds the chunks (FP32 totals when chunked).
std::vector<std::uint32_t> run_output_stationary(const Matrices& x, std::uint64_t rows, std::uint64_t cols,
                                                 PeMode mode, const numerics::PeArith& arith, Format acc,
                                                 std::uint64_t chunk, std::uint64_t tk) {
  std::vector<std::uint32_t> c(x.m * x.n, 0);
  for (std::uint64_t n0 = 0; n0 < x.n; n0 += cols) {
    const std::uint64_t cn = std::min(cols, x.n - n0);
    for (std::uint64_t m0 = 0; m0 < x.m; m0 += rows) {
      const std::uint64_t rm = std::min(rows, x.m - m0);
      std::vector<std::uint32_t> buffer(rm * cn, 0);
      for (std::uint64_t k0 = 0; k0 < x.k; k0 += tk) {
        const std::uint64_t steps = std::min(tk, x.k - k0);
        for (std::uint64_t r = 0; r < rm; ++r) {
          for (std::uint64_t cc = 0; cc < cn; ++cc) {
            std::uint32_t pe = 0;
            for (std::uint64_t t = 0; t < steps; ++t) {
              pe = numerics::pe_mac(arith, mode, pe, x.a[(m0 + r) * x.k + k0 + t], x.b[(k0 + t) * x.n + n0 + cc]);
            }
            std::uint32_t& out = buffer[r * cn + cc];
            if (chunk != 0) {
              out = add_chunk(out, pe);
            } else {
              out = k0 == 0 ? pe : accumulate(acc, out, pe);
            }
          }
        }
      }
      for (std::uint64_t r = 0; r < rm; ++r) {
        for (std::uint64_t cc = 0; cc < cn; ++cc) c[(m0 + r) * x.n + n0 + cc] = buffer[r * cn + cc];
      }
    }
  }
  return c;
}

// A random finite block scale: E8M0 exponents 2^-10 .. 2^10 (sums stay far
// from FP32's range), any UE4M3 code but the NaN (zero and subnormals included).
std::uint32_t random_scale(numerics::ScaleKind kind, std::mt19937_64& rng) {
  if (kind == numerics::ScaleKind::kE8M0) return static_cast<std::uint32_t>(numerics::kE8m0Bias - 10 + rng() % 21);
  return static_cast<std::uint32_t>(rng() % numerics::kUe4m3Nan);
}

// Block-FP4 ops (docs/timing.md, "Block-FP4 PEs"): A's rows and B's columns
// carry one scale per block along k. The reference adds each output's blocks
// in k order (numerics::block_dot_run); the array runs the ws folds of R x N
// reduction rows through compute_tile_fold, partial sums chained fold to fold.
std::vector<std::uint32_t> block_reference(const Matrices& x, const numerics::BlockFormat& f, const numerics::FloatSpec& spec,
                                           const std::vector<std::uint32_t>& as, const std::vector<std::uint32_t>& bs) {
  const std::uint64_t nb = ceil_div(x.k, f.block);
  std::vector<std::uint32_t> c(x.m * x.n, 0);
  std::vector<std::uint32_t> column(x.k);
  std::vector<std::uint32_t> column_scales(nb);
  for (std::uint64_t j = 0; j < x.n; ++j) {
    for (std::uint64_t kk = 0; kk < x.k; ++kk) column[kk] = x.b[kk * x.n + j];
    for (std::uint64_t b = 0; b < nb; ++b) column_scales[b] = bs[b * x.n + j];
    for (std::uint64_t i = 0; i < x.m; ++i) {
      c[i * x.n + j] = static_cast<std::uint32_t>(numerics::block_dot_run(
          0, f, x.a.data() + i * x.k, as.data() + i * nb, column.data(), column_scales.data(), x.k, spec));
    }
  }
  return c;
}

std::vector<std::uint32_t> block_array(const Matrices& x, const numerics::BlockFormat& f, PeMode mode,
                                       const numerics::PeArith& arith, const std::vector<std::uint32_t>& as,
                                       const std::vector<std::uint32_t>& bs, std::uint64_t rows, std::uint64_t cols,
                                       std::uint64_t dot) {
  const std::uint64_t nb = ceil_div(x.k, f.block);
  TileFold fold;
  fold.mode = mode;
  fold.arith = arith;
  fold.dot = dot;
  std::vector<std::uint32_t> c(x.m * x.n, 0);
  for (std::uint64_t n0 = 0; n0 < x.n; n0 += cols) {
    const std::uint64_t cn = std::min(cols, x.n - n0);
    std::vector<std::uint32_t> psum(x.m * cn, 0);
    for (std::uint64_t k0 = 0; k0 < x.k; k0 += rows) {
      const std::uint64_t rk = std::min(rows, x.k - k0);
      const std::uint64_t b0 = k0 / f.block;  // rows (R x N) is a multiple of the block
      const std::uint64_t fb = ceil_div(rk, f.block);
      fold.b.assign(rk * cn, 0);
      fold.b_scales.assign(fb * cn, 0);
      for (std::uint64_t r = 0; r < rk; ++r) {
        for (std::uint64_t cc = 0; cc < cn; ++cc) fold.b[r * cn + cc] = x.b[(k0 + r) * x.n + n0 + cc];
      }
      for (std::uint64_t b = 0; b < fb; ++b) {
        for (std::uint64_t cc = 0; cc < cn; ++cc) fold.b_scales[b * cn + cc] = bs[(b0 + b) * x.n + n0 + cc];
      }
      fold.a.assign(x.m * rk, 0);
      fold.a_scales.assign(x.m * fb, 0);
      for (std::uint64_t v = 0; v < x.m; ++v) {
        for (std::uint64_t r = 0; r < rk; ++r) fold.a[v * rk + r] = x.a[v * x.k + k0 + r];
        for (std::uint64_t b = 0; b < fb; ++b) fold.a_scales[v * fb + b] = as[v * nb + b0 + b];
      }
      fold.psum_in = psum;
      psum = compute_tile_fold(rk, cn, fold);
    }
    for (std::uint64_t v = 0; v < x.m; ++v) {
      for (std::uint64_t cc = 0; cc < cn; ++cc) c[v * x.n + n0 + cc] = psum[v * cn + cc];
    }
  }
  return c;
}

}  // namespace

std::uint32_t accumulate(Format acc, std::uint32_t sum, std::uint32_t value) {
  switch (acc) {
    case Format::kInt32: {
      // int32 accumulators saturate at [-2^31, 2^31 - 1] (sim/numerics/pe.hpp).
      const std::int64_t s = static_cast<std::int32_t>(sum);
      const std::int64_t v = static_cast<std::int32_t>(value);
      const std::int64_t r = std::clamp<std::int64_t>(s + v, std::numeric_limits<std::int32_t>::min(),
                                                      std::numeric_limits<std::int32_t>::max());
      return static_cast<std::uint32_t>(static_cast<std::int32_t>(r));
    }
    case Format::kFp16:
      return numerics::fp16_add(static_cast<std::uint16_t>(sum), static_cast<std::uint16_t>(value));
    default:
      return numerics::fp32_add(sum, value);
  }
}

std::uint32_t random_code(Format format, std::mt19937_64& rng) {
  const auto bits = [&](int n) { return static_cast<std::uint32_t>(rng() & ((1ULL << n) - 1)); };
  switch (format) {
    case Format::kInt4:
    case Format::kFp4:
    case Format::kFp4Radix2:
    case Format::kMxfp4:
    case Format::kNvfp4: return bits(4);  // block formats: the E2M1 element code; scales drawn per block
    case Format::kUint4: return bits(4);  // read as 0..15 with PeArith::a_unsigned
    case Format::kFp8E4M3: {
      std::uint32_t code = bits(8);
      while ((code & 0x7F) == 0x7F) code = bits(8);  // the only NaN codes of e4m3
      return code;
    }
    case Format::kFp8E5M2: {
      std::uint32_t code = bits(8);
      while ((code & 0x7C) == 0x7C) code = bits(8);  // exponent 31: Inf and NaN
      return code;
    }
    case Format::kFp16: {
      // Exponents 10..20: magnitudes 2^-5 .. 2^6, so sums stay finite.
      const std::uint32_t exponent = 10 + static_cast<std::uint32_t>(rng() % 11);
      return (bits(1) << 15) | (exponent << 10) | bits(10);
    }
    case Format::kBf16: {
      // FP32's exponents 120..134, 7 fraction bits: sums stay finite.
      const std::uint32_t exponent = 120 + static_cast<std::uint32_t>(rng() % 15);
      return (bits(1) << 15) | (exponent << 7) | bits(7);
    }
    default: {
      const std::uint32_t exponent = 120 + static_cast<std::uint32_t>(rng() % 15);
      return (bits(1) << 31) | (exponent << 23) | bits(23);
    }
  }
}

FunctionalOutcome check_functional(const design::Design& d, const design::Execution& e, const GemmPlan& plan,
                                   const workloads::TraceOp& op, std::uint64_t seed, std::uint64_t max_macs) {
  if (!e.op_mode) return FunctionalOutcome::kNoArithmetic;
  const auto mn = checked_mul(op.m, op.n);
  const auto per_group = mn ? checked_mul(*mn, op.k) : std::nullopt;
  if (!per_group || *per_group > max_macs) return FunctionalOutcome::kTooLarge;
  Matrices x{op.m, op.n, op.k, {}, {}};
  std::mt19937_64 rng(seed);
  x.a.resize(op.m * op.k);
  x.b.resize(op.k * op.n);
  for (auto& v : x.a) v = random_code(op.a_format, rng);
  for (auto& v : x.b) v = random_code(op.b_format, rng);

  const PeMode mode = *e.op_mode;
  std::vector<std::uint32_t> want;
  std::vector<std::uint32_t> got;
  if (numerics::pe_block_mode(mode)) {
    const numerics::BlockFormat& f = numerics::pe_block_format(mode);
    const std::uint64_t nb = ceil_div(op.k, f.block);
    std::vector<std::uint32_t> as(op.m * nb);
    std::vector<std::uint32_t> bs(nb * op.n);
    for (auto& s : as) s = random_scale(f.scale, rng);
    for (auto& s : bs) s = random_scale(f.scale, rng);
    const numerics::FloatSpec& spec = e.arith.acc == Format::kFp16 ? numerics::kFp16Spec : numerics::kFp32Spec;
    want = block_reference(x, f, spec, as, bs);
    got = block_array(x, f, mode, e.arith, as, bs, d.array.rows * d.array.dot_product, d.array.cols,
                      d.array.dot_product);
  }

  const std::uint64_t chunk = e.acc == Format::kFp16Chunked ? d.array.chunk : 0;
  // The plan's dataflow: the mapper may choose another of the unit's dataflows.
  const bool os = plan.dataflow == design::Dataflow::kOs;
  const std::uint64_t tk = os ? std::max<std::uint64_t>(1, plan.block) : 0;
  const std::uint64_t dot = d.array.dot_product;  // > 1 only in ws (design validation)
  if (!numerics::pe_block_mode(mode)) {
    want = reference(x, mode, e.arith, e.acc, chunk, os, tk, dot);
    got = os ? run_output_stationary(x, d.array.rows, d.array.cols, mode, e.arith, e.acc, chunk, tk)
             : run_stationary(x, d.array.rows * dot, d.array.cols, mode, e.arith, chunk,
                              plan.dataflow == design::Dataflow::kIs, dot);
  }
  for (std::uint64_t i = 0; i < want.size(); ++i) {
    if (want[i] != got[i]) {
      throw FunctionalMismatch("functional mismatch in op '" + op.layer + "' (" +
                               std::string(workloads::phase_name(op.phase)) + ", " +
                               std::string(design::dataflow_name(plan.dataflow)) + ") at C[" +
                               std::to_string(i / op.n) + "][" + std::to_string(i % op.n) + "]: array " +
                               format_hex(got[i], 8) + ", reference " + format_hex(want[i], 8));
    }
  }
  return FunctionalOutcome::kChecked;
}

}  // namespace nibble::arch
