// Trace ops built in code, for tests that simulate or cost a hand-made trace
// (the cycle counts they pin are derived by hand for these shapes).
#pragma once

#include <cstdint>
#include <string>

#include "sim/numerics/format.hpp"
#include "workloads/trace.hpp"

namespace nibble::test {

/// One GEMM op: m x k times k x n, INT4 x INT4 into int32 in the forward
/// phase unless told otherwise.
inline workloads::TraceOp gemm(const std::string& layer, std::uint64_t m, std::uint64_t n, std::uint64_t k,
                               numerics::Format a = numerics::Format::kInt4,
                               numerics::Format b = numerics::Format::kInt4,
                               numerics::Format acc = numerics::Format::kInt32,
                               workloads::Phase phase = workloads::Phase::kForward) {
  workloads::TraceOp op;
  op.layer = layer;
  op.kind = workloads::OpKind::kGemm;
  op.phase = phase;
  op.m = m;
  op.n = n;
  op.k = k;
  op.a_format = a;
  op.b_format = b;
  op.acc_format = acc;
  return op;
}

/// One vector op of `kind` over `elements` elements, `in` to `out`.
inline workloads::TraceOp vector_op(const std::string& layer, workloads::VectorKind kind, std::uint64_t elements,
                                    numerics::Format in, numerics::Format out,
                                    workloads::Phase phase = workloads::Phase::kForward) {
  workloads::TraceOp op;
  op.layer = layer;
  op.kind = workloads::OpKind::kVector;
  op.phase = phase;
  op.vector = kind;
  op.elements = elements;
  op.in_format = in;
  op.out_format = out;
  return op;
}

}  // namespace nibble::test
