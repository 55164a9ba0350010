#include "sim/common/error.hpp"

#include "sim/common/utf8.hpp"

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

namespace {
/// `text` with every control character written as an escape (\n, \r, \t,
/// \xNN per byte), and every byte that is not part of well-formed UTF-8 as \xNN:
/// messages quote the user's bytes, and the command prints what() as one line
/// of text, so a quoted CR or LF must not break it, an ESC must not reach the
/// terminal, and binary garbage must not make the line invalid UTF-8.
std::string escape_controls(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else if (byte >= 0x80) {
      const std::size_t length = utf8_length(text, i);  // 0 also for the C1 controls
      if (length > 0) {
        out.append(text, i, length);
        i += length - 1;
      } else {
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      }
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}
}  // namespace

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
  return escape_controls(out);
}

SettingError::SettingError(std::string setting, std::string message, std::string file)
    : std::runtime_error((file.empty() ? "" : file + ": ") + setting + ": " + message),
      m_setting(std::move(setting)),
      m_message(std::move(message)),
      m_file(std::move(file)) {}

std::string setting_ref(const std::string& setting) { return "{setting:" + setting + "}"; }

std::string keep_setting_refs(const std::string& text) { return text; }

}  // namespace nibble
