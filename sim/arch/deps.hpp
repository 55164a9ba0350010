// Which earlier ops of a trace each op waits for: the controller's dependency
// scoreboard (docs/timing.md, "Dependencies"). A trace that names its tensors
// (version 4) gives each op's producers and earlier readers directly; for one
// that does not (versions 1 to 3), they are inferred from the order and phases
// training-step expansion emits (workloads/expand.cpp), erring towards waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "workloads/trace.hpp"

namespace nibble::arch {

/// For every op of `trace`, the indices of the earlier ops it waits for
/// (ascending, each once). Named tensors: the last writer of every tensor the
/// op reads (RAW), and for every tensor it writes, that tensor's last writer
/// (WAW) and the ops that read it since (WAR). Unnamed: at most two ops, the
/// chain's latest and the layer's previous off-chain op; every op's inputs were
/// written by these ops or, transitively, by the ops they wait for.
std::vector<std::vector<std::uint32_t>> op_dependencies(const workloads::Trace& trace);

/// True when op `op` of a trace with `layer_has_update` (a weight update of
/// its layer is in the trace) is off the main chain: a weight gradient that
/// only the layer's optimizer reads, or the optimizer itself. (The rule for
/// traces that name no tensors.)
bool off_main_chain(const workloads::TraceOp& op, bool layer_has_update);

/// True when op `consumer` may take its input from op `producer`'s output on
/// chip (fusion, streaming a GEMM's output): in a trace that names its tensors
/// (`names_tensors`, Trace::names_tensors()), when it reads a tensor the
/// producer writes; in one that does not, always (the shapes and formats the
/// callers check are all there is to go by).
bool reads_output_of(const workloads::TraceOp& consumer, const workloads::TraceOp& producer, bool names_tensors);

}  // namespace nibble::arch
