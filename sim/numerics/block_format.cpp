#include "sim/numerics/block_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "sim/numerics/counter_rng.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {

namespace {

// MXINT8's magnitudes 0..127 x 2^-6 are the grid of a sign-magnitude float
// with one exponent bit, bias 1 and six fraction bits (field 0: 0.f x 2^0,
// field 1: 1.f x 2^0, both with LSB 2^-6, all patterns finite): the one
// rounding routine rounds them, then the code is re-read as two's complement.
constexpr FloatSpec kInt8MagnitudeSpec{1, 6, 1, FloatSpecials::kFiniteOnly};

const std::vector<ElementFormat>& element_table() {
  static const std::vector<ElementFormat> table{
      {"e2m1", 4, false, FloatSpec{2, 1, 1, FloatSpecials::kFiniteOnly}, 0},
      {"e2m3", 6, false, FloatSpec{2, 3, 1, FloatSpecials::kFiniteOnly}, 0},
      {"e3m2", 6, false, FloatSpec{3, 2, 3, FloatSpecials::kFiniteOnly}, 0},
      {"e4m3", 8, false, FloatSpec{4, 3, 7, FloatSpecials::kSaturatingNan}, 0},
      {"e5m2", 8, false, FloatSpec{5, 2, 15, FloatSpecials::kIeee}, 0},
      {"int8", 8, true, kInt8MagnitudeSpec, 6},
      {"bf16", 16, false, kBf16Spec, 0},
  };
  return table;
}

const std::vector<BlockFormat>& block_table() {
  static const std::vector<BlockFormat> table = [] {
    auto e = [](std::string_view name) { return find_element_format(name); };
    return std::vector<BlockFormat>{
        {"mxfp4", e("e2m1"), ScaleKind::kE8M0, 32, false},
        {"mxfp6-e2m3", e("e2m3"), ScaleKind::kE8M0, 32, false},
        {"mxfp6-e3m2", e("e3m2"), ScaleKind::kE8M0, 32, false},
        {"mxfp8-e4m3", e("e4m3"), ScaleKind::kE8M0, 32, false},
        {"mxfp8-e5m2", e("e5m2"), ScaleKind::kE8M0, 32, false},
        {"mxint8", e("int8"), ScaleKind::kE8M0, 32, false},
        {"nvfp4", e("e2m1"), ScaleKind::kUe4m3, 16, true},
        {"bf16", e("bf16"), ScaleKind::kNone, 1, false},
    };
  }();
  return table;
}

int msb_index(std::uint64_t v) { return 63 - __builtin_clzll(v); }

/// Sign-magnitude pattern of `spec` -> (negative, magnitude pattern).
std::uint64_t sign_mask(const FloatSpec& spec) { return 1ull << (spec.exp_bits + spec.man_bits); }

FloatValue decode_float(float x) { return float_decode(fp32_bits(x), kFp32Spec); }

FloatValue decode_double(double x) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  return float_decode(bits, kFp64Spec);
}

/// The scale of one block: its code, and the divisor elements are scaled by.
struct BlockScale {
  std::uint32_t code = 0;  ///< scale code (kNone: 0)
  bool nan = false;        ///< NaN scale: codes 0, values NaN
  bool zero = false;       ///< NVFP4 scale 0: codes 0, values 0
  int shift = 0;           ///< MX: elements are V x 2^-shift
  double divisor = 1.0;    ///< NVFP4: elements are V / divisor (S x T)
  double value = 1.0;      ///< block scale value (code's value)
};

/// The per-tensor scale T of NVFP4: FP32(amax / (6 x 448)); 2^-149 when that
/// underflows to 0; 1 for an all-zero tensor; NaN when `finite` is false.
float nvfp4_tensor_scale(float amax, bool finite) {
  if (!finite) return std::numeric_limits<float>::quiet_NaN();
  if (amax == 0.0f) return 1.0f;
  const float t = fp32_value(fp32_from_double(static_cast<double>(amax) / (6.0 * 448.0)));
  return t > 0.0f ? t : std::ldexp(1.0f, -149);
}

