#include "sim/cli/args.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sim/common/text.hpp"

namespace nibble::cli {

namespace {
// The one place settings meet flags: the library names a setting in its own
// words (SettingError, setting_ref in sim/common/error.hpp) and every command
// prints it through here. nullptr for a setting no flag sets.
const char* flag_of(const std::string& setting) {
  static const std::pair<const char*, const char*> kFlags[] = {
      {"tech", "--tech"},
      {"iso_area", "--iso-area"},
      {"workload", "--model"},  // the simulated workload
      {"batch", "--batch"},
      {"policy", "--policy"},
      {"policy_file", "--policy-file"},
      {"model", "--model"},  // the trained network (nibble train; nibble run's --train-model says --model too)
      {"lr", "--lr"},
      {"epochs", "--epochs"},
      {"warmup", "--warmup"},
      {"threads", "--threads"},
      {"data", "--data"},
      {"out", "--out"},
      {"force", "--force"},
      {"skip_unknown", "--skip-unknown"},
      {"override", "--set"},  // a design override (nibble compare's --set-a/--set-b and a sweep's parameters too)
      {"override_a", "--set-a"},  // nibble compare's overrides of design A
      {"override_b", "--set-b"},  // and of design B
      {"timeline", "--timeline"},
      {"functional", "--functional"},
      {"max_steps", "--max-steps"},
      {"point_timeout", "--point-timeout"},  // nibble sweep --mpi
      {"resume", "--resume"},
      // nibble cosim
      {"rows", "--rows"},
      {"cols", "--cols"},
      {"dot", "--dot"},
      {"mode", "--mode"},
      {"acc", "--acc"},
      {"trace", "--trace"},
      {"wave", "--wave"},
      {"inject_fault", "--inject-fault"}};
  for (const auto& [name, flag] : kFlags) {
    if (setting == name) return flag;
  }
  return nullptr;
}
}  // namespace

std::string render_settings(const std::string& text) {
  static const std::string kOpen = setting_ref("");  // "{setting:}": the prefix, then the closing brace
  const std::string prefix = kOpen.substr(0, kOpen.size() - 1);
  const char close = kOpen.back();
  std::string out;
  std::size_t at = 0;
  for (std::size_t ref = text.find(prefix); ref != std::string::npos; ref = text.find(prefix, at)) {
    const std::size_t end = text.find(close, ref + prefix.size());
    if (end == std::string::npos) break;
    // An unknown name stays as written: the text may quote the user's input.
    const char* flag = flag_of(text.substr(ref + prefix.size(), end - ref - prefix.size()));
    out.append(text, at, (flag == nullptr ? end + 1 : ref) - at);
    if (flag != nullptr) out += flag;
    at = end + 1;
  }
  return out + text.substr(at);
}

InputError flag_error(const SettingError& e) {
  const char* flag = flag_of(e.setting());
  if (flag == nullptr) throw std::logic_error("no flag sets the setting '" + e.setting() + "'");
  return InputError(e.file(), 0, flag, render_settings(e.message()));
}

ArgParser::ArgParser(std::string command, std::string synopsis, std::string description, std::string example)
    : m_command(std::move(command)),
      m_synopsis(std::move(synopsis)),
      m_description(std::move(description)),
      m_example(std::move(example)) {}

ArgParser::~ArgParser() = default;

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

void ArgParser::required(const std::string& name, std::string message) {
  m_rules.push_back(Rule{RuleKind::kRequired, {name}, std::move(message)});
}

void ArgParser::excludes(const std::string& name, const std::string& other, std::string message) {
  m_rules.push_back(Rule{RuleKind::kExcludes, {name, other}, std::move(message)});
}

void ArgParser::needs(const std::string& name, const std::string& other, std::string message) {
  m_rules.push_back(Rule{RuleKind::kNeeds, {name, other}, std::move(message)});
}

void ArgParser::exactly_one_of(const std::vector<std::string>& names, std::string message) {
  m_rules.push_back(Rule{RuleKind::kExactlyOne, names, std::move(message)});
}

void ArgParser::waives_rules(const std::string& name) { m_waivers.push_back(name); }

bool ArgParser::rules_waived() const {
  return std::any_of(m_waivers.begin(), m_waivers.end(), [this](const std::string& name) { return given(name); });
}

void ArgParser::lift_rules() {
  for (Rule& rule : m_rules) {
    switch (rule.kind) {
      case RuleKind::kRequired:
        m_cli.at(rule.names[0])->required(false);
        break;
      case RuleKind::kExcludes:
        // CLI11 links an exclusion both ways.
        m_cli.at(rule.names[0])->remove_excludes(m_cli.at(rule.names[1]));
        m_cli.at(rule.names[1])->remove_excludes(m_cli.at(rule.names[0]));
        break;
      case RuleKind::kNeeds:
        m_cli.at(rule.names[0])->remove_needs(m_cli.at(rule.names[1]));
        break;
      case RuleKind::kExactlyOne:
        rule.group->require_option(0);
        rule.group->required(false);
        break;
    }
  }
}

namespace {

/// The value CLI11 gives a flag written without one: any other value is one
/// the user wrote (--force=yes), which a flag does not take.
const std::string kFlagGiven = "nibble-flag-given";
/// Stands for the empty value of "--name=".
const std::string kEmptyValue = "nibble-empty-value";

}  // namespace

UsageError ArgParser::unknown_option(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& o : m_options) names.push_back(o.name);
  names.push_back("--help");
  const std::string suggestion = closest_match(name, names);
  return UsageError("unknown option " + name + " for '" + m_command + "'" +
                    (suggestion.empty() ? "" : " (did you mean " + suggestion + "?)") + "; see '" + m_command +
                    " --help'");
}

