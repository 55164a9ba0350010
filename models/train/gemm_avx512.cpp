// The FP16-accumulator GEMM kernel for AVX-512F (compiled with -mavx512f;
// called only after gemm.cpp checked the CPU). See gemm_simd_impl.hpp.
#include <immintrin.h>

#include "models/train/gemm_simd_impl.hpp"

namespace nibble::train::detail {
namespace {

struct Avx512 {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kRows = 4;  ///< rows of C per register tile
  static constexpr int kVecs = 4;  ///< vectors of C per tile row (16 accumulators + 4 B vectors + 1 broadcast of the 32 zmm registers)

  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg broadcast(float x) { return _mm512_set1_ps(x); }
  static Reg load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, Reg x, Mask m) { _mm512_mask_storeu_ps(p, m, x); }
  static Reg load_full(const float* p) { return _mm512_loadu_ps(p); }
  static void store_full(float* p, Reg x) { _mm512_storeu_ps(p, x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Mask mask(int live) { return static_cast<Mask>((1u << live) - 1u); }
  /// Round to the nearest FP16 value (ties to even), back in FP32.
  static Reg round16(Reg x) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  /// s = RN32(x) with exact error err = x - s; returns RO32(x) (finite s only).
  static Reg round_to_odd(Reg s, Reg err) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i bits = _mm512_castps_si512(s);
    const __mmask16 inexact = _mm512_cmp_ps_mask(err, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    const __m512i magnitude = _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff));
    const __mmask16 finite = _mm512_cmplt_epi32_mask(magnitude, _mm512_set1_epi32(0x7f800000));
    const __mmask16 even = _mm512_testn_epi32_mask(bits, one);
    // +1 ulp (away from zero) when err has the sign of s, else -1 ulp.
    const __m512i differ = _mm512_srai_epi32(_mm512_xor_si512(bits, _mm512_castps_si512(err)), 31);
    const __m512i delta = _mm512_or_si512(differ, one);
    return _mm512_castsi512_ps(_mm512_mask_add_epi32(bits, inexact & finite & even, bits, delta));
  }
};

}  // namespace

void fp16_gemm_avx512(const Fp16GemmArgs& args) { run_kernel<Avx512>(args); }

}  // namespace nibble::train::detail
