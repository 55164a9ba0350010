#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble {
namespace {

TEST(Text, ParseU64RejectsJunkSignsAndOverflow) {
  EXPECT_EQ(parse_u64("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64("+1"));
  EXPECT_FALSE(parse_u64("12a"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_EQ(parse_u64("0"), 0u);
}

TEST(Text, ParseI64AndDouble) {
  EXPECT_EQ(parse_i64("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(parse_i64("9223372036854775808"));
  EXPECT_EQ(parse_i64("+7"), 7);
  EXPECT_FALSE(parse_i64("+"));
  EXPECT_DOUBLE_EQ(*parse_double("1.5e3"), 1500.0);
  EXPECT_FALSE(parse_double("nan"));
  EXPECT_FALSE(parse_double("1.5x"));
}

TEST(Text, ClosestMatchSuggestsTyposOnly) {
  const std::vector<std::string> commands{"simulate", "compare", "train", "trace", "sweep"};
  EXPECT_EQ(closest_match("simualte", commands), "simulate");
  EXPECT_EQ(closest_match("trian", commands), "train");
  EXPECT_EQ(closest_match("xyzzy", commands), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("trian", "train"), 1u);
}

TEST(Text, ClosestMatchAtTheEdgesOfItsThreshold) {
  // Three letters longer is still a typo (3 edits, 3 * 3 <= 11 letters); four
  // are not, and candidates that far apart in length are never compared.
  const std::vector<std::string> commands{"simulate", "compare"};
  EXPECT_EQ(closest_match("simulatexyz", commands), "simulate");
  EXPECT_EQ(closest_match("simulatewxyz", commands), "");
  EXPECT_EQ(closest_match("sim", commands), "");
  EXPECT_EQ(closest_match(std::string(100000, 's'), commands), "");
  // Among equally close candidates the first listed wins.
  EXPECT_EQ(closest_match("trac", {"track", "trace"}), "track");
}

TEST(Text, CheckedArithmeticDetectsOverflow) {
  EXPECT_FALSE(checked_mul(1ull << 32, 1ull << 32));
  EXPECT_EQ(checked_mul(1ull << 31, 1ull << 32), 1ull << 63);
  EXPECT_FALSE(checked_add(std::numeric_limits<std::uint64_t>::max(), 1));
}

TEST(Text, FormatDoubleRoundTrips) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(format_double(2048.0), "2048");
}

TEST(Text, NumberFormatsForTablesAndLabels) {
  EXPECT_EQ(format_fixed(12.345, 1), "12.3");
  EXPECT_EQ(format_fixed(-0.04, 1), "-0.0");
  EXPECT_EQ(format_sig4(1234567), "1.235e+06");
  EXPECT_EQ(format_sig4(0.000123456), "0.0001235");
  EXPECT_EQ(format_si(1234567), "1.235M");
  EXPECT_EQ(format_si(999999.9), "1M");  // "1000k" moves up a group
  EXPECT_EQ(format_si(0.5), "0.5");
  EXPECT_EQ(format_si(12), "12");
  EXPECT_EQ(format_si(-4.2e9), "-4.2G");
  EXPECT_EQ(format_si(NAN), "nan");
  EXPECT_EQ(format_hex(0xBEEF, 8), "0x0000beef");
  EXPECT_EQ(format_fixed_signed(0.04, 4), "+0.0400");
  EXPECT_EQ(format_fixed_signed(-0.0, 4), "-0.0000");  // the sign of zero is kept, as printf keeps it
  EXPECT_EQ(format_sig(0.0078125, 6), "0.0078125");
  EXPECT_EQ(format_sig(1234567, 6), "1.23457e+06");
}

TEST(Text, PaddingForFixedWidthTables) {
  EXPECT_EQ(pad_left("ab", 4), "  ab");
  EXPECT_EQ(pad_right("ab", 4), "ab  ");
  EXPECT_EQ(pad_left("abcdef", 4), "abcdef");  // never cut
  EXPECT_EQ(pad_right("", 2), "  ");
}

TEST(Text, ScaledValuePicksTheSubMultipleThatReadsOneTo999) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(format_scaled(2.5, "J"), P("2.5", "J"));
  EXPECT_EQ(format_scaled(0.0012345, "s"), P("1.234", "ms"));  // 0.0012345 / 1e-3 is just below 1.2345 in binary
  EXPECT_EQ(format_scaled(4.2e-6, "W"), P("4.2", "\xC2\xB5W"));
  EXPECT_EQ(format_scaled(4.2e-7, "W"), P("420", "nW"));
  EXPECT_EQ(format_scaled(3e-9, "J"), P("3", "nJ"));
  EXPECT_EQ(format_scaled(5e-13, "J"), P("0.5", "pJ"));  // below 1 pJ stays in pJ
  EXPECT_EQ(format_scaled(0.0, "J"), P("0", "J"));
}

TEST(Error, MessageNamesFileLineAndField) {
  const InputError e("design.yaml", 12, "array.rows", "expected a whole number >= 1, got 0");
  EXPECT_STREQ(e.what(), "design.yaml:12: array.rows: expected a whole number >= 1, got 0");
  EXPECT_STREQ(InputError("", 0, "--batch", "must be >= 1").what(), "--batch: must be >= 1");
  EXPECT_STREQ(e.relocated("other.yaml", 3).what(), "other.yaml:3: array.rows: expected a whole number >= 1, got 0");
}

}  // namespace
}  // namespace nibble
