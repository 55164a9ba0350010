// The FP16-accumulator GEMM kernel for AVX2 + FMA + F16C (compiled with
// those -m flags; called only after gemm.cpp checked the CPU). See
// gemm_simd_impl.hpp.
#include <immintrin.h>

#include "models/train/gemm_simd_impl.hpp"

namespace nibble::train::detail {
namespace {

struct Avx2 {
  using Reg = __m256;
  using Mask = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int kRows = 4;  ///< rows of C per register tile
  static constexpr int kVecs = 2;  ///< vectors of C per tile row (8 accumulators + 2 B vectors + 1 broadcast of the 16 ymm registers)

  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg broadcast(float x) { return _mm256_set1_ps(x); }
  static Reg load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, Reg x, Mask m) { _mm256_maskstore_ps(p, m, x); }
  static Reg load_full(const float* p) { return _mm256_loadu_ps(p); }
  static void store_full(float* p, Reg x) { _mm256_storeu_ps(p, x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Mask mask(int live) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(live), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  /// Round to the nearest FP16 value (ties to even), back in FP32.
  static Reg round16(Reg x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  /// s = RN32(x) with exact error err = x - s; returns RO32(x) (finite s only).
  static Reg round_to_odd(Reg s, Reg err) {
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i bits = _mm256_castps_si256(s);
    const __m256i inexact = _mm256_castps_si256(_mm256_cmp_ps(err, _mm256_setzero_ps(), _CMP_NEQ_OQ));
    const __m256i magnitude = _mm256_and_si256(bits, _mm256_set1_epi32(0x7fffffff));
    const __m256i finite = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7f800000), magnitude);
    const __m256i even = _mm256_cmpeq_epi32(_mm256_and_si256(bits, one), _mm256_setzero_si256());
    const __m256i differ = _mm256_srai_epi32(_mm256_xor_si256(bits, _mm256_castps_si256(err)), 31);
    const __m256i delta = _mm256_or_si256(differ, one);
    const __m256i fix = _mm256_and_si256(_mm256_and_si256(inexact, finite), even);
    return _mm256_castsi256_ps(_mm256_add_epi32(bits, _mm256_and_si256(fix, delta)));
  }
};

}  // namespace

void fp16_gemm_avx2(const Fp16GemmArgs& args) { run_kernel<Avx2>(args); }

}  // namespace nibble::train::detail
