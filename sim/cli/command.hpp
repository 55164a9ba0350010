// Subcommands of the `nibble` command register themselves here, one file each
// (sim/cli/cmd_*.cpp), so adding a command touches no shared table.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace nibble::cli {

/// Exit codes, documented in docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,        ///< success
  kExitFailure = 1,   ///< the run found a failure (co-sim mismatch, failed check)
  kExitBadInput = 2,  ///< bad input: a file, a flag or a value
};

struct Command {
  std::string name;     ///< e.g. "simulate"
  int order;            ///< position in `nibble --help`
  std::string summary;  ///< one line for `nibble --help`
  std::function<int(const std::vector<std::string>& args)> run;  ///< args after the name
};

/// Adds a command to the registry (called from a static initializer).
bool register_command(Command command);
/// Every registered command, in `order`.
std::vector<Command> commands();

}  // namespace nibble::cli

/// Registers `fn` as subcommand `name`; use once per cmd_*.cpp file.
#define NIBBLE_COMMAND(name, order, summary, fn)                                   \
  static const bool nibble_command_registered_##fn =                               \
      ::nibble::cli::register_command(::nibble::cli::Command{name, order, summary, fn})
