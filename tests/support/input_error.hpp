// The one helper the tests use to look at the message of a refused input.
#pragma once

#include <functional>
#include <string>

#include "sim/common/error.hpp"

namespace nibble::test {

/// The message of the InputError that `fn` throws, or "(no error)" when it
/// throws none (any other exception propagates and fails the test).
inline std::string input_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

/// The name most test files use for input_error_of.
inline constexpr auto error_of = input_error_of;

}  // namespace nibble::test
