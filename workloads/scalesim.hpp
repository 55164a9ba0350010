// SCALE-Sim v2 topology CSVs: the convolution format
//   Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
// and the GEMM format
//   Layer Name, M, N, K,
// read (with the CSV's line numbers, for the SCALE-Sim timing model and for
// `nibble trace --scalesim-topology`) and written exactly as SCALE-Sim's own
// files are. SCALE-Sim runs batch 1 and no backward pass; scalesim_graph()
// adds both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/graph/graph.hpp"
#include "workloads/trace.hpp"

namespace nibble::workloads {

enum class ScaleSimFormat {
  kConv,  ///< one convolution per row (valid convolution: no padding column)
  kGemm,  ///< one M x N x K GEMM per row
};

/// One row of a topology CSV.
struct ScaleSimLayer {
  std::string name;              ///< "Layer name" column, trimmed
  std::int64_t line = 0;         ///< 1-based line in the CSV
  // kConv rows
  std::uint64_t ifmap_h = 0;     ///< IFMAP Height (padding already included, as SCALE-Sim expects)
  std::uint64_t ifmap_w = 0;     ///< IFMAP Width
  std::uint64_t filter_h = 0;    ///< Filter Height
  std::uint64_t filter_w = 0;    ///< Filter Width
  std::uint64_t channels = 0;    ///< Channels
  std::uint64_t num_filter = 0;  ///< Num Filter (per channel for depthwise rows)
  std::uint64_t stride_h = 0;    ///< Strides (or Stride Height in the 9-column form)
  std::uint64_t stride_w = 0;    ///< Strides (or Stride Width)
  bool depthwise = false;        ///< the name contains "DP": SCALE-Sim runs one layer per channel
  // kGemm rows
  std::uint64_t m = 0;           ///< M: rows of the streamed operand (ofmap pixels)
  std::uint64_t n = 0;           ///< N: columns (filters)
  std::uint64_t k = 0;           ///< K: reduction (R*S*C)

  /// Output height as SCALE-Sim computes it: ceil((H - R + stride) / stride).
  std::uint64_t ofmap_h() const;
  std::uint64_t ofmap_w() const;
};

struct ScaleSimTopology {
  ScaleSimFormat format = ScaleSimFormat::kConv;  ///< which CSV form
  std::vector<ScaleSimLayer> layers;              ///< rows in file order
};

/// SCALE-Sim's mapping of a row to GEMMs (batch 1): a conv row is M = E*F,
/// N = filters, K = R*S*C; a depthwise row is `channels` GEMMs of M = E*F,
/// N = filters, K = R*S; a GEMM row is itself. Overflow is an InputError.
models::GemmShape scalesim_gemm(const ScaleSimLayer& layer, ScaleSimFormat format);

/// Parses topology CSV text. The format is detected from the header. Rows end
/// with a comma in SCALE-Sim's files; here the trailing comma is optional, and
/// a last field starting with '#' (as in SCALE-Sim's mobilenet file) is a comment.
/// Errors: InputError `origin:line: column: what was expected`.
ScaleSimTopology parse_scalesim_topology(std::string_view text, const std::string& origin);
/// Reads and parses a topology CSV file.
ScaleSimTopology read_scalesim_topology(const std::string& path);

/// The CSV text, header and trailing commas as in SCALE-Sim's own topology files.
std::string write_scalesim_topology(const ScaleSimTopology& topology);

/// The rows as one network in file order, at batch `batch`: conv rows become
/// convolutions (depthwise for "DP" rows) with the smallest symmetric padding that
/// reproduces SCALE-Sim's rounded-up output size (none when the windows tile the
/// IFMAP exactly), so the MACs agree with SCALE-Sim's; GEMM rows linear
/// layers of M rows per sample. Rows need not chain: each row's input takes
/// the row's own shape. There is no loss: the last row's gradient comes from outside.
models::Graph scalesim_graph(const ScaleSimTopology& topology, std::uint64_t batch, const std::string& name);

/// The most rows scalesim_from_trace() writes (SCALE-Sim simulates one layer per row).
constexpr std::size_t kMaxScaleSimExportRows = 1000000;

/// SCALE-Sim rows for a trace. kConv: the forward conv ops of a batch-1 trace
/// (padding folded into the IFMAP size, which is (E-1)*stride + R so that SCALE-Sim's
/// rounded-up output size is E; depthwise convs as "DP" rows) and forward
/// GEMMs as SCALE-Sim's GEMM-as-conv rows. kGemm: every GEMM op of every phase,
/// a group per row, named LAYER.PHASE (LAYER.PHASE.gI with groups). What the
/// format cannot hold (batch > 1 in conv form, grouped convs that are not
/// depthwise, dilation) or more than kMaxScaleSimExportRows rows is an
/// InputError naming the layer.
ScaleSimTopology scalesim_from_trace(const Trace& trace, ScaleSimFormat format);

}  // namespace nibble::workloads
