#include "sim/report/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "sim/common/text.hpp"
#include "sim/report/html.hpp"

namespace nibble::report {

namespace {

// Layout, in SVG user units (px at 100 %).
constexpr double kWidth = 820.0;
constexpr double kCharWidth = 6.4;      // average advance of an 11 px sans-serif glyph
constexpr std::size_t kMaxLabelChars = 38;
constexpr double kBarRow = 16.0;        // stacked: one category per row
constexpr double kBarHeight = 12.0;
constexpr double kGroupBar = 10.0;      // grouped: one bar per series
constexpr double kGroupGap = 8.0;

const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr std::size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

/// A coordinate with one decimal; never "-0.0".
std::string num(double v) {
  if (!std::isfinite(v)) v = 0.0;
  std::string s = format_fixed(v, 1);
  if (s == "-0.0") s = "0.0";
  return s;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// At most `max_chars` code points, "…" marking a cut.
std::string truncate_label(const std::string& s, std::size_t max_chars) {
  if (utf8_length(s) <= max_chars) return s;
  std::size_t count = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == max_chars - 1) break;
      ++count;
    }
  }
  return s.substr(0, i) + "\xE2\x80\xA6";
}

double clean(double v) { return std::isfinite(v) && v > 0.0 ? v : 0.0; }

std::string svg_open(double width, double height, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
         "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\" role=\"img\" aria-label=\"" + escape_xml(title) +
         "\" font-family=\"sans-serif\" font-size=\"11\">\n";
}

std::string text(double x, double y, const std::string& content, const char* anchor = "start",
                 const std::string& extra = "") {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" +
         (extra.empty() ? "" : " " + extra) + ">" + escape_xml(content) + "</text>\n";
}

std::string title_text(const std::string& title) {
  return title.empty() ? "" : text(8.0, 18.0, title, "start", "font-size=\"14\" font-weight=\"600\"");
}

struct LegendItem {
  std::string name;   ///< label
  std::string color;  ///< fill
  bool circle;        ///< circle marker instead of a square
};

/// Legend items flowing left to right from (x0, y0), wrapping at `width`.
/// Returns the markup and the height used.
std::pair<std::string, double> legend(const std::vector<LegendItem>& items, double x0, double y0, double width) {
  std::string out;
  double x = x0;
  double y = y0;
  const double line = 16.0;
  for (const auto& item : items) {
    const std::string name = truncate_label(item.name, 40);
    const double w = 18.0 + kCharWidth * static_cast<double>(utf8_length(name)) + 14.0;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += line;
    }
    if (item.circle) {
      out += "<circle cx=\"" + num(x + 5) + "\" cy=\"" + num(y + 5) + "\" r=\"5\" fill=\"" + item.color + "\"/>\n";
    } else {
      out += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"10\" height=\"10\" fill=\"" + item.color + "\"/>\n";
    }
    out += text(x + 15, y + 9, name);
    x += w;
  }
  return {out, items.empty() ? 0.0 : y - y0 + line};
}

/// A linear or logarithmic axis mapping data to pixels.
struct Axis {
  double lo = 0.0, hi = 1.0;   ///< data range (log10 of it when log)
  double p0 = 0.0, p1 = 1.0;   ///< pixel range
  bool log = false;            ///< logarithmic
  std::vector<double> ticks;   ///< tick values (data units)
  double step = 1.0;           ///< spacing of linear ticks (for labels)

  double map(double v) const {
    const double t = log ? std::log10(v) : v;
    return p0 + (t - lo) / (hi - lo) * (p1 - p0);
  }
  std::string label(double v) const { return log ? format_si(v) : format_tick(v, step); }
};

Axis linear_axis(double lo, double hi, double p0, double p1, int target) {
  Axis a;
  a.ticks = nice_ticks(lo, hi, target);
  a.lo = a.ticks.front();
  a.hi = a.ticks.back();
  a.step = a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : 1.0;
  a.p0 = p0;
  a.p1 = p1;
  return a;
}

Axis log_axis(double lo, double hi, double p0, double p1) {
  Axis a;
  a.log = true;
  double e0 = std::floor(std::log10(lo));
  double e1 = std::ceil(std::log10(hi));
  if (e1 <= e0) e1 = e0 + 1.0;
  a.lo = e0;
  a.hi = e1;
  a.p0 = p0;
  a.p1 = p1;
  const bool few_decades = e1 - e0 <= 2.0;
  for (double e = e0; e <= e1 + 0.5; e += 1.0) {
    const double base = std::pow(10.0, e);
    a.ticks.push_back(base);
    if (few_decades && e < e1) {
      a.ticks.push_back(2.0 * base);
      a.ticks.push_back(5.0 * base);
    }
  }
  return a;
}

