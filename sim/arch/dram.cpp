#include "sim/arch/dram.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>

namespace nibble::arch {

namespace {
// The first cycle count past the limit that cycles_to_time met in this
// process (0: none). SystemC turns whatever a process throws into an
// sc_report, so the exception's type is lost on the way out of sc_start().
std::uint64_t g_time_overflow = 0;
}  // namespace

std::uint64_t max_cycles(const sc_core::sc_time& period) { return UINT64_MAX / period.value(); }

sc_core::sc_time cycles_to_time(std::uint64_t cycles, const sc_core::sc_time& period) {
  if (cycles > max_cycles(period)) {
    if (g_time_overflow == 0) g_time_overflow = cycles;
    throw std::overflow_error("simulated time past SystemC's 2^64 ps at cycle " + std::to_string(cycles));
  }
  return sc_core::sc_time::from_value(period.value() * cycles);
}

std::uint64_t time_overflow() { return g_time_overflow; }

std::uint64_t time_to_cycles(const sc_core::sc_time& time, const sc_core::sc_time& period) {
  return time.value() / period.value();
}

sc_core::sc_time clock_period(const design::Design& design) {
  // 1 / clock_mhz microseconds, in whole picoseconds (at least 1 ps).
  const double ps = std::max(1.0, std::round(1e6 / design.clock_mhz));
  return sc_core::sc_time(ps, sc_core::SC_PS);
}

std::uint64_t DramChannel::reserve(std::uint64_t ready, std::uint64_t cycles) {
  if (cycles == 0) return ready;
  std::uint64_t t = ready;
  auto it = m_busy.upper_bound(t);  // first interval beginning after t
  if (it != m_busy.begin()) {
    const auto prev = std::prev(it);
    t = std::max(t, prev->second);  // inside (or at the end of) the interval before
  }
  while (it != m_busy.end() && it->first < t + cycles) {  // the gap before `it` is too short
    t = std::max(t, it->second);
    ++it;
  }
  m_busy_total += cycles;
  // Insert [t, t + cycles), merged with the neighbours it touches: the
  // calendar stays as short as the number of real gaps.
  std::uint64_t begin = t;
  std::uint64_t end = t + cycles;
  if (it != m_busy.end() && it->first == end) {
    end = it->second;
    it = m_busy.erase(it);
  }
  if (it != m_busy.begin()) {
    const auto prev = std::prev(it);
    if (prev->second == begin) {
      prev->second = end;
      return t;
    }
  }
  m_busy.emplace_hint(it, begin, end);
  return t;
}

void DramChannel::forget_before(std::uint64_t cycle) {
  while (!m_busy.empty() && m_busy.begin()->second <= cycle) m_busy.erase(m_busy.begin());
}

Dram::Dram(sc_core::sc_module_name name, const DramParams& params)
    : sc_core::sc_module(name),
      socket("socket"),
      m_params(params),
      m_channels(params.config.channels),
      m_spans(params.config.channels) {
  socket.register_b_transport(this, &Dram::b_transport);
}

Served Dram::serve(std::uint64_t ready, std::uint64_t not_before, std::uint64_t bytes, std::uint32_t op, bool write) {
  const design::DramConfig& c = m_params.config;
  if (c.ideal) return Served{ready, ready, ready};
  // Whole bursts cross the interface, interleaved over the channels from the
  // one after the previous transfer's last burst; each channel moves its
  // bursts at bandwidth / channels bytes per cycle.
  const std::uint64_t channels = m_channels.size();
  const std::uint64_t bursts = (bytes + c.burst_bytes - 1) / c.burst_bytes;
  const std::uint64_t per_channel_bw = c.bandwidth_bytes_per_cycle / channels;
  const std::uint64_t earliest = std::max(ready, not_before);
  Served s{UINT64_MAX, earliest, 0};
  for (std::uint64_t j = 0; j < std::min(channels, bursts); ++j) {
    const std::uint64_t ch = (m_next_channel + j) % channels;
    const std::uint64_t mine = bursts / channels + (j < bursts % channels ? 1 : 0);
    const std::uint64_t moved = mine * c.burst_bytes;
    const std::uint64_t busy = moved / per_channel_bw + (moved % per_channel_bw != 0 ? 1 : 0);
    const std::uint64_t begin = m_channels[ch].reserve(earliest, busy);
    s.begin = std::min(s.begin, begin);
    s.busy_end = std::max(s.busy_end, begin + busy);
    Span& span = m_spans[ch][{op, write}];
    if (span.end == 0) {
      span = Span{begin, begin + busy};
    } else {
      span.start = std::min(span.start, begin);
      span.end = std::max(span.end, begin + busy);
    }
  }
  m_next_channel = (m_next_channel + bursts) % channels;
  if (s.begin == UINT64_MAX) s.begin = earliest;  // an empty transfer
  s.done = s.busy_end + c.latency_cycles;         // last data arrives one latency after it left
  return s;
}

void Dram::b_transport(int /*initiator*/, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const std::uint64_t now_cycles = time_to_cycles(now, m_params.period);
  // Every requester issues transfers ready at or after the present, so the
  // calendars' past is never needed again.
  for (auto& ch : m_channels) ch.forget_before(now_cycles);
  const std::uint64_t ready = time_to_cycles(now + delay, m_params.period);
  const std::uint64_t bytes = trans.get_data_length();
  TransferTag* tag = trans.get_extension<TransferTag>();
  const Served s = serve(ready, tag != nullptr ? tag->not_before : 0, bytes, tag != nullptr ? tag->op : 0,
                         trans.is_write());
  if (tag != nullptr) {
    tag->begin = s.begin;
    tag->busy_end = s.busy_end;
  }
  delay = cycles_to_time(s.done, m_params.period) - now;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Dram::collect_timeline(std::vector<TimelineEvent>& out) const {
  for (std::size_t ch = 0; ch < m_spans.size(); ++ch) {
    for (const auto& [key, span] : m_spans[ch]) {
      if (span.end <= span.start) continue;
      out.push_back(TimelineEvent{"dram.ch" + std::to_string(ch), key.first, span.start, span.end,
                                  key.second ? "store" : "load"});
    }
  }
}

}  // namespace nibble::arch
