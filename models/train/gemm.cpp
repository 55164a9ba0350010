#include "models/train/gemm.hpp"

#include <Eigen/Core>

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "models/train/gemm_kernels.hpp"
#include "sim/numerics/dot.hpp"
#include "sim/numerics/fp16.hpp"
#include "models/train/parallel.hpp"

namespace nibble::train {

namespace {

using numerics::Format;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const RowMajor, Eigen::Unaligned, Stride>;
using Map = Eigen::Map<RowMajor, Eigen::Unaligned, Stride>;

// Task blocks of C are a function of C's shape only (never of the thread
// count), so an element of C is computed by the same code path, with the same
// Eigen blocking, at any thread count. About kTasks blocks: enough for the
// threads to share, few enough that Eigen's packing stays cheap.
constexpr std::size_t kTasks = 8;
constexpr std::size_t kMinCols = 256;  ///< narrower column blocks would waste Eigen's packing
constexpr std::size_t kRowAlign = 16;  ///< row blocks in multiples of the kernels' register tiles

std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

struct Blocks {
  std::size_t rows;  ///< rows per block
  std::size_t cols;  ///< columns per block
};

Blocks blocks_for(std::size_t m, std::size_t n) {
  Blocks b;
  b.cols = std::max(kMinCols, round_up((n + kTasks - 1) / kTasks, 64));
  const std::size_t col_blocks = (n + b.cols - 1) / b.cols;
  const std::size_t row_tasks = (kTasks + col_blocks - 1) / col_blocks;
  b.rows = std::max(kRowAlign, round_up((m + row_tasks - 1) / row_tasks, kRowAlign));
  return b;
}

ConstMap view(ConstMatrix m) {
  return ConstMap(m.data, static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols),
                  Stride(static_cast<Eigen::Index>(m.ld)));
}
Map view(Matrix m) {
  return Map(m.data, static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols),
             Stride(static_cast<Eigen::Index>(m.ld)));
}

ConstMatrix sub(ConstMatrix m, std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
  return ConstMatrix{m.data + r0 * m.ld + c0, rows, cols, m.ld};
}
Matrix sub(Matrix m, std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
  return Matrix{m.data + r0 * m.ld + c0, rows, cols, m.ld};
}

/// Runs fn(first row, rows, first column, columns) over the block grid of C.
template <typename Fn>
void for_blocks(const Matrix& c, ThreadPool* pool, Fn fn) {
  const Blocks b = blocks_for(c.rows, c.cols);
  const std::size_t row_blocks = block_count(c.rows, b.rows);
  const std::size_t col_blocks = block_count(c.cols, b.cols);
  auto task = [&](std::size_t t) {
    const std::size_t r0 = t / col_blocks * b.rows;
    const std::size_t c0 = t % col_blocks * b.cols;
    fn(r0, std::min(b.rows, c.rows - r0), c0, std::min(b.cols, c.cols - c0));
  };
  if (pool != nullptr) {
    pool->parallel_for(row_blocks * col_blocks, task);
  } else {
    for (std::size_t t = 0; t < row_blocks * col_blocks; ++t) task(t);
  }
}

// Eigen's GEMM cuts the reduction into kc-long slices and the rows into
// mc-high panels sized from the CPU's L1/L2/L3 caches (queried with CPUID at
// first use). Both change the FP32 rounding: a CPU with a 48 KiB L1 sums a
// K = 3,136 product in slices of 416, one with 32 KiB in slices of 288, and
// rows left over from a panel take a micro-kernel path with two accumulators.
// Pinning the sizes fixes the blocking, so an FP32 GEMM of a given shape gives
// the same bits on every machine that runs this build (the int32 and FP16
// paths do not depend on it: they are exact or sequential).
constexpr std::ptrdiff_t kEigenL1 = 32 * 1024;        ///< bytes; the common x86-64 L1d
constexpr std::ptrdiff_t kEigenL2 = 1024 * 1024;      ///< bytes
constexpr std::ptrdiff_t kEigenL3 = 32 * 1024 * 1024;  ///< bytes

void pin_eigen_blocking() {
  // Only the first gemm() of a run sets the sizes, from the thread that runs
  // the network (a layer's own GEMMs come before any per-group GEMMs that
  // attention runs on several threads at once); later calls only read them.
  // It also undoes a caller's change.
  if (Eigen::l1CacheSize() != kEigenL1 || Eigen::l2CacheSize() != kEigenL2 || Eigen::l3CacheSize() != kEigenL3) {
    Eigen::setCpuCacheSizes(kEigenL1, kEigenL2, kEigenL3);
  }
}

