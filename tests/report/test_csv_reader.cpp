#include <gtest/gtest.h>

#include "sim/common/error.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/csv_reader.hpp"

namespace nibble::report {
namespace {

TEST(CsvReader, ReadsBackWhatTheWriterWrote) {
  CsvWriter w({"layer", "note", "n"});
  w.row({"conv1", "a,b", "1"});
  w.row({"fc \"head\"", "two\nlines", "2"});
  w.row({"", "", "3"});
  const CsvTable t = parse_csv(w.str(), "x.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"layer", "note", "n"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"conv1", "a,b", "1"}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"fc \"head\"", "two\nlines", "2"}));
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"", "", "3"}));
  // Line numbers count the embedded newline: rows start on lines 2, 3 and 5.
  EXPECT_EQ(t.lines, (std::vector<std::int64_t>{2, 3, 5}));
}

TEST(CsvReader, AcceptsCrlfBomBlankLinesAndNoFinalNewline) {
  const CsvTable t = parse_csv("\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n3,\"4\"", "x.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(t.lines[1], 4);
}

TEST(CsvReader, ErrorsNameTheLine) {
  const auto error_line = [](const std::string& text) -> std::int64_t {
    try {
      parse_csv(text, "bad.csv");
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "bad.csv");
      return e.line();
    }
    ADD_FAILURE() << "no error for: " << text;
    return -1;
  };
  EXPECT_EQ(error_line("a,b\n1,2\n1,2,3\n"), 3);     // too many fields
  EXPECT_EQ(error_line("a,b\n1\n"), 2);             // too few
  EXPECT_EQ(error_line("a,b\n1,\"open\n2,3\n"), 2); // unterminated quote, reported where it opened
  EXPECT_EQ(error_line("a,b\n\"x\"y,2\n"), 2);      // text after a closing quote
  EXPECT_EQ(error_line(""), 0);                     // no header
}

}  // namespace
}  // namespace nibble::report
