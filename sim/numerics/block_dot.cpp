#include "sim/numerics/block_dot.hpp"

#include <string>

#include "sim/numerics/error.hpp"

namespace nibble::numerics {

namespace {

// The sum times two scale significands (UE4M3: 4 bits each) stays below 2^62.
constexpr int kMaxSumBits = 54;

int bit_width(std::uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

/// Power of two of the LSB of every element code of `f`: the subnormal LSB
/// 2^(1 - bias - man_bits) of a float element, 2^-6 for MXINT8.
int element_lsb_exp(const ElementFormat& f) {
  return f.is_int ? -f.int_frac_bits : 1 - f.spec.bias - f.spec.man_bits;
}

/// Signed integer multiple of the LSB that a finite code is.
std::int64_t element_fixed(const ElementFormat& f, std::uint32_t code) {
  if (f.is_int) {
    const std::uint32_t c = code & ((1u << f.bits) - 1u);
    return c >= (1u << (f.bits - 1)) ? static_cast<std::int64_t>(c) - (std::int64_t{1} << f.bits)
                                     : static_cast<std::int64_t>(c);
  }
  const FloatValue v = float_decode(code, f.spec);
  if (v.kind != FloatValue::Kind::kFinite) return 0;  // zeros; NaN codes are not produced by the quantizers
  const auto m = static_cast<std::int64_t>(v.mag << (v.exp - element_lsb_exp(f)));
  return v.negative ? -m : m;
}

/// Largest fixed-point magnitude of `f`'s finite codes.
std::uint64_t element_fixed_max(const ElementFormat& f) {
  if (f.is_int) return std::uint64_t{1} << (f.bits - 1);
  const FloatValue v = float_decode(float_max_finite(f.spec), f.spec);
  return v.mag << (v.exp - element_lsb_exp(f));
}

/// The scale code as mag x 2^exp (mag 0: a zero scale); false for NaN.
bool scale_parts(ScaleKind kind, std::uint32_t code, std::uint64_t* mag, int* exp) {
  switch (kind) {
    case ScaleKind::kE8M0:
      if ((code & 0xFFu) == kE8m0Nan) return false;
      *mag = 1;
      *exp = static_cast<int>(code & 0xFFu) - kE8m0Bias;
      return true;
    case ScaleKind::kUe4m3: {
      const FloatValue v = float_decode(code & 0x7Fu, kUe4m3Spec);
      if (v.kind == FloatValue::Kind::kNan) return false;
      *mag = v.kind == FloatValue::Kind::kZero ? 0 : v.mag;
      *exp = v.exp;
      return true;
    }
    case ScaleKind::kNone:
      break;
  }
  throw FormatError("block dot product", "needs block-scaled operands");
}

}  // namespace

int block_dot_sum_bits(const ElementFormat& a, const ElementFormat& b, std::size_t n) {
  return bit_width(element_fixed_max(a)) + bit_width(element_fixed_max(b)) + bit_width(n > 0 ? n - 1 : 0) + 1;
}

std::int64_t block_dot_fixed(const BlockOperand& a, const BlockOperand& b, std::size_t n, int* lsb_exp) {
  const ElementFormat& fa = *a.format->element;
  const ElementFormat& fb = *b.format->element;
  if (a.format->scale == ScaleKind::kNone || b.format->scale == ScaleKind::kNone) {
    throw FormatError("block dot product", "needs block-scaled operands, got " + std::string(a.format->name) + " x " +
                                               std::string(b.format->name));
  }
  if (block_dot_sum_bits(fa, fb, n) > kMaxSumBits) {
    throw FormatError("block dot product", std::string(fa.name) + " x " + std::string(fb.name) + " over " +
                                               std::to_string(n) + " elements needs a " +
                                               std::to_string(block_dot_sum_bits(fa, fb, n)) +
                                               "-bit adder tree; at most " + std::to_string(kMaxSumBits) +
                                               " bits are modelled");
  }
  // The adder tree: every product is an exact integer; integer addition is
  // associative, so the tree's shape cannot change the sum.
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += element_fixed(fa, a.codes[i]) * element_fixed(fb, b.codes[i]);
  if (lsb_exp != nullptr) *lsb_exp = element_lsb_exp(fa) + element_lsb_exp(fb);
  return sum;
}

std::uint64_t block_dot_accumulate(std::uint64_t acc, const BlockOperand& a, const BlockOperand& b, std::size_t n,
                                   const FloatSpec& acc_spec) {
  int lsb = 0;
  const std::int64_t sum = block_dot_fixed(a, b, n, &lsb);
  std::uint64_t sa = 0;
  std::uint64_t sb = 0;
  int ea = 0;
  int eb = 0;
  const bool ok_a = scale_parts(a.format->scale, a.scale, &sa, &ea);
  const bool ok_b = scale_parts(b.format->scale, b.scale, &sb, &eb);
  if (!ok_a || !ok_b) return float_canonical_nan(acc_spec);
  FloatValue block;
  const std::uint64_t mag = static_cast<std::uint64_t>(sum < 0 ? -sum : sum) * sa * sb;  // < 2^53 x 2^8
  if (mag == 0) {
    block.kind = FloatValue::Kind::kZero;
  } else {
    block.kind = FloatValue::Kind::kFinite;
    block.negative = sum < 0;
    block.mag = mag;
    block.exp = lsb + ea + eb;
  }
  // float_add takes significands below 2^54: a wide sum times two 4-bit
  // UE4M3 significands may not fit, so it is narrowed to 54 bits keeping a
  // sticky bit, which leaves any rounding to at most 51 bits unchanged.
  while (block.kind == FloatValue::Kind::kFinite && block.mag >= (std::uint64_t{1} << 54)) {
    block.mag = (block.mag >> 1) | (block.mag & 1u);
    ++block.exp;
  }
  return float_add(float_decode(acc, acc_spec), block, acc_spec);
}

const BlockFormat& pe_block_format(PeMode mode) {
  const char* name = mode == PeMode::kMxfp4 ? "mxfp4" : mode == PeMode::kNvfp4 ? "nvfp4" : nullptr;
  if (name == nullptr) throw FormatError("pe mode", std::string(pe_mode_name(mode)) + " is not a block mode");
  return *find_block_format(name);
}

std::uint64_t block_dot_run(std::uint64_t acc, const BlockFormat& format, const std::uint32_t* a_codes,
                            const std::uint32_t* a_scales, const std::uint32_t* b_codes,
                            const std::uint32_t* b_scales, std::size_t n, const FloatSpec& acc_spec) {
  const std::size_t block = format.block;
  for (std::size_t i = 0; i * block < n; ++i) {
    const std::size_t k0 = i * block;
    const std::size_t len = n - k0 < block ? n - k0 : block;
    acc = block_dot_accumulate(acc, {&format, a_codes + k0, a_scales[i]}, {&format, b_codes + k0, b_scales[i]}, len,
                               acc_spec);
  }
  return acc;
}

}  // namespace nibble::numerics
