// GEMMs as the accelerator's PEs compute them.
//
// C[m x n] = A[m x k] * B[k x n], all row-major. A and B hold the values the
// PEs multiply: for quantized operands the unscaled code values (INT4 codes
// -8..7, UINT4 codes 0..15, FP4 values +-4^(e-bias), FP8/FP16 values); the
// per-tensor scales are applied by the caller afterwards, as the vector unit
// does. The accumulator decides how the products are summed:
//
//   fp32          Eigen's FP32 GEMM. Not order-faithful (Eigen blocks the
//                 reduction); the fp32 policy is the reference, not an
//                 emulation of an FP32 PE array.
//   int32         exact: fixed-point products summed without rounding. Eigen
//                 computes it in FP32 when every partial sum provably fits in
//                 24 bits, otherwise in K-chunks that do, summed in FP64 (see
//                 gemm.cpp for the bound); a sum that could saturate the
//                 32-bit register is accumulated sequentially with saturation.
//   fp16          sequential over k = 0, 1, ..., k-1 (the weight-stationary
//                 order of docs/timing.md), rounded to FP16 after every add,
//                 as sim/numerics' pe_mac does.
//   fp16-chunked  FP16 as above within chunks of `chunk` consecutive k,
//                 each chunk's sum added to an FP32 total in chunk order.
//   fp32, block   the block dot-product PE (numerics::block_dot_run): A and
//                 B hold MX / NVFP4 units (code x block scale) whose blocks
//                 run along k; k is cut into blocks of `block` (the last may
//                 be partial), each block's products summed exactly, and the
//                 block sums added into an FP32 accumulator from +0 with one
//                 rounding each, in k order. Bit for bit block_dot_run's.
//
// Every kernel computes each element of C independently with a fixed order,
// so results do not depend on the thread count or on how C is split into tasks.
#pragma once

#include <cstddef>
#include <string>

#include "sim/numerics/format.hpp"

namespace nibble::train {

class ThreadPool;

/// How a GEMM's products are summed.
struct Accumulator {
  numerics::Format format = numerics::Format::kFp32;  ///< kFp32, kInt32, kFp16 or kFp16Chunked
  std::size_t chunk = 0;       ///< kFp16Chunked: products per FP16 chunk (>= 1)
  double lsb = 1.0;            ///< kInt32: value of one accumulator LSB; every product is a multiple of it
  bool products_fp16 = true;   ///< kFp16*: every product is an FP16 number (enables the faster exact path)
  /// kFp16*: products a dot-product PE sums exactly before each FP16 add
  /// (numerics::pe_dot; a chunk is a whole number of them); 1 = a MAC PE.
  std::size_t dot = 1;
  /// kFp32: 0 = Eigen's FP32 GEMM; B > 0 = the block dot-product PE over
  /// blocks of B along k. The caller passes units of a block format whose
  /// in-block sums need at most 24 significant bits (block_gemm_length() in
  /// block_quant.hpp decides); gemm() checks the exponent range.
  std::size_t block = 0;
};

/// A read-only row-major matrix view.
struct ConstMatrix {
  const float* data = nullptr;  ///< element (i, j) at data[i * ld + j]
  std::size_t rows = 0;         ///< rows
  std::size_t cols = 0;         ///< columns
  std::size_t ld = 0;           ///< elements between consecutive rows (>= cols)
};

/// A writable row-major matrix view.
struct Matrix {
  float* data = nullptr;  ///< element (i, j) at data[i * ld + j]
  std::size_t rows = 0;   ///< rows
  std::size_t cols = 0;   ///< columns
  std::size_t ld = 0;     ///< elements between consecutive rows (>= cols)
};

/// C = A * B with `acc`'s arithmetic (overwrites C). Shapes must agree
/// (std::logic_error otherwise). With a pool, fixed blocks of C run in parallel.
void gemm(const Accumulator& acc, ConstMatrix a, ConstMatrix b, Matrix c, ThreadPool* pool = nullptr);

/// dst[i] = dst[i] + src[i] for i < n, each sum rounded as `acc` rounds an
/// add: to FP16 for fp16 (both operands are FP16 values, so one FP32 add then
/// one FP16 rounding is exact), in FP32 otherwise (fp32, the chunk totals of
/// fp16-chunked, and int32 values below 2^24 LSBs, where FP32 adds are exact).
/// Used for the col2im scatter-add of convolution input gradients, which the
/// trace expansion runs in the accumulator's format.
void add_rounded(const Accumulator& acc, float* dst, const float* src, std::size_t n);

/// The FP16-accumulator kernels gemm() can use; all give identical results.
enum class Fp16Kernel {
  kAuto,    ///< the fastest this CPU supports (default)
  kScalar,  ///< portable: sim/numerics' FP16 rounding, one element at a time
  kAvx2,    ///< AVX2 + FMA + F16C, 8 lanes
  kAvx512,  ///< AVX-512F, 16 lanes
};

/// Selects the FP16 kernel (tests compare them); a kernel the CPU lacks is a
/// std::runtime_error. Process-wide: call before training, not during.
void set_fp16_kernel(Fp16Kernel kernel);
/// True when this CPU can run `kernel`.
bool fp16_kernel_supported(Fp16Kernel kernel);
/// The kernel in use, e.g. "avx512".
std::string fp16_kernel_name();

/// Test hook: the cache sizes (bytes) Eigen sizes its blocking from, as if
/// queried from another CPU. gemm() pins its own before every product.
void set_eigen_cache_sizes(std::ptrdiff_t l1, std::ptrdiff_t l2, std::ptrdiff_t l3);
/// Test hook: Eigen's FP32 product C = A * B with whatever cache sizes are
/// set, unpinned and in one piece (shows why gemm() pins them). Lives in
/// gemm.cpp so that every Eigen instantiation is compiled with the same flags.
void eigen_gemm_unpinned(ConstMatrix a, ConstMatrix b, Matrix c);

}  // namespace nibble::train
