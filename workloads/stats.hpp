// Totals of a trace, so anyone can check an expansion at a glance
// (`nibble trace --stats`): MACs per phase and per operand-format pair,
// GEMM op count, vector elements per kind.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "workloads/trace.hpp"

namespace nibble::workloads {

struct TraceStats {
  std::uint64_t ops = 0;               ///< all ops
  std::uint64_t gemm_ops = 0;          ///< ops with kind != vector
  std::uint64_t vector_ops = 0;        ///< ops with kind == vector
  std::uint64_t forward_macs = 0;      ///< MACs of forward GEMMs
  std::uint64_t input_grad_macs = 0;   ///< MACs of input-gradient GEMMs
  std::uint64_t weight_grad_macs = 0;  ///< MACs of weight-gradient GEMMs
  std::uint64_t total_macs = 0;        ///< all three
  std::uint64_t vector_elements = 0;   ///< elements of all vector ops
  /// phase name -> "a*b" format pair (e.g. "uint4*int4") -> MACs.
  std::map<std::string, std::map<std::string, std::uint64_t>> macs_by_formats;
  std::map<std::string, std::uint64_t> vector_elements_by_kind;  ///< vector kind name -> elements
};

/// Sums over the trace; a total that overflows 64 bits is an InputError (field "macs").
TraceStats compute_stats(const Trace& trace);
/// The stats as one JSON object (keys sorted, indented), with model, batch, policy and skipped nodes.
std::string stats_json(const Trace& trace);

}  // namespace nibble::workloads
