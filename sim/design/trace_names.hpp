// The counter name of each vector kind. The kinds' own names are
// workloads::vector_kind_name (one list, in workloads/trace.cpp).
#pragma once

#include <string>

#include "workloads/trace.hpp"

namespace nibble::design {

/// The counter name of the kind: "vec_ops_" + name with '-' -> '_'.
std::string vector_counter_name(workloads::VectorKind kind);

}  // namespace nibble::design
