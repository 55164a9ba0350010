#include "workloads/scalesim.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"

namespace nibble::workloads {

namespace {

// Column names as SCALE-Sim's topology files spell them (topologies/conv_nets/*.csv,
// topologies/GEMM_mnk/test_mnk_input.csv in scalesim-project/scale-sim-v2).
const char* const kConvColumns[] = {"Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                    "Channels", "Num Filter", "Strides"};
const char* const kConvColumns9[] = {"Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                     "Channels", "Num Filter", "Stride Height", "Stride Width"};
const char* const kGemmColumns[] = {"Layer Name", "M", "N", "K"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// `text` lower-cased without spaces, underscores and a final 's', so that
/// "Num Filters" matches "Num Filter" and "Strides" matches "Stride".
std::string column_key(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != ' ' && c != '_' && c != '\t') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!out.empty() && out.back() == 's') out.pop_back();
  return out;
}

/// Comma-separated fields, trimmed; a trailing empty field (the trailing comma)
/// and a last field starting with '#' (a comment) are dropped.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  for (const auto field : split(line, ',')) out.push_back(trim(field));
  if (!out.empty() && (out.back().empty() || out.back().front() == '#')) out.pop_back();
  return out;
}

std::uint64_t mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  const auto p = checked_mul(a, b);
  if (!p) throw InputError("", 0, what, "sizes overflow 64 bits");
  return *p;
}

std::string csv_name(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (c == ',' || c == '\n' || c == '\r') c = '_';
  }
  return out;
}

}  // namespace

namespace {
/// SCALE-Sim's output size, ceil((in - filter + stride) / stride): a partial last window counts.
std::uint64_t scalesim_out(std::uint64_t in, std::uint64_t filter, std::uint64_t stride) {
  if (filter > in || stride == 0) return 0;
  return (in - filter + stride - 1) / stride + 1;
}

/// The smallest symmetric padding with which floor((in + 2 pad - filter) / stride) + 1 equals
/// SCALE-Sim's rounded-up output size (0 when the windows tile the input exactly).
std::uint64_t scalesim_pad(std::uint64_t in, std::uint64_t filter, std::uint64_t stride) {
  const std::uint64_t span = (scalesim_out(in, filter, stride) - 1) * stride + filter;
  return span > in ? (span - in + 1) / 2 : 0;
}
}  // namespace

std::uint64_t ScaleSimLayer::ofmap_h() const { return scalesim_out(ifmap_h, filter_h, stride_h); }

std::uint64_t ScaleSimLayer::ofmap_w() const { return scalesim_out(ifmap_w, filter_w, stride_w); }

models::GemmShape scalesim_gemm(const ScaleSimLayer& layer, ScaleSimFormat format) {
  if (format == ScaleSimFormat::kGemm) return {1, layer.m, layer.n, layer.k};
  const std::uint64_t pixels = mul(layer.ofmap_h(), layer.ofmap_w(), layer.name);
  const std::uint64_t window = mul(layer.filter_h, layer.filter_w, layer.name);
  if (layer.depthwise) return {layer.channels, pixels, layer.num_filter, window};
  return {1, pixels, layer.num_filter, mul(window, layer.channels, layer.name)};
}

