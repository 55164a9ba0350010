// Internal to models/train: the FP16-accumulator GEMM kernel written once over
// a vector-traits class, included by one source file per instruction set
// (gemm_avx2.cpp, gemm_avx512.cpp), each compiled with its own -m flags.
//
// Everything here has internal linkage (anonymous namespace) and uses no
// standard-library templates: a weak symbol compiled with AVX-512 flags must
// never be picked by the linker for code that runs on a CPU without them.
//
// Why FP32 arithmetic reproduces the FP16 accumulator exactly:
//  * Each product a*b is exact in FP32: the operands reaching an FP16
//    accumulator are INT4 codes (<= 4 significant bits), FP4 powers of two
//    (1 bit), FP8 values (<= 4 bits) or FP16 values (11 bits), so a product
//    has at most 22 significant bits, and the exponents stay inside FP32's
//    normal range. Hence fma(a, b, acc) == RN32(acc + a*b exactly).
//  * When every product is itself an FP16 value (INT4 x INT4, INT4 x FP4
//    with the default bias), acc + p is a sum of two binary16 numbers; FP32
//    has 24 >= 2*11 + 2 significand bits, so rounding first to FP32 and then
//    to FP16 equals one rounding to FP16 (Figueroa, "When is double rounding
//    innocuous?", SIGNUM 1995). The FP16 rounding is the hardware's
//    round-to-nearest-even conversion (vcvtps2ph), which also produces FP16
//    subnormals, +-inf on overflow and keeps NaN.
//  * The block FP32 mode (block_fp32) has no FP16 rounding: each block's sum
//    is exact in FP32 (gemm.cpp, "Block dot-product PEs"), so one FP32 add of
//    it is the one rounding numerics::block_dot_accumulate makes.
//  * Otherwise (FP16 x FP16 or FP8 x FP8 products with up to 22 bits) the FP32
//    add is made to round to odd (TwoSum gives the exact error; an inexact
//    even result moves one ulp towards the exact sum). Rounding to odd in
//    p + 2 or more bits followed by round-to-nearest in p bits equals one
//    round-to-nearest (Boldo & Melquiond, IEEE TC 2008); 24 >= 11 + 2.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/train/gemm_kernels.hpp"

