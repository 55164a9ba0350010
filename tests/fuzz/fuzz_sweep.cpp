// Fuzz target: sweep files. Any input must parse or raise InputError.
#include <cstdint>
#include <string>

#include "sim/common/error.hpp"
#include "sim/sweep/sweep_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto spec = nibble::sweep::parse_sweep(text, "fuzz.yaml", 1000);
    (void)spec.points();
  } catch (const nibble::InputError&) {
  }
  return 0;
}
