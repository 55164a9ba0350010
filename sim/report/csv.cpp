#include "sim/report/csv.hpp"

#include <stdexcept>

#include "sim/common/text.hpp"

namespace nibble::report {

CsvWriter::CsvWriter(std::vector<std::string> columns) : m_columns(columns.size()) { append(columns); }

void CsvWriter::row(const std::vector<std::string>& fields) {
  if (fields.size() != m_columns) {
    throw std::logic_error("CSV row has " + std::to_string(fields.size()) + " fields, header has " +
                           std::to_string(m_columns));
  }
  append(fields);
}

std::string CsvWriter::quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvWriter::field(double value) { return format_double(value); }

void CsvWriter::append(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) m_out += ',';
    m_out += quote(fields[i]);
  }
  m_out += '\n';
}

}  // namespace nibble::report
