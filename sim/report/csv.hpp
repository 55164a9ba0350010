// CSV output that pandas, spreadsheets and SCALE-Sim users read without
// surprises: a header row, RFC 4180 quoting where a field needs it, '\n'
// line ends, numbers printed exactly (integers as integers, doubles by
// nibble::format_double).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nibble::report {

class CsvWriter {
 public:
  /// Starts a table with these column names.
  explicit CsvWriter(std::vector<std::string> columns);

  /// Appends a row; it must have one field per column (std::logic_error otherwise).
  void row(const std::vector<std::string>& fields);
  /// The whole table, header first.
  const std::string& str() const { return m_out; }
  std::size_t columns() const { return m_columns; }

  /// A field quoted only when it holds a comma, quote, CR or LF.
  static std::string quote(const std::string& field);
  static std::string field(std::uint64_t value) { return std::to_string(value); }
  static std::string field(double value);

 private:
  void append(const std::vector<std::string>& fields);

  std::size_t m_columns;  ///< fields per row
  std::string m_out;      ///< the table so far
};

}  // namespace nibble::report
