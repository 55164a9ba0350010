// The workload flags `simulate` and `compare` share: exactly one source
// (--model, --trace, --onnx) and, for the graph sources, --batch and --seq.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "sim/cli/args.hpp"
#include "sim/flow/workload.hpp"

namespace nibble::cli {

class WorkloadFlags {
 public:
  /// Registers the five flags; `trace_help` says what a trace fixes for this command.
  void add(ArgParser& parser, const std::string& trace_help) {
    parser.option("--model", "NAME", "a zoo model (nibble trace --list-models)", &m_source.model);
    parser.option("--trace", "FILE", trace_help, &m_source.trace_file);
    parser.option("--onnx", "FILE", "an ONNX model file", &m_source.onnx_file);
    parser.option("--batch", "N", "training batch size (default 1; for ONNX, the file's)", &m_batch, 1);
    parser.option("--seq", "N", "sequence length of a zoo model that has one (bert-base, lstm)", &m_seq, 1);
  }

  /// After parse(): the source, once exactly one was given and none of
  /// `trace_fixed` (besides --batch and --seq) came with a trace.
  flow::WorkloadSource source(const ArgParser& parser, std::initializer_list<const char*> trace_fixed) const {
    const int sources =
        (parser.given("--model") ? 1 : 0) + (parser.given("--trace") ? 1 : 0) + (parser.given("--onnx") ? 1 : 0);
    if (sources != 1) throw UsageError("give exactly one of --model, --trace, --onnx");
    if (parser.given("--trace")) {
      for (const char* flag : {"--batch", "--seq"}) reject_with_trace(parser, flag);
      for (const char* flag : trace_fixed) reject_with_trace(parser, flag);
    }
    flow::WorkloadSource source = m_source;
    if (parser.given("--batch")) source.batch = m_batch;
    if (parser.given("--seq")) source.seq = m_seq;
    return source;
  }

 private:
  static void reject_with_trace(const ArgParser& parser, const char* flag) {
    if (parser.given(flag)) throw UsageError(std::string(flag) + " does not apply to --trace: a trace fixes it");
  }

  flow::WorkloadSource m_source;  ///< the source flags as parsed
  std::uint64_t m_batch = 1;      ///< --batch, used only when given
  std::uint64_t m_seq = 1;        ///< --seq, used only when given
};

}  // namespace nibble::cli
