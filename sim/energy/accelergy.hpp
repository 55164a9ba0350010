// Export of a model's action energies and component areas in Accelergy's
// reference-table formats (ERT and ART, version 0.3), so Accelergy/Timeloop
// users can reuse nibble's tables. Fields filled: docs/energy-model.md.
#pragma once

#include <string>

#include "sim/energy/energy_model.hpp"

namespace nibble::energy {

/// The energy reference table: one entry per component instance range
/// (system.<design>.core[..].PE[..], the three scratchpads, the vector lanes,
/// the core overhead, DRAM), each action's energy in pJ with `arguments: null`,
/// and a `leak` action = the instance's leakage energy per clock cycle.
std::string accelergy_ert_yaml(const EnergyModel& model);
/// The area reference table: the same components, um^2 per instance.
std::string accelergy_art_yaml(const EnergyModel& model);

}  // namespace nibble::energy
