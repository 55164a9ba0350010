#include "sim/report/json.hpp"

#include <cmath>

#include "sim/common/files.hpp"

namespace nibble::report {

std::string json_text(const nlohmann::ordered_json& doc) {
  // Invalid UTF-8 in a layer name must not throw halfway through a report.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json_atomic(const std::string& path, const nlohmann::ordered_json& doc) {
  write_file_atomic(path, json_text(doc));
}

nlohmann::ordered_json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

}  // namespace nibble::report
