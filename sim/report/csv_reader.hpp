// Reading CSV back (layers.csv of an earlier run, user tables): RFC 4180
// quoting, LF or CRLF line ends, a header row, every row as wide as the
// header. Errors are nibble::InputError with the file and the line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::report {

/// A parsed CSV file.
struct CsvTable {
  std::vector<std::string> header;             ///< column names
  std::vector<std::vector<std::string>> rows;  ///< each header.size() fields
  std::vector<std::int64_t> lines;             ///< 1-based line where each row starts
};

/// Parses CSV text. Blank lines are skipped; a UTF-8 byte-order mark is
/// ignored; a row with a different number of fields than the header, an
/// unterminated quote or text after a closing quote is an InputError naming
/// `origin` and the line. A file without a header row is an error too.
CsvTable parse_csv(std::string_view text, const std::string& origin);
/// Reads and parses a CSV file.
CsvTable read_csv(const std::string& path);

}  // namespace nibble::report