float max_abs(ConstMatrix m) {
  float best = 0.0f;
  for (std::size_t i = 0; i < m.rows; ++i) {
    const float* row = m.data + i * m.ld;
    for (std::size_t j = 0; j < m.cols; ++j) best = std::max(best, std::fabs(row[j]));
  }
  return best;
}

// ---- int32: exact fixed-point accumulation ---------------------------------
//
// Exactness bound. Every product a*b is an integer multiple of `lsb` (the
// quantizers produce INT4 codes and powers of two no smaller than the
// accumulator's LSB), and |a*b| <= P = max|A| * max|B|. Any partial sum of
// k' products -- in whatever order Eigen adds them -- is a multiple of lsb of
// magnitude <= k' * P. FP32 holds every multiple of lsb up to 2^24 * lsb
// exactly, and a sum of two exactly representable values whose exact result
// is representable is computed exactly. So if k' * P <= 2^24 * lsb the FP32
// GEMM of those k' columns is the exact sum. For the shapes nibble trains,
// INT4 x INT4 forward products are at most 8 * 8 = 64 (15 * 8 = 120 with
// UINT4 activations): k' = 2^24 / 120 = 139,810 >= every K of fmnist-mlp and
// fmnist-cnn (at most 3,136). INT4 x FP4 products are at most 8 * 4^6 = 2^15
// LSBs (radix-4, exponent codes 1..7), so k' >= 2^9 = 512; the weight-gradient
// GEMMs (K = batch x positions, e.g. 64 x 196 = 12,544) are then cut into
// K-chunks of at most k' columns whose exact FP32 results are summed in FP64,
// exact while the total stays below 2^53 * lsb (K * 2^15 < 2^53 for any
// K < 2^38). The bound uses the actual maxima of A and B, so typical tensors
// need far fewer chunks than the worst case.
//
// Saturation: the int32 register saturates at +-2^31 LSBs after each add. If
// K * P < 2^31 * lsb no partial sum can reach it and the exact sum is what the
// PE produces; otherwise the sum runs sequentially with saturation.

void gemm_int32_sequential(double lsb, ConstMatrix a, ConstMatrix b, Matrix c) {
  constexpr std::int64_t kMax = 2147483647;
  constexpr std::int64_t kMin = -2147483647 - 1;
  for (std::size_t i = 0; i < c.rows; ++i) {
    for (std::size_t j = 0; j < c.cols; ++j) {
      std::int64_t acc = 0;
      for (std::size_t kk = 0; kk < a.cols; ++kk) {
        const double product = static_cast<double>(a.data[i * a.ld + kk]) * b.data[kk * b.ld + j];
        acc += static_cast<std::int64_t>(std::llround(product / lsb));
        acc = std::clamp(acc, kMin, kMax);
      }
      c.data[i * c.ld + j] = static_cast<float>(static_cast<double>(acc) * lsb);
    }
  }
}

void gemm_int32(const Accumulator& acc, ConstMatrix a, ConstMatrix b, Matrix c, ThreadPool* pool) {
  if (!(acc.lsb > 0.0) || !std::isfinite(acc.lsb)) throw std::logic_error("gemm: int32 accumulator needs lsb > 0");
  const double p_max = static_cast<double>(max_abs(a)) * static_cast<double>(max_abs(b));
  const double k = static_cast<double>(a.cols);
  if (p_max == 0.0) {
    for (std::size_t i = 0; i < c.rows; ++i) std::fill(c.data + i * c.ld, c.data + i * c.ld + c.cols, 0.0f);
    return;
  }
  if (k * p_max >= 2147483648.0 * acc.lsb) {
    for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
      gemm_int32_sequential(acc.lsb, sub(a, r0, rows, 0, a.cols), sub(b, 0, b.rows, c0, cols),
                            sub(c, r0, rows, c0, cols));
    });
    return;
  }
  const double exact_limit = 16777216.0 * acc.lsb;  // 2^24 LSBs
  const std::size_t kc = static_cast<std::size_t>(std::max(1.0, std::floor(exact_limit / p_max)));
  if (kc >= a.cols) {
    for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
      view(sub(c, r0, rows, c0, cols)).noalias() =
          view(sub(a, r0, rows, 0, a.cols)) * view(sub(b, 0, b.rows, c0, cols));
    });
    return;
  }
  for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
    Eigen::MatrixXd total = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    RowMajor part(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    for (std::size_t k0 = 0; k0 < a.cols; k0 += kc) {
      const std::size_t len = std::min(kc, a.cols - k0);
      part.noalias() = view(sub(a, r0, rows, k0, len)) * view(sub(b, k0, len, c0, cols));
      total += part.cast<double>();
    }
    view(sub(c, r0, rows, c0, cols)) = total.cast<float>();
  });
}

