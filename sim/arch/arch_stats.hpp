// The counters the model reports, registered once (name, unit, description).
// They are the contract with the energy model: every (layer, phase)
// row of layers.csv and every total in summary.json carries all of them.
#pragma once

#include <array>
#include <cstdint>

#include "sim/common/stats.hpp"
#include "sim/numerics/pe.hpp"
#include "workloads/trace.hpp"

namespace nibble::arch {

/// Ids of the model's counters in a StatRegistry.
struct ArchStats {
  /// Registers every counter in `registry` (which must not hold them yet).
  explicit ArchStats(StatRegistry& registry);

  StatRegistry::Id cycles;               ///< cycles of the op(s), stalls included
  StatRegistry::Id compute_cycles;       ///< cycles with ideal memory
  StatRegistry::Id stall_cycles;         ///< cycles - compute_cycles
  StatRegistry::Id macs;                 ///< GEMM multiply-accumulates of the workload
  StatRegistry::Id mac_int4_int4;        ///< PE operations in the INT4 x INT4 datapath
  StatRegistry::Id mac_int4_fp4;         ///< PE operations in the INT4 x FP4 shift-add datapath
  StatRegistry::Id mac_fp8;              ///< PE operations in the FP8 FMA datapath
  StatRegistry::Id mac_fp16;             ///< PE operations in the FP16 FMA datapath
  StatRegistry::Id mac_fp32;             ///< PE operations in the FP32 FMA datapath
  StatRegistry::Id acc_add_int32;        ///< int32 accumulator adds (PE and output buffer)
  StatRegistry::Id acc_add_fp16;         ///< FP16 accumulator adds
  StatRegistry::Id acc_add_fp32;         ///< FP32 accumulator adds
  StatRegistry::Id dot_tree_add_bits;    ///< full-adder bits of INT4/FP4 dot-product adder trees exercised
  StatRegistry::Id pe_reg_write_bits;    ///< bits written into PE registers
  StatRegistry::Id spad_input_read_bytes;    ///< input scratchpad reads
  StatRegistry::Id spad_input_write_bytes;   ///< input scratchpad writes (DRAM fills)
  StatRegistry::Id spad_weight_read_bytes;   ///< weight scratchpad reads
  StatRegistry::Id spad_weight_write_bytes;  ///< weight scratchpad writes (DRAM fills)
  StatRegistry::Id spad_output_read_bytes;   ///< output scratchpad reads
  StatRegistry::Id spad_output_write_bytes;  ///< output scratchpad writes
  StatRegistry::Id dram_bytes_read;      ///< DRAM bytes loaded, whole bursts
  StatRegistry::Id dram_bytes_written;   ///< DRAM bytes stored, whole bursts
  StatRegistry::Id vec_ops;              ///< vector-unit element operations, all kinds
  std::array<StatRegistry::Id, workloads::kVectorKindCount> vec_ops_kind;  ///< by workloads::VectorKind
  StatRegistry::Id folds;                ///< array folds (a pass of a multi-pass op is a fold)
  StatRegistry::Id dram_transfers;       ///< DRAM transactions (loads and stores)
  StatRegistry::Id unit_busy_cycles;     ///< the op's unit working as with ideal memory, summed over cores
  StatRegistry::Id unit_stall_dram_cycles;        ///< the op's unit waiting within the op for DRAM, summed over cores
  StatRegistry::Id unit_stall_dependency_cycles;  ///< the op's unit waiting before it for its inputs, summed over cores
  StatRegistry::Id unit_stall_full_buffer_cycles;  ///< the op's unit waiting before it for scratchpad space, summed over cores
  StatRegistry::Id dma_stall_arbitration_cycles;  ///< the op's transfers waiting for a busy channel, summed
  StatRegistry::Id mac_mxfp4 = 0;        ///< products in the block-FP4 PE's MXFP4 datapath (registered last: older CSVs lack it)
  StatRegistry::Id mac_nvfp4 = 0;        ///< products in the block-FP4 PE's NVFP4 datapath
  StatRegistry::Id mac_bf16 = 0;         ///< PE operations in the BF16 FMA datapath
  std::size_t size = 0;                  ///< registry size after registration (a StatVector's length)

  /// The MAC counter of a PE datapath.
  StatRegistry::Id mac(numerics::PeMode mode) const;
  /// The accumulator-add counter of an accumulator format (fp16-chunked adds count as fp16).
  StatRegistry::Id acc_add(numerics::Format acc) const;
  StatRegistry::Id vec(workloads::VectorKind kind) const { return vec_ops_kind.at(static_cast<std::size_t>(kind)); }
};

}  // namespace nibble::arch
