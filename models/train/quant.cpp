#include "models/train/quant.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

#include "models/train/parallel.hpp"
#include "sim/numerics/fp16.hpp"
#include "sim/numerics/fp8.hpp"
#include "sim/numerics/pact.hpp"
#include "sim/numerics/pe.hpp"
#include "sim/numerics/sawb.hpp"
#include "sim/numerics/tpr.hpp"

namespace nibble::train {

namespace {

using numerics::Format;

std::string name_of(Format f) { return std::string(numerics::format_name(f)); }

bool is_fp4(Format f) { return f == Format::kFp4 || f == Format::kFp4Radix2; }
bool is_fp8(Format f) { return f == Format::kFp8E4M3 || f == Format::kFp8E5M2; }

/// FP32 operands are used in place: the view points at the source tensor.
void copy_fp32(const float* x, std::size_t, QuantizedOperand& out) {
  out.format = Format::kFp32;
  out.view = x;
  out.scale = 1.0f;
}

/// Elements per task of the element-wise quantization loops: a fixed size, so
/// task boundaries depend on the tensor only (models/train/parallel.hpp), and
/// each element's code depends on its value and index only, never on the task.
constexpr std::size_t kQuantBlock = 32768;

/// Runs fn(begin, end) over [0, n) in blocks of kQuantBlock, on the pool when
/// one is given and there is more than one block.
void for_ranges(ThreadPool* pool, std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn) {
  const std::size_t blocks = block_count(n, kQuantBlock);
  const auto task = [&](std::size_t b) { fn(b * kQuantBlock, std::min(n, (b + 1) * kQuantBlock)); };
  if (pool != nullptr && blocks > 1) {
    pool->parallel_for(blocks, task);
  } else {
    for (std::size_t b = 0; b < blocks; ++b) task(b);
  }
}

/// Largest finite |x| (0 if none).
float max_abs_finite(const float* x, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a <= 3.4028235e38f && a > m) m = a;
  }
  return m;
}

}  // namespace

void round_to_fp16(const float* x, std::size_t n, float multiplier, float* out) {
  std::size_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
  // The conversion instruction rounds to nearest-even with subnormals, +-inf
  // on overflow and NaN kept: numerics' fp16_from_float, checked on every
  // rounding boundary by tests/train/test_quant.cpp.
  const __m256 m = _mm256_set1_ps(multiplier);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), m);
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(_cvtss_sh(x[i] * multiplier, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
  for (; i < n; ++i) out[i] = numerics::fp16_to_float(numerics::fp16_from_float(x[i] * multiplier));
#endif
}

namespace {

/// FP16 / FP8 with the power-of-two scale of quant.hpp: max|x/s| in (8, 16].
void quantize_floating(Format format, const float* x, std::size_t n, QuantizedOperand& out, ThreadPool* pool) {
  out.format = format;
  out.view = nullptr;
  out.units.resize(n);
  const float amax = max_abs_finite(x, n);
  float scale = 1.0f;
  if (amax > 0.0f) {
    int e = 0;
    const float m = std::frexp(amax, &e);  // amax = m 2^e, m in [0.5, 1): ceil(log2 amax) = e, or e - 1 at m = 0.5
    scale = std::ldexp(1.0f, (m == 0.5f ? e - 1 : e) - 4);
  }
  out.scale = scale;
  const float inv = 1.0f / scale;  // exact: a power of two
  if (format == Format::kFp16) {
    float* units = out.units.data();
    for_ranges(pool, n, [&](std::size_t b, std::size_t e) { round_to_fp16(x + b, e - b, inv, units + b); });
    return;
  }
  const numerics::Fp8Spec spec = numerics::fp8_default_spec(format);
  for (std::size_t i = 0; i < n; ++i) {
    out.units[i] = numerics::fp8_to_float(numerics::fp8_from_float(x[i] * inv, spec), spec);
  }
}

/// out.units = out.int_codes as floats (the values the PEs multiply).
void units_of_codes(QuantizedOperand& out, ThreadPool* pool) {
  const std::size_t n = out.int_codes.size();
  out.units.resize(n);
  for_ranges(pool, n, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) out.units[i] = static_cast<float>(out.int_codes[i]);
  });
}

