// Fuzz target: SCALE-Sim .cfg files (sim/design/scalesim_config.hpp). Any input
// must parse or raise InputError. A configuration that parses gives a design
// that passes nibble's own validation and serializes (what `nibble scalesim`
// does next).
#include <cstdint>
#include <optional>
#include <string>

#include "sim/design/scalesim_config.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  using namespace nibble::design;
  std::optional<ScaleSimConfig> cfg;
  if (!fuzz::accepts("parse_scalesim_config",
                     [&] { cfg = parse_scalesim_config(std::string(fuzz::text_of(data, size)), "fuzz.cfg"); })) {
    return 0;
  }
  fuzz::check(cfg->design.timing == TimingConvention::kScaleSim, "a SCALE-Sim design without scalesim timing");
  fuzz::must("validate_design of an accepted configuration", [&] { validate_design(cfg->design); });
  fuzz::must("design_to_json", [&] { (void)design_to_json(cfg->design); });
  return 0;
}
