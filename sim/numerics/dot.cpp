#include "sim/numerics/dot.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/pe_detail.hpp"

namespace nibble::numerics {

using namespace detail;

namespace {

int msb(std::uint64_t v) { return 63 - __builtin_clzll(v); }

/// The exact sum of finite terms, rounded once into `spec`. The terms are
/// added into a fixed-point register as wide as their exponents span (a
/// Kulisch accumulator: 32-bit limbs held in int64 so that carries wait until
/// the end), then the magnitude's top 31 to 62 bits (whole limbs) and a
/// sticky bit for the rest go to float_round: 31 bits are 7 more than FP32's
/// 24, so the guard bit is kept and the sticky bit decides ties exactly as
/// the full sum would.
std::uint64_t round_exact_sum(const std::vector<FloatValue>& terms, const FloatSpec& spec) {
  int lo = 0;
  int hi = 0;
  bool first = true;
  for (const FloatValue& t : terms) {
    const int top = t.exp + msb(t.mag);
    lo = first ? t.exp : std::min(lo, t.exp);
    hi = first ? top : std::max(hi, top);
    first = false;
  }
  // Up to 65 terms add at most 7 bits above the largest; one limb of headroom for the sign.
  const std::size_t limbs = static_cast<std::size_t>((hi - lo + 8) / 32 + 3);
  std::vector<std::int64_t> acc(limbs, 0);
  for (const FloatValue& t : terms) {
    const int offset = t.exp - lo;
    std::size_t limb = static_cast<std::size_t>(offset / 32);
    // mag < 2^54 shifted by < 32 spans at most three limbs.
    const int shift = offset % 32;
    std::uint64_t low = t.mag << shift;                   // bits 0..63 of the shifted magnitude
    std::uint64_t high = shift == 0 ? 0 : t.mag >> (64 - shift);  // bits 64..
    const std::int64_t sign = t.negative ? -1 : 1;
    acc[limb] += sign * static_cast<std::int64_t>(low & 0xFFFFFFFFu);
    acc[limb + 1] += sign * static_cast<std::int64_t>(low >> 32);
    acc[limb + 2] += sign * static_cast<std::int64_t>(high);
  }
  // Carry propagation: each limb becomes a digit 0..2^32-1; the last carry is the sign.
  std::int64_t carry = 0;
  for (std::int64_t& d : acc) {
    d += carry;
    carry = d >> 32;  // arithmetic shift: floor division
    d &= 0xFFFFFFFF;
  }
  const bool negative = carry < 0;
  if (negative) {  // two's complement negation of the digits
    std::int64_t c = 1;
    for (std::int64_t& d : acc) {
      d = (~d & 0xFFFFFFFF) + c;
      c = d >> 32;
      d &= 0xFFFFFFFF;
    }
  }
  std::size_t top = limbs;
  while (top > 0 && acc[top - 1] == 0) --top;
  if (top == 0) return 0;  // an exact zero sum of nonzero terms is +0
  // Gather whole limbs until at least 31 bits are in, and a sticky bit for the rest.
  std::uint64_t mag = 0;
  int exp = lo + static_cast<int>(top * 32);
  bool sticky = false;
  for (std::size_t i = top; i-- > 0;) {
    const auto digit = static_cast<std::uint64_t>(acc[i]);
    if (mag < (1ull << 30)) {  // then mag << 32 < 2^62
      mag = (mag << 32) | digit;
      exp -= 32;
    } else {
      sticky = sticky || digit != 0;
    }
  }
  return float_round(negative, (mag << 1) | (sticky ? 1u : 0u), exp - 1, spec);
}

/// acc + the exact sum of `products` rounded once into the accumulator,
/// with pe_mac's (float_add's) rules for NaN, infinities and signed zeros.
std::uint32_t add_exact_sum(Format acc_format, std::uint32_t acc_bits, const std::vector<FloatValue>& products,
                            PeMode mode) {
  using Kind = FloatValue::Kind;
  const FloatSpec& spec = acc_format == Format::kFp16 ? kFp16Spec : kFp32Spec;
  std::vector<FloatValue> terms;
  terms.reserve(products.size() + 1);
  terms.push_back(decode_accumulator(acc_format, acc_bits, mode));
  terms.insert(terms.end(), products.begin(), products.end());
  bool pos_inf = false;
  bool neg_inf = false;
  bool all_negative_zero = true;
  std::vector<FloatValue> finite;
  for (const FloatValue& t : terms) {
    if (t.kind == Kind::kNan) return static_cast<std::uint32_t>(float_canonical_nan(spec));
    if (t.kind == Kind::kInf) (t.negative ? neg_inf : pos_inf) = true;
    if (t.kind == Kind::kFinite) finite.push_back(t);
    all_negative_zero = all_negative_zero && t.kind == Kind::kZero && t.negative;
  }
  if (pos_inf && neg_inf) return static_cast<std::uint32_t>(float_canonical_nan(spec));
  if (pos_inf || neg_inf) return static_cast<std::uint32_t>(float_infinity(neg_inf, spec));
  if (finite.empty()) return static_cast<std::uint32_t>(all_negative_zero ? float_round(true, 0, 0, spec) : 0);
  return static_cast<std::uint32_t>(round_exact_sum(finite, spec));
}

}  // namespace

std::uint32_t pe_dot(const PeArith& arith, PeMode mode, std::uint32_t acc, const std::uint32_t* a_bits,
                     const std::uint32_t* b_bits, std::size_t n) {
  check_accumulator(arith, mode);
  if (n == 0 || n > kMaxDotProduct) {
    throw FormatError("pe dot product", "expected 1.." + std::to_string(kMaxDotProduct) + " products, got " +
                                            std::to_string(n));
  }
  if (is_fixed_point_mode(mode)) {
    // The adder tree: integer addition is associative, so its shape cannot
    // change the sum; 64 products of |P| <= 32768 need 22 bits with the sign.
    std::int64_t sum = 0;
    int lsb_exp = 0;
    for (std::size_t i = 0; i < n; ++i) sum += fixed_product(arith, mode, a_bits[i], b_bits[i], &lsb_exp);
    if (arith.acc == Format::kInt32) return saturate_int32(as_int32(acc) + sum);
    return add_into(arith.acc, acc, integer_term(sum, lsb_exp), mode);
  }
  std::vector<FloatValue> products;
  products.reserve(n);
  for (std::size_t i = 0; i < n; ++i) products.push_back(float_product(arith, mode, a_bits[i], b_bits[i]));
  return add_exact_sum(arith.acc, acc, products, mode);
}

}  // namespace nibble::numerics
