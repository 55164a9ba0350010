// The technology tables of hw/tech/, compiled into the binary by CMake
// (sim/energy/CMakeLists.txt generates the definition), so that a design's
// `tech: 45nm` resolves from any working directory.
#pragma once

#include <vector>

namespace nibble::energy {

/// One shipped table: its name, its path in the repository, its YAML text.
struct BuiltinTech {
  const char* name;  ///< e.g. "45nm"
  const char* path;  ///< e.g. "hw/tech/45nm.yaml", for error messages
  const char* text;  ///< the file's bytes
};

/// Every shipped table, sorted by name.
const std::vector<BuiltinTech>& builtin_tech_sources();

}  // namespace nibble::energy
