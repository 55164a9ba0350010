// Off-chip memory as one TLM-2.0 target shared by every core (loosely timed:
// b_transport with an annotated delay). The DRAM has `channels` channels,
// each with its share of the bandwidth; a transfer's bursts are interleaved
// over the channels, and each channel keeps a calendar of its busy intervals
// that requesters reserve (docs/timing.md, "DRAM channels and arbitration").
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/arch/timeline.hpp"
#include "sim/design/design.hpp"

namespace nibble::arch {

/// What a transfer carries besides the TLM payload: which op it serves, the
/// cycle before which this requester's transfer may not start (in order of
/// issue within an op), and, on return, when its first burst left.
class TransferTag : public tlm::tlm_extension<TransferTag> {
 public:
  std::uint32_t op = 0;          ///< index of the op in the trace (timeline)
  std::uint64_t not_before = 0;  ///< in: no channel part starts before this cycle
  std::uint64_t begin = 0;       ///< out: first cycle a channel moved the transfer's bursts
  std::uint64_t busy_end = 0;    ///< out: first cycle after the last burst left its channel

  tlm::tlm_extension_base* clone() const override { return new TransferTag(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const TransferTag&>(other);
  }
};

/// Parameters of the Dram module.
struct DramParams {
  design::DramConfig config;             ///< bandwidth, latency, bursts, channels
  sc_core::sc_time period;               ///< one accelerator clock cycle
};

/// Where a transfer went: begin of its first burst, end of its channel busy
/// time, and completion (busy end + latency).
struct Served {
  std::uint64_t begin = 0;     ///< first cycle any channel moved it
  std::uint64_t busy_end = 0;  ///< first cycle after its last burst left
  std::uint64_t done = 0;      ///< completion: busy_end + latency
};

/// One DRAM channel: a calendar of disjoint busy intervals [begin, end).
class DramChannel {
 public:
  /// Reserves `cycles` cycles at the earliest gap that starts at or after `ready`; returns its begin.
  std::uint64_t reserve(std::uint64_t ready, std::uint64_t cycles);
  /// Forgets intervals that end at or before `cycle` (no reservation can start before the present).
  void forget_before(std::uint64_t cycle);
  std::uint64_t busy_cycles() const { return m_busy_total; }

 private:
  std::map<std::uint64_t, std::uint64_t> m_busy;  ///< begin -> end, disjoint, adjacent ones merged
  std::uint64_t m_busy_total = 0;                 ///< cycles reserved so far
};

class Dram : public sc_core::sc_module {
 public:
  /// One binding per core; the binding index is the core number.
  tlm_utils::multi_passthrough_target_socket<Dram> socket;

  Dram(sc_core::sc_module_name name, const DramParams& params);

  /// Cycles channel `c` moved bursts.
  std::uint64_t channel_busy_cycles(std::size_t c) const { return m_channels.at(c).busy_cycles(); }
  std::size_t channels() const { return m_channels.size(); }

  /// Serves a transfer of `bytes` ready at `ready` whose parts may not start
  /// before `not_before` (docs/timing.md, "DRAM channels and arbitration");
  /// reserves the channels and records the busy intervals for op `op`.
  Served serve(std::uint64_t ready, std::uint64_t not_before, std::uint64_t bytes, std::uint32_t op, bool write);

  /// Busy intervals of the channels, one per (channel, op, direction): first
  /// burst to last (tracks "dram.ch<j>").
  void collect_timeline(std::vector<TimelineEvent>& out) const;

 private:
  void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  struct Span {
    std::uint64_t start = 0;  ///< first busy cycle
    std::uint64_t end = 0;    ///< first cycle after
  };

  DramParams m_params;                         ///< configuration
  std::vector<DramChannel> m_channels;         ///< the channels' calendars
  std::uint64_t m_next_channel = 0;            ///< the channel that takes the next transfer's first burst
  std::vector<std::map<std::pair<std::uint32_t, bool>, Span>> m_spans;  ///< per channel: (op, write) -> span
};

/// The most cycles of `period` that SystemC's time (64-bit picoseconds) holds.
std::uint64_t max_cycles(const sc_core::sc_time& period);
/// sc_time of `cycles` cycles of `period` (exact: integer multiples). The one
/// conversion of a cycle to SystemC time: past max_cycles(period) it records
/// the overflow (time_overflow()) and throws std::overflow_error instead of
/// wrapping around.
sc_core::sc_time cycles_to_time(std::uint64_t cycles, const sc_core::sc_time& period);
/// The first cycle count cycles_to_time refused in this process, 0 if none.
std::uint64_t time_overflow();
/// Whole cycles in `time` (time is always a multiple of `period` in this model).
std::uint64_t time_to_cycles(const sc_core::sc_time& time, const sc_core::sc_time& period);
/// The clock period of a design, rounded to the kernel's time resolution (1 ps).
sc_core::sc_time clock_period(const design::Design& design);

}  // namespace nibble::arch
