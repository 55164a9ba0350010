#include "sim/config/yaml_reader.hpp"

#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cmath>

#include "sim/common/files.hpp"
#include "sim/common/text.hpp"

namespace nibble::config {

namespace {
// yaml-cpp recurses per nesting level; a hostile file of 100k '[' would
// overflow the stack, so nesting is bounded before parsing.
constexpr int kMaxNesting = 64;

void check_nesting(const std::string& text, const std::string& origin) {
  int depth = 0;
  std::int64_t line = 1;
  bool in_comment = false;
  for (const char c : text) {
    if (c == '\n') {
      ++line;
      in_comment = false;
      continue;
    }
    if (in_comment) continue;
    if (c == '#') in_comment = true;
    if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        throw InputError(origin, line, "", "nesting deeper than " + std::to_string(kMaxNesting) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

YAML::Node parse(const std::string& text, const std::string& origin) {
  check_nesting(text, origin);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard against deep block nesting ("- - - ..."), which the
    // bracket count above cannot see; its message would be "bad file".
    throw InputError(origin, e.mark.line >= 0 ? e.mark.line + 1 : 0, "",
                     "nesting too deep (the YAML parser stops at about 500 levels)");
  } catch (const YAML::Exception& e) {
    throw InputError(origin, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "YAML syntax error: " + e.msg);
  }
  if (!root || root.IsNull()) throw InputError(origin, 0, "", "file is empty, expected a YAML mapping");
  if (!root.IsMap()) throw InputError(origin, line_of(root), "", "expected a YAML mapping of keys at the top level");
  return root;
}
}  // namespace

YAML::Node load_yaml_file(const std::string& path) { return parse(read_file(path), path); }

YAML::Node load_yaml_text(const std::string& text, const std::string& origin) { return parse(text, origin); }

std::int64_t line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string scalar_text(const YAML::Node& node, const std::string& file, const std::string& field) {
  if (!node.IsScalar()) throw InputError(file, line_of(node), field, "expected a single value, not a list or mapping");
  return node.Scalar();
}

YamlMap::YamlMap(YAML::Node node, std::string file, std::string path, std::int64_t line)
    : m_node(std::move(node)), m_file(std::move(file)), m_path(std::move(path)), m_line(line) {
  // A missing top-level key has no line to point at; a nested one points at its parent key.
  if (m_line == 0 && !m_path.empty()) m_line = config::line_of(m_node);
  if (!m_node.IsMap()) throw InputError(m_file, config::line_of(m_node), m_path, "expected a mapping of keys");
}

std::string YamlMap::key_path(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }

std::int64_t YamlMap::line_of(const std::string& key) const {
  for (const auto& entry : m_node) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return config::line_of(entry.first);
  }
  return config::line_of(m_node);
}

InputError YamlMap::error(const std::string& key, const std::string& message) const {
  return InputError(m_file, line_of(key), key_path(key), message);
}

bool YamlMap::has(const std::string& key) const {
  for (const auto& entry : m_node) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return true;
  }
  return false;
}

std::optional<YAML::Node> YamlMap::optional(const std::string& key) {
  for (const auto& entry : m_node) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) {
      m_read.insert(key);
      if (entry.second.IsNull()) throw error(key, "has no value");
      return entry.second;
    }
  }
  return std::nullopt;
}

std::optional<InputError> YamlMap::typo_of(const std::string& key, const std::vector<std::string>& known) const {
  for (const auto& entry : m_node) {
    if (!entry.first.IsScalar()) continue;
    const std::string& written = entry.first.Scalar();
    if (written == key || std::find(known.begin(), known.end(), written) != known.end()) continue;
    if (closest_match(written, {key}) == key) {
      return InputError(m_file, config::line_of(entry.first), key_path(written),
                        "unknown key (did you mean '" + key + "'?)");
    }
  }
  return std::nullopt;
}

YAML::Node YamlMap::required(const std::string& key) {
  auto node = optional(key);
  if (!node) throw InputError(m_file, m_line, key_path(key), "missing key");
  return *node;
}

YamlMap YamlMap::map(const std::string& key) {
  const YAML::Node node = required(key);
  if (!node.IsMap()) throw error(key, "expected a mapping of keys");
  return YamlMap(node, m_file, key_path(key), line_of(key));
}

