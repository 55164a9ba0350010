// --timeline, shared by `simulate` and `compare`: how much of the units'
// timeline the run writes to timeline.json (docs/design-file.md, "timeline.json").
#pragma once

#include <string>

#include "sim/arch/timeline.hpp"
#include "sim/cli/args.hpp"
#include "sim/report/timeline_json.hpp"

namespace nibble::cli {

class TimelineFlag {
 public:
  /// Registers --timeline; `where` says which files it concerns for this command.
  void add(ArgParser& parser, const std::string& where) {
    parser.option("--timeline", "none|layers|ops",
                  "detail of " + where +
                      " (Chrome trace events; open in ui.perfetto.dev): ops = the busy intervals of each unit "
                      "per op (default; layers when the file would exceed 50 MB), layers = one per unit, layer and "
                      "phase, none = no file",
                  &m_text);
  }

  /// After parse(): the detail asked for (ops when not given).
  arch::TimelineDetail detail() const {
    const auto d = report::parse_timeline_detail(m_text);
    if (!d) throw UsageError("--timeline: expected none, layers or ops, got '" + m_text + "'");
    return *d;
  }

 private:
  std::string m_text = "ops";  ///< --timeline as given
};

}  // namespace nibble::cli
