// Fuzz target: ONNX import (models/onnx/onnx_import.hpp). Any bytes must import
// or raise InputError, with protobuf silent (no log line, no abort). A model
// that imports must survive what `nibble trace --onnx X` does with it: the
// training step expands, its trace (with the skipped nodes) round-trips, and
// its statistics add up or report an overflow. Both --skip-unknown settings
// are tried, since they take different paths through the importer.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <optional>

#include "models/onnx/onnx_import.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/expand.hpp"
#include "workloads/stats.hpp"
#include "workloads/trace_io.hpp"

namespace {

using namespace nibble;

/// Any protobuf log line is a broken contract: a user would see library spam instead of one error.
void protobuf_log(google::protobuf::LogLevel, const char* file, int line, const std::string& message) {
  fuzz::fail("protobuf logged at " + std::string(file) + ":" + std::to_string(line) + ": " + message);
}

void import_and_expand(std::string_view bytes, bool skip_unknown) {
  models::OnnxOptions options;
  options.skip_unknown = skip_unknown;
  std::optional<models::OnnxImport> imported;
  if (!fuzz::accepts("import_onnx_bytes",
                     [&] { imported = models::import_onnx_bytes(bytes, "fuzz.onnx", "fuzz", options); })) {
    return;
  }
  fuzz::check(skip_unknown || imported->skipped.empty(), "nodes skipped without skip_unknown");
  std::optional<workloads::Trace> trace;
  if (!fuzz::accepts("expand_training_step", [&] {
        trace = workloads::expand_training_step(imported->graph, workloads::named_policy("int4-fp4"));
      })) {
    return;
  }
  for (const auto& s : imported->skipped) {
    trace->skipped.push_back(
        workloads::SkippedNode{workloads::sanitize_trace_name(s.node), workloads::sanitize_trace_name(s.op_type)});
  }
  std::string text;
  fuzz::must("write_trace of the imported step", [&] { text = workloads::write_trace(*trace); });
  std::optional<workloads::Trace> back;
  fuzz::must("read_trace of the imported step", [&] { back = workloads::read_trace(text, "step.trace"); });
  fuzz::check(*back == *trace, "the imported step's trace does not round-trip");
  fuzz::accepts("compute_stats", [&] { (void)workloads::compute_stats(*trace); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(&protobuf_log);
    return true;
  }();
  (void)quiet;
  const std::string_view bytes = fuzz::text_of(data, size);
  import_and_expand(bytes, false);
  import_and_expand(bytes, true);
  return 0;
}
