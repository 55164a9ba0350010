// A forward graph expanded into the trace of one training step: forward GEMMs,
// input-gradient GEMMs (not for layers whose input needs no gradient),
// weight-gradient GEMMs, and the vector ops around them (quantization as the
// policy says, activations, norms, pooling, residual adds, loss, optimizer).
// The shapes and formats are the ones docs/trace-format.md defines.
#pragma once

#include <vector>

#include "models/graph/graph.hpp"
#include "workloads/policy.hpp"
#include "workloads/trace.hpp"

namespace nibble::workloads {

/// The precision each layer of `graph` gets under `policy` (GEMM layers only
/// are meaningful). An override naming no layer, or a layer without GEMMs, is
/// an InputError at the policy file's line, with a suggestion.
std::vector<Precision> layer_precisions(const models::Graph& graph, const Policy& policy);

/// The training-step trace of `graph` (batch = graph.batch()) under `policy`.
Trace expand_training_step(const models::Graph& graph, const Policy& policy);

}  // namespace nibble::workloads
