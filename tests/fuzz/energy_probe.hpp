// What the energy fuzz targets do with a table that parsed: cost rows of
// counters on a small design, as `nibble simulate` and the energy report do,
// and check that every energy is a finite, non-negative number.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "sim/energy/energy_model.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::fuzz {

/// A 4x4 int4-fp4 array with three small scratchpads (the energy tests' design).
inline design::Design small_design() {
  design::Design d = test::test_design("fuzz", design::PeKind::kInt4Fp4, 4, 4);
  d.input = test::scratchpad(4 * 1024, 64, 1);
  d.weight = test::scratchpad(1024, 32, 1);
  d.output = test::scratchpad(32 * 1024, 128, 2);
  d.vector.lanes = 2;
  d.clock_mhz = 500.0;
  return d;
}

/// Costs `rows` with `model`; InputError is allowed (e.g. vec_ops below the sum
/// of its kinds), anything else, or a NaN, infinite or negative energy, is not.
inline void check_energies(const energy::EnergyModel& model, const StatRegistry& registry,
                           const std::vector<StatVector>& rows) {
  accepts("EnergyModel::account", [&] {
    const energy::EnergyReport report = model.account(registry, rows, "fuzz.csv");
    check(report.rows.size() == rows.size(), "account() lost rows");
    for (const auto& row : report.rows) {
      for (const double pj : row.pj) check(std::isfinite(pj) && pj >= 0.0, "a row energy is NaN, infinite or negative");
    }
    for (const double pj : report.total.pj) check(std::isfinite(pj) && pj >= 0.0, "a total energy is not finite");
    check(std::isfinite(report.metrics.energy_per_step_j) && std::isfinite(report.metrics.tops_per_watt),
          "energy metrics are not finite");
  });
}

}  // namespace nibble::fuzz
