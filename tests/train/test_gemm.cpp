// The emulator's GEMM kernels against sim/numerics' PE arithmetic: the FP16
// accumulator kernels exhaustively over every accumulator pattern and every
// INT4 x FP4 and INT4 x INT4 product, the vector kernels bit for bit against
// the scalar reference on random GEMMs, the exact int32 path, and the
// thread-count independence every kernel promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "models/train/gemm.hpp"
#include "models/train/parallel.hpp"
#include "models/train/rng.hpp"
#include "sim/numerics/accumulate.hpp"
#include "sim/numerics/dot.hpp"
#include "sim/numerics/fp32.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe.hpp"

namespace nibble::train {
namespace {

using numerics::Format;

std::vector<Fp16Kernel> kernels_here() {
  std::vector<Fp16Kernel> out{Fp16Kernel::kScalar};
  for (Fp16Kernel k : {Fp16Kernel::kAvx2, Fp16Kernel::kAvx512}) {
    if (fp16_kernel_supported(k)) out.push_back(k);
  }
  return out;
}

/// Restores automatic kernel choice when a test ends.
struct KernelGuard {
  ~KernelGuard() { set_fp16_kernel(Fp16Kernel::kAuto); }
};

std::vector<float> run(const Accumulator& acc, const std::vector<float>& a, const std::vector<float>& b,
                       std::size_t m, std::size_t n, std::size_t k, ThreadPool* pool = nullptr) {
  std::vector<float> c(m * n, -1.0f);
  gemm(acc, ConstMatrix{a.data(), m, k, k}, ConstMatrix{b.data(), k, n, n}, Matrix{c.data(), m, n, n}, pool);
  return c;
}

std::uint32_t bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

bool same(float x, float y) { return (std::isnan(x) && std::isnan(y)) || bits(x) == bits(y); }

/// acc + a*b for every FP16 accumulator pattern `acc` (rows) and product: each
/// row of A is (acc, a), each column of B is (1, b), so with k = 2 every
/// element of C is RN16(RN16(0 + acc) + a*b) = RN16(acc + a*b).
struct Exhaustive {
  std::vector<float> a, b;
  std::vector<std::uint32_t> acc_bits, a_code, b_code;  ///< per row / column
  std::size_t m = 0, n = 0;
};

Exhaustive exhaustive_int4_times(const std::vector<std::uint32_t>& b_codes, const std::vector<float>& b_values) {
  Exhaustive e;
  for (std::uint32_t acc = 0; acc < 65536; ++acc) {
    for (int v = -8; v <= 7; ++v) {
      e.a.push_back(numerics::fp16_to_float(static_cast<std::uint16_t>(acc)));
      e.a.push_back(static_cast<float>(v));
      e.acc_bits.push_back(acc);
      e.a_code.push_back(numerics::int4_bits(v));
    }
  }
  e.m = e.acc_bits.size();
  e.n = b_codes.size();
  e.b.assign(2 * e.n, 1.0f);
  for (std::size_t j = 0; j < e.n; ++j) e.b[e.n + j] = b_values[j];
  e.b_code = b_codes;
  return e;
}

void check_exhaustive(const Exhaustive& e, numerics::PeMode mode, Format a_fmt, Format b_fmt) {
  KernelGuard guard;
  numerics::PeArith arith;
  arith.acc = Format::kFp16;
  arith.fp4_bias = 7;
  // The reference: pe_mac, once per case.
  std::vector<float> expected(e.m * e.n);
  for (std::size_t i = 0; i < e.m; ++i) {
    for (std::size_t j = 0; j < e.n; ++j) {
      expected[i * e.n + j] = numerics::fp16_to_float(static_cast<std::uint16_t>(
          numerics::pe_mac(arith, mode, e.acc_bits[i], e.a_code[i], e.b_code[j])));
    }
  }
  Accumulator acc;
  acc.format = Format::kFp16;
  acc.products_fp16 = true;
  for (Fp16Kernel kernel : kernels_here()) {
    if (kernel == Fp16Kernel::kScalar) continue;  // 16M exact-arithmetic adds: checked on random GEMMs below
    set_fp16_kernel(kernel);
    const std::vector<float> got = run(acc, e.a, e.b, e.m, e.n, 2);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size() && bad < 5; ++i) {
      if (!same(got[i], expected[i])) {
        ++bad;
        ADD_FAILURE() << fp16_kernel_name() << ": acc 0x" << std::hex << e.acc_bits[i / e.n] << " a 0x"
                      << e.a_code[i / e.n] << " b 0x" << e.b_code[i % e.n] << ": got " << got[i] << " expected "
                      << expected[i];
      }
    }
  }
  (void)a_fmt;
  (void)b_fmt;
}

TEST(Fp16Kernel, ExhaustiveInt4TimesFp4AgainstPeMac) {
  // 65,536 accumulator patterns x 16 INT4 values x 16 FP4 codes (bias 7) = 16.8M cases.
  std::vector<std::uint32_t> codes;
  std::vector<float> values;
  for (std::uint32_t c = 0; c < 16; ++c) {
    codes.push_back(c);
    values.push_back(static_cast<float>(numerics::fp4_value(c, 7)));
  }
  check_exhaustive(exhaustive_int4_times(codes, values), numerics::PeMode::kInt4xFp4, Format::kInt4, Format::kFp4);
}

TEST(Fp16Kernel, ExhaustiveInt4TimesInt4AgainstPeMac) {
  std::vector<std::uint32_t> codes;
  std::vector<float> values;
  for (int v = -8; v <= 7; ++v) {
    codes.push_back(numerics::int4_bits(v));
    values.push_back(static_cast<float>(v));
  }
  check_exhaustive(exhaustive_int4_times(codes, values), numerics::PeMode::kInt4xInt4, Format::kInt4, Format::kInt4);
}

/// Random INT4 operands: their codes (for pe_mac / pe_dot) and values (for the kernels).
void random_int4(Rng& rng, std::vector<std::uint32_t>& codes, std::vector<float>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const int v = static_cast<int>(rng.below(16)) - 8;
    codes[i] = numerics::int4_bits(v);
    values[i] = static_cast<float>(v);
  }
}

