// layers.csv read back: one row per layer and phase, the whole-number columns
// as counters in a StatRegistry, so `nibble report` and the energy model can
// re-cost an earlier run without simulating it again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/common/stats.hpp"

namespace nibble::report {

/// The rows of a layers.csv.
struct LayersTable {
  std::vector<std::string> layers;           ///< `layer` column, per row
  std::vector<std::string> phases;           ///< `phase` column, per row
  StatRegistry registry;                     ///< one counter per whole-number column, in file order
  std::vector<StatVector> rows;              ///< counters of each row
  std::vector<std::int64_t> lines;           ///< 1-based line of each row
  std::vector<std::string> other_columns;    ///< columns that are not whole numbers (e.g. utilization)
};

/// Parses a layers table. `layer` and `phase` columns are required; a column
/// whose every value is a whole number becomes a counter (unit "count"); every
/// column named in `required_counters` must be one, else an InputError names
/// the file, the line of the first bad value and the column.
LayersTable parse_layers_csv(const std::string& text, const std::string& origin,
                             const std::vector<std::string>& required_counters = {});
/// Reads and parses a layers table file.
LayersTable read_layers_csv(const std::string& path, const std::vector<std::string>& required_counters = {});

}  // namespace nibble::report
