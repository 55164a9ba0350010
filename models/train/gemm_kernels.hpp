// Internal to models/train: the vectorised FP16-accumulator GEMM kernels (and
// their FP32 block dot-product mode), one per instruction set, chosen at run
// time by gemm.cpp. Their results are
// identical bit for bit (tests/train/test_gemm.cpp checks them against
// sim/numerics' pe_mac and against each other); only their speed differs.
#pragma once

#include <cstddef>

namespace nibble::train::detail {

/// One row-major GEMM C[m x n] = A[m x k] * B[k x n] whose accumulator is FP16.
struct Fp16GemmArgs {
  std::size_t m = 0;        ///< rows of A and C
  std::size_t n = 0;        ///< columns of B and C
  std::size_t k = 0;        ///< reduction length, accumulated in order k = 0, 1, ...
  const float* a = nullptr; ///< A, row stride lda
  std::size_t lda = 0;      ///< elements between rows of A
  const float* b = nullptr; ///< B, row stride ldb
  std::size_t ldb = 0;      ///< elements between rows of B
  float* c = nullptr;       ///< C, row stride ldc (written, not accumulated into)
  std::size_t ldc = 0;      ///< elements between rows of C
  std::size_t chunk = 0;    ///< 0: one FP16 accumulator; N: FP16 chunks of N summed in FP32
  bool round_to_odd = false;  ///< products may not be FP16 values: round the FP32 add to odd first
  /// Products summed exactly before each FP16 add (a dot-product PE,
  /// numerics::pe_dot), in groups from the start of each chunk. > 1 only for
  /// INT4/FP4 operands, whose group sums are exact in FP32 (gemm.cpp says why),
  /// and always with round_to_odd (a group sum need not be an FP16 value).
  std::size_t dot = 1;
  /// The block dot-product PE (MX / NVFP4 units, numerics::block_dot_run):
  /// each group of `dot` products is summed exactly in FP32 (the caller
  /// guarantees every partial sum is an FP32 number, gemm.cpp) and added into
  /// an FP32 accumulator with one FP32 rounding, groups in k order; no FP16
  /// rounding anywhere. chunk must be 0 and dot >= 2. The scalar kernel sums
  /// each group in FP64 instead (exact for every block format gemm.cpp admits,
  /// whatever the exponent range) and adds it with numerics' float_add.
  bool block_fp32 = false;
};

/// Portable kernel: the same arithmetic one element at a time, with the FP16
/// rounding from sim/numerics. The reference the vector kernels are tested against.
void fp16_gemm_scalar(const Fp16GemmArgs& args);
/// AVX-512F kernel (16 lanes). Call only when the CPU has AVX-512F.
void fp16_gemm_avx512(const Fp16GemmArgs& args);
/// AVX2 + FMA + F16C kernel (8 lanes). Call only when the CPU has them.
void fp16_gemm_avx2(const Fp16GemmArgs& args);

}  // namespace nibble::train::detail
