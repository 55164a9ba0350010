#include "sim/arch/deps.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

namespace nibble::arch {

using workloads::Phase;

namespace {

constexpr std::int64_t kNone = -1;

/// The inferred rule of traces that name no tensors.
std::vector<std::vector<std::uint32_t>> inferred_dependencies(const workloads::Trace& trace) {
  std::set<std::string> updated;
  for (const auto& op : trace.ops) {
    if (op.phase == Phase::kUpdate) updated.insert(op.layer);
  }
  std::vector<std::vector<std::uint32_t>> deps(trace.ops.size());
  std::int64_t last_chain = kNone;                // the chain's latest op
  std::map<std::string, std::int64_t> last_off;  // per layer: its latest off-chain op
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const workloads::TraceOp& op = trace.ops[i];
    std::vector<std::uint32_t>& d = deps[i];
    // Every op waits for the chain's latest op before it: forward and
    // backward ops read what the chain wrote (one total order, so every
    // earlier chain op is done too); weight gradients read dY and X, which
    // the chain wrote before them; an update runs after its layer's gradients.
    if (last_chain != kNone) d.push_back(static_cast<std::uint32_t>(last_chain));
    if (off_main_chain(op, updated.count(op.layer) != 0)) {
      // ... and the layer's earlier off-chain ops (quantized dY -> dW GEMM -> bias grad -> update).
      const auto it = last_off.find(op.layer);
      if (it != last_off.end() && it->second != last_chain) {
        if (it->second < last_chain) {
          d.insert(d.begin(), static_cast<std::uint32_t>(it->second));
        } else {
          d.push_back(static_cast<std::uint32_t>(it->second));
        }
      }
      last_off[op.layer] = static_cast<std::int64_t>(i);
    } else {
      last_chain = static_cast<std::int64_t>(i);
    }
  }
  return deps;
}

/// The scoreboard over named tensors.
std::vector<std::vector<std::uint32_t>> tensor_dependencies(const workloads::Trace& trace) {
  struct State {
    std::int64_t writer = kNone;         ///< the tensor's last writer
    std::vector<std::uint32_t> readers;  ///< ops that read it since that write
  };
  std::unordered_map<std::string, State> tensors;
  std::vector<std::vector<std::uint32_t>> deps(trace.ops.size());
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const workloads::TraceOp& op = trace.ops[i];
    std::vector<std::uint32_t>& d = deps[i];
    // Against the state before the op: an op that updates a tensor in place
    // reads the earlier value and is not its own reader.
    for (const auto& name : op.reads) {
      const auto it = tensors.find(name);
      if (it != tensors.end() && it->second.writer != kNone) d.push_back(static_cast<std::uint32_t>(it->second.writer));
    }
    for (const auto& name : op.writes) {
      const auto it = tensors.find(name);
      if (it == tensors.end()) continue;
      if (it->second.writer != kNone) d.push_back(static_cast<std::uint32_t>(it->second.writer));
      d.insert(d.end(), it->second.readers.begin(), it->second.readers.end());
    }
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    const auto index = static_cast<std::uint32_t>(i);
    for (const auto& name : op.reads) tensors[name].readers.push_back(index);
    for (const auto& name : op.writes) {
      State& s = tensors[name];
      s.writer = index;
      s.readers.clear();
    }
  }
  return deps;
}

}  // namespace

bool off_main_chain(const workloads::TraceOp& op, bool layer_has_update) {
  if (op.phase == Phase::kUpdate) return true;
  // A weight-gradient op of a layer with weights writes dW (or the quantized
  // dY only its dW GEMM reads). A layer without an update (a matmul of two
  // activations) labels the gradient of its second input weight_grad: the
  // backward chain reads that one, so it stays on the chain.
  return op.phase == Phase::kWeightGrad && layer_has_update;
}

std::vector<std::vector<std::uint32_t>> op_dependencies(const workloads::Trace& trace) {
  return trace.names_tensors() ? tensor_dependencies(trace) : inferred_dependencies(trace);
}

bool reads_output_of(const workloads::TraceOp& consumer, const workloads::TraceOp& producer, bool names_tensors) {
  if (!names_tensors) return true;
  return std::any_of(consumer.reads.begin(), consumer.reads.end(), [&](const std::string& name) {
    return std::find(producer.writes.begin(), producer.writes.end(), name) != producer.writes.end();
  });
}

}  // namespace nibble::arch
