#include "sim/numerics/fp16.hpp"

#include <cstring>

#include "sim/numerics/binary_float.hpp"
#include "sim/numerics/fp32.hpp"

namespace nibble::numerics {

namespace {
std::uint64_t double_bits(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double double_value(std::uint64_t bits) {
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}
}  // namespace

std::uint16_t fp16_from_float(float value) {
  return static_cast<std::uint16_t>(float_encode(float_decode(fp32_bits(value), kFp32Spec), kFp16Spec));
}

std::uint16_t fp16_from_double(double value) {
  return static_cast<std::uint16_t>(float_encode(float_decode(double_bits(value), kFp64Spec), kFp16Spec));
}

float fp16_to_float(std::uint16_t bits) {
  // Exact: FP32 has more exponent and fraction bits than FP16.
  return fp32_value(static_cast<std::uint32_t>(float_encode(float_decode(bits, kFp16Spec), kFp32Spec)));
}

double fp16_to_double(std::uint16_t bits) {
  return double_value(float_encode(float_decode(bits, kFp16Spec), kFp64Spec));
}

bool fp16_is_nan(std::uint16_t bits) { return (bits & 0x7C00u) == 0x7C00u && (bits & 0x03FFu) != 0; }

std::uint16_t fp16_add(std::uint16_t a, std::uint16_t b) {
  return static_cast<std::uint16_t>(float_add(float_decode(a, kFp16Spec), float_decode(b, kFp16Spec), kFp16Spec));
}

std::uint16_t fp16_fma(std::uint16_t acc, std::uint16_t a, std::uint16_t b) {
  const FloatValue product = float_mul_exact(float_decode(a, kFp16Spec), float_decode(b, kFp16Spec));
  return static_cast<std::uint16_t>(float_add(float_decode(acc, kFp16Spec), product, kFp16Spec));
}

void fp16_from_floats(const float* in, std::size_t n, std::uint16_t* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = fp16_from_float(in[i]);
}

void fp16_to_floats(const std::uint16_t* in, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = fp16_to_float(in[i]);
}

}  // namespace nibble::numerics
