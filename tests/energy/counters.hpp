// The counter contract of sim/arch, registered the way the simulator
// does, for tests and benchmarks that do not run the simulator.
#pragma once

#include <string>
#include <vector>

#include "sim/common/stats.hpp"
#include "sim/energy/tech_table.hpp"

namespace nibble::energy::testing {

/// Every counter name of the contract, in a plausible registration order.
inline std::vector<std::string> contract_counter_names() {
  std::vector<std::string> names = {"cycles", "compute_cycles", "stall_cycles", "macs", "mac_int4_int4",
                                    "mac_int4_fp4", "mac_fp8", "mac_fp16", "mac_fp32", "acc_add_int32",
                                    "acc_add_fp16", "acc_add_fp32", "dot_tree_add_bits", "pe_reg_write_bits", "spad_input_read_bytes",
                                    "spad_input_write_bytes", "spad_weight_read_bytes", "spad_weight_write_bytes",
                                    "spad_output_read_bytes", "spad_output_write_bytes", "dram_bytes_read",
                                    "dram_bytes_written", "vec_ops"};
  for (const auto& kind : vector_kinds()) names.push_back("vec_ops_" + kind);
  return names;
}

/// A registry holding exactly the contract's counters.
inline StatRegistry contract_registry() {
  StatRegistry registry;
  for (const auto& name : contract_counter_names()) registry.add(name, "count", "test counter " + name);
  return registry;
}

}  // namespace nibble::energy::testing
