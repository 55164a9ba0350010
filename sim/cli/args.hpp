// The command-line parser every subcommand uses, so that flags mean the same
// everywhere, `--help` always has an example, and a misspelt flag gets a
// "did you mean" suggestion. CLI11 reads the command line and enforces the
// rules between options (required, excludes, needs, exactly one of); this class keeps
// nibble's own help page, messages and exit codes on top of it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/common/error.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace nibble::cli {

/// A usage error: unknown flag, missing value, bad number. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown after --help was printed; the command exits 0.
struct HelpShown {};

/// `e` as the user sees it: the setting named by the flag that sets it
/// (tech: --tech, iso_area: --iso-area, workload and model: --model, lr: --lr,
/// data: --data, out: --out, ...; the table in args.cpp), located in the path
/// the setting names, if any. std::logic_error for a setting no flag sets.
InputError flag_error(const SettingError& e);

/// `text` (a library message, or the whole line of an InputError) with every
/// setting reference (setting_ref, "{setting:max_steps}") written as the flag
/// that sets it ("--max-steps"), by flag_error's table; a reference to a name
/// the table lacks stays as written (the text may quote the user's input).
std::string render_settings(const std::string& text);

class ArgParser {
 public:
  /// `command` e.g. "nibble simulate"; `synopsis` the usage line after it;
  /// `description` a paragraph; `example` one complete command line.
  ArgParser(std::string command, std::string synopsis, std::string description, std::string example);
  ~ArgParser();
  ArgParser(const ArgParser&) = delete;
  ArgParser& operator=(const ArgParser&) = delete;

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

  /// Rules between declared options, checked by parse() after every value
  /// was read, in the order they were declared (the first broken one is the
  /// UsageError, with `message`); a missing required positional comes first.
  /// `name` must be given.
  void required(const std::string& name, std::string message);
  /// `name` and `other` must not both be given.
  void excludes(const std::string& name, const std::string& other, std::string message);
  /// `name` needs `other`: given without it, `message`.
  void needs(const std::string& name, const std::string& other, std::string message);
  /// Exactly one of `names` must be given.
  void exactly_one_of(const std::vector<std::string>& names, std::string message);
  /// When the declared flag `name` is given no rule applies: it asks for
  /// something else than the command's work (`nibble trace --list-models`
  /// needs no source). Values are still read and checked.
  void waives_rules(const std::string& name);

  /// Parses; throws UsageError or HelpShown (after printing help to stdout).
  /// Errors come in command-line order, as a left-to-right reading meets
  /// them (an unknown option before a bad value after it), then the rules.
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
  enum class RuleKind { kRequired, kExcludes, kNeeds, kExactlyOne };
  struct Rule {
    RuleKind kind;
    std::vector<std::string> names;  ///< the options it is about
    std::string message;             ///< the UsageError when it is broken
    CLI::App* group = nullptr;       ///< kExactlyOne: its CLI11 option group
  };

  Option* find(const std::string& name);
  void assign(Option& option, const std::string& value);
  /// Declares every option, positional and rule on m_app (once, at parse()).
  void build();
  /// The command line as CLI11 reads it: undeclared dash words become
  /// placeholders (reported as unknown), "-o=X" becomes "-o" "X".
  std::vector<std::string> prepare(const std::vector<std::string>& args);
  /// The error for an undeclared option, with the closest declared one.
  UsageError unknown_option(const std::string& name) const;
  /// Throws the UsageError for the first word CLI11 left over so far, if any.
  void reject_leftovers() const;
  /// Takes every rule off m_app (a waiving flag was given).
  void lift_rules();
  /// True once a flag declared by waives_rules() was given.
  bool rules_waived() const;
  /// The message of the first broken rule: a missing required positional,
  /// then the rules in declaration order.
  std::optional<std::string> broken_rule() const;
  /// The word as the user typed it (placeholders mapped back).
  std::string typed(const std::string& word) const;

  std::string m_command;                   ///< "nibble simulate"
  std::string m_synopsis;                  ///< usage line
  std::string m_description;               ///< paragraph shown by --help
  std::string m_example;                   ///< one runnable example
  std::vector<Option> m_options;           ///< in declaration order
  std::vector<Positional> m_positionals;   ///< in declaration order
  std::vector<std::pair<std::string, std::string>> m_aliases;  ///< short -> long
  std::vector<Rule> m_rules;               ///< in declaration order
  std::vector<std::string> m_waivers;      ///< flags that lift the rules
  std::vector<std::string> m_given;        ///< options seen by parse()
  std::size_t m_positionals_read = 0;      ///< positionals the command line filled
  std::unique_ptr<CLI::App> m_app;         ///< the CLI11 parser, built at parse()
  std::map<std::string, CLI::Option*> m_cli;          ///< long name -> its CLI11 option
  std::map<std::string, std::string> m_placeholders;  ///< placeholder -> the word it stands for
};

}  // namespace nibble::cli
