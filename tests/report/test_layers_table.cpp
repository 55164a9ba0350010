#include <gtest/gtest.h>

#include <random>

#include "sim/common/error.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/layers_table.hpp"

namespace nibble::report {
namespace {

TEST(LayersTable, WholeNumberColumnsBecomeCounters) {
  const std::string text =
      "layer,phase,cycles,utilization,macs\n"
      "conv1,forward,100,0.5,6400\n"
      "\"fc,1\",weight_grad,18446744073709551615,1,0\n";
  const LayersTable t = parse_layers_csv(text, "layers.csv", {"cycles", "macs"});
  EXPECT_EQ(t.layers, (std::vector<std::string>{"conv1", "fc,1"}));
  EXPECT_EQ(t.phases, (std::vector<std::string>{"forward", "weight_grad"}));
  ASSERT_EQ(t.registry.size(), 2u);
  EXPECT_EQ(t.registry.def(0).name, "cycles");
  EXPECT_EQ(t.rows[1][t.registry.at("cycles")], 18446744073709551615ull);  // 2^64 - 1 survives
  EXPECT_EQ(t.rows[0][t.registry.at("macs")], 6400u);
  EXPECT_EQ(t.other_columns, std::vector<std::string>{"utilization"});
  EXPECT_EQ(t.lines, (std::vector<std::int64_t>{2, 3}));
}

TEST(LayersTable, RequiredCountersMustBeWholeNumbers) {
  try {
    parse_layers_csv("layer,phase,macs\na,forward,12\nb,forward,1.5\n", "layers.csv", {"macs"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "macs");
  }
  EXPECT_THROW(parse_layers_csv("layer,phase\na,forward\n", "l.csv", {"macs"}), InputError);
  EXPECT_THROW(parse_layers_csv("phase,macs\nforward,1\n", "l.csv"), InputError);         // no layer column
  EXPECT_THROW(parse_layers_csv("layer,phase,x,x\na,b,1,2\n", "l.csv"), InputError);      // duplicate column
  EXPECT_THROW(parse_layers_csv("layer,phase,macs\na,b,-1\n", "l.csv", {"macs"}), InputError);
}

// Found by fuzz_layers_csv: control characters in a column name were printed raw
// in the one-line error. Counts beyond 64 bits say so.
TEST(LayersTable, MessagesStayOnOneLineAndNameOverflow) {
  try {
    parse_layers_csv("layer,phase,\rx,\rx\na,b,1,2\n", "l.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "\rx");  // the raw name stays available to code
    EXPECT_STREQ(e.what(), "l.csv:1: \\rx: column appears twice in the header");
  }
  try {
    parse_layers_csv("layer,phase,macs\na,forward,18446744073709551616\n", "l.csv", {"macs"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "l.csv:2: macs: the count 18446744073709551616 does not fit in 64 bits");
  }
}

}  // namespace
}  // namespace nibble::report

namespace nibble::report {
namespace {

// Random damage to a CSV must give a table or an InputError, nothing else;
// a table it gives is what the file says: written back (CsvWriter quotes the
// fields that need it) and read again, it is the same table. A parser that
// did not undo a doubled quote ("say ""hi""") reads its own re-quoted output
// differently.
TEST(LayersTable, DamagedFilesFailCleanly) {
  const std::string good =
      "layer,phase,cycles,macs,note\nconv1,forward,100,6400,\"a,b\"\nfc,weight_grad,7,0,\"say \"\"hi\"\"\"\r\n";
  std::mt19937_64 rng(7);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = good;
    for (int e = 0; e < 3; ++e) {
      const std::size_t at = rng() % text.size();
      if (rng() % 2) {
        text[at] = ",\"\r\n9x"[rng() % 6];
      } else {
        text.erase(at, 1 + rng() % 5);
      }
      if (text.empty()) break;
    }
    LayersTable t;
    try {
      t = parse_layers_csv(text, "damaged.csv", {});
    } catch (const InputError&) {
      ++rejected;
      continue;
    }
    ASSERT_EQ(t.rows.size(), t.layers.size());
    for (const auto& row : t.rows) ASSERT_EQ(row.size(), t.registry.size());
    std::vector<std::string> columns{"layer", "phase"};
    for (StatRegistry::Id id = 0; id < t.registry.size(); ++id) columns.push_back(t.registry.def(id).name);
    CsvWriter out(columns);
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      std::vector<std::string> fields{t.layers[r], t.phases[r]};
      for (const std::uint64_t v : t.rows[r].values()) fields.push_back(CsvWriter::field(v));
      out.row(fields);
    }
    const LayersTable again = parse_layers_csv(out.str(), "again.csv", {});
    ASSERT_EQ(again.layers, t.layers) << text;
    ASSERT_EQ(again.phases, t.phases) << text;
    ASSERT_EQ(again.registry.size(), t.registry.size()) << text;
    for (std::size_t r = 0; r < t.rows.size(); ++r) ASSERT_EQ(again.rows[r].values(), t.rows[r].values()) << text;
  }
  EXPECT_GT(rejected, 0);
  EXPECT_LT(rejected, 3000);  // both outcomes are exercised
}

}  // namespace
}  // namespace nibble::report