namespace nibble::train::detail {
namespace {

/// acc + a*b rounded as the FP16 accumulator does (see the header comment).
template <class V, bool kRoundToOdd>
inline typename V::Reg mac16(typename V::Reg acc, typename V::Reg a, typename V::Reg b) {
  if constexpr (!kRoundToOdd) {
    return V::round16(V::fmadd(a, b, acc));
  } else {
    const typename V::Reg p = V::mul(a, b);  // exact (<= 22 significant bits)
    const typename V::Reg s = V::add(acc, p);
    // TwoSum (Knuth): err = (acc + p) - s exactly.
    const typename V::Reg bv = V::sub(s, acc);
    const typename V::Reg av = V::sub(s, bv);
    const typename V::Reg err = V::add(V::sub(acc, av), V::sub(p, bv));
    return V::round16(V::round_to_odd(s, err));
  }
}

/// What a kernel instantiation computes (one per combination, so that the hot
/// loop of each carries no run-time branches and no unused registers).
template <bool kRoundToOddT, bool kChunkedT, bool kDotT, bool kBlockFp32T = false>
struct Mode {
  static constexpr bool kRoundToOdd = kRoundToOddT;  ///< round the FP32 add to odd before FP16
  static constexpr bool kChunked = kChunkedT;        ///< fp16-chunked (g.chunk > 0)
  static constexpr bool kDot = kDotT;                ///< dot-product PE (g.dot > 1)
  static constexpr bool kBlockFp32 = kBlockFp32T;    ///< MX / NVFP4 blocks of g.dot, FP32 accumulator
};

/// Loads the kTileVecs vectors of row kk of B at column j0: whole vectors
/// when kFull, else only the lanes `masks` select (the last columns of C).
template <class V, int kTileVecs, bool kFull>
inline void load_b(const Fp16GemmArgs& g, std::size_t kk, std::size_t j0, const typename V::Mask* masks,
                   typename V::Reg* b) {
  const float* brow = g.b + kk * g.ldb + j0;
  for (int v = 0; v < kTileVecs; ++v) {
    if constexpr (kFull) {
      b[v] = V::load_full(brow + v * V::kLanes);
    } else {
      b[v] = V::load(brow + v * V::kLanes, masks[v]);
    }
  }
}

/// One tile of kTileRows x kTileVecs vectors of C starting at (i0, j0).
/// The tile shape only decides which elements of C are computed side by side:
/// each element still sums its products in order k = 0, 1, ... on its own.
template <class V, int kTileRows, int kTileVecs, class M, bool kFull>
inline void tile(const Fp16GemmArgs& g, std::size_t i0, std::size_t j0, const typename V::Mask* masks) {
  using Reg = typename V::Reg;
  Reg acc[kTileRows][kTileVecs];
  // Chunked mode: the FP32 sum of finished chunks; the other modes have none,
  // which leaves the registers to the accumulators.
  Reg total[M::kChunked ? kTileRows : 1][M::kChunked ? kTileVecs : 1];
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < kTileVecs; ++v) acc[r][v] = V::zero();
  }
  if constexpr (M::kChunked) {
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < kTileVecs; ++v) total[r][v] = V::zero();
    }
  }
  const float* arow[kTileRows];
  for (int r = 0; r < kTileRows; ++r) arow[r] = g.a + (i0 + static_cast<std::size_t>(r)) * g.lda;
  const std::size_t chunk = M::kChunked ? g.chunk : g.k;
  for (std::size_t k0 = 0; k0 < g.k; k0 += chunk) {
    const std::size_t k1 = (g.k - k0 < chunk) ? g.k : k0 + chunk;
    if constexpr (!M::kDot && !M::kBlockFp32) {
      for (std::size_t kk = k0; kk < k1; ++kk) {
        Reg b[kTileVecs];
        load_b<V, kTileVecs, kFull>(g, kk, j0, masks, b);
        for (int r = 0; r < kTileRows; ++r) {
          const Reg a = V::broadcast(arow[r][kk]);
          for (int v = 0; v < kTileVecs; ++v) acc[r][v] = mac16<V, M::kRoundToOdd>(acc[r][v], a, b[v]);
        }
      }
    } else {
      // A dot-product PE: the group's products summed exactly (every partial
      // sum of INT4/FP4 products is an FP32 number, gemm.cpp), then one
      // round-to-odd-then-FP16 add into the accumulator (kRoundToOdd is set).
      // kBlockFp32: a block of MX / NVFP4 units, summed exactly (FMA or not,
      // in any order: every partial sum is an FP32 number, gemm.cpp checks
      // the range), then one FP32 add, as numerics::block_dot_accumulate.
      [[maybe_unused]] const Reg one = V::broadcast(1.0f);
      for (std::size_t kk = k0; kk < k1; kk += g.dot) {
        const std::size_t end = k1 - kk < g.dot ? k1 : kk + g.dot;
        Reg sum[kTileRows][kTileVecs];
        for (int r = 0; r < kTileRows; ++r) {
          for (int v = 0; v < kTileVecs; ++v) sum[r][v] = V::zero();
        }
        for (std::size_t t = kk; t < end; ++t) {
          Reg b[kTileVecs];
          load_b<V, kTileVecs, kFull>(g, t, j0, masks, b);
          for (int r = 0; r < kTileRows; ++r) {
            const Reg a = V::broadcast(arow[r][t]);
            for (int v = 0; v < kTileVecs; ++v) sum[r][v] = V::fmadd(a, b[v], sum[r][v]);
          }
        }
        for (int r = 0; r < kTileRows; ++r) {
          for (int v = 0; v < kTileVecs; ++v) {
            if constexpr (M::kBlockFp32) {
              acc[r][v] = V::add(acc[r][v], sum[r][v]);
            } else {
              acc[r][v] = mac16<V, M::kRoundToOdd>(acc[r][v], sum[r][v], one);
            }
          }
        }
      }
    }
    if constexpr (M::kChunked) {
      // The chunk's FP16 sum joins the FP32 total (one FP32 rounding; the total
      // starts at +0 as numerics' ChunkedFp16Accumulator), and the FP16
      // accumulator restarts from +0.
      for (int r = 0; r < kTileRows; ++r) {
        for (int v = 0; v < kTileVecs; ++v) {
          total[r][v] = V::add(total[r][v], acc[r][v]);
          acc[r][v] = V::zero();
        }
      }
    }
  }
  if constexpr (M::kChunked) {
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < kTileVecs; ++v) acc[r][v] = total[r][v];
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    float* crow = g.c + (i0 + static_cast<std::size_t>(r)) * g.ldc + j0;
    for (int v = 0; v < kTileVecs; ++v) {
      if constexpr (kFull) {
        V::store_full(crow + v * V::kLanes, acc[r][v]);
      } else {
        V::store(crow + v * V::kLanes, acc[r][v], masks[v]);
      }
    }
  }
}