// ---- fp16 and fp16-chunked -------------------------------------------------

std::atomic<Fp16Kernel> g_kernel{Fp16Kernel::kAuto};

bool cpu_has(Fp16Kernel kernel) {
  switch (kernel) {
    case Fp16Kernel::kAuto:
    case Fp16Kernel::kScalar:
      return true;
    case Fp16Kernel::kAvx2:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
      return false;
#endif
    case Fp16Kernel::kAvx512:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx512f");
#else
      return false;
#endif
  }
  return false;
}

Fp16Kernel resolved_kernel() {
  const Fp16Kernel chosen = g_kernel.load();
  if (chosen != Fp16Kernel::kAuto) return chosen;
#if defined(NIBBLE_TRAIN_SIMD)
  if (cpu_has(Fp16Kernel::kAvx512)) return Fp16Kernel::kAvx512;
  if (cpu_has(Fp16Kernel::kAvx2)) return Fp16Kernel::kAvx2;
#endif
  return Fp16Kernel::kScalar;
}

void gemm_fp16_block(const Accumulator& acc, ConstMatrix a, ConstMatrix b, Matrix c, Fp16Kernel kernel) {
  detail::Fp16GemmArgs args;
  args.m = c.rows;
  args.n = c.cols;
  args.k = a.cols;
  args.a = a.data;
  args.lda = a.ld;
  args.b = b.data;
  args.ldb = b.ld;
  args.c = c.data;
  args.ldc = c.ld;
  args.chunk = acc.format == Format::kFp16Chunked ? acc.chunk : 0;
  args.block_fp32 = acc.format == Format::kFp32;
  args.round_to_odd = !args.block_fp32 && (!acc.products_fp16 || acc.dot > 1);
  args.dot = args.block_fp32 ? acc.block : acc.dot;
  switch (kernel) {
#if defined(NIBBLE_TRAIN_SIMD)
    case Fp16Kernel::kAvx512:
      detail::fp16_gemm_avx512(args);
      return;
    case Fp16Kernel::kAvx2:
      detail::fp16_gemm_avx2(args);
      return;
#endif
    default:
      detail::fp16_gemm_scalar(args);
      return;
  }
}

// ---- fp32 block dot-product PEs ----------------------------------------------
//
// Why FP32 sums a block exactly. A and B hold units u = code x block scale;
// in a block pair (row i of A, column j of B, block b) every product is an
// integer multiple of g = 2^(lsb_a + lsb_b + e_a + e_b) (lsb_x: the element
// format's LSB exponent, e_x: the block scale's exponent), and every partial
// sum of the block's products, in any order, is such a multiple below
// 2^(w - 1) g, where w = numerics::block_dot_sum_bits plus the bits of the two
// scale significands (E8M0: none; UE4M3: 4 each). block_gemm_length()
// (block_quant.hpp) admits a GEMM only when w - 1 <= 24 (MXFP4: 13; NVFP4:
// 12 + 8 = 20; MXFP6, MXINT8 up to 23; MXFP8's E4M3 x E4M3: 41, refused). So a
// partial sum is n x g with |n| < 2^24, an FP32 number provided
//   (1) it is a multiple of 2^-149 (FP32's subnormal step): true when every
//       product is, i.e. lsb(u_a) x lsb(u_b) >= 2^-149 for bounds on the
//       smallest unit LSBs of A and of B (lsb(u): weight of u's lowest set
//       significand bit);
//   (2) it stays below 2^128: true when block x max|A| x max|B| <= FLT_MAX.
// MX scales span 2^-127 .. 2^127, so a GEMM of tiny by tiny blocks (an
// activation block at 2^-100 times a gradient block at 2^-60) fails (1), and
// its products would round in FP32. Such a GEMM runs on the scalar kernel,
// which sums each block in FP64 (exact over that whole range) and rounds once
// with numerics::float_add: the same bits, slower. An all-zero block's scale
// (2^-127) never matters: zero units have no LSB.

