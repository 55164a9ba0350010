#include "sim/common/error.hpp"

namespace nibble {

InputError::InputError(std::string file, std::int64_t line, std::string field, std::string message)
    : std::runtime_error(format(file, line, field, message)),
      m_file(std::move(file)),
      m_line(line),
      m_field(std::move(field)),
      m_message(std::move(message)) {}

InputError InputError::relocated(const std::string& file, std::int64_t line) const {
  return InputError(file, line, m_field, m_message);
}

std::string InputError::format(const std::string& file, std::int64_t line, const std::string& field,
                               const std::string& message) {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

}  // namespace nibble