/// Every value of a 4-bit format's code book (unscaled), for enumeration.
std::vector<double> code_values(Format f, int bias) {
  std::vector<double> v;
  switch (f) {
    case Format::kInt4:
      for (int c = -8; c <= 7; ++c) v.push_back(c);
      break;
    case Format::kUint4:
      for (int c = 0; c <= 15; ++c) v.push_back(c);
      break;
    case Format::kFp4:
    case Format::kFp4Radix2:
      for (std::uint32_t code = 0; code < 16; ++code) {
        v.push_back(numerics::fp4_value(code, bias, f == Format::kFp4Radix2));
      }
      break;
    default:
      break;
  }
  return v;
}

}  // namespace

void quantize_activations(Format format, const float* x, std::size_t n, float alpha, QuantizedOperand& out,
                          ThreadPool* pool) {
  switch (format) {
    case Format::kFp32:
      return copy_fp32(x, n, out);
    case Format::kFp16:
    case Format::kFp8E4M3:
    case Format::kFp8E5M2:
      return quantize_floating(format, x, n, out, pool);
    case Format::kUint4: {
      out.format = format;
      out.view = nullptr;
      out.int_codes.resize(n);
      // PACT's scale depends on alpha only, so each block quantizes on its own.
      std::int8_t* codes = out.int_codes.data();
      out.scale = numerics::pact_int4_params(alpha).scale;
      for_ranges(pool, n, [&](std::size_t b, std::size_t e) { numerics::pact_quantize(x + b, e - b, alpha, codes + b); });
      units_of_codes(out, pool);
      return;
    }
    case Format::kInt4: {
      // Signed activations (a first layer's normalized pixels made 4-bit by a
      // policy file): PACT clips at 0, so they get SAWB's statistics-based
      // symmetric clip, recomputed per batch, codes -7..7.
      out.format = format;
      out.view = nullptr;
      out.int_codes.resize(n);
      out.scale = numerics::sawb_quantize_int4(x, n, out.int_codes.data());
      units_of_codes(out, pool);
      return;
    }
    default:
      throw std::logic_error("activations in " + name_of(format) + ": no quantizer");
  }
}

double activation_backward(Format format, const float* x, std::size_t n, float alpha, float* grad) {
  if (format == Format::kInt4) {
    // Straight through inside the SAWB clip, zero where the forward clipped.
    const double clip = numerics::sawb_clip(x, n, 4);
    for (std::size_t i = 0; i < n; ++i) {
      if (!(std::fabs(static_cast<double>(x[i])) <= clip)) grad[i] = 0.0f;
    }
    return 0.0;
  }
  if (format != Format::kUint4) return 0.0;  // floating formats: straight through
  const double dalpha = numerics::pact_alpha_grad(x, grad, n, alpha);
  numerics::pact_input_grad(x, grad, n, alpha, grad);
  return dalpha;
}

void quantize_weights(Format format, const float* w, std::size_t n, QuantizedOperand& out, ThreadPool* pool) {
  switch (format) {
    case Format::kFp32:
      return copy_fp32(w, n, out);
    case Format::kFp16:
    case Format::kFp8E4M3:
    case Format::kFp8E5M2:
      return quantize_floating(format, w, n, out, pool);
    case Format::kInt4: {
      out.format = format;
      out.view = nullptr;
      out.int_codes.resize(n);
      out.scale = numerics::sawb_quantize_int4(w, n, out.int_codes.data());
      units_of_codes(out, pool);
      return;
    }
    default:
      throw std::logic_error("weights in " + name_of(format) + ": no quantizer");
  }
}

GradientQuantizer::GradientQuantizer(const ArithParams& params, bool gradscale)
    : m_params(params), m_enabled(gradscale) {
  if (m_enabled) {
    numerics::GradScaleParams p;
    p.fp4_bias = params.fp4_bias;
    m_state = std::make_unique<numerics::GradScale>(p);
  }
}

bool GradientQuantizer::begin_step(Format format, const float* dy, std::size_t n) {
  if (!is_fp4(format)) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(dy[i])) return false;
    }
    return true;
  }
  if (!m_enabled) {
    m_scale = 1.0f;
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(dy[i])) return false;
    }
    return true;
  }
  const numerics::GradScaleStep step = m_state->update(dy, n);
  m_scale = step.scale;
  return !step.nonfinite;
}

