// The chip: identical cores sharing one DRAM. Each core's controller runs its
// share of every op (cores split the batch, docs/timing.md "Cores"); the cores
// meet at a barrier after each op, so an op takes as long as its slowest core.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/arch/arch_stats.hpp"
#include "sim/arch/components.hpp"
#include "sim/arch/dram.hpp"
#include "sim/arch/engine.hpp"
#include "sim/common/progress.hpp"
#include "sim/design/pe_support.hpp"

namespace nibble::arch {

/// One core's share of one trace op, planned before elaboration.
struct OpShare {
  const workloads::TraceOp* op = nullptr;  ///< the op (owned by the trace)
  design::Execution exec;                  ///< GEMMs: how the PEs run it
  GemmPlan plan;                           ///< GEMMs: this core's tiling
  std::uint64_t elements = 0;              ///< vector ops: this core's elements
};

/// What one core did for one op.
struct OpRecord {
  std::uint64_t start = 0;        ///< cycle the op started (all cores alike)
  std::uint64_t end = 0;          ///< cycle this core finished it (stalls included)
  std::uint64_t ideal_cycles = 0; ///< this core's cycles with ideal memory
  StatVector counts;              ///< this core's action counts (no cycle counters)
};

/// DRAM transfers of a core for one op: from the cycle the first was ready to
/// be issued to the cycle the last byte of the last arrived (queueing behind
/// the core's earlier transfers included). Transfers that start inside the
/// previous record's interval extend it instead of adding a record.
struct TransferRecord {
  std::uint32_t op = 0;     ///< the op that issued it
  std::uint64_t ready = 0;  ///< ready cycle
  std::uint64_t done = 0;   ///< completion cycle (> ready)
};

/// All cores wait here after each op until the last one arrives.
class OpBarrier {
 public:
  explicit OpBarrier(std::size_t parties) : m_parties(parties) {}
  /// Called from a core's thread; returns when every core has arrived.
  void arrive_and_wait();

 private:
  std::size_t m_parties;      ///< cores
  std::size_t m_arrived = 0;  ///< cores waiting for this op
  sc_core::sc_event m_all;    ///< notified when the last core arrives
};

/// Parameters of a core.
struct CoreConfig {
  const design::Design* design = nullptr;           ///< the design (outlives the core)
  std::size_t index = 0;                            ///< core number
  const std::vector<OpShare>* work = nullptr;       ///< this core's shares, in trace order
  const ArchStats* stats = nullptr;                 ///< counter ids
  OpBarrier* barrier = nullptr;                     ///< end-of-op barrier
  Progress* progress = nullptr;                     ///< core 0 reports progress (may be null)
};

class Core : public sc_core::sc_module, private MemoryPort {
 public:
  tlm_utils::simple_initiator_socket<Core> socket;  ///< to the DRAM
  SystolicArray array;                              ///< the PEs
  Scratchpad input;                                 ///< streamed operand (A)
  Scratchpad weight;                                ///< stationary operand (B)
  Scratchpad output;                                ///< partial sums and results
  VectorUnit vector;                                ///< element-wise unit

  SC_HAS_PROCESS(Core);
  Core(sc_core::sc_module_name name, const CoreConfig& config);

  /// One record per op, in trace order, once the simulation has run.
  const std::vector<OpRecord>& records() const { return m_records; }
  /// The DRAM transfers that took time, in issue order (none with ideal DRAM).
  const std::vector<TransferRecord>& transfers() const { return m_transfers; }

 private:
  void controller();
  std::uint64_t transfer(std::uint64_t ready, std::uint64_t bytes, bool write) override;

  CoreConfig m_config;                ///< parameters
  sc_core::sc_time m_period;          ///< one clock cycle
  tlm::tlm_generic_payload m_trans;   ///< reused for every transfer (timing only: data is never touched)
  unsigned char m_dummy = 0;          ///< the payload's data pointer
  std::vector<OpRecord> m_records;    ///< results
  std::vector<TransferRecord> m_transfers;  ///< for the op-level timeline (simulate.cpp)
  std::uint32_t m_op = 0;             ///< the op being run
};

/// Parameters of the chip.
struct ChipConfig {
  const design::Design* design = nullptr;                 ///< the design (outlives the chip)
  const std::vector<std::vector<OpShare>>* work = nullptr;  ///< per core
  const ArchStats* stats = nullptr;                       ///< counter ids
  Progress* progress = nullptr;                           ///< may be null
};

class Chip : public sc_core::sc_module {
 public:
  Chip(sc_core::sc_module_name name, const ChipConfig& config);

  Dram dram;                                 ///< shared off-chip memory
  std::vector<std::unique_ptr<Core>> cores;  ///< cores, bound to the DRAM in order

 private:
  OpBarrier m_barrier;  ///< end-of-op synchronisation
};

}  // namespace nibble::arch
