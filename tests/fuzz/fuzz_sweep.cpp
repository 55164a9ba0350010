// Fuzz target: sweep files (sim/sweep/sweep_spec.hpp). Any input must parse or
// raise InputError; a sweep that parses expands into its points, numbered in
// order, no more than the limit, each with its signature (the resume store's key).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/sweep/sweep_spec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  // 100 points keep an execution cheap under the sanitizers; the limit's own
  // check is the same code at any value (tests/sweep covers the default).
  constexpr std::size_t kMaxPoints = 100;
  std::optional<sweep::SweepSpec> spec;
  if (!fuzz::accepts("parse_sweep",
                     [&] { spec = sweep::parse_sweep(std::string(fuzz::text_of(data, size)), "fuzz.yaml", kMaxPoints); })) {
    return 0;
  }
  std::vector<sweep::SweepPoint> points;
  fuzz::must("SweepSpec::points", [&] { points = spec->points(); });
  fuzz::check(!points.empty() && points.size() <= kMaxPoints, "an accepted sweep has no points or too many");
  for (std::size_t i = 0; i < points.size(); ++i) {
    fuzz::check(points[i].index == i, "points are not numbered in order");
    fuzz::check(!points[i].signature().empty() && !points[i].name(points.size()).empty(), "a point without a name");
  }
  return 0;
}
