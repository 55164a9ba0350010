// Fuzz target: the trace text reader (workloads/trace_io.hpp). Any input must
// parse or raise InputError; a trace that parses must survive what a user does
// next: written back it reads as the same trace and the same bytes, and its
// statistics (`nibble trace --stats`) add up or report an overflow.
#include <cstdint>
#include <optional>

#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/stats.hpp"
#include "workloads/trace_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nibble;
  using namespace nibble::workloads;
  std::optional<Trace> trace;
  if (!fuzz::accepts("read_trace", [&] { trace = read_trace(fuzz::text_of(data, size), "fuzz.trace"); })) return 0;

  std::string written;
  fuzz::must("write_trace", [&] { written = write_trace(*trace); });
  std::optional<Trace> back;
  fuzz::must("read_trace of the written trace", [&] { back = read_trace(written, "rewritten.trace"); });
  fuzz::check(*back == *trace, "write -> read changed the trace");
  std::string again;
  fuzz::must("write_trace of the re-read trace", [&] { again = write_trace(*back); });
  fuzz::check(again == written, "write -> read -> write changed the bytes");

  fuzz::accepts("compute_stats", [&] {
    const TraceStats stats = compute_stats(*trace);
    fuzz::check(stats.ops == trace->ops.size() && stats.gemm_ops + stats.vector_ops == stats.ops,
                "stats count the ops wrongly");
    fuzz::check(stats.total_macs == stats.forward_macs + stats.input_grad_macs + stats.weight_grad_macs,
                "stats: total MACs differ from the sum of the phases");
    (void)stats_json(*trace);
  });
  return 0;
}