std::string ArgParser::typed(const std::string& word) const {
  const auto it = m_placeholders.find(word);
  return it == m_placeholders.end() ? word : it->second;
}

void ArgParser::reject_leftovers() const {
  bool marker_seen = false;
  for (const std::string& word : m_app->remaining()) {
    // CLI11 keeps the first "--" (the end of options) among the leftovers.
    if (word == "--" && !marker_seen) {
      marker_seen = true;
      continue;
    }
    const std::string arg = typed(word);
    if (arg.size() > 1 && arg[0] == '-' && !marker_seen) throw unknown_option(arg.substr(0, arg.find('=')));
    throw UsageError("unexpected argument '" + arg + "' for '" + m_command + "'; see '" + m_command + " --help'");
  }
}

std::vector<std::string> ArgParser::prepare(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool only_positionals = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || arg.size() < 2 || arg[0] != '-') {
      out.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      out.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(0, arg.find('='));
    // --help and -h take no value in any form: "--help=X" is an unknown word.
    const bool known = arg == "--help" || arg == "-h" || find(name) != nullptr;
    if (known && arg[1] == '-' && arg.size() == name.size() + 1) {
      // --name=: an empty value, which CLI11 would read as no value at all.
      m_placeholders[kEmptyValue] = "";
      out.push_back(name + "=" + kEmptyValue);
    } else if (known && arg[1] == '-') {
      out.push_back(arg);  // --name or --name=VALUE
    } else if (known && arg.size() == 2) {
      out.push_back(arg);  // -o
    } else if (known && arg[2] == '=') {
      out.push_back(name);  // -o=VALUE: the value after '=' (CLI11 would keep the '=')
      out.push_back(arg.substr(3));
    } else {
      // Not declared, or a short name with letters glued on (-o3): unknown,
      // and CLI11 must not read it as one of its own short-option forms.
      const std::string placeholder = "--nibble-unknown-word-" + std::to_string(i);
      m_placeholders[placeholder] = arg;
      out.push_back(placeholder);
    }
  }
  return out;
}

