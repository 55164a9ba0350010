// The command-line parser every subcommand uses, so that flags mean the same
// everywhere, `--help` always has an example, and a misspelt flag gets a
// "did you mean" suggestion.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/common/error.hpp"

namespace nibble::cli {

/// A usage error: unknown flag, missing value, bad number. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown after --help was printed; the command exits 0.
struct HelpShown {};

/// `e` as the user sees it: the setting named by the flag that sets it
/// (tech: --tech, iso_area: --iso-area, workload: --model, batch: --batch,
/// policy: --policy, policy_file: --policy-file). std::logic_error for a
/// setting no flag sets.
InputError flag_error(const SettingError& e);

class ArgParser {
 public:
  /// `command` e.g. "nibble simulate"; `synopsis` the usage line after it;
  /// `description` a paragraph; `example` one complete command line.
  ArgParser(std::string command, std::string synopsis, std::string description, std::string example);

  /// --name (no value).
  void flag(const std::string& name, const std::string& help, bool* target);
  /// --name VALUE or --name=VALUE; `metavar` names the value in --help.
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              std::string* target);
  /// Unsigned integer option with a lower bound (e.g. --batch >= 1).
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              std::uint64_t* target, std::uint64_t minimum = 0);
  /// Floating-point option.
  void option(const std::string& name, const std::string& metavar, const std::string& help,
              double* target);
  /// Repeatable option (e.g. --set KEY=VALUE).
  void repeated(const std::string& name, const std::string& metavar, const std::string& help,
                std::vector<std::string>* target);
  /// Positional argument, in declaration order.
  void positional(const std::string& name, const std::string& help, std::string* target, bool required);
  /// Short alias for an already declared long option, e.g. alias("-o", "--out").
  void alias(const std::string& short_name, const std::string& long_name);

  /// Parses; throws UsageError or HelpShown (after printing help to stdout).
  void parse(const std::vector<std::string>& args);
  /// True if the option or flag appeared on the command line.
  bool given(const std::string& name) const;
  std::string help_text() const;

 private:
  enum class Kind { kFlag, kString, kUnsigned, kDouble, kRepeated };
  struct Option {
    std::string name;
    std::string metavar;
    std::string help;
    Kind kind;
    void* target;
    std::uint64_t minimum = 0;
  };
  struct Positional {
    std::string name;
    std::string help;
    std::string* target;
    bool required;
  };

  Option* find(const std::string& name);
  void assign(Option& option, const std::string& value);

  std::string m_command;                   ///< "nibble simulate"
  std::string m_synopsis;                  ///< usage line
  std::string m_description;               ///< paragraph shown by --help
  std::string m_example;                   ///< one runnable example
  std::vector<Option> m_options;           ///< in declaration order
  std::vector<Positional> m_positionals;   ///< in declaration order
  std::vector<std::pair<std::string, std::string>> m_aliases;  ///< short -> long
  std::vector<std::string> m_given;        ///< options seen by parse()
};

}  // namespace nibble::cli
