// The "Bad input" table of docs/validation.md cannot rot: every file under
// tests/fuzz/bad_input/<parser>/ is run through its parser here, and the table
// must have a row for it quoting the exact message (InputError::what(), with
// the file's name as the origin), or "(accepted)" for an input that parses.
// A missing or stale row fails with the row to paste.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/onnx/onnx_import.hpp"
#include "models/train/idx.hpp"
#include "sim/cli/args.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/design/design.hpp"
#include "sim/design/scalesim_config.hpp"
#include "sim/energy/energy_model.hpp"
#include "sim/energy/tech_table.hpp"
#include "sim/report/layers_table.hpp"
#include "sim/sweep/sweep_spec.hpp"
#include "workloads/policy.hpp"
#include "workloads/scalesim.hpp"
#include "workloads/trace_io.hpp"

namespace nibble {
namespace {

namespace fs = std::filesystem;

const std::string kSource = NIBBLE_SOURCE_DIR;
const std::string kAccepted = "(accepted)";

/// Each folder of tests/fuzz/bad_input/ and the parser a user reaches with such a file.
const std::map<std::string, std::function<void(const std::string& text, const std::string& origin)>>& parsers() {
  static const std::map<std::string, std::function<void(const std::string&, const std::string&)>> table = {
      {"trace", [](const std::string& t, const std::string& o) { workloads::read_trace(t, o); }},
      {"scalesim", [](const std::string& t, const std::string& o) { workloads::parse_scalesim_topology(t, o); }},
      {"onnx", [](const std::string& t, const std::string& o) { models::import_onnx_bytes(t, o, "model", {}); }},
      {"tech", [](const std::string& t, const std::string& o) { energy::parse_tech_table(t, o); }},
      {"policy", [](const std::string& t, const std::string& o) { workloads::parse_policy_text(t, o, std::nullopt); }},
      {"layers_csv",
       [](const std::string& t, const std::string& o) { report::parse_layers_csv(t, o, energy::required_counter_names()); }},
      {"sweep", [](const std::string& t, const std::string& o) { sweep::parse_sweep(t, o); }},
      {"design", [](const std::string& t, const std::string& o) { design::parse_design(t, o); }},
      {"scalesim_config", [](const std::string& t, const std::string& o) { design::parse_scalesim_config(t, o); }},
      // Every IDX file here is read as an image file (rank 3), as `nibble train` reads *-images-*.
      {"idx",
       [](const std::string& t, const std::string& o) {
         train::parse_idx(o, std::vector<std::uint8_t>(t.begin(), t.end()), 3);
       }},
  };
  return table;
}

/// What the parser of `folder` says about `file`: the error's one line as
/// `nibble` prints it (after "nibble: "), or kAccepted.
std::string outcome(const std::string& folder, const fs::path& file) {
  try {
    parsers().at(folder)(read_file(file.string()), file.filename().string());
  } catch (const InputError& e) {
    return cli::render_settings(e.what());
  }
  return kAccepted;
}

std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  for (auto& c : cells) {
    const auto first = c.find_first_not_of(' ');
    c = first == std::string::npos ? "" : c.substr(first, c.find_last_not_of(' ') - first + 1);
    if (c.size() >= 2 && c.front() == '`' && c.back() == '`') c = c.substr(1, c.size() - 2);
  }
  return cells;
}

/// input path (e.g. "trace/truncated.trace") -> message cell, from the rows
/// between the bad-input markers of docs/validation.md.
std::map<std::string, std::string> documented_messages() {
  const std::string path = kSource + "/docs/validation.md";
  if (!fs::exists(path)) return {};
  const std::string doc = read_file(path);
  const std::string begin = "<!-- bad-input-table: begin -->", end = "<!-- bad-input-table: end -->";
  const std::size_t from = doc.find(begin), to = doc.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from) return {};
  std::map<std::string, std::string> rows;
  std::size_t at = from;
  while (at < to) {
    const std::size_t eol = doc.find('\n', at);
    const std::string line = doc.substr(at, eol - at);
    at = eol + 1;
    if (line.rfind("| `", 0) != 0) continue;
    const auto cells = cells_of(line);
    if (cells.size() >= 3) rows[cells.front()] = cells.back();
  }
  return rows;
}

TEST(BadInput, EveryMessageInTheValidationTableIsExact) {
  const auto documented = documented_messages();
  EXPECT_FALSE(documented.empty()) << "no bad-input table between the markers in docs/validation.md";
  std::size_t checked = 0;
  for (const auto& [folder, parse] : parsers()) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(kSource + "/tests/fuzz/bad_input/" + folder)) {
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string key = folder + "/" + file.filename().string();
      const std::string message = outcome(folder, file);
      const auto it = documented.find(key);
      if (it == documented.end()) {
        ADD_FAILURE() << "docs/validation.md has no row for " << key << "; add:\n| `" << key << "` | ... | `" << message
                      << "` |";
      } else {
        EXPECT_EQ(it->second, message) << "stale row for " << key;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, documented.size()) << "the table lists inputs that tests/fuzz/bad_input/ does not have";
}

// Found by the bad-input table: a .cfg of binary garbage was quoted raw in
// "key before any [section] header", so the one-line message was not UTF-8
// (unprintable, and unreadable by tools that expect text). what() now writes
// every byte outside well-formed UTF-8, and the C1 controls, as \xNN; valid
// multi-byte characters stay as they are; message() keeps the raw bytes.
TEST(BadInput, BytesThatAreNotUtf8AreEscapedInErrors) {
  // "\xbb" is a lone continuation byte, "\xc3(" a lead byte without its
  // continuation, "\xe2\x82" a 3-byte sequence cut short at the end.
  EXPECT_STREQ(InputError("f", 1, "", "got '\xbb\xc3(\xe2\x82'").what(), "f:1: got '\\xbb\\xc3(\\xe2\\x82'");
  // Overlong "/" (c0 af) and a UTF-16 surrogate (ed a0 80) are not UTF-8 either.
  EXPECT_STREQ(InputError("f", 0, "", "\xc0\xaf \xed\xa0\x80").what(), "f: \\xc0\\xaf \\xed\\xa0\\x80");
  // U+009B (c2 9b, a terminal's CSI) is a control character; e-acute (c3 a9)
  // and the euro sign (e2 82 ac) are text.
  EXPECT_STREQ(InputError("f", 0, "", "\xc2\x9b[2J caf\xc3\xa9 \xe2\x82\xac").what(),
               "f: \\xc2\\x9b[2J caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(InputError("f", 0, "", "\xbb").message(), "\xbb");
}

}  // namespace
}  // namespace nibble
