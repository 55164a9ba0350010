// ArgParser on CLI11: the forms of a command line nibble has always read, and
// the order its errors come in (left to right as the words are met, then the
// rules in declaration order). Each message is the one the hand-written parser
// printed, so that commands, docs and scripts see no change.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/cli/args.hpp"

namespace nibble::cli {
namespace {

/// A parser like `nibble simulate`'s: options of every kind, an alias, a
/// positional, and rules between them.
struct Command {
  std::string design;
  std::string out;
  std::string model;
  std::string trace;
  std::uint64_t batch = 1;
  double lr = 0.0;
  bool force = false;
  std::vector<std::string> sets;
  std::string file;
  ArgParser parser{"nibble demo", "FILE [options]", "A demo.", "nibble demo f --design d"};

  Command() {
    parser.positional("FILE", "a file", &file, true);
    parser.option("--design", "FILE", "design", &design);
    parser.option("--model", "NAME", "model", &model);
    parser.option("--trace", "FILE", "trace", &trace);
    parser.option("--batch", "N", "batch", &batch, 1);
    parser.option("--lr", "X", "learning rate", &lr);
    parser.flag("--force", "force", &force);
    parser.repeated("--set", "KEY=VALUE", "override", &sets);
    parser.option("--out", "DIR", "output", &out);
    parser.alias("-o", "--out");
    parser.required("--design", "missing --design FILE");
    parser.exactly_one_of({"--model", "--trace"}, "give exactly one of --model, --trace");
    parser.excludes("--batch", "--trace", "--batch does not apply to --trace: a trace fixes it");
  }
};

/// The UsageError message of parsing `args`, or "ok".
std::string outcome(const std::vector<std::string>& args, Command* c = nullptr) {
  Command local;
  Command& command = c != nullptr ? *c : local;
  try {
    command.parser.parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "ok";
}

TEST(ArgParser, ReadsEveryFormOfValue) {
  Command c;
  ASSERT_EQ(outcome({"f", "--design=d", "-o", "x", "--model", "m", "--batch=4", "--lr", "-0.5", "--set", "a=1",
                     "--set=b=2", "--force"},
                    &c),
            "ok");
  EXPECT_EQ(c.design, "d");
  EXPECT_EQ(c.out, "x");
  EXPECT_EQ(c.batch, 4u);
  EXPECT_EQ(c.lr, -0.5);  // a value that looks like a short option is still the value
  EXPECT_EQ(c.sets, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_TRUE(c.force);
  EXPECT_TRUE(c.parser.given("--out"));  // an alias counts as its long name
  EXPECT_FALSE(c.parser.given("--trace"));
  // -o=X is -o with X (CLI11 alone would keep the '='); the last value wins;
  // a value is taken whatever it looks like; after "--" every word is positional.
  Command d;
  ASSERT_EQ(outcome({"--design", "--model", "-o=y", "--out", "z", "--trace", "t", "--", "-f"}, &d), "ok");
  EXPECT_EQ(d.design, "--model");
  EXPECT_EQ(d.out, "z");
  EXPECT_EQ(d.file, "-f");
  // [a,b] is one value, not CLI11's list.
  Command e;
  ASSERT_EQ(outcome({"f", "--design", "d", "--model", "m", "--set=[a,b]"}, &e), "ok");
  EXPECT_EQ(e.sets, (std::vector<std::string>{"[a,b]"}));
}

TEST(ArgParser, MessagesOfBadWords) {
  EXPECT_EQ(outcome({"--desing", "d"}),
            "unknown option --desing for 'nibble demo' (did you mean --design?); see 'nibble demo --help'");
  // A short name with letters glued on is not the short option with a value.
  EXPECT_EQ(outcome({"-o3"}), "unknown option -o3 for 'nibble demo'; see 'nibble demo --help'");
  EXPECT_EQ(outcome({"--help=1"}),
            "unknown option --help for 'nibble demo' (did you mean --help?); see 'nibble demo --help'");
  EXPECT_EQ(outcome({"f", "g"}), "unexpected argument 'g' for 'nibble demo'; see 'nibble demo --help'");
  EXPECT_EQ(outcome({"--batch"}), "--batch: missing value N");
  EXPECT_EQ(outcome({"--batch="}), "--batch: expected a whole number, got ''");  // not the next word
  EXPECT_EQ(outcome({"--batch", "0"}), "--batch: must be at least 1, got 0");
  EXPECT_EQ(outcome({"--batch", "+5"}), "--batch: expected a whole number, got '+5'");
  EXPECT_EQ(outcome({"--lr", "x"}), "--lr: expected a number, got 'x'");
  EXPECT_EQ(outcome({"--force=yes"}), "--force takes no value");
}

TEST(ArgParser, ErrorsComeLeftToRightThenTheRulesInOrder) {
  EXPECT_EQ(outcome({"--bogus", "--batch", "x"}).substr(0, 22), "unknown option --bogus");
  EXPECT_EQ(outcome({"--batch", "x", "--bogus"}), "--batch: expected a whole number, got 'x'");
  EXPECT_EQ(outcome({"--bogus", "--help"}).substr(0, 22), "unknown option --bogus");
  // Rules: a missing positional first, then in declaration order.
  EXPECT_EQ(outcome({"--trace", "t", "--batch", "2"}).substr(0, 12), "missing FILE");
  EXPECT_EQ(outcome({"f", "--trace", "t", "--batch", "2"}), "missing --design FILE");
  EXPECT_EQ(outcome({"f", "--design", "d"}), "give exactly one of --model, --trace");
  EXPECT_EQ(outcome({"f", "--design", "d", "--model", "m", "--trace", "t"}), "give exactly one of --model, --trace");
  EXPECT_EQ(outcome({"f", "--design", "d", "--trace", "t", "--batch", "2"}),
            "--batch does not apply to --trace: a trace fixes it");
  // Leftover words come before the rules.
  EXPECT_EQ(outcome({"f", "--design", "d", "--trace", "t", "--batch", "2", "g"}).substr(0, 25),
            "unexpected argument 'g' f");
}

// `nibble trace`'s rules: exactly one source, flags that need one source, and
// --list-models, which needs none (values are still checked).
TEST(ArgParser, NeedsAndAFlagThatWaivesTheRules) {
  struct Trace {
    std::string model, onnx;
    std::uint64_t seq = 1;
    bool skip = false, list = false;
    ArgParser parser{"nibble trace", "(--model NAME | --onnx FILE) [options]", "A demo.", "nibble trace --model m"};
    Trace() {
      parser.option("--model", "NAME", "model", &model);
      parser.option("--onnx", "FILE", "onnx", &onnx);
      parser.option("--seq", "N", "sequence", &seq, 1);
      parser.flag("--skip-unknown", "skip", &skip);
      parser.flag("--list-models", "list", &list);
      parser.exactly_one_of({"--model", "--onnx"}, "give exactly one of --model, --onnx");
      parser.needs("--seq", "--model", "--seq applies to --model only");
      parser.needs("--skip-unknown", "--onnx", "--skip-unknown applies to --onnx only");
      parser.waives_rules("--list-models");
    }
    std::string outcome(const std::vector<std::string>& args) {
      try {
        parser.parse(args);
      } catch (const UsageError& e) {
        return e.what();
      }
      return "ok";
    }
  };
  EXPECT_EQ(Trace().outcome({"--model", "m", "--seq", "4"}), "ok");
  EXPECT_EQ(Trace().outcome({"--onnx", "f", "--skip-unknown"}), "ok");
  EXPECT_EQ(Trace().outcome({"--onnx", "f", "--seq", "4"}), "--seq applies to --model only");
  EXPECT_EQ(Trace().outcome({"--seq", "4", "--skip-unknown", "--model", "m"}), "--skip-unknown applies to --onnx only");
  // The source rule is declared first, so it is the message.
  EXPECT_EQ(Trace().outcome({"--seq", "4"}), "give exactly one of --model, --onnx");
  // --list-models: no rule applies, not even with a source or a flag it needs.
  Trace list;
  EXPECT_EQ(list.outcome({"--list-models"}), "ok");
  EXPECT_TRUE(list.list);
  EXPECT_EQ(Trace().outcome({"--seq", "4", "--list-models", "--skip-unknown"}), "ok");
  EXPECT_EQ(Trace().outcome({"--list-models", "--model", "m", "--onnx", "f"}), "ok");
  // ... but every word is still read: bad values and unknown options are errors.
  EXPECT_EQ(Trace().outcome({"--list-models", "--seq", "0"}), "--seq: must be at least 1, got 0");
  EXPECT_EQ(Trace().outcome({"--list-models", "--bogus"}).substr(0, 22), "unknown option --bogus");
}

// The library's settings as the user sees them: the flag that sets each, and
// the path a data or output folder names (flag_error's table, the one place
// settings meet flags).
TEST(FlagError, NamesTheFlagAndKeepsThePath) {
  EXPECT_STREQ(flag_error(SettingError("lr", "expected a finite learning rate > 0")).what(),
               "--lr: expected a finite learning rate > 0");
  EXPECT_STREQ(flag_error(SettingError("iso_area", "too small")).what(), "--iso-area: too small");
  EXPECT_STREQ(flag_error(SettingError("model", "unknown")).what(), "--model: unknown");
  const InputError out = flag_error(SettingError("out", "exists and is not a directory", "runs/a"));
  EXPECT_EQ(out.file(), "runs/a");
  EXPECT_EQ(out.field(), "--out");
  EXPECT_STREQ(out.what(), "runs/a: --out: exists and is not a directory");
  EXPECT_THROW(flag_error(SettingError("momentum", "x")), std::logic_error);
}

TEST(FlagError, RendersSettingReferencesAsFlags) {
  EXPECT_EQ(setting_ref("max_steps"), "{setting:max_steps}");
  EXPECT_STREQ(flag_error(SettingError("max_steps", "over 10 steps; raise " + setting_ref("max_steps") + " to run it"))
                   .what(),
               "--max-steps: over 10 steps; raise --max-steps to run it");
  EXPECT_EQ(render_settings("choose another " + setting_ref("out") + " or pass " + setting_ref("force") + "."),
            "choose another --out or pass --force.");
  // A name no flag sets, or a reference left open, stays as written: the text may quote the user.
  EXPECT_EQ(render_settings("got '{setting:momentum}' and {setting:out"), "got '{setting:momentum}' and {setting:out");
  EXPECT_EQ(render_settings("{setting:x}{setting:policy}"), "{setting:x}--policy");
  EXPECT_EQ(render_settings("{setting:{setting:policy}"), "{setting:{setting:policy}");
}

}  // namespace
}  // namespace nibble::cli
