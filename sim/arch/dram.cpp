#include "sim/arch/dram.hpp"

#include <algorithm>
#include <cmath>

namespace nibble::arch {

sc_core::sc_time cycles_to_time(std::uint64_t cycles, const sc_core::sc_time& period) {
  return sc_core::sc_time::from_value(period.value() * cycles);
}

std::uint64_t time_to_cycles(const sc_core::sc_time& time, const sc_core::sc_time& period) {
  return time.value() / period.value();
}

sc_core::sc_time clock_period(const design::Design& design) {
  // 1 / clock_mhz microseconds, in whole picoseconds (at least 1 ps).
  const double ps = std::max(1.0, std::round(1e6 / design.clock_mhz));
  return sc_core::sc_time(ps, sc_core::SC_PS);
}

Dram::Dram(sc_core::sc_module_name name, const DramParams& params)
    : sc_core::sc_module(name),
      socket("socket"),
      m_params(params),
      m_channel_free(params.initiators, 0),
      s_bytes_read(params.initiators, 0),
      s_bytes_written(params.initiators, 0) {
  socket.register_b_transport(this, &Dram::b_transport);
}

std::uint64_t Dram::serve(std::size_t id, std::uint64_t ready, std::uint64_t bytes) {
  const design::DramConfig& c = m_params.config;
  if (c.ideal) return ready;
  // Whole bursts cross the interface; each core owns 1/initiators of the
  // bandwidth, so its bursts occupy its share for ceil(bytes * cores / bw) cycles.
  const std::uint64_t moved = (bytes + c.burst_bytes - 1) / c.burst_bytes * c.burst_bytes;
  const std::uint64_t share = moved * m_params.initiators;
  const std::uint64_t busy = share / c.bandwidth_bytes_per_cycle + (share % c.bandwidth_bytes_per_cycle != 0 ? 1 : 0);
  std::uint64_t& free = m_channel_free.at(id);
  const std::uint64_t begin = std::max(ready, free);  // in order of issue, no earlier than ready
  free = begin + busy;
  return begin + busy + c.latency_cycles;           // last data arrives one latency after it left
}

void Dram::b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const std::size_t who = static_cast<std::size_t>(id);
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const std::uint64_t ready = time_to_cycles(now + delay, m_params.period);
  const std::uint64_t bytes = trans.get_data_length();
  const std::uint64_t done = serve(who, ready, bytes);
  if (trans.is_write()) {
    s_bytes_written.at(who) += bytes;
  } else {
    s_bytes_read.at(who) += bytes;
  }
  delay = cycles_to_time(done, m_params.period) - now;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace nibble::arch
