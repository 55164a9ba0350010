// The one exception type for bad input anywhere in nibble.
//
// Every parser (design, tech, trace, SCALE-Sim, ONNX, IDX, sweep) reports a
// problem by throwing InputError with the file, the line (or 0 when the input
// has no lines, e.g. a binary file) and the field path, so the command can
// print `nibble: FILE:LINE: field: message` and exit with code 2. what() is
// always one line: control characters quoted from the input are escaped there
// (\n, \r, \t, \xNN); file(), field() and message() keep the raw text.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace nibble {

class InputError : public std::runtime_error {
 public:
  /// `line` is 1-based; 0 means "no line" (the location is the file, or a field path).
  InputError(std::string file, std::int64_t line, std::string field, std::string message);

  const std::string& file() const { return m_file; }
  std::int64_t line() const { return m_line; }
  const std::string& field() const { return m_field; }
  const std::string& message() const { return m_message; }

  /// The same error located in `file` at `line`, for a parser that learns its
  /// location only after a lower layer threw.
  InputError relocated(const std::string& file, std::int64_t line) const;

 private:
  static std::string format(const std::string& file, std::int64_t line, const std::string& field,
                            const std::string& message);

  std::string m_file;     ///< input file ("" when the input came from the command line)
  std::int64_t m_line;    ///< 1-based line, 0 when unknown or not line-oriented
  std::string m_field;    ///< field or key path, e.g. "array.rows"; may be empty
  std::string m_message;  ///< what was expected, in words
};

/// A bad setting of a run that no file holds (the technology table chosen,
/// the iso-area reference, the workload's source, batch or policy; a training
/// run's numbers, model, data folder; the output folder). The library names
/// the setting in its own words; the front end that read it (sim/cli: a flag)
/// says where it came from, so the library never speaks in command-line flags.
/// A setting that names a path (the data folder, the output folder) carries it
/// as `file`, the way InputError locates an error. what() is "setting: message",
/// or "file: setting: message" with a file.
class SettingError : public std::runtime_error {
 public:
  SettingError(std::string setting, std::string message, std::string file = "");

  const std::string& setting() const { return m_setting; }
  const std::string& message() const { return m_message; }
  const std::string& file() const { return m_file; }

 private:
  std::string m_setting;  ///< e.g. "tech", "iso_area", "workload", "batch", "policy", "lr", "data", "out"
  std::string m_message;  ///< what was expected, in words
  std::string m_file;     ///< the path the setting names, "" when it names none
};

/// How a library message refers to a setting (advice such as "raise the step
/// budget", a conflict between a file and a setting, or the origin of a value):
/// "{setting:NAME}". The front end that read the setting renders every such
/// reference in its own words (sim/cli's render_settings: the flag) wherever
/// it prints a message, so library text names settings, never flags. Names are
/// SettingError's (max_steps, policy, out, ...).
std::string setting_ref(const std::string& setting);

/// How a front end words the setting references of text that library code
/// writes to a file or stream itself (a report's note, a sweep's last words):
/// sim/cli passes its render_settings.
using SettingWords = std::function<std::string(const std::string&)>;

/// The SettingWords a library option defaults to: the references as written.
std::string keep_setting_refs(const std::string& text);

}  // namespace nibble
