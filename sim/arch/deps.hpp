// Which earlier ops of a trace each op waits for: the controller's dependency
// scoreboard (docs/timing.md, "Dependencies"). A trace names no tensors, so
// the producers are inferred from the order and phases training-step
// expansion emits (workloads/expand.cpp); the rule errs towards waiting.
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/trace.hpp"

namespace nibble::arch {

/// For every op of `trace`, the indices of the earlier ops it waits for
/// (at most two, ascending). Every op's inputs were written by these ops or,
/// transitively, by the ops they wait for.
std::vector<std::vector<std::uint32_t>> op_dependencies(const workloads::Trace& trace);

/// True when op `op` of a trace with `layer_has_update` (a weight update of
/// its layer is in the trace) is off the main chain: a weight gradient that
/// only the layer's optimizer reads, or the optimizer itself.
bool off_main_chain(const workloads::TraceOp& op, bool layer_has_update);

}  // namespace nibble::arch