BlockScale make_scale(const BlockFormat& format, float amax, bool finite, float tensor_scale) {
  BlockScale s;
  switch (format.scale) {
    case ScaleKind::kNone:
      return s;
    case ScaleKind::kE8M0: {
      if (!finite) {
        s.nan = true;
        s.code = kE8m0Nan;
        return s;
      }
      // floor(log2(amax)); an all-zero block reads amax as 2^-126 (FP32's
      // smallest normal), as microxcaling does, so its scale clamps to 2^-127.
      int e = -126;
      if (amax > 0.0f) {
        const FloatValue v = decode_float(amax);
        e = msb_index(v.mag) + v.exp;
      }
      const int shared = std::max(e - element_emax(*format.element), -kE8m0Bias);
      if (shared > kE8m0Bias) {  // unreachable from FP32 inputs; the spec's NaN scale
        s.nan = true;
        s.code = kE8m0Nan;
        return s;
      }
      s.code = static_cast<std::uint32_t>(shared + kE8m0Bias);
      s.shift = shared;
      s.value = std::ldexp(1.0, shared);
      return s;
    }
    case ScaleKind::kUe4m3: {
      if (!finite || std::isnan(tensor_scale)) {
        s.nan = true;
        s.code = kUe4m3Nan;
        return s;
      }
      // amax_b / (6 T) in double: the quotient of two floats and 6 rounded to
      // 53 bits cannot land on a midpoint of the 4-bit grid unless it is one,
      // so rounding it once more is the correct rounding of the exact quotient.
      const double q = static_cast<double>(amax) / (6.0 * static_cast<double>(tensor_scale));
      const FloatValue v = decode_double(q);
      s.code = v.kind == FloatValue::Kind::kZero
                   ? 0
                   : static_cast<std::uint32_t>(float_round(false, v.mag, v.exp, kUe4m3Spec));
      s.value = scale_value(ScaleKind::kUe4m3, s.code);
      s.zero = s.code == 0;
      s.divisor = s.value * static_cast<double>(tensor_scale);
      return s;
    }
  }
  return s;
}

/// Code of x in a block with scale `s` (finite x, or any x for kNone).
std::uint32_t element_code(const BlockFormat& format, const BlockScale& s, float x, bool stochastic,
                           std::uint32_t u24) {
  const ElementFormat& el = *format.element;
  if (s.nan || s.zero) return 0;
  if (format.scale == ScaleKind::kNone) {
    const FloatValue v = decode_float(x);
    if (v.kind != FloatValue::Kind::kFinite || !stochastic) return static_cast<std::uint32_t>(float_encode(v, el.spec));
    return static_cast<std::uint32_t>(float_round_stochastic(v.negative, v.mag, v.exp, el.spec, u24));
  }
  FloatValue v;
  if (format.scale == ScaleKind::kE8M0) {
    v = decode_float(x);
    v.exp -= s.shift;  // V / 2^shift, exact
  } else {
    // V / (S T) in double, exact to 2^-53: a 53-bit quotient of a float by a
    // product of 28 bits cannot land on a midpoint of the element grid unless
    // it is one, so nearest-even sees the exact quotient.
    v = decode_double(static_cast<double>(x) / s.divisor);
  }
  if (v.kind == FloatValue::Kind::kZero) return 0;
  return element_round(el, v.negative, v.mag, v.exp, true, stochastic, u24);
}

/// The loop both entry points share: per block, the scale; per element, the
/// code, handed to `emit(i, j, code, scale)`.
void check_shape(BlockShape shape) {
  if (shape.rows == 0 || shape.cols == 0) {
    throw FormatError("block shape", "must be at least 1 x 1, got " + std::to_string(shape.rows) + "x" +
                                         std::to_string(shape.cols));
  }
}

/// NVFP4's tensor scale of the matrix (1 for formats without one).
float tensor_scale_of(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols, std::size_t ld) {
  if (!format.tensor_scale) return 1.0f;
  float amax = 0.0f;
  bool finite = true;
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const float a = std::fabs(x[i * ld + j]);
      finite = finite && a <= std::numeric_limits<float>::max();
      amax = std::max(amax, a);
    }
  }
  return nvfp4_tensor_scale(amax, finite);
}

