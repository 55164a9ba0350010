// SCALE-Sim v2's own configuration file (.cfg, Python configparser syntax),
// turned into a nibble design with the `scalesim` timing convention so that
// `nibble scalesim` reproduces SCALE-Sim's compute cycles (docs/timing.md).
#pragma once

#include <string>
#include <vector>

#include "sim/design/design.hpp"

namespace nibble::design {

struct ScaleSimConfig {
  std::string run_name;            ///< [general] run_name: the output subdirectory
  bool user_bandwidth = false;     ///< [run_presets] InterfaceBandwidth: USER (true) or CALC (false)
  Design design;                   ///< the equivalent nibble design (timing: scalesim)
  std::vector<std::string> ignored;  ///< "section.Key" of every key nibble does not model, in file order
};

/// Parses a SCALE-Sim .cfg file; a missing or malformed required key is an
/// InputError naming the file, line and "section.Key".
ScaleSimConfig load_scalesim_config(const std::string& path);
/// Same from text; `origin` names it in errors.
ScaleSimConfig parse_scalesim_config(const std::string& text, const std::string& origin);

}  // namespace nibble::design
