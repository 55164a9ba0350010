#include "sim/numerics/fp32.hpp"

#include <cstring>

#include "sim/numerics/binary_float.hpp"

namespace nibble::numerics {

std::uint32_t fp32_bits(float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float fp32_value(std::uint32_t bits) {
  float value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::uint32_t fp32_from_double(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return static_cast<std::uint32_t>(float_encode(float_decode(bits, kFp64Spec), kFp32Spec));
}

std::uint32_t fp32_add(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::uint32_t>(float_add(float_decode(a, kFp32Spec), float_decode(b, kFp32Spec), kFp32Spec));
}

std::uint32_t fp32_fma(std::uint32_t acc, std::uint32_t a, std::uint32_t b) {
  const FloatValue product = float_mul_exact(float_decode(a, kFp32Spec), float_decode(b, kFp32Spec));
  return static_cast<std::uint32_t>(float_add(float_decode(acc, kFp32Spec), product, kFp32Spec));
}

}  // namespace nibble::numerics
