#include "sim/report/html.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "sim/common/files.hpp"

namespace nibble::report {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// No '<', '>' or '&' in the style sheet: it must be valid XML character data.
constexpr const char* kStyle =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "margin:24px auto;max-width:1120px;padding:0 16px;color:#1b1b1b;background:#fff;line-height:1.45}"
    "h1{font-size:1.6em;margin:0 0 4px}"
    "h2{font-size:1.25em;margin:30px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}"
    "h3{font-size:1.05em;margin:18px 0 6px}"
    ".subtitle{color:#555;margin:0 0 14px}"
    "nav{font-size:.9em;margin:8px 0 16px}nav a{margin-right:14px;color:#2a5db0;text-decoration:none}"
    ".headlines{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}"
    ".headline{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px;background:#fafafa}"
    ".headline .label{font-size:.8em;color:#555}"
    ".headline .value{font-size:1.5em;font-weight:600}"
    ".headline .unit{font-size:.85em;color:#555;margin-left:4px}"
    ".headline .note{font-size:.75em;color:#777}"
    "table{border-collapse:collapse;font-size:.85em;margin:6px 0}"
    "caption{text-align:left;font-size:.9em;color:#444;padding:2px 0}"
    "th,td{border-bottom:1px solid #e3e3e3;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3;position:sticky;top:0}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".scroll{overflow:auto;max-height:560px;border:1px solid #eee;margin:6px 0}"
    "figure{margin:12px 0}figcaption{font-size:.85em;color:#555}"
    "svg{max-width:100%;height:auto}svg text{font-family:inherit}"
    "pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:.85em}"
    "details{margin:6px 0}summary{cursor:pointer;font-size:.95em}";

/// Length of the UTF-8 sequence starting at `s[i]` if it is valid and an
/// allowed XML character, else 0.
std::size_t valid_xml_char(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;  // continuation byte or invalid lead byte (incl. overlong C0/C1)
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  if (overlong || surrogate || cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF) return 0;
  return len;
}

std::string slug(const std::string& title) {
  std::string out;
  for (const char c : title) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "section" : out;
}

/// The height attribute of the first <svg> element, 0 if absent.
double svg_height(const std::string& svg) {
  const std::size_t open = svg.find("<svg");
  if (open == std::string::npos) return 0.0;
  const std::size_t end = svg.find('>', open);
  const std::size_t at = svg.find(" height=\"", open);
  if (at == std::string::npos || at > end) return 0.0;
  return std::strtod(svg.c_str() + at + 9, nullptr);
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = valid_xml_char(text, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (len == 1) {
      switch (text[i]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += text[i];
      }
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

HtmlPage::HtmlPage(std::string title, std::string subtitle)
    : m_title(std::move(title)), m_subtitle(std::move(subtitle)) {}

std::string HtmlPage::anchor_for(const std::string& title) {
  const std::string base = slug(title);
  std::string id = base;
  for (int n = 2;; ++n) {
    bool taken = false;
    for (const auto& a : m_anchors) taken = taken || a == id;
    if (!taken) break;
    id = base + "-" + std::to_string(n);
  }
  return id;
}

void HtmlPage::section(const std::string& title) {
  const std::string id = anchor_for(title);
  m_sections.push_back(title);
  m_anchors.push_back(id);
  m_body += "<h2 id=\"" + id + "\">" + escape_xml(title) + "</h2>\n";
}

void HtmlPage::subsection(const std::string& title) { m_body += "<h3>" + escape_xml(title) + "</h3>\n"; }

void HtmlPage::paragraph(const std::string& text) { m_body += "<p>" + escape_xml(text) + "</p>\n"; }

void HtmlPage::headlines(const std::vector<Headline>& items) {
  m_body += "<div class=\"headlines\">\n";
  for (const auto& h : items) {
    m_body += "<div class=\"headline\"><div class=\"label\">" + escape_xml(h.label) + "</div><div><span class=\"value\">" +
              escape_xml(h.value) + "</span>";
    if (!h.unit.empty()) m_body += "<span class=\"unit\">" + escape_xml(h.unit) + "</span>";
    m_body += "</div>";
    if (!h.note.empty()) m_body += "<div class=\"note\">" + escape_xml(h.note) + "</div>";
    m_body += "</div>\n";
  }
  m_body += "</div>\n";
}

void HtmlPage::table(const HtmlTable& t, std::size_t scroll_rows) {
  const auto is_num = [&](std::size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  const bool scroll = t.rows.size() > scroll_rows;
  if (scroll) m_body += "<div class=\"scroll\">\n";
  m_body += "<table>\n";
  if (!t.caption.empty()) m_body += "<caption>" + escape_xml(t.caption) + "</caption>\n";
  m_body += "<thead><tr>";
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    m_body += is_num(c) ? "<th class=\"num\">" : "<th>";
    m_body += escape_xml(t.columns[c]) + "</th>";
  }
  m_body += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    if (row.size() != t.columns.size()) {
      throw std::logic_error("HTML table row has " + std::to_string(row.size()) + " cells, header has " +
                             std::to_string(t.columns.size()));
    }
    m_body += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c) {
      m_body += is_num(c) ? "<td class=\"num\">" : "<td>";
      m_body += escape_xml(row[c]) + "</td>";
    }
    m_body += "</tr>\n";
  }
  m_body += "</tbody>\n</table>\n";
  if (scroll) m_body += "</div>\n";
}

void HtmlPage::figure(const std::string& svg, const std::string& caption) {
  const bool scroll = svg_height(svg) > 640.0;
  m_body += "<figure>\n";
  if (scroll) m_body += "<div class=\"scroll\" style=\"max-height:660px\">\n";
  m_body += svg;
  if (!svg.empty() && svg.back() != '\n') m_body += '\n';
  if (scroll) m_body += "</div>\n";
  if (!caption.empty()) m_body += "<figcaption>" + escape_xml(caption) + "</figcaption>\n";
  m_body += "</figure>\n";
}

void HtmlPage::details_figure(const std::string& summary, const std::string& svg, const std::string& caption) {
  m_body += "<details>\n<summary>" + escape_xml(summary) + "</summary>\n";
  figure(svg, caption);
  m_body += "</details>\n";
}

void HtmlPage::preformatted(const std::string& text) { m_body += "<pre>" + escape_xml(text) + "</pre>\n"; }

std::string HtmlPage::str() const {
  std::string out;
  out.reserve(m_body.size() + 4096);
  out += "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n";
  out += "<meta charset=\"utf-8\"/>\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += "<meta name=\"generator\" content=\"nibble\"/>\n";
  out += "<title>" + escape_xml(m_title) + "</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += "<h1>" + escape_xml(m_title) + "</h1>\n";
  if (!m_subtitle.empty()) out += "<p class=\"subtitle\">" + escape_xml(m_subtitle) + "</p>\n";
  if (m_sections.size() >= 2) {
    out += "<nav>";
    for (std::size_t i = 0; i < m_sections.size(); ++i) {
      out += "<a href=\"#" + m_anchors[i] + "\">" + escape_xml(m_sections[i]) + "</a>";
    }
    out += "</nav>\n";
  }
  out += m_body;
  out += "</body>\n</html>\n";
  return out;
}

void HtmlPage::write(const std::string& path) const { write_file_atomic(path, str()); }

}  // namespace nibble::report