/// Vertical grid lines and tick labels of a horizontal value axis at the top
/// (and bottom when `bottom`), for bar charts.
std::string value_axis(const Axis& a, double top, double bottom, bool labels_below) {
  std::string out;
  for (const double t : a.ticks) {
    const double x = a.map(t);
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom) +
           "\" stroke=\"#e3e3e3\"/>\n";
    out += text(x, top - 4.0, a.label(t), "middle", "fill=\"#444\"");
    if (labels_below) out += text(x, bottom + 12.0, a.label(t), "middle", "fill=\"#444\"");
  }
  return out;
}

void check_bars(const BarChart& chart) {
  for (const auto& s : chart.series) {
    if (s.values.size() != chart.categories.size()) {
      throw std::logic_error("bar chart series '" + s.name + "' has " + std::to_string(s.values.size()) +
                             " values for " + std::to_string(chart.categories.size()) + " categories");
    }
  }
}

std::string no_data(const std::string& title) {
  return svg_open(kWidth, 60.0, title) + title_text(title) + text(8.0, 44.0, "no data", "start", "fill=\"#777\"") +
         "</svg>\n";
}

/// Shared frame of both bar charts: title, legend, value-axis label, and the
/// left margin for category labels. Returns the y of the plot's top edge.
struct BarFrame {
  std::string head;   ///< markup so far
  double left = 0.0;  ///< x of the value axis origin
  double top = 0.0;   ///< y of the first category
};

BarFrame bar_frame(const BarChart& chart) {
  BarFrame f;
  std::size_t longest = 0;
  for (const auto& c : chart.categories) longest = std::max(longest, std::min(utf8_length(c), kMaxLabelChars));
  f.left = 16.0 + kCharWidth * static_cast<double>(std::max<std::size_t>(longest, 6));
  std::vector<LegendItem> items;
  for (std::size_t i = 0; i < chart.series.size(); ++i) items.push_back({chart.series[i].name, palette_color(i), false});
  const auto [legend_svg, legend_h] = legend(items, 8.0, 28.0, kWidth - 16.0);
  f.head = title_text(chart.title) + legend_svg;
  const double label_y = 28.0 + legend_h + 12.0;
  f.head += text(f.left + (kWidth - 28.0 - f.left) / 2.0, label_y, chart.value_label, "middle", "fill=\"#222\"");
  f.top = label_y + 22.0;
  return f;
}

std::string category_label(double x, double y, const std::string& category, const std::string& tooltip) {
  const std::string shown = truncate_label(category, kMaxLabelChars);
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"end\"><title>" + escape_xml(tooltip) +
         "</title>" + escape_xml(shown) + "</text>\n";
}

std::string bar_rect(double x, double y, double w, double h, const char* color, const std::string& tooltip) {
  return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
         "\" fill=\"" + color + "\"><title>" + escape_xml(tooltip) + "</title></rect>\n";
}

}  // namespace

const char* palette_color(std::size_t index) { return kPalette[index % kPaletteSize]; }

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0.0, 1.0};
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0.0 ? 1.0 : std::fabs(lo) * 0.5;
    if (lo >= 0.0 && lo - pad < 0.0) {
      hi = lo + pad;
      lo = 0.0;
    } else {
      lo -= pad;
      hi += pad;
    }
  }
  target = std::max(1, std::min(target, 50));
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm <= 1.0 ? 1.0 : norm <= 2.0 ? 2.0 : norm <= 2.5 ? 2.5 : norm <= 5.0 ? 5.0 : 10.0) * mag;
  if (!std::isfinite(step) || !(step > 0.0)) return {lo, hi};  // a range too wide for doubles
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last + 0.5 && ticks.size() < 200; k += 1.0) {
    double t = k * step;
    if (std::fabs(t) < step * 1e-9) t = 0.0;
    ticks.push_back(t);
  }
  if (ticks.empty()) return {lo, hi};
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string format_tick(double value, double step) {
  if (!std::isfinite(value)) return "";
  if (value == 0.0) return "0";
  static const char* const kSuffix[] = {"", "k", "M", "G", "T", "P", "E"};
  if (!std::isfinite(step)) step = 0.0;
  const double mag = std::max(std::fabs(value), std::fabs(step));
  int group = 0;
  if (mag >= 1000.0) group = static_cast<int>(std::min(6.0, std::floor(std::log10(mag) / 3.0)));
  const double scale = std::pow(1000.0, group);
  const double v = value / scale;
  const double s = std::fabs(step) / scale;
  int decimals = 0;
  for (; decimals < 12; ++decimals) {
    const double scaled = s * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
  }
  std::string out = format_fixed(v, decimals);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  if (out == "-0") out = "0";
  return out + kSuffix[group];
}

