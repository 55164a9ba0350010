// Fuzz target: design files (sim/design/design.hpp, hw/designs/*.yaml). Any
// input must parse or raise InputError. A design that parses must pass its own
// validation again, and its JSON (summary.json's "design") must read back as a
// design file giving the same JSON: what a user re-running from a summary gets.
// Leading comment lines "#set KEY=VALUE" are passed as --set options (they
// stay YAML comments, so the rest of the file reads the same), fuzzing the
// --set parser and its path walk over whatever the file holds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/design/design.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  using namespace nibble::design;
  const std::string text(fuzz::text_of(data, size));
  std::vector<std::string> sets;
  for (std::size_t at = 0; text.compare(at, 5, "#set ") == 0 && sets.size() < 8;) {
    const std::size_t eol = text.find('\n', at);
    sets.push_back(text.substr(at + 5, eol == std::string::npos ? std::string::npos : eol - at - 5));
    if (eol == std::string::npos) break;
    at = eol + 1;
  }
  std::optional<Design> d;
  if (!fuzz::accepts("parse_design", [&] { d = parse_design(text, "fuzz.yaml", sets); })) {
    return 0;
  }
  fuzz::must("validate_design of an accepted design", [&] { validate_design(*d); });
  std::string json;
  fuzz::must("design_to_json", [&] { json = design_to_json(*d); });
  std::optional<Design> back;
  fuzz::must("parse_design of the design's JSON", [&] { back = parse_design(json, "summary.json"); });
  fuzz::check(design_to_json(*back) == json, "design -> JSON -> design changed the design");
  return 0;
}
