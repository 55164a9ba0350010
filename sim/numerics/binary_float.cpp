#include "sim/numerics/binary_float.hpp"

#include <algorithm>
#include <stdexcept>

namespace nibble::numerics {

namespace {

/// Index of the highest set bit of v > 0.
int msb_index(std::uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return 63 - __builtin_clzll(v);
#else
  int n = 0;
  while (v >>= 1) ++n;
  return n;
#endif
}

std::uint64_t sign_bit(const FloatSpec& spec) { return 1ull << (spec.exp_bits + spec.man_bits); }

std::uint64_t exp_all_ones(const FloatSpec& spec) { return (1ull << spec.exp_bits) - 1; }

std::uint64_t frac_mask(const FloatSpec& spec) { return (1ull << spec.man_bits) - 1; }

}  // namespace

FloatValue float_decode(std::uint64_t bits, const FloatSpec& spec) {
  FloatValue v;
  v.negative = ((bits >> (spec.exp_bits + spec.man_bits)) & 1u) != 0;
  const std::uint64_t field = (bits >> spec.man_bits) & exp_all_ones(spec);
  const std::uint64_t frac = bits & frac_mask(spec);
  if (field == exp_all_ones(spec) && spec.specials != FloatSpecials::kFiniteOnly) {
    if (spec.specials == FloatSpecials::kIeee) {
      v.kind = frac == 0 ? FloatValue::Kind::kInf : FloatValue::Kind::kNan;
      return v;
    }
    if (frac == frac_mask(spec)) {
      v.kind = FloatValue::Kind::kNan;
      return v;
    }
  }
  if (field == 0) {
    if (frac == 0) {
      v.kind = FloatValue::Kind::kZero;
      return v;
    }
    v.kind = FloatValue::Kind::kFinite;  // subnormal: 0.f x 2^(1 - bias)
    v.mag = frac;
    v.exp = 1 - spec.bias - spec.man_bits;
    return v;
  }
  v.kind = FloatValue::Kind::kFinite;
  v.mag = frac | (1ull << spec.man_bits);
  v.exp = static_cast<int>(field) - spec.bias - spec.man_bits;
  return v;
}

std::uint64_t float_canonical_nan(const FloatSpec& spec) {
  if (spec.specials == FloatSpecials::kFiniteOnly) throw std::logic_error("float_canonical_nan: the format has no NaN");
  if (spec.specials == FloatSpecials::kIeee) {
    return (exp_all_ones(spec) << spec.man_bits) | (spec.man_bits > 0 ? 1ull << (spec.man_bits - 1) : 0);
  }
  return (exp_all_ones(spec) << spec.man_bits) | frac_mask(spec);
}

std::uint64_t float_max_finite(const FloatSpec& spec) {
  if (spec.specials == FloatSpecials::kIeee) return ((exp_all_ones(spec) - 1) << spec.man_bits) | frac_mask(spec);
  if (spec.specials == FloatSpecials::kFiniteOnly) return (exp_all_ones(spec) << spec.man_bits) | frac_mask(spec);
  return (exp_all_ones(spec) << spec.man_bits) | (frac_mask(spec) - 1);  // all-ones fraction is NaN
}

std::uint64_t float_infinity(bool negative, const FloatSpec& spec) {
  const std::uint64_t sign = negative ? sign_bit(spec) : 0;
  if (spec.specials == FloatSpecials::kIeee) return sign | (exp_all_ones(spec) << spec.man_bits);
  return sign | float_max_finite(spec);
}

namespace {

/// float_round's body; `stochastic` selects the rounding of the dropped bits.
std::uint64_t round_to_grid(bool negative, std::uint64_t mag, int exp, const FloatSpec& spec, bool stochastic,
                            std::uint32_t u24) {
  const std::uint64_t sign = negative ? sign_bit(spec) : 0;
  if (mag == 0) return sign;
  // value = mag x 2^exp lies in [2^e_value, 2^(e_value + 1)).
  const int e_value = msb_index(mag) + exp;
  const int e_min = 1 - spec.bias;  // smallest normal exponent; below it the LSB stays at subnormal weight
  int lsb_exp = std::max(e_value, e_min) - spec.man_bits;
  const int drop = lsb_exp - exp;  // low bits of mag below the result's LSB
  std::uint64_t m = 0;
  if (drop <= 0) {
    m = mag << (-drop);  // exact; -drop <= man_bits because mag x 2^-drop < 2^(man_bits + 1)
  } else if (stochastic) {
    // r = rem / 2^drop; its top 24 bits and a sticky bit decide r > u24 x 2^-24.
    m = drop < 64 ? mag >> drop : 0;
    const std::uint64_t rem = drop < 64 ? mag & ((1ull << drop) - 1) : mag;
    std::uint64_t top24 = 0;
    bool sticky = false;
    if (drop <= 24) {
      top24 = rem << (24 - drop);
    } else if (drop - 24 < 64) {
      top24 = rem >> (drop - 24);
      sticky = (rem & ((1ull << (drop - 24)) - 1)) != 0;
    } else {
      sticky = rem != 0;
    }
    if (top24 > u24 || (top24 == u24 && sticky)) ++m;
  } else if (drop < 64) {
    m = mag >> drop;
    const std::uint64_t rem = mag & ((1ull << drop) - 1);
    const std::uint64_t half = 1ull << (drop - 1);
    if (rem > half || (rem == half && (m & 1u) != 0)) ++m;
  } else if (drop == 64) {
    m = mag > (1ull << 63) ? 1 : 0;  // half an LSB is 2^63 units of mag; m = 0 is even, so a tie stays
  }  // drop > 64: the value is below a quarter LSB and rounds to zero
  if ((m >> (spec.man_bits + 1)) != 0) {  // rounding carried into the next binade
    m >>= 1;
    ++lsb_exp;
  }
  const std::uint64_t hidden = 1ull << spec.man_bits;
  std::int64_t field = 0;
  std::uint64_t frac = m;
  if (m >= hidden) {
    field = static_cast<std::int64_t>(lsb_exp) + spec.man_bits + spec.bias;
    frac = m - hidden;
  }
  const auto top = static_cast<std::int64_t>(exp_all_ones(spec));
  if (spec.specials == FloatSpecials::kIeee) {
    if (field >= top) return float_infinity(negative, spec);
  } else if (spec.specials == FloatSpecials::kFiniteOnly) {
    if (field > top) return sign | float_max_finite(spec);
  } else if (field > top || (field == top && frac == frac_mask(spec))) {
    return sign | float_max_finite(spec);
  }
  return sign | (static_cast<std::uint64_t>(field) << spec.man_bits) | frac;
}

}  // namespace

std::uint64_t float_round(bool negative, std::uint64_t mag, int exp, const FloatSpec& spec) {
  return round_to_grid(negative, mag, exp, spec, false, 0);
}

std::uint64_t float_round_stochastic(bool negative, std::uint64_t mag, int exp, const FloatSpec& spec,
                                     std::uint32_t u24) {
  return round_to_grid(negative, mag, exp, spec, true, u24 & 0xFFFFFFu);
}

std::uint64_t float_encode(const FloatValue& value, const FloatSpec& spec) {
  switch (value.kind) {
    case FloatValue::Kind::kNan:
      return float_canonical_nan(spec);
    case FloatValue::Kind::kInf:
      return float_infinity(value.negative, spec);
    case FloatValue::Kind::kZero:
      return value.negative ? sign_bit(spec) : 0;
    case FloatValue::Kind::kFinite:
      break;
  }
  return float_round(value.negative, value.mag, value.exp, spec);
}

FloatValue float_mul_exact(const FloatValue& a, const FloatValue& b) {
  using Kind = FloatValue::Kind;
  FloatValue p;
  p.negative = a.negative != b.negative;
  if (a.kind == Kind::kNan || b.kind == Kind::kNan) {
    p.kind = Kind::kNan;
    p.negative = false;
    return p;
  }
  if (a.kind == Kind::kInf || b.kind == Kind::kInf) {
    const bool other_zero = (a.kind == Kind::kZero || b.kind == Kind::kZero);
    p.kind = other_zero ? Kind::kNan : Kind::kInf;  // inf x 0 is invalid
    if (other_zero) p.negative = false;
    return p;
  }
  if (a.kind == Kind::kZero || b.kind == Kind::kZero) {
    p.kind = Kind::kZero;
    return p;
  }
  if (a.mag >= (1ull << 32) || b.mag >= (1ull << 32)) {
    throw std::logic_error("float_mul_exact: significands wider than 32 bits");
  }
  p.kind = Kind::kFinite;
  p.mag = a.mag * b.mag;
  p.exp = a.exp + b.exp;
  return p;
}

std::uint64_t float_add(const FloatValue& x, const FloatValue& y, const FloatSpec& out) {
  using Kind = FloatValue::Kind;
  if (x.kind == Kind::kNan || y.kind == Kind::kNan) return float_canonical_nan(out);
  if (x.kind == Kind::kInf || y.kind == Kind::kInf) {
    if (x.kind == Kind::kInf && y.kind == Kind::kInf && x.negative != y.negative) return float_canonical_nan(out);
    return float_infinity(x.kind == Kind::kInf ? x.negative : y.negative, out);
  }
  if (x.kind == Kind::kZero && y.kind == Kind::kZero) {
    return (x.negative && y.negative) ? sign_bit(out) : 0;  // -0 + -0 = -0; every other zero sum is +0
  }
  if (x.kind == Kind::kZero) return float_round(y.negative, y.mag, y.exp, out);
  if (y.kind == Kind::kZero) return float_round(x.negative, x.mag, x.exp, out);

  // Both finite. Put each significand's top bit at bit 61 (room for a carry);
  // significands have at most 54 bits, so at least 7 zero bits sit below each.
  if (x.mag >= (1ull << 54) || y.mag >= (1ull << 54)) {
    throw std::logic_error("float_add: significands wider than 54 bits");
  }
  const int shift_x = 61 - msb_index(x.mag);
  const int shift_y = 61 - msb_index(y.mag);
  std::uint64_t mx = x.mag << shift_x;
  std::uint64_t my = y.mag << shift_y;
  int ex = x.exp - shift_x;
  int ey = y.exp - shift_y;
  bool nx = x.negative;
  bool ny = y.negative;
  if (ey > ex) {
    std::swap(mx, my);
    std::swap(ex, ey);
    std::swap(nx, ny);
  }
  // Align the smaller operand, keeping a sticky bit for whatever falls off
  // (SoftFloat's shift-right-jam). With 37+ bits below the widest rounding
  // point (FP32's 24 bits) and an even larger operand, jamming never changes
  // the round-to-nearest-even decision.
  const int d = ex - ey;
  if (d >= 63) {
    my = 1;
  } else if (d > 0) {
    const bool lost = (my & ((1ull << d) - 1)) != 0;
    my = (my >> d) | (lost ? 1u : 0u);
  }
  std::uint64_t mag = 0;
  bool negative = nx;
  if (nx == ny) {
    mag = mx + my;  // < 2^63
  } else if (mx >= my) {
    mag = mx - my;
  } else {
    mag = my - mx;
    negative = ny;
  }
  if (mag == 0) return 0;  // exact cancellation: +0 under round-to-nearest
  return float_round(negative, mag, ex, out);
}

}  // namespace nibble::numerics
