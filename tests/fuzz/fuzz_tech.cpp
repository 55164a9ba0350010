// Fuzz target: technology tables (sim/energy/tech_table.hpp, hw/tech/*.yaml).
// Any input must parse or raise InputError. A table that parses must give
// back its own SRAM points exactly, and cost a row of counters on a small
// design with finite, non-negative energies (or an InputError naming why not).
#include <cmath>
#include <cstdint>
#include <optional>

#include "sim/energy/energy_model.hpp"
#include "sim/energy/tech_table.hpp"
#include "tests/fuzz/energy_probe.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  using namespace nibble::energy;
  std::optional<TechTable> table;
  if (!fuzz::accepts("parse_tech_table",
                     [&] { table = parse_tech_table(std::string(fuzz::text_of(data, size)), "fuzz.yaml"); })) {
    return 0;
  }
  for (std::size_t i = 0; i < kActionCount; ++i) {
    const double pj = table->energy[i].value;
    fuzz::check(std::isfinite(pj) && pj >= 0.0, "an accepted table has a NaN, infinite or negative energy");
  }
  fuzz::check(!table->sram_read.empty(), "an accepted table has no SRAM curve");
  for (const SramPoint& p : table->sram_read) {
    double pj = 0.0;
    fuzz::must("sram_read_pj at a point of the curve",
               [&] { pj = table->sram_read_pj(p.kib, table->sram_reference_bits.value); });
    fuzz::check(std::isfinite(pj) && std::fabs(pj - p.read_pj.value) <= 1e-9 * p.read_pj.value,
                "sram_read_pj does not return the curve's own point");
  }

  std::optional<EnergyModel> model;
  if (!fuzz::accepts("EnergyModel", [&] { model.emplace(*table, fuzz::small_design()); })) return 0;
  StatRegistry registry;
  for (const auto& name : required_counter_names()) registry.add(name, "count", "fuzz");
  StatVector row(registry.size());
  for (std::size_t i = 0; i < row.size(); ++i) row[i] = 1000;  // vec_ops >= the sum of its kinds (none here)
  fuzz::check_energies(*model, registry, {row});
  return 0;
}
