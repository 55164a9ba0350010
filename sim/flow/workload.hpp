// The workload side of an evaluation: a zoo model, an ONNX file or a trace
// file, loaded once, and the training-step trace each design runs (the
// design's natural precision policy unless the user names one), so that
// `simulate`, `compare` and later `sweep` resolve workloads the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/graph/graph.hpp"
#include "sim/design/design.hpp"
#include "workloads/trace.hpp"

namespace nibble::flow {

/// Where a workload comes from: exactly one of `model`, `trace_file`, `onnx_file`.
struct WorkloadSource {
  std::string model;                   ///< a zoo model name (nibble trace --list-models)
  std::string trace_file;              ///< a trace file (docs/trace-format.md); fixes batch and policy
  std::string onnx_file;               ///< an ONNX model file
  std::optional<std::uint64_t> batch;  ///< training batch; unset: 1 for zoo models, the file's for ONNX
  std::optional<std::uint64_t> seq;    ///< sequence length of a zoo model that has one (bert-base, lstm)
};

/// Which precision policy a design's trace is expanded under.
struct PolicyChoice {
  std::optional<std::string> name;  ///< --policy NAME; unset: the design's natural policy (its PE kind)
  std::string file;                 ///< --policy-file FILE ("" for none); `name` is its base when set
};

/// A loaded workload: a forward graph to expand, or a fixed trace.
class Workload {
 public:
  /// Loads the source. Not exactly one source, or a batch given with a trace
  /// file (which fixes it), is a SettingError ("workload", "batch").
  static Workload load(const WorkloadSource& source);

  /// True when the workload is a trace file (its policy is fixed).
  bool fixed_trace() const { return m_trace.has_value(); }

  /// The policy name `design` runs under with `choice`: the trace's own for a
  /// trace file, else choice.name or the design's natural policy.
  std::string policy_for(const design::Design& design, const PolicyChoice& choice) const;

  /// The training-step trace `design` runs: the trace file as read, or the
  /// graph expanded under policy_for(). A policy given for a trace file is a
  /// SettingError ("policy", "policy_file": a trace fixes its policy).
  workloads::Trace trace_for(const design::Design& design, const PolicyChoice& choice) const;

 private:
  std::optional<models::Graph> m_graph;     ///< zoo or ONNX forward graph
  std::optional<workloads::Trace> m_trace;  ///< trace file contents
};

}  // namespace nibble::flow