std::vector<std::size_t> pareto_front(const std::vector<ScatterPoint>& points) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (std::isfinite(points[i].x) && std::isfinite(points[i].y)) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (points[a].x != points[b].x) return points[a].x < points[b].x;
    if (points[a].y != points[b].y) return points[a].y < points[b].y;
    return a < b;
  });
  std::vector<std::size_t> front;
  double best_y = std::numeric_limits<double>::infinity();  // lowest y among strictly smaller x
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i;
    while (j < order.size() && points[order[j]].x == points[order[i]].x) ++j;
    const double group_min = points[order[i]].y;  // sorted by y within the same x
    if (group_min < best_y) {
      for (std::size_t k = i; k < j && points[order[k]].y == group_min; ++k) front.push_back(order[k]);
      best_y = group_min;
    }
    i = j;
  }
  return front;
}

std::string stacked_bar_chart(const BarChart& chart) {
  check_bars(chart);
  if (chart.categories.empty() || chart.series.empty()) return no_data(chart.title);
  const std::size_t n = chart.categories.size();
  std::vector<double> totals(n, 0.0);
  for (const auto& s : chart.series) {
    for (std::size_t i = 0; i < n; ++i) totals[i] += clean(s.values[i]);
  }
  const double max_total = *std::max_element(totals.begin(), totals.end());
  BarFrame f = bar_frame(chart);
  const double right = kWidth - 28.0;
  const Axis axis = linear_axis(0.0, max_total > 0.0 ? max_total : 1.0, f.left, right, 6);
  const double bottom = f.top + static_cast<double>(n) * kBarRow;
  const bool labels_below = n > 20;
  const double height = bottom + (labels_below ? 22.0 : 8.0);

  std::string out = svg_open(kWidth, height, chart.title) + f.head;
  out += value_axis(axis, f.top, bottom, labels_below);
  for (std::size_t i = 0; i < n; ++i) {
    const double y = f.top + static_cast<double>(i) * kBarRow;
    out += category_label(f.left - 6.0, y + kBarRow / 2.0 + 4.0, chart.categories[i],
                          chart.categories[i] + ": total " + format_si(totals[i]));
    double x = f.left;
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const double v = clean(chart.series[s].values[i]);
      if (v <= 0.0) continue;
      const double w = axis.map(v) - axis.map(0.0);
      out += bar_rect(x, y + (kBarRow - kBarHeight) / 2.0, w, kBarHeight, palette_color(s),
                      chart.categories[i] + " \xE2\x80\x94 " + chart.series[s].name + ": " + format_si(v));
      x += w;
    }
  }
  out += "<line x1=\"" + num(f.left) + "\" y1=\"" + num(f.top) + "\" x2=\"" + num(f.left) + "\" y2=\"" + num(bottom) +
         "\" stroke=\"#444\"/>\n";
  out += "</svg>\n";
  return out;
}

