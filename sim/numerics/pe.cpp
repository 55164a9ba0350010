#include "sim/numerics/pe.hpp"

#include <limits>
#include <string>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/error.hpp"
#include "sim/numerics/fp4.hpp"
#include "sim/numerics/fp8.hpp"
#include "sim/numerics/int4.hpp"
#include "sim/numerics/pe_detail.hpp"

namespace nibble::numerics {

namespace {

std::string hex(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[v & 15u]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

/// FormatError unless `bits` fits in `width` bits.
void check_width(const char* what, std::uint32_t bits, int width, PeMode mode) {
  if (width < 32 && (bits >> width) != 0) {
    throw FormatError(what, std::string(pe_mode_name(mode)) + " takes a " + std::to_string(width) +
                                "-bit code in the low bits, got " + hex(bits));
  }
}

}  // namespace

namespace detail {

void check_accumulator(const PeArith& arith, PeMode mode) {
  if (!pe_accumulator_supported(mode, arith.acc)) {
    std::string reason = "no PE accumulates " + std::string(pe_mode_name(mode)) + " products in " +
                         std::string(format_name(arith.acc));
    if (arith.acc == Format::kFp16Chunked) {
      reason += " (chunking is a GEMM-level scheme: PEs accumulate in fp16, ChunkedFp16Accumulator adds the "
                "chunk sums in fp32)";
    }
    throw FormatError("pe accumulator", reason);
  }
}

bool is_fixed_point_mode(PeMode mode) {
  return mode == PeMode::kInt4xInt4 || mode == PeMode::kFp4xInt4 || mode == PeMode::kInt4xFp4;
}

std::int64_t fixed_product(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits,
                           int* lsb_exp) {
  check_width("pe operand a", a_bits, 4, mode);
  check_width("pe operand b", b_bits, 4, mode);
  // A is an activation in the int4 x int4 and int4 x fp4 modes: UINT4 after a ReLU.
  const int a_value = arith.a_unsigned ? static_cast<int>(a_bits) : int4_value(a_bits);
  if (mode == PeMode::kInt4xInt4) {
    *lsb_exp = 0;
    return static_cast<std::int64_t>(a_value) * int4_value(b_bits);  // |p| <= 120
  }
  // The shifter: the INT4 operand moved left by the FP4 exponent.
  *lsb_exp = fp4_product_lsb_exp(arith.fp4_bias);  // validates the bias
  return mode == PeMode::kFp4xInt4 ? fp4_shift_product(int4_value(b_bits), a_bits)
                                   : fp4_shift_product(a_value, b_bits);
}

FloatValue float_product(const PeArith& arith, PeMode mode, std::uint32_t a_bits, std::uint32_t b_bits) {
  switch (mode) {
    case PeMode::kFp8xFp8: {
      check_width("pe operand a", a_bits, 8, mode);
      check_width("pe operand b", b_bits, 8, mode);
      const FloatSpec spec_a = fp8_float_spec(fp8_default_spec(arith.fp8_a));
      const FloatSpec spec_b = fp8_float_spec(fp8_default_spec(arith.fp8_b));
      return float_mul_exact(float_decode(a_bits, spec_a), float_decode(b_bits, spec_b));
    }
    case PeMode::kFp16xFp16:
      check_width("pe operand a", a_bits, 16, mode);
      check_width("pe operand b", b_bits, 16, mode);
      return float_mul_exact(float_decode(a_bits, kFp16Spec), float_decode(b_bits, kFp16Spec));
    case PeMode::kFp32xFp32:
      return float_mul_exact(float_decode(a_bits, kFp32Spec), float_decode(b_bits, kFp32Spec));
    case PeMode::kBf16xBf16:
      check_width("pe operand a", a_bits, 16, mode);
      check_width("pe operand b", b_bits, 16, mode);
      return float_mul_exact(float_decode(a_bits, kBf16Spec), float_decode(b_bits, kBf16Spec));
    default:
      break;
  }
  if (pe_block_mode(mode)) {
    throw FormatError("pe mode", std::string(pe_mode_name(mode)) +
                                     " is a block mode: its products are summed a block at a time "
                                     "(numerics::block_dot_accumulate), not one by one");
  }
  throw FormatError("pe mode", std::string(pe_mode_name(mode)) + " has no floating-point product");
}

std::int64_t as_int32(std::uint32_t u) {
  return u < 0x80000000u ? static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u) - 0x100000000ll;
}

std::uint32_t saturate_int32(std::int64_t v) {
  if (v > std::numeric_limits<std::int32_t>::max()) v = std::numeric_limits<std::int32_t>::max();
  if (v < std::numeric_limits<std::int32_t>::min()) v = std::numeric_limits<std::int32_t>::min();
  return static_cast<std::uint32_t>(v);  // modular conversion: the two's complement pattern
}

FloatValue integer_term(std::int64_t p, int lsb_exp) {
  FloatValue t;
  if (p == 0) return t;
  t.kind = FloatValue::Kind::kFinite;
  t.negative = p < 0;
  t.mag = static_cast<std::uint64_t>(p < 0 ? -p : p);
  t.exp = lsb_exp;
  return t;
}

FloatValue decode_accumulator(Format acc_format, std::uint32_t acc, PeMode mode) {
  if (acc_format == Format::kFp16) {
    check_width("pe accumulator word", acc, 16, mode);
    return float_decode(acc, kFp16Spec);
  }
  return float_decode(acc, kFp32Spec);
}

std::uint32_t add_into(Format acc_format, std::uint32_t acc, const FloatValue& term, PeMode mode) {
  const FloatSpec& spec = acc_format == Format::kFp16 ? kFp16Spec : kFp32Spec;
  return static_cast<std::uint32_t>(float_add(decode_accumulator(acc_format, acc, mode), term, spec));
}

}  // namespace detail

using namespace detail;

const char* pe_mode_name(PeMode mode) {
  switch (mode) {
    case PeMode::kInt4xInt4: return "int4xint4";
    case PeMode::kFp4xInt4: return "fp4xint4";
    case PeMode::kInt4xFp4: return "int4xfp4";
    case PeMode::kFp8xFp8: return "fp8xfp8";
    case PeMode::kFp16xFp16: return "fp16xfp16";
    case PeMode::kFp32xFp32: return "fp32xfp32";
    case PeMode::kMxfp4: return "mxfp4";
    case PeMode::kNvfp4: return "nvfp4";
    case PeMode::kBf16xBf16: return "bf16xbf16";
  }
  return "unknown";
}

bool pe_accumulator_supported(PeMode mode, Format acc) {
  switch (mode) {
    case PeMode::kInt4xInt4:
    case PeMode::kFp4xInt4:
    case PeMode::kInt4xFp4:
      return acc == Format::kInt32 || acc == Format::kFp16 || acc == Format::kFp32;
    case PeMode::kFp8xFp8:
    case PeMode::kFp16xFp16:
      return acc == Format::kFp16 || acc == Format::kFp32;
    case PeMode::kFp32xFp32:
    case PeMode::kBf16xBf16:
      return acc == Format::kFp32;
    case PeMode::kMxfp4:
    case PeMode::kNvfp4:
      return acc == Format::kFp16 || acc == Format::kFp32;
  }
  return false;
}

bool pe_block_mode(PeMode mode) { return mode == PeMode::kMxfp4 || mode == PeMode::kNvfp4; }

std::uint32_t pe_mac(const PeArith& arith, PeMode mode, std::uint32_t acc, std::uint32_t a_bits,
                     std::uint32_t b_bits) {
  check_accumulator(arith, mode);
  if (is_fixed_point_mode(mode)) {
    int lsb_exp = 0;
    const std::int64_t p = fixed_product(arith, mode, a_bits, b_bits, &lsb_exp);
    if (arith.acc == Format::kInt32) return saturate_int32(as_int32(acc) + p);
    return add_into(arith.acc, acc, integer_term(p, lsb_exp), mode);
  }
  return add_into(arith.acc, acc, float_product(arith, mode, a_bits, b_bits), mode);
}

}  // namespace nibble::numerics
