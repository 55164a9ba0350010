#include "sim/arch/deps.hpp"

#include <map>
#include <set>
#include <string>

namespace nibble::arch {

using workloads::Phase;

bool off_main_chain(const workloads::TraceOp& op, bool layer_has_update) {
  if (op.phase == Phase::kUpdate) return true;
  // A weight-gradient op of a layer with weights writes dW (or the quantized
  // dY only its dW GEMM reads). A layer without an update (a matmul of two
  // activations) labels the gradient of its second input weight_grad: the
  // backward chain reads that one, so it stays on the chain.
  return op.phase == Phase::kWeightGrad && layer_has_update;
}

std::vector<std::vector<std::uint32_t>> op_dependencies(const workloads::Trace& trace) {
  std::set<std::string> updated;
  for (const auto& op : trace.ops) {
    if (op.phase == Phase::kUpdate) updated.insert(op.layer);
  }
  std::vector<std::vector<std::uint32_t>> deps(trace.ops.size());
  constexpr std::int64_t kNone = -1;
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

}  // namespace nibble::arch
