#include "sim/report/layers_table.hpp"

#include <algorithm>
#include <optional>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/report/csv_reader.hpp"

namespace nibble::report {

LayersTable parse_layers_csv(const std::string& text, const std::string& origin,
                             const std::vector<std::string>& required_counters) {
  const CsvTable csv = parse_csv(text, origin);
  std::optional<std::size_t> layer_col, phase_col;
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    for (std::size_t d = 0; d < c; ++d) {
      if (csv.header[d] == csv.header[c]) throw InputError(origin, 1, csv.header[c], "column appears twice in the header");
    }
    if (csv.header[c] == "layer") layer_col = c;
    if (csv.header[c] == "phase") phase_col = c;
  }
  if (!layer_col) throw InputError(origin, 1, "layer", "missing column 'layer'");
  if (!phase_col) throw InputError(origin, 1, "phase", "missing column 'phase'");

  LayersTable out;
  std::vector<std::size_t> counter_cols;
  for (std::size_t c = 0; c < csv.header.size(); ++c) {
    if (c == *layer_col || c == *phase_col) continue;
    const std::string& name = csv.header[c];
    const bool required = std::find(required_counters.begin(), required_counters.end(), name) != required_counters.end();
    bool whole = true;
    for (std::size_t r = 0; r < csv.rows.size() && whole; ++r) {
      const std::string_view value = trim(csv.rows[r][c]);
      if (!parse_u64(value)) {
        whole = false;
        if (required) {
          const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
          throw InputError(origin, csv.lines[r], name,
                           digits ? "the count " + std::string(value) + " does not fit in 64 bits"
                                  : "expected a whole number (a count), got '" + csv.rows[r][c] + "'");
        }
      }
    }
    if (whole) {
      out.registry.add(name, "count", "read from " + origin);
      counter_cols.push_back(c);
    } else {
      out.other_columns.push_back(name);
    }
  }
  for (const auto& name : required_counters) {
    if (!out.registry.find(name)) {
      throw InputError(origin, 1, name, "missing column '" + name + "' (a whole-number counter)");
    }
  }
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    out.layers.push_back(csv.rows[r][*layer_col]);
    out.phases.push_back(csv.rows[r][*phase_col]);
    StatVector v(counter_cols.size());
    for (std::size_t k = 0; k < counter_cols.size(); ++k) v[k] = *parse_u64(trim(csv.rows[r][counter_cols[k]]));
    out.rows.push_back(std::move(v));
    out.lines.push_back(csv.lines[r]);
  }
  return out;
}

LayersTable read_layers_csv(const std::string& path, const std::vector<std::string>& required_counters) {
  return parse_layers_csv(read_file(path), path, required_counters);
}

}  // namespace nibble::report
