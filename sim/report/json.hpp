// JSON output (summary.json and friends): nlohmann::ordered_json keeps keys in
// insertion order, so the same run always gives the same bytes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nibble::report {

/// The document as nibble writes it: 2-space indent, a final newline.
std::string json_text(const nlohmann::ordered_json& doc);
/// Writes json_text(doc) to `path` atomically.
void write_json_atomic(const std::string& path, const nlohmann::ordered_json& doc);
/// A double that JSON can hold: non-finite values become null (JSON has no NaN or infinity).
nlohmann::ordered_json json_number(double value);

}  // namespace nibble::report
