// Fuzz target: layers.csv read back (sim/report/layers_table.hpp over the CSV
// reader sim/report/csv_reader.hpp). Any input must parse or raise InputError,
// both without required counters (`nibble report`) and with the energy model's
// (re-costing a run). A table that parses is consistent (every row as wide as
// the counters) and, with the energy counters, costs to finite energies.
#include <cstdint>
#include <optional>

#include "sim/energy/energy_model.hpp"
#include "sim/energy/tech_table.hpp"
#include "sim/report/layers_table.hpp"
#include "tests/fuzz/energy_probe.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace nibble;

void check_shape(const report::LayersTable& t) {
  const std::size_t rows = t.rows.size();
  nibble::fuzz::check(t.layers.size() == rows && t.phases.size() == rows && t.lines.size() == rows,
                      "layers, phases, lines and rows differ in length");
  for (std::size_t r = 0; r < rows; ++r) {
    nibble::fuzz::check(t.rows[r].size() == t.registry.size(), "a row has a different number of counters");
    nibble::fuzz::check(t.lines[r] >= 2 && (r == 0 || t.lines[r] > t.lines[r - 1]), "row lines do not increase");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const energy::EnergyModel model(energy::builtin_tech_table("45nm"), fuzz::small_design());
  const std::string text(fuzz::text_of(data, size));
  std::optional<report::LayersTable> table;
  if (fuzz::accepts("parse_layers_csv", [&] { table = report::parse_layers_csv(text, "fuzz.csv"); })) {
    check_shape(*table);
  }
  table.reset();
  if (!fuzz::accepts("parse_layers_csv with the energy counters", [&] {
        table = report::parse_layers_csv(text, "fuzz.csv", energy::required_counter_names());
      })) {
    return 0;
  }
  check_shape(*table);
  fuzz::check_energies(model, table->registry, table->rows);
  return 0;
}
