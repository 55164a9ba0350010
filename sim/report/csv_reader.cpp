#include "sim/report/csv_reader.hpp"

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"

namespace nibble::report {

CsvTable parse_csv(std::string_view text, const std::string& origin) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  std::size_t i = 0;
  std::int64_t line = 1;
  const std::size_t n = text.size();
  bool have_header = false;
  while (i < n) {
    // One record, starting at `line`.
    const std::int64_t record_line = line;
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {  // blank line
      i += text[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    std::vector<std::string> fields;
    std::string field;
    bool end_of_record = false;
    while (!end_of_record) {
      field.clear();
      if (i < n && text[i] == '"') {
        const std::int64_t quote_line = line;
        ++i;
        for (;;) {
          if (i >= n) throw InputError(origin, quote_line, "", "unterminated quoted field (a '\"' opened here is never closed)");
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') &&
            !(text[i] == '\r' && i + 1 == n)) {
          throw InputError(origin, line, "", std::string("unexpected character '") + text[i] +
                                                 "' after a closing quote (expected ',' or the end of the line)");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && !(text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n'))) {
          field += text[i];
          ++i;
        }
      }
      fields.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      end_of_record = true;
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') {
        ++i;
        ++line;
      }
    }
    if (!have_header) {
      table.header = std::move(fields);
      have_header = true;
      continue;
    }
    if (fields.size() != table.header.size()) {
      throw InputError(origin, record_line, "",
                       "expected " + std::to_string(table.header.size()) + " fields (as many as the header), got " +
                           std::to_string(fields.size()));
    }
    table.rows.push_back(std::move(fields));
    table.lines.push_back(record_line);
  }
  if (!have_header) throw InputError(origin, 0, "", "empty file, expected a CSV header row");
  return table;
}

CsvTable read_csv(const std::string& path) { return parse_csv(read_file(path), path); }

}  // namespace nibble::report