/// A lower bound on the LSB exponent of the matrix's nonzero finite units
/// (1000 when there are none) and their largest magnitude.
struct UnitRange {
  int min_lsb = 1000;    ///< log2 of a lower bound on every lsb(u)
  float max_abs = 0.0f;  ///< largest |u| (NaN units skipped: they give NaN either way)
};

/// One pass without branches (it vectorizes: the scan costs a small fraction
/// of the GEMM): the smallest exponent field over the nonzero finite units
/// (subnormals read as 1) and the OR of their significands give
/// lsb(u) >= 2^(smallest exponent - 150 + trailing zeros of the OR).
UnitRange unit_range(ConstMatrix m) {
  std::uint32_t min_exp = 0xFFu;
  std::uint32_t sig_or = 0;
  std::uint32_t max_bits = 0;
  for (std::size_t i = 0; i < m.rows; ++i) {
    const float* row = m.data + i * m.ld;
    for (std::size_t j = 0; j < m.cols; ++j) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &row[j], sizeof bits);
      bits &= 0x7FFFFFFFu;
      // Masks instead of branches: all ones where the unit is nonzero and finite, or normal.
      const std::uint32_t live = 0u - static_cast<std::uint32_t>(bits - 1u < 0x7F7FFFFFu);
      const std::uint32_t e = bits >> 23;
      const std::uint32_t normal = 0u - static_cast<std::uint32_t>(e != 0);
      const std::uint32_t sig = (bits & 0x7FFFFFu) | (normal & 0x800000u);
      const std::uint32_t exp_field = (e | (~normal & 1u)) & live;  // subnormals: 1
      const std::uint32_t candidate = exp_field | (~live & 0xFFu);
      min_exp = candidate < min_exp ? candidate : min_exp;
      sig_or |= sig & live;
      const std::uint32_t magnitude = bits & live;
      max_bits = magnitude > max_bits ? magnitude : max_bits;
    }
  }
  UnitRange r;
  if (sig_or == 0) return r;
  r.min_lsb = static_cast<int>(min_exp) - 150 + __builtin_ctz(sig_or);
  std::memcpy(&r.max_abs, &max_bits, sizeof max_bits);
  return r;
}

/// True when every in-block partial sum of A x B is an FP32 number (the
/// comment above: conditions (1) and (2)).
bool block_sums_exact_in_fp32(ConstMatrix a, ConstMatrix b, std::size_t block) {
  const UnitRange ra = unit_range(a);
  const UnitRange rb = unit_range(b);
  if (ra.min_lsb == 1000 || rb.min_lsb == 1000) return true;  // all products 0 (or NaN)
  const double bound = static_cast<double>(block) * static_cast<double>(ra.max_abs) * static_cast<double>(rb.max_abs);
  return ra.min_lsb + rb.min_lsb >= -149 && bound <= static_cast<double>(std::numeric_limits<float>::max());
}

void gemm_block_fp32(const Accumulator& acc, ConstMatrix a, ConstMatrix b, Matrix c, ThreadPool* pool) {
  if (acc.block < 2) throw std::logic_error("gemm: a block dot-product PE needs blocks of at least 2 products");
  const Fp16Kernel kernel = block_sums_exact_in_fp32(a, b, acc.block) ? resolved_kernel() : Fp16Kernel::kScalar;
  for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
    gemm_fp16_block(acc, sub(a, r0, rows, 0, a.cols), sub(b, 0, b.rows, c0, cols), sub(c, r0, rows, c0, cols), kernel);
  });
}

}  // namespace