/// Random FP4 operands (bias 7): codes and values.
void random_fp4(Rng& rng, std::vector<std::uint32_t>& codes, std::vector<float>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    codes[i] = static_cast<std::uint32_t>(rng.below(16));
    values[i] = static_cast<float>(numerics::fp4_value(codes[i], 7));
  }
}

TEST(Fp16Kernel, ScalarKernelIsSequentialPeMac) {
  // 3 x 5 outputs, k = 301 INT4 x FP4 products: the scalar kernel equals pe_mac
  // applied in order k = 0, 1, ..., and the chunked scalar kernel equals
  // numerics' ChunkedFp16Accumulator with chunk 64.
  KernelGuard guard;
  set_fp16_kernel(Fp16Kernel::kScalar);
  Rng rng(5);
  const std::size_t m = 3, n = 5, k = 301;
  std::vector<std::uint32_t> ac(m * k), bc(k * n);
  std::vector<float> a(m * k), b(k * n);
  random_int4(rng, ac, a);
  random_fp4(rng, bc, b);
  Accumulator plain;
  plain.format = Format::kFp16;
  Accumulator chunked;
  chunked.format = Format::kFp16Chunked;
  chunked.chunk = 64;
  const std::vector<float> c16 = run(plain, a, b, m, n, k);
  const std::vector<float> cch = run(chunked, a, b, m, n, k);
  numerics::PeArith arith;
  arith.acc = Format::kFp16;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      std::uint32_t acc = 0;
      numerics::ChunkedFp16Accumulator chunks(64);
      for (std::size_t kk = 0; kk < k; ++kk) {
        acc = numerics::pe_mac(arith, numerics::PeMode::kInt4xFp4, acc, ac[i * k + kk], bc[kk * n + j]);
        chunks.mac(arith, numerics::PeMode::kInt4xFp4, ac[i * k + kk], bc[kk * n + j]);
      }
      EXPECT_TRUE(same(c16[i * n + j], numerics::fp16_to_float(static_cast<std::uint16_t>(acc)))) << i << "," << j;
      EXPECT_TRUE(same(cch[i * n + j], chunks.total())) << i << "," << j;
    }
  }
}

