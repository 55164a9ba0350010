// The workload flags `simulate` and `compare` share: exactly one source
// (--model, --trace, --onnx) and, for the graph sources, --batch and --seq;
// --max-steps bounds the simulation of whichever they name;
// their rules are ArgParser rules, which parse() checks (on CLI11).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "sim/arch/simulate.hpp"
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
    parser.option("--max-steps", "N",
                  "refuse a simulation of more engine steps, GEMM folds plus vector chunks (default " +
                      std::to_string(arch::kDefaultMaxSteps) + ")",
                  &m_max_steps, 1);
  }

  /// Declares the rules, checked by parse(): exactly one source, and with a
  /// trace none of --batch, --seq and `trace_fixed` (the trace fixes them).
  void rules(ArgParser& parser, std::initializer_list<const char*> trace_fixed) const {
    parser.exactly_one_of({"--model", "--trace", "--onnx"}, "give exactly one of --model, --trace, --onnx");
    for (const char* flag : {"--batch", "--seq"}) trace_excludes(parser, flag);
    for (const char* flag : trace_fixed) trace_excludes(parser, flag);
  }

  /// After parse(): --max-steps.
  std::uint64_t max_steps() const { return m_max_steps; }

  /// After parse(): the source the flags name.
  flow::WorkloadSource source(const ArgParser& parser) const {
    flow::WorkloadSource source = m_source;
    if (parser.given("--batch")) source.batch = m_batch;
    if (parser.given("--seq")) source.seq = m_seq;
    return source;
  }

 private:
  static void trace_excludes(ArgParser& parser, const char* flag) {
    parser.excludes(flag, "--trace", std::string(flag) + " does not apply to --trace: a trace fixes it");
  }

  flow::WorkloadSource m_source;  ///< the source flags as parsed
  std::uint64_t m_batch = 1;      ///< --batch, used only when given
  std::uint64_t m_seq = 1;        ///< --seq, used only when given
  std::uint64_t m_max_steps = arch::kDefaultMaxSteps;  ///< --max-steps
};

}  // namespace nibble::cli
