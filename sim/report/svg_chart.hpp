// Charts as inline SVG, written by hand: axes with "nice" ticks, labels,
// legends and a tooltip (<title>) on every mark, in a fixed palette. Output is
// well-formed XML and deterministic (coordinates printed with fixed decimals).
// Bar charts are horizontal, one row per category, so 100+ layers stay
// readable: the chart grows in height and the page scrolls it in a box.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nibble::report {

/// One named series of values, one per category.
struct Series {
  std::string name;            ///< legend entry
  std::vector<double> values;  ///< one per category; negative or non-finite values are drawn as 0
};

/// Data of a bar chart.
struct BarChart {
  std::string title;                    ///< above the chart
  std::string value_label;              ///< the value axis, with its unit, e.g. "energy (pJ)"
  std::vector<std::string> categories;  ///< one bar (stacked) or group (grouped) per category
  std::vector<Series> series;           ///< each with categories.size() values (std::logic_error otherwise)
};

/// Horizontal bars, one per category, each stacked from its series in order
/// (e.g. energy per layer stacked by component).
std::string stacked_bar_chart(const BarChart& chart);
/// Horizontal bars grouped per category, one bar per series side by side
/// (e.g. cycles per layer for designs A and B, or per phase).
std::string grouped_bar_chart(const BarChart& chart);

/// One curve of a line chart.
struct LineSeries {
  std::string name;        ///< legend entry
  std::vector<double> x;   ///< abscissae
  std::vector<double> y;   ///< ordinates, same length (std::logic_error otherwise); non-finite points break the line
};

/// Data of a line chart (e.g. loss and accuracy per epoch).
struct LineChart {
  std::string title;               ///< above the chart
  std::string x_label;             ///< e.g. "epoch"
  std::string y_label;             ///< e.g. "test accuracy (%)"
  std::vector<LineSeries> series;  ///< drawn in order
};
/// Lines with a marker at every point.
std::string line_chart(const LineChart& chart);

/// One point of a scatter plot.
struct ScatterPoint {
  std::string label;  ///< tooltip and, on the Pareto front, a text label
  double x = 0.0;     ///< e.g. time per step
  double y = 0.0;     ///< e.g. energy per step
  double size = 1.0;  ///< third dimension, shown as marker area (e.g. area in mm^2)
};

/// Data of a scatter plot.
struct ScatterChart {
  std::string title;                 ///< above the chart
  std::string x_label;               ///< with unit
  std::string y_label;               ///< with unit
  std::string size_label;            ///< what marker area means, with unit
  std::vector<ScatterPoint> points;  ///< any order
  bool log_x = false;                ///< logarithmic x axis (points with x <= 0 are left out and counted)
  bool log_y = false;                ///< logarithmic y axis (likewise)
};
/// Points sized by `size`, the Pareto front (lower x and lower y are better)
/// highlighted, joined by a staircase and labelled.
std::string scatter_chart(const ScatterChart& chart);

/// Indices of the points no other point dominates (<= in x and y, < in one),
/// sorted by x then y then index. Non-finite points are never on the front.
std::vector<std::size_t> pareto_front(const std::vector<ScatterPoint>& points);

/// One bar of a Gantt chart: an interval on one row.
struct GanttBar {
  double start = 0.0;     ///< x where the bar begins
  double end = 0.0;       ///< x where it ends (> start)
  std::size_t color = 0;  ///< index into the chart's legend (and the palette)
  std::string label;      ///< drawn inside the bar when it fits (may be empty)
  std::string tooltip;    ///< the bar's <title>
};

/// One row of a Gantt chart (e.g. one unit of the chip).
struct GanttRow {
  std::string name;             ///< label left of the row
  std::vector<GanttBar> bars;   ///< any order
};

/// Data of a Gantt chart.
struct GanttChart {
  std::string title;                ///< above the chart
  std::string x_label;              ///< the time axis, with its unit, e.g. "cycle"
  double from = 0.0;                ///< left end of the window shown
  double to = 0.0;                  ///< right end (> from)
  std::vector<std::string> legend;  ///< the name of each colour
  std::vector<GanttRow> rows;       ///< drawn top to bottom
};
/// Rows of bars along a time axis from `from` to `to` (widened to nice
/// ticks); bars outside the axis are left out, those crossing its ends cut.
std::string gantt_chart(const GanttChart& chart);

/// Evenly spaced "nice" ticks (1, 2, 2.5 or 5 x 10^k) covering [lo, hi] with
/// at most about `target` intervals; the first tick <= lo, the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
/// A tick value printed with the decimals its spacing needs, thousands as
/// k, M, G, T, P, E (e.g. 2500000 with step 500000 -> "2.5M").
std::string format_tick(double value, double step);
/// The colour of series `index` (a fixed palette, cycled).
const char* palette_color(std::size_t index);

}  // namespace nibble::report
