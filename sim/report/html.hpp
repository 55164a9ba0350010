// One self-contained HTML page per report: inline CSS and inline SVG, no
// scripts, no fonts or links fetched from anywhere, so it opens offline in any
// browser. The markup is also well-formed XML (XHTML-compatible: every tag
// closed, attributes quoted, text escaped, invalid UTF-8 replaced), so tools
// can parse it, and the same content always gives the same bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::report {

/// Text made safe for XML element content and attribute values: & < > " '
/// escaped; invalid UTF-8, control characters other than tab/LF/CR and the
/// non-characters U+FFFE/U+FFFF replaced by U+FFFD.
std::string escape_xml(std::string_view text);

/// A big number at the top of a report.
struct Headline {
  std::string label;  ///< what it is, e.g. "energy per step"
  std::string value;  ///< already formatted, e.g. "1.23"
  std::string unit;   ///< e.g. "mJ" (may be empty)
  std::string note;   ///< one short line under it (may be empty)
};

/// A table of text cells.
struct HtmlTable {
  std::vector<std::string> columns;            ///< header cells
  std::vector<bool> numeric;                   ///< per column: right-aligned numbers (empty: none)
  std::vector<std::vector<std::string>> rows;  ///< each with one cell per column
  std::string caption;                         ///< shown above the table (may be empty)
};

/// Builds a page piece by piece; str() gives the whole document.
class HtmlPage {
 public:
  /// `title` becomes the <title> and the <h1>; `subtitle` a line under it.
  explicit HtmlPage(std::string title, std::string subtitle = "");

  /// A new section (<h2> with an anchor, listed in the page's contents).
  void section(const std::string& title);
  /// A heading inside a section (<h3>).
  void subsection(const std::string& title);
  /// A paragraph of plain text.
  void paragraph(const std::string& text);
  /// A row of headline numbers.
  void headlines(const std::vector<Headline>& items);
  /// A table; it scrolls inside a box when it has more than `scroll_rows` rows.
  /// Rows with the wrong number of cells are a std::logic_error.
  void table(const HtmlTable& table, std::size_t scroll_rows = 25);
  /// A chart made by sim/report/svg_chart.hpp (trusted markup), with a
  /// caption; charts taller than 640 px scroll inside a box.
  void figure(const std::string& svg, const std::string& caption = "");
  /// figure() inside a <details> block, folded until the reader opens
  /// `summary` (e.g. a chart zoomed into one phase).
  void details_figure(const std::string& summary, const std::string& svg, const std::string& caption = "");
  /// Preformatted text (e.g. a command line).
  void preformatted(const std::string& text);

  /// The complete document.
  std::string str() const;
  /// Writes str() to `path` atomically (temporary file + rename).
  void write(const std::string& path) const;

 private:
  std::string anchor_for(const std::string& title);

  std::string m_title;                   ///< page title
  std::string m_subtitle;                ///< line under the title
  std::string m_body;                    ///< markup after the contents list
  std::vector<std::string> m_sections;   ///< section titles, in order
  std::vector<std::string> m_anchors;    ///< their ids
};

}  // namespace nibble::report
