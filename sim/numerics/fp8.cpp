#include "sim/numerics/fp8.hpp"

#include <cstring>
#include <string>

#include "sim/numerics/error.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {

namespace {
FloatSpec layout_spec(Format layout) {
  switch (layout) {
    case Format::kFp8E4M3:
      return FloatSpec{4, 3, 7, FloatSpecials::kSaturatingNan};
    case Format::kFp8E5M2:
      return FloatSpec{5, 2, 15, FloatSpecials::kIeee};
    default:
      throw FormatError("fp8 layout", "must be fp8-e4m3 or fp8-e5m2, got " + std::string(format_name(layout)));
  }
}
}  // namespace

int fp8_default_bias(Format layout) { return layout_spec(layout).bias; }

Fp8Spec fp8_default_spec(Format layout) { return Fp8Spec{layout, fp8_default_bias(layout)}; }

FloatSpec fp8_float_spec(const Fp8Spec& spec) {
  FloatSpec out = layout_spec(spec.layout);
  const int max_bias = (1 << out.exp_bits) - 1;
  if (spec.bias < 0 || spec.bias > max_bias) {
    throw FormatError(std::string(format_name(spec.layout)) + " bias",
                      "must be a whole number in [0, " + std::to_string(max_bias) + "], got " +
                          std::to_string(spec.bias));
  }
  out.bias = spec.bias;
  return out;
}

std::uint8_t fp8_from_float(float value, const Fp8Spec& spec) {
  return static_cast<std::uint8_t>(float_encode(float_decode(fp32_bits(value), kFp32Spec), fp8_float_spec(spec)));
}

std::uint8_t fp8_from_double(double value, const Fp8Spec& spec) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return static_cast<std::uint8_t>(float_encode(float_decode(bits, kFp64Spec), fp8_float_spec(spec)));
}

float fp8_to_float(std::uint8_t bits, const Fp8Spec& spec) {
  return fp32_value(static_cast<std::uint32_t>(float_encode(float_decode(bits, fp8_float_spec(spec)), kFp32Spec)));
}

}  // namespace nibble::numerics