std::string grouped_bar_chart(const BarChart& chart) {
  check_bars(chart);
  if (chart.categories.empty() || chart.series.empty()) return no_data(chart.title);
  const std::size_t n = chart.categories.size();
  const std::size_t k = chart.series.size();
  double max_value = 0.0;
  for (const auto& s : chart.series) {
    for (const double v : s.values) max_value = std::max(max_value, clean(v));
  }
  BarFrame f = bar_frame(chart);
  const double right = kWidth - 28.0;
  const Axis axis = linear_axis(0.0, max_value > 0.0 ? max_value : 1.0, f.left, right, 6);
  const double group_h = static_cast<double>(k) * (kGroupBar + 1.0) + kGroupGap;
  const double bottom = f.top + static_cast<double>(n) * group_h;
  const bool labels_below = n * k > 20;
  const double height = bottom + (labels_below ? 22.0 : 8.0);

  std::string out = svg_open(kWidth, height, chart.title) + f.head;
  out += value_axis(axis, f.top, bottom, labels_below);
  for (std::size_t i = 0; i < n; ++i) {
    const double y0 = f.top + static_cast<double>(i) * group_h + kGroupGap / 2.0;
    out += category_label(f.left - 6.0, y0 + (group_h - kGroupGap) / 2.0 + 4.0, chart.categories[i],
                          chart.categories[i]);
    for (std::size_t s = 0; s < k; ++s) {
      const double v = clean(chart.series[s].values[i]);
      const double w = axis.map(v) - axis.map(0.0);
      const double y = y0 + static_cast<double>(s) * (kGroupBar + 1.0);
      out += bar_rect(f.left, y, w, kGroupBar, palette_color(s),
                      chart.categories[i] + " \xE2\x80\x94 " + chart.series[s].name + ": " + format_si(v));
    }
    if (i + 1 < n) {
      const double sep = y0 + group_h - kGroupGap / 2.0;
      out += "<line x1=\"" + num(8.0) + "\" y1=\"" + num(sep) + "\" x2=\"" + num(right) + "\" y2=\"" + num(sep) +
             "\" stroke=\"#f0f0f0\"/>\n";
    }
  }
  out += "<line x1=\"" + num(f.left) + "\" y1=\"" + num(f.top) + "\" x2=\"" + num(f.left) + "\" y2=\"" + num(bottom) +
         "\" stroke=\"#444\"/>\n";
  out += "</svg>\n";
  return out;
}

namespace {

/// Frame of the x-y charts: axes, grid, tick labels and axis labels.
std::string xy_axes(const Axis& ax, const Axis& ay, double left, double top, double right, double bottom,
                    const std::string& x_label, const std::string& y_label) {
  std::string out;
  for (const double t : ax.ticks) {
    const double x = ax.map(t);
    out += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom) +
           "\" stroke=\"#e8e8e8\"/>\n";
    out += text(x, bottom + 14.0, ax.label(t), "middle", "fill=\"#444\"");
  }
  for (const double t : ay.ticks) {
    const double y = ay.map(t);
    out += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right) + "\" y2=\"" + num(y) +
           "\" stroke=\"#e8e8e8\"/>\n";
    out += text(left - 5.0, y + 4.0, ay.label(t), "end", "fill=\"#444\"");
  }
  out += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) + "\" height=\"" +
         num(bottom - top) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  out += text((left + right) / 2.0, bottom + 32.0, x_label, "middle", "fill=\"#222\"");
  const double cy = (top + bottom) / 2.0;
  out += "<text x=\"14\" y=\"" + num(cy) + "\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 14 " +
         num(cy) + ")\">" + escape_xml(y_label) + "</text>\n";
  return out;
}

}  // namespace

std::string line_chart(const LineChart& chart) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : chart.series) {
    if (s.x.size() != s.y.size()) {
      throw std::logic_error("line series '" + s.name + "' has " + std::to_string(s.x.size()) + " x and " +
                             std::to_string(s.y.size()) + " y values");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (!(x0 <= x1)) return no_data(chart.title);
  // Non-negative data that reaches near zero reads best against a zero baseline.
  if (y0 >= 0.0 && y0 <= 0.3 * y1) y0 = 0.0;

  std::vector<LegendItem> items;
  for (std::size_t i = 0; i < chart.series.size(); ++i) items.push_back({chart.series[i].name, palette_color(i), true});
  const auto [legend_svg, legend_h] = legend(items, 70.0, 28.0, kWidth - 90.0);
  const double left = 70.0, right = kWidth - 20.0, top = 28.0 + legend_h + 10.0;
  const double bottom = top + 280.0;
  const double height = bottom + 44.0;
  const Axis ax = linear_axis(x0, x1, left, right, 8);
  const Axis ay = linear_axis(y0, y1, bottom, top, 6);

  std::string out = svg_open(kWidth, height, chart.title) + title_text(chart.title) + legend_svg;
  out += xy_axes(ax, ay, left, top, right, bottom, chart.x_label, chart.y_label);
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const auto& s = chart.series[si];
    const char* color = palette_color(si);
    std::string points;
    const auto flush = [&] {
      if (!points.empty()) {
        out += "<polyline fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"2\" points=\"" + points +
               "\"/>\n";
      }
      points.clear();
    };
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      points += (points.empty() ? "" : " ") + num(ax.map(s.x[i])) + "," + num(ay.map(s.y[i]));
    }
    flush();
    if (s.x.size() <= 120) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        out += "<circle cx=\"" + num(ax.map(s.x[i])) + "\" cy=\"" + num(ay.map(s.y[i])) + "\" r=\"3\" fill=\"" +
               color + "\"><title>" + escape_xml(s.name + ": " + format_si(s.x[i]) + ", " + format_si(s.y[i])) +
               "</title></circle>\n";
      }
    }
  }
  out += "</svg>\n";
  return out;
}