/// Random operands whose products are FP16 values (INT4 x FP4) or not (FP16 x FP16).
void random_operands(Format kind, Rng& rng, std::vector<float>& a, std::vector<float>& b) {
  for (float& v : a) {
    v = kind == Format::kFp4 ? static_cast<float>(static_cast<int>(rng.below(16)) - 8)
                             : numerics::fp16_to_float(numerics::fp16_from_float(static_cast<float>(rng.normal() * 4.0)));
  }
  for (float& v : b) {
    v = kind == Format::kFp4
            ? static_cast<float>(numerics::fp4_value(static_cast<std::uint32_t>(rng.below(16)), 7))
            : numerics::fp16_to_float(numerics::fp16_from_float(static_cast<float>(rng.normal() * std::ldexp(1.0, -8))));
  }
}

TEST(Fp16Kernel, VectorKernelsMatchScalarOnRandomGemms) {
  KernelGuard guard;
  Rng rng(17);
  // Shapes with row and column tails (m not a multiple of 4, n not of 16 or 8),
  // and with whole register tiles (the AVX-512 kernel's are 64 columns wide,
  // AVX2's 16): 149 = 2 x 64 + 16 + 5 columns, 64 exactly one tile.
  const std::size_t shapes[][3] = {{5, 37, 300}, {1, 1, 1}, {8, 32, 64}, {13, 3, 700}, {6, 149, 70}, {9, 64, 33}};
  for (Format kind : {Format::kFp4, Format::kFp16}) {
    for (const auto& s : shapes) {
      const std::size_t m = s[0], n = s[1], k = s[2];
      std::vector<float> a(m * k), b(k * n);
      random_operands(kind, rng, a, b);
      for (std::size_t chunk : {std::size_t{0}, std::size_t{7}, std::size_t{64}}) {
        Accumulator acc;
        acc.format = chunk == 0 ? Format::kFp16 : Format::kFp16Chunked;
        acc.chunk = chunk;
        acc.products_fp16 = kind == Format::kFp4;
        set_fp16_kernel(Fp16Kernel::kScalar);
        const std::vector<float> reference = run(acc, a, b, m, n, k);
        for (Fp16Kernel kernel : kernels_here()) {
          set_fp16_kernel(kernel);
          const std::vector<float> got = run(acc, a, b, m, n, k);
          for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(same(got[i], reference[i]))
                << fp16_kernel_name() << " " << m << "x" << n << "x" << k << " chunk " << chunk << " element " << i
                << ": " << got[i] << " vs " << reference[i];
          }
        }
      }
    }
  }
}

TEST(Fp16Kernel, DotProductKernelsArePeDot) {
  // A dot-product PE (design key dot_product: N) sums N products exactly and
  // rounds once into its FP16 accumulator: every kernel, with and without
  // chunks (a chunk is a whole number of groups), equals numerics::pe_dot
  // applied group by group from the start of each chunk, on INT4 x FP4 and
  // INT4 x INT4 products; and N = 1 differs from N > 1 on these operands
  // (the grouping is not a no-op).
  KernelGuard guard;
  Rng rng(23);
  // n = 37: a whole dot-mode register tile (32 columns with AVX-512, 16 with AVX2) and a tail.
  const std::size_t m = 5, n = 37, k = 301;
  numerics::PeArith arith;
  arith.acc = Format::kFp16;
  arith.fp4_bias = 7;
  for (const numerics::PeMode mode : {numerics::PeMode::kInt4xFp4, numerics::PeMode::kInt4xInt4}) {
    std::vector<std::uint32_t> ac(m * k), bc(k * n);
    std::vector<float> a(m * k), b(k * n);
    random_int4(rng, ac, a);
    if (mode == numerics::PeMode::kInt4xFp4) {
      random_fp4(rng, bc, b);
    } else {
      random_int4(rng, bc, b);
    }
    for (const std::size_t dot : {std::size_t{4}, std::size_t{8}}) {
      for (const std::size_t chunk : {std::size_t{0}, std::size_t{64}}) {
        Accumulator acc;
        acc.format = chunk == 0 ? Format::kFp16 : Format::kFp16Chunked;
        acc.chunk = chunk;
        acc.dot = dot;
        std::vector<float> expected(m * n);
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            std::vector<std::uint32_t> bcol(k);
            for (std::size_t kk = 0; kk < k; ++kk) bcol[kk] = bc[kk * n + j];
            const std::size_t step = chunk == 0 ? k : chunk;
            std::uint32_t total = 0;  // FP32 bits of the finished chunks
            std::uint32_t acc16 = 0;
            for (std::size_t k0 = 0; k0 < k; k0 += step) {
              const std::size_t k1 = std::min(k, k0 + step);
              acc16 = 0;
              for (std::size_t kk = k0; kk < k1; kk += dot) {
                acc16 = numerics::pe_dot(arith, mode, acc16, &ac[i * k + kk], &bcol[kk], std::min(dot, k1 - kk));
              }
              total = numerics::fp32_add(total, numerics::fp32_bits(numerics::fp16_to_float(static_cast<std::uint16_t>(acc16))));
            }
            expected[i * n + j] = chunk == 0 ? numerics::fp16_to_float(static_cast<std::uint16_t>(acc16))
                                             : numerics::fp32_value(total);
          }
        }
        for (Fp16Kernel kernel : kernels_here()) {
          set_fp16_kernel(kernel);
          const std::vector<float> got = run(acc, a, b, m, n, k);
          for (std::size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(same(got[i], expected[i])) << fp16_kernel_name() << " dot " << dot << " chunk " << chunk
                                                   << " element " << i << ": " << got[i] << " vs " << expected[i];
          }
        }
        if (chunk == 0 && mode == numerics::PeMode::kInt4xFp4) {
          Accumulator mac = acc;
          mac.dot = 1;
          set_fp16_kernel(Fp16Kernel::kScalar);
          const std::vector<float> sequential = run(mac, a, b, m, n, k);
          std::size_t differ = 0;
          for (std::size_t i = 0; i < sequential.size(); ++i) differ += same(sequential[i], expected[i]) ? 0 : 1;
          EXPECT_GT(differ, 0u) << "dot " << dot << ": one rounding per group never changed a result";
        }
      }
    }
  }
}

