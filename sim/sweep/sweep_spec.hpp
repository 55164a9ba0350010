// A design-space sweep as written in a sweep YAML file (docs/sweeps.md):
// base designs x design-parameter overrides (Cartesian product or a listed
// set) x workloads x policies, expanded into points in a fixed order.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nibble::sweep {

/// One training workload of a sweep.
struct SweepWorkload {
  std::string model;          ///< zoo model name
  std::uint64_t batch = 32;   ///< training batch
  std::uint64_t seq = 0;      ///< sequence length for bert-base / lstm (0: the zoo's default)
};

/// One point to evaluate; points are numbered 0..N-1 in expansion order.
struct SweepPoint {
  std::size_t index = 0;                                       ///< position in the sweep
  std::string design;                                          ///< base design file (resolved path)
  std::vector<std::pair<std::string, std::string>> overrides;  ///< design key path -> value, in file order
  SweepWorkload workload;                                      ///< what is trained
  std::string policy;                                          ///< precision policy; "natural" = the design's own

  /// A stable text identifying the point's inputs (used to match resumed results).
  std::string signature() const;
  /// "p0007"-style name, zero-padded to the sweep's width.
  std::string name(std::size_t total) const;
};

struct SweepSpec {
  std::string name;                              ///< sweep name, used in reports
  std::string file;                              ///< the sweep file it was read from
  std::vector<std::string> designs;              ///< base design files, resolved relative to the sweep file
  std::vector<std::int64_t> design_lines;        ///< line of each design in the sweep file (0: unknown)
  std::vector<std::string> parameter_keys;       ///< the overridden design keys, in file order
  std::vector<std::vector<std::pair<std::string, std::string>>> parameter_sets;  ///< override sets
  std::vector<SweepWorkload> workloads;          ///< workloads
  std::vector<std::string> policies;             ///< policies ("natural" by default)

  /// Every point, in order: designs x parameter sets x workloads x policies.
  std::vector<SweepPoint> points() const;
};

/// Reads and validates a sweep file; errors are InputError with file:line:key.
/// Caps the number of points at `max_points` (a sweep that would expand to
/// more is an error saying how many).
SweepSpec load_sweep(const std::string& path, std::size_t max_points = 100000);
/// Throws an InputError at the sweep file's line when a design file it names
/// cannot be read: bad input (exit 2), not a failed point for every point.
void check_design_files(const SweepSpec& spec);
/// The same from YAML text; relative design paths resolve against `path`'s folder.
SweepSpec parse_sweep(const std::string& text, const std::string& path, std::size_t max_points = 100000);

}  // namespace nibble::sweep
