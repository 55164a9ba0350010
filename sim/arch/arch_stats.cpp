#include "sim/arch/arch_stats.hpp"

#include <string>

#include "sim/design/pe_support.hpp"
#include "sim/design/trace_names.hpp"

namespace nibble::arch {

namespace {
std::string acc_add_description(const std::string& format) {
  return format + " accumulator adds: one per PE operation (a MAC, or an INT4/FP4 dot-product PE's N products) "
                  "plus output-buffer adds";
}
}  // namespace

ArchStats::ArchStats(StatRegistry& r)
    : cycles(r.add("cycles", "cycles", "cycles attributed to the op(s), memory stalls included")),
      compute_cycles(r.add("compute_cycles", "cycles", "cycles the op(s) take with ideal memory (same folds)")),
      stall_cycles(r.add("stall_cycles", "cycles", "cycles - compute_cycles: waiting for DRAM transfers")),
      macs(r.add("macs", "count", "GEMM multiply-accumulates of the workload (groups x m x n x k)")),
      mac_int4_int4(r.add("mac_int4_int4", "count", "PE operations in the INT4 x INT4 multiply-add datapath")),
      mac_int4_fp4(r.add("mac_int4_fp4", "count", "PE operations in the INT4 x FP4 shift-add datapath (both backward modes)")),
      mac_fp8(r.add("mac_fp8", "count", "PE operations in the FP8 x FP8 fused multiply-add datapath")),
      mac_fp16(r.add("mac_fp16", "count", "PE operations in the FP16 x FP16 fused multiply-add datapath")),
      mac_fp32(r.add("mac_fp32", "count", "PE operations in the FP32 x FP32 fused multiply-add datapath")),
      acc_add_int32(r.add("acc_add_int32", "count", acc_add_description("int32"))),
      acc_add_fp16(r.add("acc_add_fp16", "count", acc_add_description("FP16"))),
      acc_add_fp32(r.add("acc_add_fp32", "count", acc_add_description("FP32"))),
      dot_tree_add_bits(r.add("dot_tree_add_bits", "bits",
                              "full-adder bits of the exact adder trees of INT4/FP4 dot-product PEs: per PE operation "
                              "the tree's N - 1 adders at their widths (55 bits for N = 4)")),
      pe_reg_write_bits(r.add("pe_reg_write_bits", "bits",
                              "bits written into PE registers: operand hops, partial-sum hops, weight preload shifts")),
      spad_input_read_bytes(r.add("spad_input_read_bytes", "bytes", "bytes read from the input scratchpad")),
      spad_input_write_bytes(r.add("spad_input_write_bytes", "bytes", "bytes written into the input scratchpad")),
      spad_weight_read_bytes(r.add("spad_weight_read_bytes", "bytes", "bytes read from the weight scratchpad")),
      spad_weight_write_bytes(r.add("spad_weight_write_bytes", "bytes", "bytes written into the weight scratchpad")),
      spad_output_read_bytes(r.add("spad_output_read_bytes", "bytes", "bytes read from the output scratchpad")),
      spad_output_write_bytes(r.add("spad_output_write_bytes", "bytes", "bytes written into the output scratchpad")),
      dram_bytes_read(r.add("dram_bytes_read", "bytes", "bytes read from DRAM, whole bursts")),
      dram_bytes_written(r.add("dram_bytes_written", "bytes", "bytes written to DRAM, whole bursts")),
      vec_ops(r.add("vec_ops", "count", "vector-unit element operations, all kinds")),
      vec_ops_kind{},
      folds(0),
      dram_transfers(0),
      unit_busy_cycles(0),
      unit_stall_dram_cycles(0),
      unit_stall_dependency_cycles(0),
      unit_stall_full_buffer_cycles(0),
      dma_stall_arbitration_cycles(0) {
  for (const auto kind : workloads::all_vector_kinds()) {
    vec_ops_kind.at(static_cast<std::size_t>(kind)) =
        r.add(design::vector_counter_name(kind), "count",
              "vector-unit element operations of kind " + std::string(workloads::vector_kind_name(kind)));
  }
  folds = r.add("folds", "count", "array folds scheduled (each pass of a multi-pass op is a fold)");
  dram_transfers = r.add("dram_transfers", "count", "DRAM transactions issued (tile loads and result stores)");
  // Where the op's unit spent its time (docs/timing.md, "Unit statistics"); ops
  // overlap, so these do not add up to `cycles`.
  unit_busy_cycles = r.add("unit_busy_cycles", "cycles",
                           "cycles the op's unit (array or vector unit) worked on it as with ideal memory, summed over cores");
  unit_stall_dram_cycles = r.add("unit_stall_dram_cycles", "cycles",
                                 "cycles the op's unit waited within the op for DRAM transfers (operands, or stores "
                                 "freeing output space), summed over cores");
  unit_stall_dependency_cycles = r.add("unit_stall_dependency_cycles", "cycles",
                                       "cycles the op's unit, free, waited before it for the ops writing its inputs, "
                                       "summed over cores");
  unit_stall_full_buffer_cycles = r.add("unit_stall_full_buffer_cycles", "cycles",
                                        "cycles the op's unit, free and its inputs ready, waited before it for "
                                        "scratchpad space other ops held, summed over cores");
  dma_stall_arbitration_cycles = r.add("dma_stall_arbitration_cycles", "cycles",
                                       "cycles the op's transfers waited for a DRAM channel busy with other transfers, "
                                       "summed over transfers");
  mac_mxfp4 = r.add("mac_mxfp4", "count", "products in the block-FP4 PE's MXFP4 datapath (E2M1 x E2M1, E8M0 block scales)");
  mac_nvfp4 = r.add("mac_nvfp4", "count", "products in the block-FP4 PE's NVFP4 datapath (E2M1 x E2M1, UE4M3 block scales)");
  mac_bf16 = r.add("mac_bf16", "count", "PE operations in the BF16 x BF16 fused multiply-add datapath");
  size = r.size();
}

StatRegistry::Id ArchStats::mac(numerics::PeMode mode) const {
  switch (design::datapath_of(mode)) {
    case design::Datapath::kInt4Int4: return mac_int4_int4;
    case design::Datapath::kInt4Fp4: return mac_int4_fp4;
    case design::Datapath::kFp8: return mac_fp8;
    case design::Datapath::kFp16: return mac_fp16;
    case design::Datapath::kFp32: return mac_fp32;
    case design::Datapath::kMxfp4: return mac_mxfp4;
    case design::Datapath::kNvfp4: return mac_nvfp4;
    case design::Datapath::kBf16: return mac_bf16;
  }
  return mac_fp32;
}

StatRegistry::Id ArchStats::acc_add(numerics::Format acc) const {
  switch (acc) {
    case numerics::Format::kInt32: return acc_add_int32;
    case numerics::Format::kFp16:
    case numerics::Format::kFp16Chunked: return acc_add_fp16;
    default: return acc_add_fp32;
  }
}

}  // namespace nibble::arch