TEST(Fp16Kernel, RejectsDotProductsOfWideProducts) {
  // FP16 x FP16 products are not exact in an FP32 group sum: the kernels refuse them.
  Accumulator acc;
  acc.format = Format::kFp16;
  acc.products_fp16 = false;
  acc.dot = 4;
  const std::vector<float> a(4, 1.0f), b(4, 1.0f);
  EXPECT_THROW(run(acc, a, b, 1, 1, 4), std::logic_error);
  acc.products_fp16 = true;
  acc.format = Format::kFp16Chunked;
  acc.chunk = 6;  // not a multiple of 4
  EXPECT_THROW(run(acc, a, b, 1, 1, 4), std::logic_error);
}

TEST(Fp16Kernel, RoundToOddAvoidsDoubleRounding) {
  // acc = 2^-24 (the smallest FP16), product 1.5 x 683/1024 = 2049/2048 =
  // 1 + 2^-11, the midpoint between FP16 1 and 1 + 2^-10. The exact sum
  // 1 + 2^-11 + 2^-24 is above the midpoint: RN16 = 1 + 2^-10. Rounding
  // first to FP32 lands exactly on the midpoint (2^-24 is half an FP32 ulp
  // at 1, a tie to even), and then RN16 would give 1.0.
  KernelGuard guard;
  const std::vector<float> a{std::ldexp(1.0f, -24), 1.5f};
  const std::vector<float> b{1.0f, 683.0f / 1024.0f};
  Accumulator acc;
  acc.format = Format::kFp16;
  acc.products_fp16 = false;
  for (Fp16Kernel kernel : kernels_here()) {
    set_fp16_kernel(kernel);
    EXPECT_EQ(run(acc, a, b, 1, 1, 2)[0], 1.0f + std::ldexp(1.0f, -10)) << fp16_kernel_name();
  }
  numerics::PeArith arith;
  arith.acc = Format::kFp16;
  const std::uint32_t pe = numerics::pe_mac(arith, numerics::PeMode::kFp16xFp16, 0x0001,
                                            numerics::fp16_from_float(1.5f), numerics::fp16_from_float(683.0f / 1024.0f));
  EXPECT_EQ(pe, 0x3C01u);  // 1 + 2^-10
}

