#include "sim/design/trace_names.hpp"

namespace nibble::design {

using workloads::VectorKind;

std::string vector_counter_name(VectorKind kind) {
  std::string name = "vec_ops_" + std::string(workloads::vector_kind_name(kind));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

}  // namespace nibble::design