std::string scatter_chart(const ScatterChart& chart) {
  std::vector<std::size_t> shown;
  for (std::size_t i = 0; i < chart.points.size(); ++i) {
    const auto& p = chart.points[i];
    const bool ok = std::isfinite(p.x) && std::isfinite(p.y) && (!chart.log_x || p.x > 0.0) && (!chart.log_y || p.y > 0.0);
    if (ok) shown.push_back(i);
  }
  if (shown.empty()) return no_data(chart.title);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, s1 = 0.0;
  std::vector<ScatterPoint> visible;
  for (const std::size_t i : shown) {
    const auto& p = chart.points[i];
    x0 = std::min(x0, p.x);
    x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
    if (std::isfinite(p.size)) s1 = std::max(s1, p.size);
    visible.push_back(p);
  }
  const std::vector<std::size_t> front_local = pareto_front(visible);
  std::vector<bool> on_front(visible.size(), false);
  for (const std::size_t i : front_local) on_front[i] = true;

  const std::vector<LegendItem> items = {{"Pareto front", "#d62728", true}, {"dominated point", "#9aa7b8", true}};
  auto [legend_svg, legend_h] = legend(items, 70.0, 28.0, kWidth - 90.0);
  legend_svg += text(70.0, 28.0 + legend_h + 10.0,
                     "lower is better on both axes" +
                         (chart.size_label.empty() ? std::string() : "; marker area \xE2\x88\x9D " + chart.size_label),
                     "start", "fill=\"#444\"");
  legend_h += 16.0;
  const double left = 70.0, right = kWidth - 20.0, top = 28.0 + legend_h + 14.0;
  const double bottom = top + 330.0;
  const std::size_t hidden = chart.points.size() - shown.size();
  const double height = bottom + (hidden > 0 ? 62.0 : 44.0);
  // Pad linear ranges by 5 % so markers at the extremes are not cut by the frame.
  const auto padded = [](double lo, double hi) {
    const double pad = hi > lo ? (hi - lo) * 0.05 : (lo == 0.0 ? 1.0 : std::fabs(lo) * 0.05);
    return std::make_pair(lo - pad, hi + pad);
  };
  Axis ax, ay;
  if (chart.log_x) {
    ax = log_axis(x0, x1, left, right);
  } else {
    const auto [a, b] = padded(x0, x1);
    ax = linear_axis(a, b, left, right, 8);
  }
  if (chart.log_y) {
    ay = log_axis(y0, y1, bottom, top);
  } else {
    const auto [a, b] = padded(y0, y1);
    ay = linear_axis(a, b, bottom, top, 6);
  }
  const auto radius = [&](double size) {
    if (!(s1 > 0.0) || !std::isfinite(size) || size <= 0.0) return 2.5;
    return std::max(2.5, 12.0 * std::sqrt(size / s1));
  };

  std::string out = svg_open(kWidth, height, chart.title) + title_text(chart.title) + legend_svg;
  out += xy_axes(ax, ay, left, top, right, bottom, chart.x_label, chart.y_label);
  // Dominated points, largest first so small markers stay visible on top.
  std::vector<std::size_t> order(visible.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return radius(visible[a].size) > radius(visible[b].size);
  });
  const auto tooltip = [&](const ScatterPoint& p) {
    return p.label + ": " + chart.x_label + " " + format_si(p.x) + ", " + chart.y_label + " " + format_si(p.y) +
           (chart.size_label.empty() ? "" : ", " + chart.size_label + " " + format_si(p.size));
  };
  for (const std::size_t i : order) {
    if (on_front[i]) continue;
    const auto& p = visible[i];
    out += "<circle cx=\"" + num(ax.map(p.x)) + "\" cy=\"" + num(ay.map(p.y)) + "\" r=\"" + num(radius(p.size)) +
           "\" fill=\"#9aa7b8\" fill-opacity=\"0.6\" stroke=\"#5b6b80\"><title>" + escape_xml(tooltip(p)) +
           "</title></circle>\n";
  }
  if (!front_local.empty()) {
    std::string path = "M" + num(ax.map(visible[front_local[0]].x)) + " " + num(ay.map(visible[front_local[0]].y));
    for (std::size_t k = 1; k < front_local.size(); ++k) {
      const auto& p = visible[front_local[k]];
      path += " H" + num(ax.map(p.x)) + " V" + num(ay.map(p.y));
    }
    out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n";
    std::vector<std::array<double, 3>> placed;  // x, baseline y, width of labels drawn so far
    std::string labels;                         // drawn after every marker, so none hides a label
    for (std::size_t k = 0; k < front_local.size(); ++k) {
      const auto& p = visible[front_local[k]];
      const double cx = ax.map(p.x), cy = ay.map(p.y), r = radius(p.size);
      out += "<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(r) +
             "\" fill=\"#d62728\" fill-opacity=\"0.85\" stroke=\"#7a0c0c\"><title>" + escape_xml(tooltip(p)) +
             "</title></circle>\n";
      // A label goes above-right of its marker, else below-right, else is left
      // out (the tooltip still names the point) so labels never overlap.
      const std::string label = truncate_label(p.label, 28);
      const double w = 5.9 * static_cast<double>(utf8_length(label)), h = 11.0;
      for (const double ly : {cy - r - 1.0, cy + r + 10.0}) {
        const double lx = cx + r + 3.0;
        bool clash = false;
        for (const auto& b : placed) {
          clash = clash || (lx < b[0] + b[2] && b[0] < lx + w && ly - h < b[1] && b[1] - h < ly);
        }
        if (!clash) {
          placed.push_back({lx, ly, w});
          labels += text(lx, ly, label, "start", "font-size=\"10\"");
          break;
        }
      }
    }
    out += labels;
  }
  if (hidden > 0) {
    out += text(left, bottom + 50.0,
                std::to_string(hidden) + " point(s) with non-finite or (on a log axis) non-positive coordinates not shown",
                "start", "fill=\"#a33\"");
  }
  out += "</svg>\n";
  return out;
}

}  // namespace nibble::report

