// Special float values the numerics tests feed the quantizers and converters.
#pragma once

#include <limits>

namespace nibble::test {

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

}  // namespace nibble::test
