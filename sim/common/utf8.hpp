// UTF-8 checks for text quoted from input files: error messages (error.cpp)
// escape what is not plain text, and names that end up in JSON reports or
// directory names (design names, SCALE-Sim run names) must be plain text,
// since nlohmann::json refuses to serialize invalid UTF-8.
#pragma once

#include <cstddef>
#include <string_view>

namespace nibble {

/// Length of the well-formed UTF-8 sequence of 2 to 4 bytes starting at
/// `text[at]` (no overlong forms, no surrogates, at most U+10FFFF), or 0
/// (also for ASCII bytes, which are 1-byte sequences the caller handles).
inline std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < low || byte(at + 1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xbf) return 0;
  }
  // U+0080..U+009F (c2 80..c2 9f) are control characters (0x9b is a terminal's CSI).
  if (lead == 0xc2 && byte(at + 1) < 0xa0) return 0;
  return length;
}

/// True when `text` is well-formed UTF-8 without control characters (C0, DEL, C1).
inline bool is_plain_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) continue;
    if (byte < 0x80) return false;
    const std::size_t length = utf8_length(text, i);
    if (length == 0) return false;
    i += length - 1;
  }
  return true;
}

}  // namespace nibble