/// The loop both entry points share, over the bands of block rows
/// [band_begin, band_end), read row by row (cache-friendly for column blocks
/// too): every block's amax, its scale, then `emit_band(first_row, end_row,
/// scales)` quantizes the band's elements (scales[g] for columns g x shape.cols ..).
template <typename EmitBand>
void quantize_bands(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                    BlockShape shape, float tensor_scale, std::size_t band_begin, std::size_t band_end,
                    EmitBand emit_band) {
  const std::size_t grid_cols = (cols + shape.cols - 1) / shape.cols;
  std::vector<float> amax(grid_cols);
  std::vector<float> bad(grid_cols);  // > 0 where the block holds inf or NaN
  std::vector<BlockScale> scales(grid_cols);
  const float kMax = std::numeric_limits<float>::max();
  for (std::size_t band = band_begin; band < band_end && band * shape.rows < rows; ++band) {
    const std::size_t bi = band * shape.rows;
    const std::size_t i_end = std::min(rows, bi + shape.rows);
    std::fill(amax.begin(), amax.end(), 0.0f);
    std::fill(bad.begin(), bad.end(), 0.0f);
    if (format.scale != ScaleKind::kNone) {
      for (std::size_t i = bi; i < i_end; ++i) {
        const float* row = x + i * ld;
        if (shape.cols == 1) {
          for (std::size_t j = 0; j < cols; ++j) {
            const float a = std::fabs(row[j]);
            amax[j] = a > amax[j] ? a : amax[j];
            bad[j] = a <= kMax ? bad[j] : 1.0f;
          }
          continue;
        }
        for (std::size_t g = 0; g < grid_cols; ++g) {
          const std::size_t j_end = std::min(cols, (g + 1) * shape.cols);
          float m = amax[g];
          float b = bad[g];
          for (std::size_t j = g * shape.cols; j < j_end; ++j) {
            const float a = std::fabs(row[j]);
            m = a > m ? a : m;
            b = a <= kMax ? b : 1.0f;
          }
          amax[g] = m;
          bad[g] = b;
        }
      }
    }
    for (std::size_t g = 0; g < grid_cols; ++g) scales[g] = make_scale(format, amax[g], bad[g] == 0.0f, tensor_scale);
    emit_band(bi, i_end, scales);
  }
}

}  // namespace

const std::vector<ElementFormat>& element_formats() { return element_table(); }