ScaleSimTopology parse_scalesim_topology(std::string_view text, const std::string& origin) {
  ScaleSimTopology topology;
  bool have_header = false;
  std::int64_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const auto fields = fields_of(line);
    const auto error = [&](const std::string& column, const std::string& message) {
      return InputError(origin, line_number, column, message);
    };
    if (!have_header) {
      have_header = true;
      const std::string second = fields.size() > 1 ? lower(fields[1]) : "";
      if (fields.size() == 4 && second == "m" && lower(fields[2]) == "n" && lower(fields[3]) == "k") {
        topology.format = ScaleSimFormat::kGemm;
      } else if ((fields.size() == 8 || fields.size() == 9) && second == "ifmap height") {
        topology.format = ScaleSimFormat::kConv;
        // Columns are read by position, so a column that is not the expected one (a
        // 9th "Padding" or "Sparsity") would be read as a stride: name it instead.
        const char* const* expected = fields.size() == 9 ? kConvColumns9 : kConvColumns;
        for (std::size_t i = 1; i < fields.size(); ++i) {
          const std::string key = column_key(fields[i]);
          const bool short_stride = (i == 7 && fields.size() == 9 && key == "strideh") ||
                                    (i == 8 && key == "stridew");
          if (key != column_key(expected[i]) && !short_stride) {
            std::string form;
            for (std::size_t j = 0; j < fields.size(); ++j) form += (j == 0 ? "" : ", ") + std::string(expected[j]);
            throw error("header", "column " + std::to_string(i + 1) + " is '" + std::string(fields[i]) +
                                      "', expected '" + expected[i] + "' (the " + std::to_string(fields.size()) +
                                      "-column conv form is '" + form + "')");
          }
        }
      } else {
        throw error("header",
                    "expected SCALE-Sim's conv header 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter "
                    "Width, Channels, Num Filter, Strides,' or GEMM header 'Layer Name, M, N, K,'");
      }
      continue;
    }
    const bool conv = topology.format == ScaleSimFormat::kConv;
    if (conv ? (fields.size() != 8 && fields.size() != 9) : fields.size() != 4) {
      throw error("row", std::string("expected ") + (conv ? "8 fields (name, H, W, R, S, C, K, stride) or 9 (two strides)"
                                                          : "4 fields (name, M, N, K)") +
                             ", got " + std::to_string(fields.size()));
    }
    ScaleSimLayer layer;
    layer.line = line_number;
    layer.name = std::string(fields[0]);
    if (layer.name.empty()) throw error(conv ? kConvColumns[0] : kGemmColumns[0], "expected a layer name");
    std::vector<std::uint64_t> values;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const char* column = conv ? (fields.size() == 9 ? kConvColumns9[i] : kConvColumns[i]) : kGemmColumns[i];
      const auto value = parse_u64(fields[i]);
      if (!value && !fields[i].empty() && fields[i].find_first_not_of("0123456789") == std::string_view::npos) {
        throw error(column, "the number " + std::string(fields[i]) + " does not fit in 64 bits");
      }
      if (!value || *value == 0) {
        throw error(column, "expected a whole number >= 1, got '" + std::string(fields[i]) + "'");
      }
      values.push_back(*value);
    }
    if (conv) {
      layer.ifmap_h = values[0];
      layer.ifmap_w = values[1];
      layer.filter_h = values[2];
      layer.filter_w = values[3];
      layer.channels = values[4];
      layer.num_filter = values[5];
      layer.stride_h = values[6];
      layer.stride_w = values.size() == 8 ? values[7] : values[6];
      // SCALE-Sim's loader treats any layer whose name contains "DP" as depthwise.
      layer.depthwise = layer.name.find("DP") != std::string::npos;
      if (layer.filter_h > layer.ifmap_h) {
        throw error("Filter Height", "the filter (" + std::to_string(layer.filter_h) + ") is taller than the IFMAP (" +
                                         std::to_string(layer.ifmap_h) + "); SCALE-Sim has no padding column, so "
                                         "give the padded IFMAP size");
      }
      if (layer.filter_w > layer.ifmap_w) {
        throw error("Filter Width", "the filter (" + std::to_string(layer.filter_w) + ") is wider than the IFMAP (" +
                                        std::to_string(layer.ifmap_w) + ")");
      }
    } else {
      layer.m = values[0];
      layer.n = values[1];
      layer.k = values[2];
    }
    try {
      const models::GemmShape g = scalesim_gemm(layer, topology.format);
      mul(mul(mul(g.groups, g.m, layer.name), g.n, layer.name), g.k, layer.name);
    } catch (const InputError&) {
      throw error("row", "the layer's MAC count overflows 64 bits");
    }
    topology.layers.push_back(std::move(layer));
  }
  if (!have_header) throw InputError(origin, 0, "header", "file is empty, expected a SCALE-Sim topology CSV");
  if (topology.layers.empty()) throw InputError(origin, line_number, "row", "expected at least one layer after the header");
  return topology;
}

