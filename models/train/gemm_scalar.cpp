// The portable FP16-accumulator kernel: the reference the vector kernels are
// tested against, and the fallback on CPUs without F16C. Every add is
// sim/numerics' exact-then-round-once float_add (the arithmetic pe_mac uses
// for its FP16 accumulator), so this kernel is the PE by construction.
#include <cstdint>
#include <cstring>

#include "models/train/gemm_kernels.hpp"
#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::train::detail {

namespace {

numerics::FloatValue decode_float(float x) {
  return numerics::float_decode(numerics::fp32_bits(x), numerics::kFp32Spec);
}

/// The block FP32 mode: each group of g.dot products summed in FP64 (exact:
/// gemm.cpp admits only block formats whose group sums have at most 24
/// significant bits, and FP64's exponent range holds every product of two
/// FP32 units), then added into the FP32 accumulator with numerics'
/// float_add, one rounding, as numerics::block_dot_accumulate adds a block.
void block_fp32_gemm_scalar(const Fp16GemmArgs& g) {
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < g.n; ++j) {
      std::uint64_t acc = 0;  // FP32 bits, from +0
      for (std::size_t kk = 0; kk < g.k; kk += g.dot) {
        const std::size_t end = g.k - kk < g.dot ? g.k : kk + g.dot;
        double sum = 0.0;
        for (std::size_t t = kk; t < end; ++t) {
          sum += static_cast<double>(g.a[i * g.lda + t]) * static_cast<double>(g.b[t * g.ldb + j]);
        }
        std::uint64_t bits = 0;
        std::memcpy(&bits, &sum, sizeof bits);
        acc = numerics::float_add(numerics::float_decode(acc, numerics::kFp32Spec),
                                  numerics::float_decode(bits, numerics::kFp64Spec), numerics::kFp32Spec);
      }
      g.c[i * g.ldc + j] = numerics::fp32_value(static_cast<std::uint32_t>(acc));
    }
  }
}

}  // namespace

void fp16_gemm_scalar(const Fp16GemmArgs& g) {
  using numerics::FloatValue;
  if (g.block_fp32) {
    block_fp32_gemm_scalar(g);
    return;
  }
  const std::size_t chunk = g.chunk == 0 ? g.k : g.chunk;
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < g.n; ++j) {
      std::uint32_t total = 0;  // FP32 bits of the finished chunks (chunked mode)
      std::uint16_t acc = 0;    // FP16 bits of the running (chunk) sum, from +0
      for (std::size_t k0 = 0; k0 < g.k; k0 += chunk) {
        const std::size_t k1 = g.k - k0 < chunk ? g.k : k0 + chunk;
        acc = 0;
        if (g.dot <= 1) {
          for (std::size_t kk = k0; kk < k1; ++kk) {
            const FloatValue product =
                numerics::float_mul_exact(decode_float(g.a[i * g.lda + kk]), decode_float(g.b[kk * g.ldb + j]));
            acc = static_cast<std::uint16_t>(
                numerics::float_add(numerics::float_decode(acc, numerics::kFp16Spec), product, numerics::kFp16Spec));
          }
        } else {
          // A dot-product PE: each group's sum is exact (in FP32 for INT4/FP4
          // operands, gemm.cpp), then one rounding into the FP16 accumulator.
          for (std::size_t kk = k0; kk < k1; kk += g.dot) {
            const std::size_t end = k1 - kk < g.dot ? k1 : kk + g.dot;
            float sum = 0.0f;
            for (std::size_t t = kk; t < end; ++t) sum += g.a[i * g.lda + t] * g.b[t * g.ldb + j];
            acc = static_cast<std::uint16_t>(numerics::float_add(numerics::float_decode(acc, numerics::kFp16Spec),
                                                                 decode_float(sum), numerics::kFp16Spec));
          }
        }
        if (g.chunk != 0) {
          const std::uint32_t chunk_sum = numerics::fp32_bits(numerics::fp16_to_float(acc));
          total = numerics::fp32_add(total, chunk_sum);  // from +0, as ChunkedFp16Accumulator
        }
      }
      g.c[i * g.ldc + j] = g.chunk != 0 ? numerics::fp32_value(total) : numerics::fp16_to_float(acc);
    }
  }
}

}  // namespace nibble::train::detail