const ElementFormat* find_element_format(std::string_view name) {
  for (const auto& f : element_table()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const std::vector<BlockFormat>& block_formats() { return block_table(); }

const BlockFormat* find_block_format(std::string_view name) {
  for (const auto& f : block_table()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string block_format_names() {
  std::string out;
  for (const auto& f : block_table()) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

int element_emax(const ElementFormat& format) {
  if (format.is_int) return 0;
  const int top_field = (1 << format.spec.exp_bits) - (format.spec.specials == FloatSpecials::kIeee ? 2 : 1);
  return top_field - format.spec.bias;
}

double element_max(const ElementFormat& format) { return element_value(format, static_cast<std::uint32_t>(float_max_finite(format.spec))); }

double element_value(const ElementFormat& format, std::uint32_t code) {
  code &= (1u << format.bits) - 1u;
  if (format.is_int) {
    const int v = code >= (1u << (format.bits - 1)) ? static_cast<int>(code) - (1 << format.bits) : static_cast<int>(code);
    return std::ldexp(static_cast<double>(v), -format.int_frac_bits);
  }
  const FloatValue v = float_decode(code, format.spec);
  switch (v.kind) {
    case FloatValue::Kind::kZero:
      return v.negative ? -0.0 : 0.0;
    case FloatValue::Kind::kInf:
      return v.negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    case FloatValue::Kind::kNan:
      return std::numeric_limits<double>::quiet_NaN();
    case FloatValue::Kind::kFinite:
      break;
  }
  const double m = std::ldexp(static_cast<double>(v.mag), v.exp);
  return v.negative ? -m : m;
}

std::uint32_t element_round(const ElementFormat& format, bool negative, std::uint64_t mag, int exp, bool saturate,
                            bool stochastic, std::uint32_t u24) {
  const FloatSpec& spec = format.spec;
  std::uint64_t code = stochastic ? float_round_stochastic(negative, mag, exp, spec, u24)
                                  : float_round(negative, mag, exp, spec);
  if (saturate && spec.specials == FloatSpecials::kIeee &&
      float_decode(code, spec).kind == FloatValue::Kind::kInf) {
    code = (code & sign_mask(spec)) | float_max_finite(spec);  // MX saturates normals instead of overflowing
  }
  if (format.is_int) {
    // Sign-magnitude -> two's complement (a zero magnitude is code 0).
    const auto m = static_cast<std::uint32_t>(code & (sign_mask(spec) - 1));
    const bool neg = (code & sign_mask(spec)) != 0 && m != 0;
    const std::uint32_t mask = (1u << format.bits) - 1u;
    return neg ? ((~m + 1u) & mask) : m;
  }
  return static_cast<std::uint32_t>(code);
}

int scale_bits(ScaleKind kind) { return kind == ScaleKind::kNone ? 0 : 8; }

double scale_value(ScaleKind kind, std::uint32_t code) {
  switch (kind) {
    case ScaleKind::kNone:
      return 1.0;
    case ScaleKind::kE8M0:
      return (code & 0xFFu) == kE8m0Nan ? std::numeric_limits<double>::quiet_NaN()
                                        : std::ldexp(1.0, static_cast<int>(code & 0xFFu) - kE8m0Bias);
    case ScaleKind::kUe4m3: {
      const FloatValue v = float_decode(code & 0x7Fu, kUe4m3Spec);
      if (v.kind == FloatValue::Kind::kNan) return std::numeric_limits<double>::quiet_NaN();
      return v.kind == FloatValue::Kind::kZero ? 0.0 : std::ldexp(static_cast<double>(v.mag), v.exp);
    }
  }
  return 1.0;
}

std::string_view block_rounding_name(BlockRounding rounding) {
  return rounding == BlockRounding::kStochastic ? "stochastic" : "nearest-even";
}

std::optional<BlockRounding> parse_block_rounding(std::string_view name) {
  if (name == "nearest-even") return BlockRounding::kNearestEven;
  if (name == "stochastic") return BlockRounding::kStochastic;
  return std::nullopt;
}

BlockQuantized block_quantize(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                              std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed) {
  BlockQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.shape = shape;
  q.codes.assign(rows * cols, 0);
  const std::size_t grid_cols = shape.cols == 0 ? 0 : (cols + shape.cols - 1) / shape.cols;
  const std::size_t grid_rows = shape.rows == 0 ? 0 : (rows + shape.rows - 1) / shape.rows;
  q.scales.assign(grid_rows * grid_cols, 0);
  check_shape(shape);
  q.tensor_scale = tensor_scale_of(format, x, rows, cols, ld);
  const bool stochastic = rounding == BlockRounding::kStochastic;
  const CounterRng rng(seed);
  quantize_bands(format, x, rows, cols, ld, shape, q.tensor_scale, 0, grid_rows,
                 [&](std::size_t i_begin, std::size_t i_end, const std::vector<BlockScale>& scales) {
                   for (std::size_t g = 0; g < grid_cols; ++g) q.scales[(i_begin / shape.rows) * grid_cols + g] = scales[g].code;
                   for (std::size_t i = i_begin; i < i_end; ++i) {
                     for (std::size_t j = 0; j < cols; ++j) {
                       const std::uint32_t u = stochastic ? rng.uniform24(i * cols + j) : 0;
                       q.codes[i * cols + j] = element_code(format, scales[j / shape.cols], x[i * ld + j], stochastic, u);
                     }
                   }
                 });
  return q;
}

double block_value(const BlockFormat& format, const BlockQuantized& q, std::size_t i, std::size_t j) {
  const std::size_t grid_cols = (q.cols + q.shape.cols - 1) / q.shape.cols;
  const double scale = scale_value(format.scale, q.scales[(i / q.shape.rows) * grid_cols + j / q.shape.cols]);
  return element_value(*format.element, q.codes[i * q.cols + j]) * scale * static_cast<double>(q.tensor_scale);
}

float block_unit(const BlockFormat& format, const BlockQuantized& q, std::size_t i, std::size_t j) {
  const std::size_t grid_cols = (q.cols + q.shape.cols - 1) / q.shape.cols;
  const double scale = scale_value(format.scale, q.scales[(i / q.shape.rows) * grid_cols + j / q.shape.cols]);
  return static_cast<float>(element_value(*format.element, q.codes[i * q.cols + j]) * scale);
}

namespace {

/// 2^k as a double, for |k| < 1023, built from its bits (no library call).
double pow2(int k) {
  const std::uint64_t bits = static_cast<std::uint64_t>(k + 1023) << 52;
  double out = 0.0;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

/// The units (element value x block scale) of one row of a band, by double
/// arithmetic that gives exactly what element_code() and element_value()
/// give: y = |x| / divisor is the same double (a power of two for MX: exact),
/// its exponent fixes the grid step 2^q, and y / 2^q is rounded by adding and
/// subtracting 2^52 (ties to even in IEEE's default rounding mode) or by floor
/// plus "fraction x 2^24 > u", float_round_stochastic's test. Saturation is a
/// min with the largest element. Per column: divisor[j], value[j] (the block
/// scale's value; 0 for a zero scale) and nan[j] (a NaN scale).
struct FastElement {
  int man_bits;  ///< element fraction bits
  int e_min;     ///< smallest normal exponent (the subnormal step is 2^(e_min - man_bits))
  double max;    ///< largest finite element value
  bool is_int;   ///< MXINT8: a negative x rounded to 0 is +0 (no -0 in two's complement)
};

template <bool kStochastic>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void fast_row_impl(const FastElement& f, const float* x, std::size_t cols, const double* divisor,
                   const double* value, const std::uint8_t* nan, const std::uint32_t* u24, float* out) {
  // Written without branches (selects and masks) so that it vectorizes.
  const std::int64_t e_min = f.e_min;
  const std::int64_t man = f.man_bits;
  const std::uint32_t int_mask = f.is_int ? 0xFFFFFFFFu : 0u;
  for (std::size_t j = 0; j < cols; ++j) {
    std::uint32_t xbits = 0;
    std::memcpy(&xbits, &x[j], sizeof xbits);
    float xabs = 0.0f;
    const std::uint32_t abs_bits = xbits & 0x7FFFFFFFu;
    std::memcpy(&xabs, &abs_bits, sizeof xabs);
    const double y = static_cast<double>(xabs) / divisor[j];
    std::int64_t bits = 0;
    std::memcpy(&bits, &y, sizeof bits);
    const std::int64_t e = ((bits >> 52) & 0x7FF) - 1023;  // y = 0 reads -1023: q = e_min - man_bits
    const std::int64_t q = (e > e_min ? e : e_min) - man;
    // 2^-q and 2^q from their bit patterns (|q| < 200).
    const std::int64_t down_bits = (1023 - q) << 52;
    const std::int64_t up_bits = (1023 + q) << 52;
    double down = 0.0;
    double up = 0.0;
    std::memcpy(&down, &down_bits, sizeof down);
    std::memcpy(&up, &up_bits, sizeof up);
    const double t = y * down;  // < 2^(man_bits + 1) <= 2^8
    double r = (t + 0x1p52) - 0x1p52;
    if constexpr (kStochastic) {
      r = r > t ? r - 1.0 : r;  // floor
      r = (t - r) * 0x1p24 > static_cast<double>(u24[j]) ? r + 1.0 : r;
    }
    const double grid = r * up;
    const double magnitude = (grid < f.max ? grid : f.max) * value[j];
    const auto unit = static_cast<float>(magnitude);
    std::uint32_t ubits = 0;
    std::memcpy(&ubits, &unit, sizeof ubits);
    // The sign of x, except on a zero of MXINT8 or of a zero block scale (code 0 is +0 there).
    const std::uint32_t zero_unsigned = (ubits == 0u ? 0xFFFFFFFFu : 0u) & (int_mask | (value[j] == 0.0 ? 0xFFFFFFFFu : 0u));
    ubits |= (xbits & 0x80000000u) & ~zero_unsigned;
    const std::uint32_t nan_mask = nan[j] != 0 ? 0xFFFFFFFFu : 0u;
    ubits = (ubits & ~nan_mask) | (0x7FC00000u & nan_mask);
    std::memcpy(&out[j], &ubits, sizeof ubits);
  }
}

// Two copies, with and without AVX2, picked when the program loads: IEEE
// operations only (no FMA), so both give the same bits.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void fast_row(const FastElement& f, const float* x, std::size_t cols, const double* divisor, const double* value,
              const std::uint8_t* nan, const std::uint32_t* u24, float* out) {
  if (u24 != nullptr) {
    fast_row_impl<true>(f, x, cols, divisor, value, nan, u24, out);
  } else {
    fast_row_impl<false>(f, x, cols, divisor, value, nan, u24, out);
  }
}

/// bf16 by the bit trick on the FP32 pattern (round the low 16 bits away),
/// the same grid and rounding as float_round onto kBf16Spec; NaN -> 0x7FC0.
float bf16_unit(float x, bool stochastic, std::uint32_t u24) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return std::numeric_limits<float>::quiet_NaN();
  if ((bits & 0x7FFFFFFFu) == 0x7F800000u) return x;
  const std::uint32_t low = bits & 0xFFFFu;
  bits &= 0xFFFF0000u;
  if (stochastic) {
    if ((static_cast<std::uint64_t>(low) << 8) > u24) bits += 0x10000u;
  } else if (low > 0x8000u || (low == 0x8000u && (bits & 0x10000u) != 0)) {
    bits += 0x10000u;  // a carry into the exponent is the next binade, or inf: as IEEE rounding does
  }
  float out = 0.0f;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace

float block_tensor_scale(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                         std::size_t ld) {
  return tensor_scale_of(format, x, rows, cols, ld);
}

void block_quantize_units_bands(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                                std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed,
                                float tensor_scale, std::size_t band_begin, std::size_t band_end, float* out) {
  check_shape(shape);
  const FloatSpec& spec = format.element->spec;
  const FastElement fast{spec.man_bits, 1 - spec.bias, element_max(*format.element), format.element->is_int};
  const bool stochastic = rounding == BlockRounding::kStochastic;
  const CounterRng rng(seed);
  std::vector<std::uint32_t> u24(stochastic ? cols : 0);
  auto draw = [&](std::size_t i) {
    for (std::size_t j = 0; j < u24.size(); ++j) u24[j] = rng.uniform24(i * cols + j);
    return stochastic ? u24.data() : nullptr;
  };
  if (format.scale == ScaleKind::kNone) {
    const std::size_t i_end = std::min(rows, band_end * shape.rows);
    for (std::size_t i = band_begin * shape.rows; i < i_end; ++i) {
      const std::uint32_t* u = draw(i);
      for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] = bf16_unit(x[i * ld + j], u != nullptr, u != nullptr ? u[j] : 0);
    }
    return;
  }
  std::vector<double> divisor(cols);
  std::vector<double> value(cols);
  std::vector<std::uint8_t> nan(cols);
  quantize_bands(format, x, rows, cols, ld, shape, tensor_scale, band_begin, band_end,
                 [&](std::size_t i_begin, std::size_t i_end, const std::vector<BlockScale>& scales) {
                   for (std::size_t g = 0; g < scales.size(); ++g) {
                     const BlockScale& s = scales[g];
                     const double d = format.scale == ScaleKind::kE8M0 ? pow2(s.shift) : (s.zero || s.nan ? 1.0 : s.divisor);
                     const double v = s.zero || s.nan ? 0.0 : s.value;
                     const std::size_t j_end = std::min(cols, (g + 1) * shape.cols);
                     for (std::size_t j = g * shape.cols; j < j_end; ++j) {
                       divisor[j] = d;
                       value[j] = v;
                       nan[j] = s.nan ? 1 : 0;
                     }
                   }
                   for (std::size_t i = i_begin; i < i_end; ++i) {
                     fast_row(fast, x + i * ld, cols, divisor.data(), value.data(), nan.data(), draw(i), out + i * cols);
                   }
                 });
}

float block_quantize_units(const BlockFormat& format, const float* x, std::size_t rows, std::size_t cols,
                           std::size_t ld, BlockShape shape, BlockRounding rounding, std::uint64_t seed, float* out) {
  check_shape(shape);
  const float t = tensor_scale_of(format, x, rows, cols, ld);
  block_quantize_units_bands(format, x, rows, cols, ld, shape, rounding, seed, t, 0, (rows + shape.rows - 1) / shape.rows,
                             out);
  return t;
}

}  // namespace nibble::numerics
