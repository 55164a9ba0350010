#include "sim/cli/args.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sim/common/text.hpp"

namespace nibble::cli {

InputError flag_error(const SettingError& e) {
  static const std::pair<const char*, const char*> kFlags[] = {
      {"tech", "--tech"},   {"iso_area", "--iso-area"}, {"workload", "--model"},
      {"batch", "--batch"}, {"policy", "--policy"},     {"policy_file", "--policy-file"}};
  for (const auto& [setting, flag] : kFlags) {
    if (e.setting() == setting) return InputError("", 0, flag, e.message());
  }
  throw std::logic_error("no flag sets the setting '" + e.setting() + "'");
}

ArgParser::ArgParser(std::string command, std::string synopsis, std::string description, std::string example)
    : m_command(std::move(command)),
      m_synopsis(std::move(synopsis)),
      m_description(std::move(description)),
      m_example(std::move(example)) {}

void ArgParser::flag(const std::string& name, const std::string& help, bool* target) {
  m_options.push_back(Option{name, "", help, Kind::kFlag, target});
}

void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       std::string* target) {
  m_options.push_back(Option{name, metavar, help, Kind::kString, target});
}

void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       std::uint64_t* target, std::uint64_t minimum) {
  m_options.push_back(Option{name, metavar, help, Kind::kUnsigned, target, minimum});
}

void ArgParser::option(const std::string& name, const std::string& metavar, const std::string& help,
                       double* target) {
  m_options.push_back(Option{name, metavar, help, Kind::kDouble, target});
}

void ArgParser::repeated(const std::string& name, const std::string& metavar, const std::string& help,
                         std::vector<std::string>* target) {
  m_options.push_back(Option{name, metavar, help, Kind::kRepeated, target});
}

void ArgParser::positional(const std::string& name, const std::string& help, std::string* target,
                           bool required) {
  m_positionals.push_back(Positional{name, help, target, required});
}

void ArgParser::alias(const std::string& short_name, const std::string& long_name) {
  m_aliases.emplace_back(short_name, long_name);
}

ArgParser::Option* ArgParser::find(const std::string& name) {
  std::string resolved = name;
  for (const auto& [alias, target] : m_aliases) {
    if (alias == name) resolved = target;
  }
  for (auto& option : m_options) {
    if (option.name == resolved) return &option;
  }
  return nullptr;
}

void ArgParser::assign(Option& option, const std::string& value) {
  switch (option.kind) {
    case Kind::kFlag:
      *static_cast<bool*>(option.target) = true;
      break;
    case Kind::kString:
      *static_cast<std::string*>(option.target) = value;
      break;
    case Kind::kRepeated:
      static_cast<std::vector<std::string>*>(option.target)->push_back(value);
      break;
    case Kind::kUnsigned: {
      const auto parsed = parse_u64(value);
      if (!parsed) throw UsageError(option.name + ": expected a whole number, got '" + value + "'");
      if (*parsed < option.minimum) {
        throw UsageError(option.name + ": must be at least " + std::to_string(option.minimum) + ", got " +
                         value);
      }
      *static_cast<std::uint64_t*>(option.target) = *parsed;
      break;
    }
    case Kind::kDouble: {
      const auto parsed = parse_double(value);
      if (!parsed) throw UsageError(option.name + ": expected a number, got '" + value + "'");
      *static_cast<double*>(option.target) = *parsed;
      break;
    }
  }
}

void ArgParser::parse(const std::vector<std::string>& args) {
  std::size_t next_positional = 0;
  bool only_positionals = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!only_positionals && (arg == "--help" || arg == "-h")) {
      std::cout << help_text();
      throw HelpShown{};
    }
    if (!only_positionals && arg == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && arg.size() > 1 && arg[0] == '-') {
      std::string name = arg;
      std::optional<std::string> inline_value;
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
      Option* option = find(name);
      if (option == nullptr) {
        std::vector<std::string> names;
        for (const auto& o : m_options) names.push_back(o.name);
        names.push_back("--help");
        const std::string suggestion = closest_match(name, names);
        throw UsageError("unknown option " + name + " for '" + m_command + "'" +
                         (suggestion.empty() ? "" : " (did you mean " + suggestion + "?)") +
                         "; see '" + m_command + " --help'");
      }
      m_given.push_back(option->name);
      if (option->kind == Kind::kFlag) {
        if (inline_value) throw UsageError(option->name + " takes no value");
        assign(*option, "");
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= args.size()) throw UsageError(option->name + ": missing value " + option->metavar);
        inline_value = args[++i];
      }
      assign(*option, *inline_value);
      continue;
    }
    if (next_positional >= m_positionals.size()) {
      throw UsageError("unexpected argument '" + arg + "' for '" + m_command + "'; see '" + m_command +
                       " --help'");
    }
    *m_positionals[next_positional++].target = arg;
  }
  for (std::size_t i = next_positional; i < m_positionals.size(); ++i) {
    if (m_positionals[i].required) {
      throw UsageError("missing " + m_positionals[i].name + "; usage: " + m_command + " " + m_synopsis);
    }
  }
}

bool ArgParser::given(const std::string& name) const {
  return std::find(m_given.begin(), m_given.end(), name) != m_given.end();
}

std::string ArgParser::help_text() const {
  std::ostringstream out;
  out << "usage: " << m_command << " " << m_synopsis << "\n\n" << m_description << "\n";
  if (!m_positionals.empty()) {
    out << "\narguments:\n";
    for (const auto& p : m_positionals) out << "  " << p.name << "\n      " << p.help << "\n";
  }
  out << "\noptions:\n";
  for (const auto& o : m_options) {
    std::string shorts;
    for (const auto& [alias, target] : m_aliases) {
      if (target == o.name) shorts += alias + ", ";
    }
    out << "  " << shorts << o.name << (o.metavar.empty() ? "" : " " + o.metavar) << "\n      " << o.help
        << "\n";
  }
  out << "  -h, --help\n      show this help\n";
  out << "\nexample:\n  " << m_example << "\n";
  return out.str();
}

}  // namespace nibble::cli