void add_rounded(const Accumulator& acc, float* dst, const float* src, std::size_t n) {
  if (acc.format != Format::kFp16) {
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
    return;
  }
  std::size_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
  for (; i + 8 <= n; i += 8) {
    const __m256 sum = _mm256_add_ps(_mm256_loadu_ps(dst + i), _mm256_loadu_ps(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm256_cvtps_ph(sum, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
  }
  for (; i < n; ++i) {
    dst[i] = _cvtsh_ss(_cvtss_sh(dst[i] + src[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
#else
  for (; i < n; ++i) {
    dst[i] = numerics::fp16_to_float(numerics::fp16_from_float(dst[i] + src[i]));
  }
#endif
}

void set_eigen_cache_sizes(std::ptrdiff_t l1, std::ptrdiff_t l2, std::ptrdiff_t l3) {
  Eigen::setCpuCacheSizes(l1, l2, l3);
}

void eigen_gemm_unpinned(ConstMatrix a, ConstMatrix b, Matrix c) {
  if (a.cols != b.rows || c.rows != a.rows || c.cols != b.cols) throw std::logic_error("eigen_gemm_unpinned: shapes");
  view(c).noalias() = view(a) * view(b);
}

void set_fp16_kernel(Fp16Kernel kernel) {
  if (!fp16_kernel_supported(kernel)) {
    throw std::runtime_error("FP16 GEMM kernel not supported by this CPU or build");
  }
  g_kernel.store(kernel);
}

bool fp16_kernel_supported(Fp16Kernel kernel) {
#if !defined(NIBBLE_TRAIN_SIMD)
  if (kernel == Fp16Kernel::kAvx2 || kernel == Fp16Kernel::kAvx512) return false;
#endif
  return cpu_has(kernel);
}

std::string fp16_kernel_name() {
  switch (resolved_kernel()) {
    case Fp16Kernel::kAvx512:
      return "avx512";
    case Fp16Kernel::kAvx2:
      return "avx2";
    default:
      return "scalar";
  }
}

void gemm(const Accumulator& acc, ConstMatrix a, ConstMatrix b, Matrix c, ThreadPool* pool) {
  if (a.cols != b.rows || c.rows != a.rows || c.cols != b.cols) {
    throw std::logic_error("gemm: shapes do not agree (" + std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                           " * " + std::to_string(b.rows) + "x" + std::to_string(b.cols) + " -> " +
                           std::to_string(c.rows) + "x" + std::to_string(c.cols) + ")");
  }
  if (c.rows == 0 || c.cols == 0) return;
  pin_eigen_blocking();
  if (a.cols == 0) {
    for (std::size_t i = 0; i < c.rows; ++i) std::fill(c.data + i * c.ld, c.data + i * c.ld + c.cols, 0.0f);
    return;
  }
  switch (acc.format) {
    case Format::kFp32:
      if (acc.block > 0) {
        gemm_block_fp32(acc, a, b, c, pool);
        return;
      }
      for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
        view(sub(c, r0, rows, c0, cols)).noalias() =
            view(sub(a, r0, rows, 0, a.cols)) * view(sub(b, 0, b.rows, c0, cols));
      });
      return;
    case Format::kInt32:
      gemm_int32(acc, a, b, c, pool);
      return;
    case Format::kFp16:
    case Format::kFp16Chunked: {
      if (acc.format == Format::kFp16Chunked && acc.chunk == 0) {
        throw std::logic_error("gemm: fp16-chunked accumulator needs chunk >= 1");
      }
      // Dot-product PEs are emulated for (U)INT4 x (U)INT4 and (U)INT4 x FP4
      // products only (models/train/policy.cpp refuses others). Such a product
      // is an integer below 2^8 in magnitude, or v x 2^e with |v| <= 15 and e
      // over the 12 binades of the seven radix-4 FP4 magnitudes; a sum of up to
      // 64 of them spans at most 8 + 6 = 14 or 4 + 12 + 6 = 22 bits, within
      // FP32's 24, so every partial sum the kernels form in FP32 is exact, as
      // numerics::pe_dot's tree is.
      if (acc.dot == 0 || acc.dot > numerics::kMaxDotProduct || (acc.dot > 1 && !acc.products_fp16) ||
          (acc.dot > 1 && acc.format == Format::kFp16Chunked && acc.chunk % acc.dot != 0)) {
        throw std::logic_error("gemm: dot-product group of " + std::to_string(acc.dot) +
                               " needs INT4/FP4 products and a chunk that is a multiple of it");
      }
      const Fp16Kernel kernel = resolved_kernel();
      for_blocks(c, pool, [&](std::size_t r0, std::size_t rows, std::size_t c0, std::size_t cols) {
        gemm_fp16_block(acc, sub(a, r0, rows, 0, a.cols), sub(b, 0, b.rows, c0, cols), sub(c, r0, rows, c0, cols),
                        kernel);
      });
      return;
    }
    default:
      throw std::logic_error("gemm: " + std::string(numerics::format_name(acc.format)) +
                             " is not an accumulator format (expected fp32, int32, fp16 or fp16-chunked)");
  }
}

}  // namespace nibble::train