/// The columns j0 .. j0 + kTileVecs vectors of C, every row: register tiles of
/// V::kRows rows, then single rows. kFull: all those columns exist.
template <class V, int kTileVecs, class M, bool kFull>
inline void column_block(const Fp16GemmArgs& g, std::size_t j0) {
  typename V::Mask masks[kTileVecs];
  for (int v = 0; v < kTileVecs; ++v) {
    const std::size_t start = j0 + static_cast<std::size_t>(v) * V::kLanes;
    const std::size_t live = start >= g.n ? 0 : (g.n - start < V::kLanes ? g.n - start : V::kLanes);
    masks[v] = V::mask(static_cast<int>(live));
  }
  std::size_t i0 = 0;
  for (; i0 + V::kRows <= g.m; i0 += V::kRows) tile<V, V::kRows, kTileVecs, M, kFull>(g, i0, j0, masks);
  for (; i0 < g.m; ++i0) tile<V, 1, kTileVecs, M, kFull>(g, i0, j0, masks);
}

/// Register tiles of V::kRows x V::kVecs vectors hold enough independent FP16
/// accumulators to hide the latency of the multiply-add and the two
/// conversions that round each sum (the dot-product mode, which also keeps
/// each group's sums in registers, uses half as many columns); the last
/// columns, when fewer, take a narrower tile instead of computing masked-off lanes.
template <class V, class M>
inline void run(const Fp16GemmArgs& g) {
  constexpr int kVecs = M::kDot || M::kBlockFp32 ? (V::kVecs + 1) / 2 : V::kVecs;
  constexpr std::size_t kLanes = static_cast<std::size_t>(V::kLanes);
  constexpr std::size_t kBlock = kLanes * kVecs;
  std::size_t j0 = 0;
  for (; j0 + kBlock <= g.n; j0 += kBlock) column_block<V, kVecs, M, true>(g, j0);
  while (j0 < g.n) {
    if (kVecs > 1 && g.n - j0 > kLanes) {
      column_block<V, 2, M, false>(g, j0);
      j0 += 2 * kLanes;
    } else {
      column_block<V, 1, M, false>(g, j0);
      j0 += kLanes;
    }
  }
}

template <class V, bool kRoundToOdd, bool kChunked>
inline void run_dot(const Fp16GemmArgs& g) {
  if (g.dot > 1) {
    run<V, Mode<kRoundToOdd, kChunked, true>>(g);
  } else {
    run<V, Mode<kRoundToOdd, kChunked, false>>(g);
  }
}

template <class V>
inline void run_kernel(const Fp16GemmArgs& g) {
  if (g.block_fp32) {
    run<V, Mode<false, false, false, true>>(g);
  } else if (g.round_to_odd) {
    if (g.chunk != 0) {
      run_dot<V, true, true>(g);
    } else {
      run_dot<V, true, false>(g);
    }
  } else if (g.chunk != 0) {
    run_dot<V, false, true>(g);
  } else {
    run_dot<V, false, false>(g);
  }
}

}  // namespace
}  // namespace nibble::train::detail
