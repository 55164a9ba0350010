#include <gtest/gtest.h>

#include "sim/config/yaml_reader.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::config {
namespace {

constexpr auto message_of = test::input_error_of;

TEST(YamlReader, ReadsTypedValuesAndRejectsUnknownKeysWithSuggestion) {
  const auto root = load_yaml_text("name: tiny\narray:\n  rows: 4\n  colums: 8\nclock_mhz: 500.5\n", "d.yaml");
  YamlMap top(root, "d.yaml", "");
  EXPECT_EQ(top.string("name"), "tiny");
  EXPECT_DOUBLE_EQ(top.number("clock_mhz", 1e-3, 1e6), 500.5);
  YamlMap array = top.map("array");
  EXPECT_EQ(array.u64("rows", 1), 4u);
  EXPECT_EQ(message_of([&] { array.u64("cols", 1); }), "d.yaml:2: array.cols: missing key");
  EXPECT_EQ(message_of([&] { array.finish({"cols"}); }), "d.yaml:4: array.colums: unknown key (did you mean 'cols'?)");
  EXPECT_NO_THROW(top.finish());
}

TEST(YamlReader, RangeTypeAndChoiceErrorsNameLineAndKey) {
  const auto root = load_yaml_text("rows: 0\ncols: -3\nflow: wss\nbw: [1, 2]\nok: maybe\n", "x.yaml");
  YamlMap top(root, "x.yaml", "");
  EXPECT_EQ(message_of([&] { top.u64("rows", 1); }), "x.yaml:1: rows: expected a whole number >= 1, got 0");
  EXPECT_EQ(message_of([&] { top.u64("cols", 1); }), "x.yaml:2: cols: expected a whole number >= 1, got '-3'");
  EXPECT_EQ(message_of([&] { top.choice("flow", {"ws", "os", "is"}); }),
            "x.yaml:3: flow: expected one of ws, os, is, got 'wss' (did you mean 'ws'?)");
  EXPECT_EQ(message_of([&] { top.number("bw", 0, 10); }), "x.yaml:4: bw: expected a single value, not a list or mapping");
  EXPECT_EQ(message_of([&] { top.boolean("ok"); }), "x.yaml:5: ok: expected true or false, got 'maybe'");
}

TEST(YamlReader, SyntaxErrorsEmptyFilesAndDeepNesting) {
  EXPECT_EQ(message_of([] { load_yaml_text("a: [1, 2\n", "s.yaml"); }).rfind("s.yaml:", 0), 0u);
  EXPECT_EQ(message_of([] { load_yaml_text("", "e.yaml"); }), "e.yaml: file is empty, expected a YAML mapping");
  EXPECT_EQ(message_of([] { load_yaml_text("- 1\n- 2\n", "l.yaml"); }),
            "l.yaml:1: expected a YAML mapping of keys at the top level");
  EXPECT_EQ(message_of([] { load_yaml_text("a: " + std::string(1000, '['), "n.yaml"); }),
            "n.yaml:1: nesting deeper than 64 levels");
  EXPECT_EQ(message_of([] { load_yaml_file("/nonexistent.yaml"); }).rfind("/nonexistent.yaml: cannot open", 0), 0u);
  // Block nesting ("- - - ...") has no brackets to count; yaml-cpp's own depth guard
  // stops it, and its message ("bad file") is replaced by one that says what happened.
  std::string deep;
  for (int i = 0; i < 600; ++i) deep += "- ";
  EXPECT_EQ(message_of([&] { load_yaml_text(deep + "x\n", "b.yaml"); }),
            "b.yaml:1: nesting too deep (the YAML parser stops at about 500 levels)");
}

// yaml-cpp keeps both copies of a repeated key and lookups see the first; the
// second used to pass finish() unnoticed (its name had been read).
TEST(YamlReader, AKeyWrittenTwiceIsAnError) {
  const auto root = load_yaml_text("rows: 4\ncols: 8\nrows: 16\n", "r.yaml");
  YamlMap top(root, "r.yaml", "");
  EXPECT_EQ(top.u64("rows"), 4u);
  EXPECT_EQ(top.u64("cols"), 8u);
  EXPECT_EQ(message_of([&] { top.finish(); }), "r.yaml:3: rows: appears twice; give each key once");
}

TEST(YamlReader, AMisspeltRequiredKeyIsPointedAt) {
  const auto root = load_yaml_text("name: x\nworkload: [1]\npolicies: [a]\n", "s.yaml");
  const YamlMap top(root, "s.yaml", "");
  const std::vector<std::string> known = {"name", "workloads", "policies"};
  const auto typo = top.typo_of("workloads", known);
  ASSERT_TRUE(typo.has_value());
  EXPECT_STREQ(typo->what(), "s.yaml:2: workload: unknown key (did you mean 'workloads'?)");
  // A key of the schema is never taken for a typo, however close.
  EXPECT_FALSE(top.typo_of("policy", known).has_value());
  EXPECT_FALSE(top.typo_of("design", known).has_value());
}

// Control characters quoted from a file are escaped in what() (one line, no ESC
// reaching the terminal); message() keeps the raw text.
TEST(YamlReader, ControlCharactersAreEscapedInErrors) {
  const auto root = load_yaml_text("flow: \"w\\rs\\x1b\"\n", "c.yaml");
  YamlMap top(root, "c.yaml", "");
  try {
    top.choice("flow", {"ws", "os"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "c.yaml:1: flow: expected one of ws, os, got 'w\\rs\\x1b'");
    EXPECT_EQ(e.message(), "expected one of ws, os, got 'w\rs\x1b'");
  }
}

}  // namespace
}  // namespace nibble::config