std::uint64_t YamlMap::u64(const std::string& key, std::uint64_t minimum, std::uint64_t maximum) {
  const std::string text = scalar_text(required(key), m_file, key_path(key));
  const auto value = parse_u64(text);
  const std::string range = maximum == UINT64_MAX
                                ? "a whole number >= " + std::to_string(minimum)
                                : "a whole number in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "]";
  if (!value) throw error(key, "expected " + range + ", got '" + text + "'");
  if (*value < minimum || *value > maximum) throw error(key, "expected " + range + ", got " + text);
  return *value;
}

std::uint64_t YamlMap::u64_or(const std::string& key, std::uint64_t fallback, std::uint64_t minimum,
                              std::uint64_t maximum) {
  return has(key) ? u64(key, minimum, maximum) : fallback;
}

std::int64_t YamlMap::i64(const std::string& key, std::int64_t minimum, std::int64_t maximum) {
  const std::string text = scalar_text(required(key), m_file, key_path(key));
  const auto value = parse_i64(text);
  const std::string range = "a whole number in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "]";
  if (!value) throw error(key, "expected " + range + ", got '" + text + "'");
  if (*value < minimum || *value > maximum) throw error(key, "expected " + range + ", got " + text);
  return *value;
}

double YamlMap::number(const std::string& key, double minimum, double maximum) {
  const std::string text = scalar_text(required(key), m_file, key_path(key));
  const auto value = parse_double(text);
  const std::string range = "a number in [" + format_double(minimum) + ", " + format_double(maximum) + "]";
  if (!value || !std::isfinite(*value)) throw error(key, "expected " + range + ", got '" + text + "'");
  if (*value < minimum || *value > maximum) throw error(key, "expected " + range + ", got " + text);
  return *value;
}

double YamlMap::number_or(const std::string& key, double fallback, double minimum, double maximum) {
  return has(key) ? number(key, minimum, maximum) : fallback;
}

std::string YamlMap::string(const std::string& key) {
  const std::string text = scalar_text(required(key), m_file, key_path(key));
  if (text.empty()) throw error(key, "expected a non-empty text");
  return text;
}

std::string YamlMap::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

std::string YamlMap::choice(const std::string& key, const std::vector<std::string>& choices) {
  const std::string text = string(key);
  for (const auto& c : choices) {
    if (c == text) return text;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  const std::string suggestion = closest_match(text, choices);
  throw error(key, "expected one of " + list + ", got '" + text + "'" +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
}

std::string YamlMap::choice_or(const std::string& key, const std::string& fallback,
                               const std::vector<std::string>& choices) {
  return has(key) ? choice(key, choices) : fallback;
}

bool YamlMap::boolean(const std::string& key) {
  const std::string text = scalar_text(required(key), m_file, key_path(key));
  if (text == "true") return true;
  if (text == "false") return false;
  throw error(key, "expected true or false, got '" + text + "'");
}

bool YamlMap::boolean_or(const std::string& key, bool fallback) { return has(key) ? boolean(key) : fallback; }

void YamlMap::finish(const std::vector<std::string>& also_known) const {
  std::vector<std::string> known(m_read.begin(), m_read.end());
  known.insert(known.end(), also_known.begin(), also_known.end());
  std::set<std::string> seen;
  for (const auto& entry : m_node) {
    if (!entry.first.IsScalar()) {
      throw InputError(m_file, config::line_of(entry.first), m_path, "keys must be plain words");
    }
    const std::string key = entry.first.Scalar();
    // yaml-cpp keeps both copies of a repeated key and every lookup sees the
    // first: the second would be silently ignored.
    if (!seen.insert(key).second) {
      throw InputError(m_file, config::line_of(entry.first), key_path(key), "appears twice; give each key once");
    }
    if (m_read.count(key) != 0) continue;
    bool listed = false;
    for (const auto& k : also_known) listed = listed || k == key;
    if (listed) continue;
    const std::string suggestion = closest_match(key, known);
    throw InputError(m_file, config::line_of(entry.first), key_path(key),
                     "unknown key" + (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
}

}  // namespace nibble::config
