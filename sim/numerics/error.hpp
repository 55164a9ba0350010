// The one error type of sim/numerics: a format parameter that cannot work
// (a bias out of range, a chunk size of 0, a NaN scale...). numerics depends
// on nothing, so the parser that read the value translates it to
// nibble::InputError with the file and line (docs/conventions.md).
#pragma once

#include <stdexcept>
#include <string>

namespace nibble::numerics {

/// A bad format parameter. what() is "PARAMETER: REASON", e.g.
/// "fp4 bias: must be a whole number in [0, 15], got 16".
class FormatError : public std::invalid_argument {
 public:
  /// `parameter` names the parameter as a user knows it; `reason` says what was expected and what came.
  FormatError(std::string parameter, std::string reason);

  const std::string& parameter() const { return m_parameter; }  ///< e.g. "fp4 bias"
  const std::string& reason() const { return m_reason; }        ///< e.g. "must be ... got 16"

 private:
  std::string m_parameter;  ///< the parameter's name
  std::string m_reason;     ///< what was expected, and the value that came
};

/// Shortest text that reads back as the same double ("0.1", "nan", "-inf"), for messages.
std::string describe_number(double value);

}  // namespace nibble::numerics
