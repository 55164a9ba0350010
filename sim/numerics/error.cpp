#include "sim/numerics/error.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nibble::numerics {

FormatError::FormatError(std::string parameter, std::string reason)
    : std::invalid_argument(parameter + ": " + reason),
      m_parameter(std::move(parameter)),
      m_reason(std::move(reason)) {}

std::string describe_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // The shortest of %.1g .. %.17g that reads back exactly (numerics may not use sim/common).
  char buffer[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace nibble::numerics
