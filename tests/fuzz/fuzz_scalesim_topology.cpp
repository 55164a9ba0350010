// Fuzz target: SCALE-Sim topology CSVs (workloads/scalesim.hpp). Any input must
// parse or raise InputError. A topology that parses must survive what
// `nibble trace --scalesim-topology X --export-scalesim Y` does with it: written
// back it reads as the same rows; as a network it expands into a training step
// whose trace round-trips; exported again in both forms it reads back.
#include <algorithm>
#include <cstdint>
#include <optional>

#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/expand.hpp"
#include "workloads/scalesim.hpp"
#include "workloads/stats.hpp"
#include "workloads/trace_io.hpp"

namespace {

using namespace nibble;
using namespace nibble::workloads;

/// Every number of the two topologies agrees, and the names as written agree.
bool same_rows(const ScaleSimTopology& a, const ScaleSimTopology& b) {
  if (a.format != b.format || a.layers.size() != b.layers.size()) return false;
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const ScaleSimLayer& x = a.layers[i];
    const ScaleSimLayer& y = b.layers[i];
    const bool same = x.ifmap_h == y.ifmap_h && x.ifmap_w == y.ifmap_w && x.filter_h == y.filter_h &&
                      x.filter_w == y.filter_w && x.channels == y.channels && x.num_filter == y.num_filter &&
                      x.stride_h == y.stride_h && x.stride_w == y.stride_w && x.depthwise == y.depthwise &&
                      x.m == y.m && x.n == y.n && x.k == y.k;
    if (!same) return false;
  }
  return true;
}

/// Export of a trace in one form; what the export writes must read back.
/// Exports of more than kCheapRows rows (one per group) are left to the unit
/// tests (tests/workloads/test_scalesim.cpp): they are correct but not cheap.
void export_and_reread(const Trace& trace, ScaleSimFormat form) {
  constexpr std::uint64_t kCheapRows = 10000;
  std::uint64_t rows = 0;
  for (const auto& op : trace.ops) rows += op.is_gemm() ? std::min<std::uint64_t>(op.groups, kCheapRows + 1) : 0;
  if (rows > kCheapRows) return;
  std::optional<ScaleSimTopology> exported;
  if (!fuzz::accepts("scalesim_from_trace", [&] { exported = scalesim_from_trace(trace, form); })) return;
  if (exported->layers.empty()) return;  // nothing to export: no file a reader would need to accept
  std::string text;
  fuzz::must("write_scalesim_topology of an export", [&] { text = write_scalesim_topology(*exported); });
  std::optional<ScaleSimTopology> back;
  fuzz::must("parse_scalesim_topology of an export", [&] { back = parse_scalesim_topology(text, "export.csv"); });
  fuzz::check(same_rows(*exported, *back), "an exported topology reads back with different numbers");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<ScaleSimTopology> topology;
  if (!fuzz::accepts("parse_scalesim_topology",
                     [&] { topology = parse_scalesim_topology(fuzz::text_of(data, size), "fuzz.csv"); })) {
    return 0;
  }
  std::string written;
  fuzz::must("write_scalesim_topology", [&] { written = write_scalesim_topology(*topology); });
  std::optional<ScaleSimTopology> back;
  fuzz::must("parse_scalesim_topology of the written file", [&] { back = parse_scalesim_topology(written, "w.csv"); });
  fuzz::check(same_rows(*topology, *back), "write -> read changed the numbers of a row");
  std::string again;
  fuzz::must("write_scalesim_topology of the re-read file", [&] { again = write_scalesim_topology(*back); });
  fuzz::check(again == written, "write -> read -> write changed the bytes");

  std::optional<models::Graph> graph;
  if (!fuzz::accepts("scalesim_graph", [&] { graph = scalesim_graph(*topology, 1, "fuzz"); })) return 0;
  std::optional<Trace> trace;
  if (!fuzz::accepts("expand_training_step", [&] { trace = expand_training_step(*graph, named_policy("int4-fp4")); })) {
    return 0;
  }
  std::string trace_text;
  fuzz::must("write_trace of the expanded step", [&] { trace_text = write_trace(*trace); });
  std::optional<Trace> reread;
  fuzz::must("read_trace of the expanded step", [&] { reread = read_trace(trace_text, "step.trace"); });
  fuzz::check(*reread == *trace, "the expanded step's trace does not round-trip");
  fuzz::accepts("compute_stats", [&] { (void)compute_stats(*trace); });
  export_and_reread(*trace, ScaleSimFormat::kGemm);
  export_and_reread(*trace, ScaleSimFormat::kConv);
  return 0;
}
