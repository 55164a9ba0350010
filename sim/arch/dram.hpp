// Off-chip memory as a TLM-2.0 target (loosely timed: b_transport with an
// annotated delay). Each core (initiator) gets an equal share of the
// bandwidth; transfers of one core are served in the order issued.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <cstdint>
#include <vector>

#include "sim/design/design.hpp"

namespace nibble::arch {

/// Parameters of the Dram module.
struct DramParams {
  design::DramConfig config;             ///< bandwidth, latency, bursts
  std::uint64_t initiators = 1;          ///< cores sharing the bandwidth
  sc_core::sc_time period;               ///< one accelerator clock cycle
};

class Dram : public sc_core::sc_module {
 public:
  /// One binding per core; the binding index is the core number.
  tlm_utils::multi_passthrough_target_socket<Dram> socket;

  Dram(sc_core::sc_module_name name, const DramParams& params);

  /// Bytes moved for initiator `id` so far (for consistency checks).
  std::uint64_t bytes_read(std::size_t id) const { return s_bytes_read.at(id); }
  std::uint64_t bytes_written(std::size_t id) const { return s_bytes_written.at(id); }

  /// Cycle at which a transfer of `bytes` from initiator `id`, ready at
  /// `ready`, completes (docs/timing.md, "DRAM"); updates the channel.
  std::uint64_t serve(std::size_t id, std::uint64_t ready, std::uint64_t bytes);

 private:
  void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  DramParams m_params;                         ///< configuration
  std::vector<std::uint64_t> m_channel_free;   ///< per initiator: first cycle its channel share is idle
  std::vector<std::uint64_t> s_bytes_read;     ///< per initiator
  std::vector<std::uint64_t> s_bytes_written;  ///< per initiator
};

/// sc_time of `cycles` cycles of `period` (exact: integer multiples).
sc_core::sc_time cycles_to_time(std::uint64_t cycles, const sc_core::sc_time& period);
/// Whole cycles in `time` (time is always a multiple of `period` in this model).
std::uint64_t time_to_cycles(const sc_core::sc_time& time, const sc_core::sc_time& period);
/// The clock period of a design, rounded to the kernel's time resolution (1 ps).
sc_core::sc_time clock_period(const design::Design& design);

}  // namespace nibble::arch
