#include "workloads/stats.hpp"

#include <nlohmann/json.hpp>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::workloads {

namespace {
void accumulate(std::uint64_t& total, std::uint64_t value, const char* what) {
  const auto sum = checked_add(total, value);
  if (!sum) throw InputError("", 0, what, std::string("the trace's total ") + what + " overflow 64 bits");
  total = *sum;
}
}  // namespace

TraceStats compute_stats(const Trace& trace) {
  TraceStats s;
  for (const auto& op : trace.ops) {
    ++s.ops;
    if (!op.is_gemm()) {
      ++s.vector_ops;
      accumulate(s.vector_elements, op.elements, "vector_elements");
      accumulate(s.vector_elements_by_kind[std::string(vector_kind_name(op.vector))], op.elements, "vector_elements");
      continue;
    }
    ++s.gemm_ops;
    const std::uint64_t macs = op.macs();
    switch (op.phase) {
      case Phase::kForward: accumulate(s.forward_macs, macs, "macs"); break;
      case Phase::kInputGrad: accumulate(s.input_grad_macs, macs, "macs"); break;
      case Phase::kWeightGrad: accumulate(s.weight_grad_macs, macs, "macs"); break;
      case Phase::kUpdate: break;
    }
    accumulate(s.total_macs, macs, "macs");
    const std::string pair =
        std::string(numerics::format_name(op.a_format)) + "*" + std::string(numerics::format_name(op.b_format));
    accumulate(s.macs_by_formats[std::string(phase_name(op.phase))][pair], macs, "macs");
  }
  return s;
}

std::string stats_json(const Trace& trace) {
  const TraceStats s = compute_stats(trace);
  nlohmann::json j;
  j["model"] = trace.model;
  j["batch"] = trace.batch;
  j["policy"] = trace.policy;
  j["ops"] = s.ops;
  j["gemm_ops"] = s.gemm_ops;
  j["vector_ops"] = s.vector_ops;
  j["forward_macs"] = s.forward_macs;
  j["input_grad_macs"] = s.input_grad_macs;
  j["weight_grad_macs"] = s.weight_grad_macs;
  j["total_macs"] = s.total_macs;
  j["vector_elements"] = s.vector_elements;
  j["macs_by_formats"] = nlohmann::json::object();
  for (const auto& [phase, pairs] : s.macs_by_formats) {
    for (const auto& [pair, macs] : pairs) j["macs_by_formats"][phase][pair] = macs;
  }
  j["vector_elements_by_kind"] = nlohmann::json::object();
  for (const auto& [kind, count] : s.vector_elements_by_kind) j["vector_elements_by_kind"][kind] = count;
  j["skipped"] = nlohmann::json::array();
  for (const auto& node : trace.skipped) j["skipped"].push_back({{"node", node.node}, {"op_type", node.op_type}});
  return j.dump(2);
}

}  // namespace nibble::workloads