void GradientQuantizer::quantize(Format format, const float* dy, std::size_t n, TprPhase phase, std::uint64_t seed,
                                 QuantizedOperand& out, ThreadPool* pool) const {
  switch (format) {
    case Format::kFp32:
      return copy_fp32(dy, n, out);
    case Format::kFp16:
    case Format::kFp8E4M3:
    case Format::kFp8E5M2:
      return quantize_floating(format, dy, n, out, pool);
    case Format::kFp4:
    case Format::kFp4Radix2: {
      numerics::Fp4Params even;
      even.scale = m_scale;
      even.bias = m_params.fp4_bias;
      even.rounding = m_params.fp4_rounding;
      even.radix2 = format == Format::kFp4Radix2;
      even.seed = seed;
      const numerics::Fp4Params params = phase == TprPhase::kOdd ? numerics::tpr_odd_params(even) : even;
      const numerics::Fp4Quantizer quantizer(params);
      out.fp4_codes.resize(n);
      // The PE sees the code's unscaled value (-1)^s 4^(e - bias); the phase's
      // scale (halved for the odd phase) is applied after the GEMM.
      float units[16];
      for (std::uint32_t c = 0; c < 16; ++c) {
        units[c] = static_cast<float>(numerics::fp4_value(c, params.bias, params.radix2));
      }
      out.format = format;
      out.view = nullptr;
      out.scale = params.scale;
      out.units.resize(n);
      // Stochastic rounding draws element i's number from (seed, i), so each
      // block quantizes on its own with its first index.
      std::uint8_t* codes = out.fp4_codes.data();
      float* values = out.units.data();
      for_ranges(pool, n, [&](std::size_t b, std::size_t e) {
        quantizer.quantize(dy + b, e - b, codes + b, b);
        for (std::size_t i = b; i < e; ++i) values[i] = units[codes[i] & 15u];
      });
      return;
    }
    default:
      throw std::logic_error("gradients in " + name_of(format) + ": no quantizer");
  }
}

double fixed_point_lsb(Format a, Format b, int fp4_bias) {
  const auto lsb_exp = [&](Format f) -> int {
    if (f == Format::kInt4 || f == Format::kUint4) return 0;
    throw std::logic_error("int32 accumulator with a " + name_of(f) + " operand: no fixed-point PE mode");
  };
  if (is_fp4(a) && is_fp4(b)) throw std::logic_error("int32 accumulator: no FP4 x FP4 PE mode");
  if (is_fp4(a) || is_fp4(b)) {
    const Format other = is_fp4(a) ? b : a;
    const bool radix2 = (is_fp4(a) ? a : b) == Format::kFp4Radix2;
    return std::ldexp(1.0, lsb_exp(other) + numerics::fp4_product_lsb_exp(fp4_bias, radix2));
  }
  return std::ldexp(1.0, lsb_exp(a) + lsb_exp(b));
}

bool products_are_fp16(Format a, Format b, int fp4_bias) {
  const std::vector<double> va = code_values(a, fp4_bias);
  const std::vector<double> vb = code_values(b, fp4_bias);
  if (va.empty() || vb.empty()) return false;
  for (const double x : va) {
    for (const double y : vb) {
      const double p = x * y;  // exact: at most 4 + 4 significant bits
      if (numerics::fp16_to_double(numerics::fp16_from_double(p)) != p) return false;
    }
  }
  return true;
}

bool accumulation_supported(Format a, Format b, Format acc) {
  const auto pe_format = [](Format f) { return f == Format::kUint4 ? Format::kInt4 : f; };
  a = pe_format(a);
  b = pe_format(b);
  if (a == Format::kFp32 && b == Format::kFp32) return acc == Format::kFp32;
  numerics::PeMode mode;
  if (a == Format::kInt4 && b == Format::kInt4) {
    mode = numerics::PeMode::kInt4xInt4;
  } else if (is_fp4(a) && b == Format::kInt4) {
    mode = numerics::PeMode::kFp4xInt4;
  } else if (a == Format::kInt4 && is_fp4(b)) {
    mode = numerics::PeMode::kInt4xFp4;
  } else if (is_fp8(a) && is_fp8(b)) {
    mode = numerics::PeMode::kFp8xFp8;
  } else if (a == Format::kFp16 && b == Format::kFp16) {
    mode = numerics::PeMode::kFp16xFp16;
  } else {
    return false;
  }
  if (acc == Format::kFp16Chunked) return numerics::pe_accumulator_supported(mode, Format::kFp16);
  return numerics::pe_accumulator_supported(mode, acc);
}

}  // namespace nibble::train
