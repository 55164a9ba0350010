#include "sim/flow/workload.hpp"

#include "models/onnx/onnx_import.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::flow {

Workload Workload::load(const WorkloadSource& source) {
  const int given = (source.model.empty() ? 0 : 1) + (source.trace_file.empty() ? 0 : 1) +
                    (source.onnx_file.empty() ? 0 : 1);
  if (given != 1) throw SettingError("workload", "give exactly one of a zoo model, a trace file, an ONNX file");
  Workload w;
  if (!source.trace_file.empty()) {
    if (source.batch) {
      throw SettingError("batch", "does not apply to a trace file: the trace fixes its batch");
    }
    w.m_trace = workloads::read_trace_file(source.trace_file);
  } else if (!source.model.empty()) {
    models::ZooOptions options;
    options.batch = source.batch.value_or(1);
    options.seq = source.seq;
    w.m_graph.emplace(models::build_zoo_model(source.model, options));
  } else {
    models::OnnxOptions options;
    options.batch = source.batch;
    w.m_graph.emplace(models::import_onnx(source.onnx_file, options).graph);
  }
  return w;
}

std::string Workload::policy_for(const design::Design& design, const PolicyChoice& choice) const {
  if (m_trace) return m_trace->policy;
  return choice.name.value_or(design::natural_policy(design.array.pe_kind));
}

workloads::Trace Workload::trace_for(const design::Design& design, const PolicyChoice& choice) const {
  if (m_trace) {
    if (choice.name) throw SettingError("policy", "does not apply to a trace file: the trace fixes its policy");
    if (!choice.file.empty()) {
      throw SettingError("policy_file", "does not apply to a trace file: the trace fixes its policy");
    }
    return *m_trace;
  }
  const workloads::Policy policy = choice.file.empty()
                                       ? workloads::named_policy(policy_for(design, choice))
                                       : workloads::read_policy_file(choice.file, choice.name);
  return workloads::expand_training_step(*m_graph, policy);
}

}  // namespace nibble::flow
