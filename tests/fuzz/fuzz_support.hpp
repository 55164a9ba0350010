// The contract every fuzz target checks (docs/validation.md, "Bad input"):
// any input either parses or raises nibble::InputError with a one-line
// message; no other exception, crash, hang or leak. A broken contract prints
// the reason and aborts, which libFuzzer records as a crash (with the input)
// and which fails the CTest replay of the corpus and regressions.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "sim/common/error.hpp"

namespace nibble::fuzz {

/// Reports a broken contract and aborts (a fuzz target, not a parser: aborting is the point).
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz contract broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// Aborts with `what` unless `ok`.
inline void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

/// The checks on an InputError: a message to show, on one line of plain
/// text (the command prints `nibble: FILE:LINE: field: message` as one line,
/// an ESC quoted from a file must not reach the terminal, and binary garbage
/// quoted from it must not make the line invalid UTF-8). Multi-byte UTF-8
/// characters are allowed; their bytes are checked loosely (lead byte then
/// continuation bytes), the exact rules are sim/common/error.cpp's.
inline void check_input_error(const InputError& e) {
  // The failure texts are built only on failure: building them for every byte
  // made the check quadratic in the message length, and long messages (a
  // quoted line of a 15 kB input) cut the fuzzers' speed by half.
  const auto broken = [&e](const char* what) { fail(std::string(what) + e.what()); };
  if (e.message().empty()) broken("InputError with an empty message: ");
  const std::string_view what(e.what());
  for (std::size_t i = 0; i < what.size(); ++i) {
    const auto byte = static_cast<unsigned char>(what[i]);
    if (byte < 0x20 || byte == 0x7f) broken("InputError message holds a control character: ");
    if (byte < 0x80) continue;
    const std::size_t length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 0;
    if (length == 0 || i + length > what.size()) broken("InputError message is not UTF-8: ");
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(what[i + k]);
      if (next < 0x80 || next > 0xbf) broken("InputError message is not UTF-8: ");
    }
    if (byte == 0xc2 && static_cast<unsigned char>(what[i + 1]) < 0xa0) {
      broken("InputError message holds a C1 control character: ");
    }
    i += length - 1;
  }
}

/// With NIBBLE_FUZZ_PRINT set, every rejection is printed (how the messages
/// in docs/validation.md were collected: `NIBBLE_FUZZ_PRINT=1 fuzz_X_replay FILE`).
inline bool print_rejections() {
  static const bool print = std::getenv("NIBBLE_FUZZ_PRINT") != nullptr;
  return print;
}

/// Runs `step`; true when it returned, false when it raised InputError (the
/// one accepted way to reject input). Any other exception breaks the contract.
template <class Step>
bool accepts(const char* name, Step&& step) {
  try {
    step();
    if (print_rejections()) std::fprintf(stderr, "%s: accepted\n", name);
    return true;
  } catch (const InputError& e) {
    check_input_error(e);
    if (print_rejections()) std::fprintf(stderr, "%s: %s\n", name, e.what());
    return false;
  } catch (const std::exception& e) {
    fail(std::string(name) + ": exception other than InputError (" + typeid(e).name() + "): " + e.what());
  } catch (...) {
    fail(std::string(name) + ": exception that is not a std::exception");
  }
}

/// Runs `step`, which must not throw at all (e.g. writing back what was just read).
template <class Step>
void must(const char* name, Step&& step) {
  try {
    step();
  } catch (const std::exception& e) {
    fail(std::string(name) + " threw on an input the parser accepted (" + typeid(e).name() + "): " + e.what());
  } catch (...) {
    fail(std::string(name) + " threw a non-std exception on an input the parser accepted");
  }
}

/// The fuzz input as text.
inline std::string_view text_of(const unsigned char* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace nibble::fuzz
