// The `nibble` command. Debian's libsystemc provides main() and calls
// sc_main(), so this is the program's entry point.
#include <systemc>

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"

namespace nibble::cli {

namespace {
// The SystemC banner is printed when the kernel first starts; reports and
// tables on stdout stay clean without it. Runs before main(), the only place
// early enough; a user who exported the variable keeps their setting.
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> commands;
  return commands;
}

void print_usage(std::ostream& out) {
  out << "nibble " << NIBBLE_VERSION
      << " - cycles, energy and accuracy of accelerators that train in 4 bits\n\n"
         "usage: nibble COMMAND [options]     (nibble COMMAND --help for each)\n\ncommands:\n";
  for (const auto& command : commands()) {
    std::string name = command.name;
    name.resize(10, ' ');
    out << "  " << name << command.summary << "\n";
  }
  out << "\nexit codes: 0 success, 1 the run found a failure, 2 bad input\n";
}

int dispatch(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    print_usage(std::cout);
    return argv.empty() ? kExitBadInput : kExitOk;
  }
  if (argv[0] == "--version") {
    std::cout << "nibble " << NIBBLE_VERSION << "\n";
    return kExitOk;
  }
  const auto it = registry().find(argv[0]);
  if (it == registry().end()) {
    std::vector<std::string> names;
    for (const auto& [name, command] : registry()) names.push_back(name);
    const std::string suggestion = closest_match(argv[0], names);
    std::cerr << "nibble: unknown command '" << argv[0] << "'"
              << (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)")
              << "; see 'nibble --help'\n";
    return kExitBadInput;
  }
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  try {
    return it->second.run(args);
  } catch (const HelpShown&) {
    return kExitOk;
  } catch (const UsageError& e) {
    std::cerr << "nibble " << argv[0] << ": " << e.what() << "\n";
    return kExitBadInput;
  } catch (const InputError& e) {
    std::cerr << "nibble: " << render_settings(e.what()) << "\n";
    return kExitBadInput;
  } catch (const SettingError& e) {
    std::cerr << "nibble: " << flag_error(e).what() << "\n";
    return kExitBadInput;
  }
}
}  // namespace

bool register_command(Command command) {
  const std::string name = command.name;
  registry().emplace(name, std::move(command));
  return true;
}

std::vector<Command> commands() {
  std::vector<Command> out;
  for (const auto& [name, command] : registry()) out.push_back(command);
  std::stable_sort(out.begin(), out.end(), [](const Command& a, const Command& b) { return a.order < b.order; });
  return out;
}

}  // namespace nibble::cli

namespace {
int run_checked(const std::vector<std::string>& args) {
  try {
    const int code = nibble::cli::dispatch(args);
    nibble::flush_stdout();
    return code;
  } catch (const std::exception& e) {
    // libstdc++ throws its stream failures with the pre-C++11 ABI type, which
    // `catch (std::ios_base::failure&)` does not match: tell them by the stream.
    const int error_number = errno;
    if (std::cout.bad()) {
      std::cout.exceptions(std::ios::goodbit);
      std::cerr << "nibble: " << nibble::stdout_write_error(error_number).what() << "\n";
      return nibble::cli::kExitBadInput;
    }
    std::cerr << "nibble: internal error: " << e.what() << "\n";
    return nibble::cli::kExitFailure;
  }
}
}  // namespace

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  std::vector<std::string> args(argv + 1, argv + argc);
  // Every write to stdout is checked (it throws when it fails), and so is the
  // final flush: a report that did not reach its file must not exit 0.
  nibble::check_stdout_writes();
  // SIGINT, SIGTERM and SIGHUP remove the temporaries of the files being
  // written; forked simulations end with the process (sim/arch/simulate.cpp).
  nibble::remove_temporaries_on_signals();
  const int code = run_checked(args);
  // The SystemC library's main and static destructors may touch std::cout
  // after this; a stream that already failed must not throw there.
  std::cout.exceptions(std::ios::goodbit);
  std::cout.clear();
  return code;
}