void ArgParser::build() {
  m_app = std::make_unique<CLI::App>(m_description, m_command);
  m_app->set_help_flag();   // nibble's own --help, met in command-line order
  m_app->allow_extras();    // leftovers are reported by reject_leftovers, in order
  m_app->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI::Option* help = m_app->add_flag("-h{" + kFlagGiven + "},--help{" + kFlagGiven + "}");
  help->trigger_on_parse()->each([this](const std::string&) {
    reject_leftovers();
    std::cout << help_text();
    throw HelpShown{};
  });
  for (std::size_t i = 0; i < m_options.size(); ++i) {
    const Option& o = m_options[i];
    // A flag's every name carries kFlagGiven as the value it gives.
    const std::string value = o.kind == Kind::kFlag ? "{" + kFlagGiven + "}" : "";
    std::string names;
    for (const auto& [alias, target] : m_aliases) {
      if (target == o.name) names += alias + value + ",";
    }
    names += o.name + value;
    CLI::Option* cli = nullptr;
    if (o.kind == Kind::kFlag) {
      cli = m_app->add_flag(names);
    } else {
      cli = m_app->add_option(names)->type_name(o.metavar);
    }
    // Each occurrence is read when CLI11 meets it, so that errors come in the
    // order of the command line, as a reading from left to right meets them.
    cli->trigger_on_parse()->each([this, i](const std::string& value) {
      reject_leftovers();
      Option& option = m_options[i];
      if (option.kind == Kind::kFlag && value != kFlagGiven) throw UsageError(option.name + " takes no value");
      m_given.push_back(option.name);
      assign(option, typed(value));
      // CLI11 checks the rules after every word was read: lifted now, none is.
      if (std::count(m_waivers.begin(), m_waivers.end(), option.name) > 0) lift_rules();
    });
    m_cli[o.name] = cli;
  }
  for (std::size_t i = 0; i < m_positionals.size(); ++i) {
    CLI::Option* cli = m_app->add_option("positional" + std::to_string(i));
    cli->required(m_positionals[i].required);
    cli->trigger_on_parse()->each([this, i](const std::string& value) {
      reject_leftovers();
      *m_positionals[i].target = typed(value);
      m_positionals_read = i + 1;
    });
  }
  for (const std::string& name : m_waivers) {
    const Option* waiver = find(name);
    if (waiver == nullptr || waiver->kind != Kind::kFlag) {
      throw std::logic_error(m_command + ": rules waived by " + name + ", which is no declared flag");
    }
  }
  for (std::size_t r = 0; r < m_rules.size(); ++r) {
    Rule& rule = m_rules[r];
    for (const std::string& name : rule.names) {
      if (m_cli.count(name) == 0) throw std::logic_error(m_command + ": a rule names undeclared option " + name);
    }
    switch (rule.kind) {
      case RuleKind::kRequired:
        m_cli.at(rule.names[0])->required();
        break;
      case RuleKind::kExcludes:
        m_cli.at(rule.names[0])->excludes(m_cli.at(rule.names[1]));
        break;
      case RuleKind::kNeeds:
        m_cli.at(rule.names[0])->needs(m_cli.at(rule.names[1]));
        break;
      case RuleKind::kExactlyOne: {
        auto* group = m_app->add_option_group("rule" + std::to_string(r));
        for (const std::string& name : rule.names) group->add_option(m_cli.at(name));
        group->require_option(1);
        group->required();
        rule.group = group;
        break;
      }
    }
  }
}

std::optional<std::string> ArgParser::broken_rule() const {
  for (std::size_t i = m_positionals_read; i < m_positionals.size(); ++i) {
    if (m_positionals[i].required) return "missing " + m_positionals[i].name + "; usage: " + m_command + " " + m_synopsis;
  }
  if (rules_waived()) return std::nullopt;
  for (const Rule& rule : m_rules) {
    std::size_t count = 0;
    for (const std::string& name : rule.names) count += given(name) ? 1 : 0;
    const bool broken = rule.kind == RuleKind::kRequired     ? count == 0
                        : rule.kind == RuleKind::kExcludes ? count == 2
                        : rule.kind == RuleKind::kNeeds    ? given(rule.names[0]) && !given(rule.names[1])
                                                           : count != 1;
    if (broken) return rule.message;
  }
  return std::nullopt;
}

void ArgParser::parse(const std::vector<std::string>& args) {
  build();
  const std::vector<std::string> words = prepare(args);
  try {
    m_app->parse(std::vector<std::string>(words.rbegin(), words.rend()));
  } catch (const CLI::ArgumentMismatch& e) {
    // The last word is an option whose value the command line lacks.
    reject_leftovers();
    const Option* option = words.empty() ? nullptr : find(words.back().substr(0, words.back().find('=')));
    if (option == nullptr) throw UsageError(e.what());
    throw UsageError(option->name + ": missing value " + option->metavar);
  } catch (const CLI::ParseError& e) {
    // A required option, an exclusion or an exactly-one-of group, found by
    // CLI11 once every word was read: words it could not place come first,
    // then the first broken rule in declaration order.
    reject_leftovers();
    if (const auto message = broken_rule()) throw UsageError(*message);
    throw UsageError(e.what());
  }
  reject_leftovers();
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
