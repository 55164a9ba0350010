// Strict reading of the YAML files people write by hand (designs, technology
// tables, sweeps, policies): every value is checked for type and range, every
// unknown key is an error with a "did you mean" suggestion, and every error is
// a nibble::InputError naming the file, the line and the key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/common/error.hpp"

namespace nibble::config {

/// Parses a YAML file; syntax errors become InputError with the line. An
/// empty file or a file whose top level is not a mapping is an error.
YAML::Node load_yaml_file(const std::string& path);
/// Parses YAML text (for --set values and tests); `origin` names it in errors.
YAML::Node load_yaml_text(const std::string& text, const std::string& origin);

/// A mapping whose keys are read one by one; finish() rejects the rest.
class YamlMap {
 public:
  /// `path` is the key path of this mapping ("" at the top, "array" below it);
  /// `line` the line of the key that introduced it (0: the mapping's own line).
  YamlMap(YAML::Node node, std::string file, std::string path, std::int64_t line = 0);

  bool has(const std::string& key) const;
  /// The child node, marked as read; missing -> InputError "missing key".
  YAML::Node required(const std::string& key);
  /// The child node if present (marked as read).
  std::optional<YAML::Node> optional(const std::string& key);
  /// A nested mapping (missing or not a mapping -> InputError).
  YamlMap map(const std::string& key);

  std::uint64_t u64(const std::string& key, std::uint64_t minimum = 0, std::uint64_t maximum = UINT64_MAX);
  std::uint64_t u64_or(const std::string& key, std::uint64_t fallback, std::uint64_t minimum = 0,
                       std::uint64_t maximum = UINT64_MAX);
  std::int64_t i64(const std::string& key, std::int64_t minimum, std::int64_t maximum);
  /// A finite double in [minimum, maximum].
  double number(const std::string& key, double minimum, double maximum);
  double number_or(const std::string& key, double fallback, double minimum, double maximum);
  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  /// One of `choices`; otherwise an error listing them (and the closest).
  std::string choice(const std::string& key, const std::vector<std::string>& choices);
  std::string choice_or(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices);
  bool boolean(const std::string& key);
  bool boolean_or(const std::string& key, bool fallback);

  /// Rejects every key not read so far, suggesting the closest read/known key,
  /// and every key written twice (yaml-cpp would silently keep the first).
  void finish(const std::vector<std::string>& also_known = {}) const;

  /// Error located at `key` (its line if present, else this mapping's line).
  InputError error(const std::string& key, const std::string& message) const;
  /// For a missing `key`: the "unknown key (did you mean 'key'?)" error of a
  /// written key that is not in `known` (every key this mapping may hold) and
  /// looks like a typo of `key` (`workload:` for `workloads:`), so the user is
  /// pointed at the line to fix rather than told "missing key"; else nullopt.
  std::optional<InputError> typo_of(const std::string& key, const std::vector<std::string>& known) const;
  const std::string& file() const { return m_file; }
  const std::string& path() const { return m_path; }
  const YAML::Node& node() const { return m_node; }

 private:
  std::string key_path(const std::string& key) const;
  std::int64_t line_of(const std::string& key) const;

  YAML::Node m_node;                 ///< the mapping
  std::string m_file;                ///< file name for errors
  std::string m_path;                ///< key path of this mapping
  std::int64_t m_line;               ///< line of the key that introduced it, for "missing key"
  mutable std::set<std::string> m_read;  ///< keys consumed so far
};

/// 1-based line of a node (0 when yaml-cpp has no mark, e.g. a node built in code).
std::int64_t line_of(const YAML::Node& node);
/// A scalar's text, or an InputError at the node if it is not a scalar.
std::string scalar_text(const YAML::Node& node, const std::string& file, const std::string& field);

}  // namespace nibble::config
