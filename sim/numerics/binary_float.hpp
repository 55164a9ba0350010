// Binary floating-point formats (FP8, FP16, FP32, FP64) as bit patterns, and
// the exact arithmetic every floating PE and conversion in nibble is built
// on: decode a pattern to sign x integer x 2^exp, add or multiply exactly
// with integers, round once to nearest-even. No host floating-point
// operation takes part, so the result is the same on every machine and is
// what the RTL must produce bit for bit (docs/numerics.md, "FP16").
#pragma once

#include <cstdint>

namespace nibble::numerics {

/// How a format uses its all-ones exponent field.
enum class FloatSpecials : std::uint8_t {
  kIeee,           ///< IEEE 754: all-ones exponent is inf (fraction 0) or NaN; overflow rounds to +-inf
  kSaturatingNan,  ///< OCP E4M3 style: no inf, only S.1..1.1..1 is NaN; overflow saturates to +-max
  kFiniteOnly,     ///< OCP MX FP6/FP4 elements: every pattern is finite, no inf or NaN; overflow saturates to +-max
};

/// Field widths and bias of one binary floating-point format.
struct FloatSpec {
  int exp_bits;            ///< exponent field width (2..11)
  int man_bits;            ///< fraction field width (0..52)
  int bias;                ///< exponent bias: a normal number is 1.f x 2^(field - bias)
  FloatSpecials specials;  ///< meaning of the all-ones exponent field
};

inline constexpr FloatSpec kFp16Spec{5, 10, 15, FloatSpecials::kIeee};     ///< IEEE binary16
inline constexpr FloatSpec kFp32Spec{8, 23, 127, FloatSpecials::kIeee};    ///< IEEE binary32
inline constexpr FloatSpec kFp64Spec{11, 52, 1023, FloatSpecials::kIeee};  ///< IEEE binary64
inline constexpr FloatSpec kBf16Spec{8, 7, 127, FloatSpecials::kIeee};     ///< bfloat16: binary32's exponent, 7 fraction bits

/// A decoded number: kFinite means value = (-1)^negative x mag x 2^exp with mag > 0.
struct FloatValue {
  enum class Kind : std::uint8_t {
    kZero,    ///< +-0
    kFinite,  ///< nonzero finite: mag x 2^exp
    kInf,     ///< +-inf
    kNan,     ///< any NaN (payloads are not kept)
  };
  Kind kind = Kind::kZero;  ///< class of the number
  bool negative = false;    ///< sign bit (also for zeros and infinities)
  std::uint64_t mag = 0;    ///< kFinite: integer significand, at most 2^53
  int exp = 0;              ///< kFinite: power of two of mag's least significant bit
};

/// Decodes the low 1 + exp_bits + man_bits bits of `bits` (higher bits ignored).
FloatValue float_decode(std::uint64_t bits, const FloatSpec& spec);
/// (-1)^negative x mag x 2^exp rounded once to nearest, ties to even, with
/// subnormals; overflow as `spec.specials` says. mag == 0 gives a signed zero.
std::uint64_t float_round(bool negative, std::uint64_t mag, int exp, const FloatSpec& spec);
/// The same onto the same grid, rounded stochastically: with r in [0, 1) the
/// position of |value| between its two neighbours lo < hi on the grid
/// (subnormals included), the magnitude goes up to hi iff r > u24 x 2^-24.
/// `u24` < 2^24 is the caller's random number (CounterRng::uniform24). So the
/// result is hi with probability ceil(r x 2^24) / 2^24. Overflow as float_round.
std::uint64_t float_round_stochastic(bool negative, std::uint64_t mag, int exp, const FloatSpec& spec,
                                     std::uint32_t u24);
/// Encodes any FloatValue: finite values rounded as float_round, NaN as the
/// canonical NaN, inf as inf (kIeee) or +-max (kSaturatingNan, kFiniteOnly).
std::uint64_t float_encode(const FloatValue& value, const FloatSpec& spec);
/// The one NaN pattern nibble produces: sign 0, quiet (IEEE: top fraction bit;
/// fp16 0x7E00, fp32 0x7FC00000), or S.1..1.1..1 with S = 0 for kSaturatingNan.
/// std::logic_error for kFiniteOnly (it has none: callers decide what a NaN becomes).
std::uint64_t float_canonical_nan(const FloatSpec& spec);
/// +inf / -inf for kIeee; +-largest finite for kSaturatingNan and kFiniteOnly.
std::uint64_t float_infinity(bool negative, const FloatSpec& spec);
/// Largest finite magnitude pattern (sign 0).
std::uint64_t float_max_finite(const FloatSpec& spec);

/// The exact product a x b (finite operands need mag < 2^32 each, true for
/// FP8/FP16/FP32). inf x 0 and NaN operands give NaN.
FloatValue float_mul_exact(const FloatValue& a, const FloatValue& b);
/// x + y computed exactly and rounded once into `out`. NaN in either -> the
/// canonical NaN; inf + -inf -> canonical NaN; inf + finite -> that inf;
/// an exact zero sum of nonzero operands -> +0; -0 + -0 -> -0, any other zero sum -> +0.
std::uint64_t float_add(const FloatValue& x, const FloatValue& y, const FloatSpec& out);

}  // namespace nibble::numerics
