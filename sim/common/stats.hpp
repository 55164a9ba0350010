// Statistics registered once, with a unit and a description (gem5's rule), and
// written to every output by the same code.
//
// A component registers its counters in a StatRegistry at construction; a
// StatVector holds one value per registered counter (one row of layers.csv:
// a layer and a phase, or a total). Reports iterate the registry, so a counter
// that exists reaches the CSV, the JSON and the HTML without further code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace nibble {

struct StatDef {
  std::string name;         ///< snake_case column name, e.g. "dram_bytes_read"
  std::string unit;         ///< "cycles", "count", "bytes", "pJ", ...
  std::string description;  ///< one line, for humans
};

class StatRegistry {
 public:
  using Id = std::size_t;

  /// Registers a counter; a second registration of the same name is a
  /// programming error (std::logic_error).
  Id add(std::string name, std::string unit, std::string description);

  std::optional<Id> find(const std::string& name) const;
  /// Like find(), but a missing name is a std::logic_error naming it.
  Id at(const std::string& name) const;
  const StatDef& def(Id id) const { return m_defs.at(id); }
  const std::vector<StatDef>& defs() const { return m_defs; }
  std::size_t size() const { return m_defs.size(); }

 private:
  std::vector<StatDef> m_defs;                       ///< in registration order (= column order)
  std::unordered_map<std::string, Id> m_index;       ///< name -> id
};

/// One value per counter of a registry. Counters are whole numbers: cycles,
/// actions and bytes are counted, never estimated.
class StatVector {
 public:
  StatVector() = default;
  explicit StatVector(std::size_t size) : m_values(size, 0) {}

  std::uint64_t& operator[](StatRegistry::Id id) { return m_values.at(id); }
  std::uint64_t operator[](StatRegistry::Id id) const { return m_values.at(id); }
  std::size_t size() const { return m_values.size(); }
  const std::vector<std::uint64_t>& values() const { return m_values; }

  /// Element-wise sum; sizes must match (std::logic_error otherwise).
  StatVector& operator+=(const StatVector& other);

 private:
  std::vector<std::uint64_t> m_values;
};

}  // namespace nibble