namespace nibble::report {

std::string gantt_chart(const GanttChart& chart) {
  if (chart.rows.empty() || !(chart.to > chart.from)) return no_data(chart.title);
  constexpr double kRow = 22.0;
  constexpr double kBar = 16.0;
  std::size_t longest = 0;
  for (const auto& r : chart.rows) longest = std::max(longest, std::min(utf8_length(r.name), kMaxLabelChars));
  const double left = 16.0 + kCharWidth * static_cast<double>(std::max<std::size_t>(longest, 6));
  const double right = kWidth - 28.0;
  std::vector<LegendItem> items;
  for (std::size_t i = 0; i < chart.legend.size(); ++i) items.push_back({chart.legend[i], palette_color(i), false});
  const auto [legend_svg, legend_h] = legend(items, 8.0, 28.0, kWidth - 16.0);
  const double label_y = 28.0 + legend_h + 12.0;
  const double top = label_y + 22.0;
  const double bottom = top + static_cast<double>(chart.rows.size()) * kRow;
  const Axis axis = linear_axis(chart.from, chart.to, left, right, 8);
  const bool labels_below = chart.rows.size() > 12;

  std::string out = svg_open(kWidth, bottom + (labels_below ? 22.0 : 8.0), chart.title) + title_text(chart.title) +
                    legend_svg;
  out += text(left + (right - left) / 2.0, label_y, chart.x_label, "middle", "fill=\"#222\"");
  out += value_axis(axis, top, bottom, labels_below);
  for (std::size_t r = 0; r < chart.rows.size(); ++r) {
    const GanttRow& row = chart.rows[r];
    const double y = top + static_cast<double>(r) * kRow;
    out += category_label(left - 6.0, y + kRow / 2.0 + 4.0, row.name, row.name);
    for (const auto& bar : row.bars) {
      const double a = std::max(bar.start, axis.ticks.front());
      const double b = std::min(bar.end, axis.ticks.back());
      if (!(b > a)) continue;
      const double x0 = axis.map(a);
      // At least 0.5 px, so that a short interval in a long step stays visible.
      const double w = std::max(0.5, axis.map(b) - x0);
      out += bar_rect(x0, y + (kRow - kBar) / 2.0, w, kBar, palette_color(bar.color), bar.tooltip);
      const double room = (w - 4.0) / kCharWidth;
      if (!bar.label.empty() && room >= 3.0) {
        const std::string shown = truncate_label(bar.label, static_cast<std::size_t>(room));
        out += text(x0 + 2.0, y + kRow / 2.0 + 4.0, shown, "start", "fill=\"#fff\" pointer-events=\"none\"");
      }
    }
  }
  out += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(bottom) +
         "\" stroke=\"#444\"/>\n";
  out += "</svg>\n";
  return out;
}

}  // namespace nibble::report