ScaleSimTopology read_scalesim_topology(const std::string& path) { return parse_scalesim_topology(read_file(path), path); }

std::string write_scalesim_topology(const ScaleSimTopology& topology) {
  std::string out;
  const auto row = [&out](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) out += (i == 0 ? "" : ", ") + fields[i];
    out += ",\n";
  };
  if (topology.format == ScaleSimFormat::kGemm) {
    row({std::begin(kGemmColumns), std::end(kGemmColumns)});
    for (const auto& l : topology.layers) {
      row({csv_name(l.name), std::to_string(l.m), std::to_string(l.n), std::to_string(l.k)});
    }
    return out;
  }
  const bool two_strides = std::any_of(topology.layers.begin(), topology.layers.end(),
                                       [](const ScaleSimLayer& l) { return l.stride_h != l.stride_w; });
  if (two_strides) {
    row({std::begin(kConvColumns9), std::end(kConvColumns9)});
  } else {
    row({std::begin(kConvColumns), std::end(kConvColumns)});
  }
  for (const auto& l : topology.layers) {
    std::vector<std::string> fields = {csv_name(l.name),         std::to_string(l.ifmap_h),  std::to_string(l.ifmap_w),
                                       std::to_string(l.filter_h), std::to_string(l.filter_w), std::to_string(l.channels),
                                       std::to_string(l.num_filter), std::to_string(l.stride_h)};
    if (two_strides) fields.push_back(std::to_string(l.stride_w));
    row(fields);
  }
  return out;
}

models::Graph scalesim_graph(const ScaleSimTopology& topology, std::uint64_t batch, const std::string& name) {
  models::Graph graph(name, batch);
  std::set<std::string> used;
  std::size_t previous = 0;
  for (std::size_t i = 0; i < topology.layers.size(); ++i) {
    const ScaleSimLayer& row = topology.layers[i];
    std::string layer_name = sanitize_trace_name(row.name);
    if (!used.insert(layer_name).second) {
      layer_name += "_line" + std::to_string(row.line);
      used.insert(layer_name);
    }
    try {
      models::Shape in_shape;
      if (topology.format == ScaleSimFormat::kConv) {
        in_shape = {batch, row.channels, row.ifmap_h, row.ifmap_w};
      } else {
        in_shape = {batch, row.m, row.k};
      }
      const std::string in_name = layer_name + ".input";
      const std::size_t input =
          i == 0 ? graph.add_input(in_name, in_shape) : graph.add_view(in_name, previous, in_shape, /*any_size=*/true);
      if (topology.format == ScaleSimFormat::kConv) {
        models::ConvParams p;
        p.kernel_h = row.filter_h;
        p.kernel_w = row.filter_w;
        p.stride_h = row.stride_h;
        p.stride_w = row.stride_w;
        p.pad_h = scalesim_pad(row.ifmap_h, row.filter_h, row.stride_h);
        p.pad_w = scalesim_pad(row.ifmap_w, row.filter_w, row.stride_w);
        p.groups = row.depthwise ? row.channels : 1;
        p.out_channels = row.depthwise ? mul(row.channels, row.num_filter, layer_name) : row.num_filter;
        previous = graph.add_conv(layer_name, input, p);
      } else {
        previous = graph.add_linear(layer_name, input, row.n, false);
      }
    } catch (const InputError& e) {
      throw InputError("", row.line, e.field().empty() ? "row" : e.field(), e.message());
    }
  }
  return graph;
}

namespace {
// SCALE-Sim's conv-format loader reads any name containing "DP" as a depthwise
// layer, so a conv-format export writes "Dp" for every "DP" of a layer name
// (a plain GEMM named "xDPy" must not read back as depthwise).
std::string without_depthwise_mark(std::string name) {
  for (std::size_t at = name.find("DP"); at != std::string::npos; at = name.find("DP", at)) name[at + 1] = 'p';
  return name;
}
}  // namespace