TEST(Fp16Kernel, SmallAddendsVanishUnlessChunked) {
  // 2048 followed by eight 1s. FP16: 2048 + 1 = 2049 is a tie between 2048 and
  // 2050 and goes to the even 2048, every time: the result stays 2048.
  // Chunks of 3: [2048, 1, 1] -> 2048, [1, 1, 1] -> 3, [1, 1, 1] -> 3, and the
  // FP32 total is 2048 + 3 + 3 = 2054 (the exact sum is 2056).
  std::vector<float> a{2048, 1, 1, 1, 1, 1, 1, 1, 1};
  const std::vector<float> b(9, 1.0f);
  Accumulator plain;
  plain.format = Format::kFp16;
  Accumulator chunked;
  chunked.format = Format::kFp16Chunked;
  chunked.chunk = 3;
  EXPECT_EQ(run(plain, a, b, 1, 1, 9)[0], 2048.0f);
  EXPECT_EQ(run(chunked, a, b, 1, 1, 9)[0], 2054.0f);
}

TEST(AddRounded, RoundsLikeTheAccumulator) {
  // 2048 + 1 = 2049 ties to 2048 in FP16; 1 + 2^-11 ties to 1; 1 + 3 x 2^-12 rounds
  // up to 1 + 2^-10; 65504 + 16 = 65520 overflows to inf. Eleven elements, so
  // both the 8-wide and the scalar paths run. FP32 accumulators add exactly here.
  const float inf = INFINITY;
  std::vector<float> dst{2048, 1, 1, 65504, 2048, 1, 1, 65504, 2048, 1, 1};
  const std::vector<float> src{1, std::ldexp(1.0f, -11), 3 * std::ldexp(1.0f, -12), 16,
                               1, std::ldexp(1.0f, -11), 3 * std::ldexp(1.0f, -12), 16,
                               1, std::ldexp(1.0f, -11), 3 * std::ldexp(1.0f, -12)};
  std::vector<float> fp32 = dst;
  Accumulator acc;
  acc.format = Format::kFp16;
  add_rounded(acc, dst.data(), src.data(), dst.size());
  const float up = 1.0f + std::ldexp(1.0f, -10);
  EXPECT_EQ(dst, (std::vector<float>{2048, 1, up, inf, 2048, 1, up, inf, 2048, 1, up}));
  add_rounded(Accumulator{}, fp32.data(), src.data(), fp32.size());
  EXPECT_EQ(fp32[0], 2049.0f);
}

TEST(Int32Accumulator, ChunkedExactSumAndSaturation) {
  // INT4 7 x FP4 1.0 (code 7 at bias 7) over K = 12,544: one LSB is 4^-6, each
  // product 7 x 4^6 = 28,672 LSBs, so FP32 holds at most 2^24 / 28,672 = 585
  // products exactly and the sum runs in K-chunks; it must still be exactly
  // 7 x 12,544 = 87,808.
  const std::size_t k = 12544;
  Accumulator acc;
  acc.format = Format::kInt32;
  acc.lsb = std::ldexp(1.0, -12);
  EXPECT_EQ(run(acc, std::vector<float>(k, 7.0f), std::vector<float>(k, 1.0f), 1, 1, k)[0], 87808.0f);
  // With -7 in 100,000 places the partial sums pass -2^31 LSBs after
  // ceil(2^31 / 28,672) = 74,899 terms and saturate: the result is -2^31 LSBs = -2^19.
  const std::size_t big = 100000;
  EXPECT_EQ(run(acc, std::vector<float>(big, -7.0f), std::vector<float>(big, 1.0f), 1, 1, big)[0],
            -524288.0f);
  // Random INT4 x FP4 values against an exact integer reference.
  Rng rng(3);
  const std::size_t m = 4, n = 9, kk = 3000;
  std::vector<float> a(m * kk), b(kk * n);
  std::vector<std::int64_t> ai(m * kk), bi(kk * n);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ai[i] = static_cast<std::int64_t>(rng.below(16)) - 8;
    a[i] = static_cast<float>(ai[i]);
  }
  for (std::size_t i = 0; i < b.size(); ++i) {
    const std::uint32_t code = static_cast<std::uint32_t>(rng.below(16));
    b[i] = static_cast<float>(numerics::fp4_value(code, 7));
    // The value in LSBs of 4^-6: (-1)^s 4^(e - 1), or 0.
    const int e = numerics::fp4_exponent(code);
    bi[i] = e == 0 ? 0 : (numerics::fp4_negative(code) ? -1 : 1) * (std::int64_t{1} << (2 * (e - 1)));
  }
  const std::vector<float> c = run(acc, a, b, m, n, kk);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t sum = 0;
      for (std::size_t q = 0; q < kk; ++q) sum += ai[i * kk + q] * bi[q * n + j];
      EXPECT_EQ(static_cast<double>(c[i * n + j]), std::ldexp(static_cast<double>(sum), -12));
    }
  }
}