ScaleSimTopology scalesim_from_trace(const Trace& trace, ScaleSimFormat format) {
  ScaleSimTopology out;
  out.format = format;
  const auto fail = [](const TraceOp& op, const std::string& message) {
    return InputError("", 0, op.layer, message);
  };
  // Both forms write a row per group: a depthwise layer of 10^12 channels (a
  // valid topology) must be an error, not an endless loop filling memory.
  const auto reserve_rows = [&](const TraceOp& op, std::uint64_t rows) {
    if (rows > kMaxScaleSimExportRows - out.layers.size()) {
      throw fail(op, "the export would have more than " + std::to_string(kMaxScaleSimExportRows) +
                         " rows (one per group of each GEMM op; this op adds " + std::to_string(rows) +
                         "); SCALE-Sim runs one layer per row");
    }
  };
  for (const auto& op : trace.ops) {
    if (!op.is_gemm()) continue;
    const std::string phase(phase_name(op.phase));
    if (format == ScaleSimFormat::kGemm) {
      reserve_rows(op, op.groups);
      for (std::uint64_t g = 0; g < op.groups; ++g) {
        ScaleSimLayer l;
        l.name = op.layer + "." + phase + (op.groups > 1 ? ".g" + std::to_string(g) : "");
        l.m = op.m;
        l.n = op.n;
        l.k = op.k;
        out.layers.push_back(std::move(l));
      }
      continue;
    }
    if (op.phase != Phase::kForward) continue;
    if (!op.conv) {
      // SCALE-Sim's own GEMM-as-conv row: IFMAP M x K, filter 1 x K, 1 channel, N filters.
      reserve_rows(op, op.groups);
      for (std::uint64_t g = 0; g < op.groups; ++g) {
        ScaleSimLayer l;
        l.name = without_depthwise_mark(op.layer) + (op.groups > 1 ? ".g" + std::to_string(g) : "");
        l.ifmap_h = op.m;
        l.ifmap_w = op.k;
        l.filter_h = 1;
        l.filter_w = op.k;
        l.channels = 1;
        l.num_filter = op.n;
        l.stride_h = l.stride_w = 1;
        out.layers.push_back(std::move(l));
      }
      continue;
    }
    const ConvGeometry& c = *op.conv;
    if (c.n != 1) {
      throw fail(op, "SCALE-Sim's conv format has no batch (this trace has batch " + std::to_string(c.n) +
                         "); export the GEMM format, or a batch-1 trace");
    }
    if (c.dilation_h != 1 || c.dilation_w != 1) throw fail(op, "SCALE-Sim's conv format has no dilation");
    const bool depthwise = c.groups > 1 && c.groups == c.c;
    if (c.groups > 1 && !depthwise) {
      throw fail(op, "SCALE-Sim's conv format has no grouped convolutions (only depthwise, as DP rows)");
    }
    reserve_rows(op, 1);
    ScaleSimLayer l;
    // "DP" in a name means depthwise to SCALE-Sim: add it exactly when the conv is depthwise.
    l.name = without_depthwise_mark(op.layer);
    if (depthwise) l.name += "_DP";
    // The input extent the windows cover, (E - 1) * stride + R: SCALE-Sim, which rounds its
    // output size up, then computes the same E (h + 2 pad would give E + 1 where the last
    // window does not fit exactly).
    l.ifmap_h = (c.out_h() - 1) * c.stride_h + c.r;
    l.ifmap_w = (c.out_w() - 1) * c.stride_w + c.s;
    l.filter_h = c.r;
    l.filter_w = c.s;
    l.channels = c.c;
    l.num_filter = depthwise ? c.k / c.c : c.k;
    l.stride_h = c.stride_h;
    l.stride_w = c.stride_w;
    l.depthwise = depthwise;
    out.layers.push_back(std::move(l));
  }
  return out;
}

}  // namespace nibble::workloads