TEST(Gemm, ResultsDoNotDependOnThreads) {
  Rng rng(23);
  const std::size_t m = 70, n = 300, k = 150;  // more than one 64 x 256 block each way
  std::vector<float> a(m * k), b(k * n);
  for (float& v : a) v = static_cast<float>(rng.normal());
  for (float& v : b) v = static_cast<float>(rng.normal());
  std::vector<float> a16(a), b16(b);
  random_operands(Format::kFp4, rng, a16, b16);
  for (Format f : {Format::kFp32, Format::kFp16}) {
    Accumulator acc;
    acc.format = f;
    const std::vector<float>& x = f == Format::kFp32 ? a : a16;
    const std::vector<float>& y = f == Format::kFp32 ? b : b16;
    const std::vector<float> inline_result = run(acc, x, y, m, n, k);
    for (unsigned threads : {1u, 2u, 3u}) {
      ThreadPool pool(threads);
      const std::vector<float> got = run(acc, x, y, m, n, k, &pool);
      EXPECT_EQ(std::memcmp(got.data(), inline_result.data(), got.size() * sizeof(float)), 0)
          << numerics::format_name(f) << " with " << threads << " threads";
    }
  }
}

TEST(Gemm, Fp32ResultsDoNotDependOnTheCpuCaches) {
  // Eigen sizes its GEMM blocking from the CPU's caches; gemm() pins them so a
  // build gives the same FP32 bits on every machine. The CNN's fc1 forward
  // shape (K = 3,136) is sliced along k differently for a 32 KiB and a 48 KiB
  // L1 (kc 288 vs 416 for AVX2's 24 x 4 micro-kernel), which changes roundings.
  Rng rng(41);
  const std::size_t m = 64, n = 128, k = 3136;
  std::vector<float> a(m * k), b(k * n);
  for (float& v : a) v = static_cast<float>(rng.normal());
  for (float& v : b) v = static_cast<float>(rng.normal());
  Accumulator acc;  // fp32
  const std::vector<float> pinned = run(acc, a, b, m, n, k);
  // Plain Eigen under two cache configurations: the test can only fail if
  // the caches matter, so first show that they do.
  const auto unpinned = [&] {
    std::vector<float> c(m * n);
    eigen_gemm_unpinned(ConstMatrix{a.data(), m, k, k}, ConstMatrix{b.data(), k, n, n}, Matrix{c.data(), m, n, n});
    return c;
  };
  set_eigen_cache_sizes(48 * 1024, 2 * 1024 * 1024, 256 * 1024 * 1024);  // e.g. a Zen 4 or Ice Lake core
  const std::vector<float> big_l1 = unpinned();
  set_eigen_cache_sizes(32 * 1024, 1024 * 1024, 32 * 1024 * 1024);
  const std::vector<float> small_l1 = unpinned();
  EXPECT_NE(std::memcmp(big_l1.data(), small_l1.data(), m * n * sizeof(float)), 0);
  // gemm() gives the pinned bits whatever the caches were set to before.
  for (std::ptrdiff_t l1 : {16 * 1024, 48 * 1024, 64 * 1024}) {
    set_eigen_cache_sizes(l1, 2 * l1 * 16, l1 * 1024);
    const std::vector<float> got = run(acc, a, b, m, n, k);
    EXPECT_EQ(std::memcmp(got.data(), pinned.data(), got.size() * sizeof(float)), 0) << "L1 " << l1;
  }
}

TEST(Gemm, RejectsShapeMismatch) {
  std::vector<float> a(6), b(6), c(4);
  EXPECT_THROW(gemm(Accumulator{}, ConstMatrix{a.data(), 2, 3, 3}, ConstMatrix{b.data(), 2, 3, 3},
                    Matrix{c.data(), 2, 2, 2}),
               std::logic_error);
}

}  // namespace
}  // namespace nibble::train
