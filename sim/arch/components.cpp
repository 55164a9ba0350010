#include "sim/arch/components.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace nibble::arch {

OpUnit::OpUnit(sc_core::sc_module_name name, sc_core::sc_time period) : sc_core::sc_module(name), m_period(period) {
  SC_THREAD(run);
}

void OpUnit::assign(UnitHost* host, std::vector<const OpShare*> queue) {
  m_host = host;
  m_queue = std::move(queue);
}

std::uint64_t OpUnit::now() const { return time_to_cycles(sc_core::sc_time_stamp(), m_period); }

void OpUnit::wait_until(std::uint64_t cycle) {
  // Converted as an absolute time, so a cycle past SystemC's range is caught
  // even when the wait itself is short.
  if (cycle > now()) sc_core::wait(cycles_to_time(cycle, m_period) - sc_core::sc_time_stamp());
}

void OpUnit::run() {
  // docs/timing.md, "Overlap": the unit takes its ops in program order. An
  // op's first loads may go out once the op before has read its last operands
  // (`released`) and every op writing its inputs has ended (stores included);
  // its first step once the unit has finished the op before (`free`).
  std::uint64_t free = 0;
  std::uint64_t released = 0;
  std::uint64_t last_end = 0;
  for (const OpShare* share : m_queue) {
    wait_until(released);
    const std::uint64_t inputs = m_host->wait_inputs(*share);
    wait_until(inputs);
    // Its space in the scratchpads before its first load (docs/timing.md,
    // "Scratchpad reservations"): waiting for it is a full-buffer stall.
    const std::uint64_t ready = now();
    wait_until(m_host->reserve(*share));
    const std::uint64_t load_from = now();
    const std::uint64_t start = std::max({load_from, free, m_host->first_input(*share)});
    std::uint64_t ideal = 0;
    const RunTimes t = m_host->execute(*share, start, load_from, ideal);
    // The unit was waiting for inputs from the moment it was free.
    const std::uint64_t span = t.compute_end - start;
    UnitCycles op;
    op.busy = std::min(ideal, span);
    op.stalled_dram = span - op.busy;
    op.stalled_full_buffer = std::max(load_from, free) - std::max(ready, free);
    op.stalled_dependency = start - free - op.stalled_full_buffer;
    m_cycles.busy += op.busy;
    m_cycles.stalled_dram += op.stalled_dram;
    m_cycles.stalled_dependency += op.stalled_dependency;
    m_cycles.stalled_full_buffer += op.stalled_full_buffer;
    m_host->account(*share, op);
    if (t.compute_end > start) m_events.push_back(TimelineEvent{"", share->index, start, t.compute_end, work_name()});
    free = t.compute_end;
    released = t.released;
    last_end = std::max(last_end, t.end);
  }
  // Stay until the last store has completed: the kernel's time is the step's end.
  wait_until(last_end);
}

SystolicArray::SystolicArray(sc_core::sc_module_name name, const design::Design& design)
    : OpUnit(name, clock_period(design)), m_design(design) {}

VectorUnit::VectorUnit(sc_core::sc_module_name name, const design::Design& design)
    : OpUnit(name, clock_period(design)), m_config(design.vector) {}

Scratchpad::Scratchpad(sc_core::sc_module_name name, const design::ScratchpadConfig& config)
    : sc_core::sc_module(name), m_config(config) {}

void Scratchpad::retire(std::uint64_t now) {
  while (!m_releases.empty() && m_releases.begin()->first <= now) {
    m_held -= m_releases.begin()->second;
    m_releases.erase(m_releases.begin());
  }
}

std::vector<std::uint64_t> Scratchpad::claim(const SlotNeed& need, std::uint64_t now) {
  std::vector<std::uint64_t> from;
  if (need.bytes == 0 || need.count == 0) return from;
  retire(now);
  const std::uint64_t capacity = m_config.capacity_bytes;
  std::uint64_t free = capacity > m_held ? capacity - m_held : 0;
  std::uint64_t cursor = now;
  from.reserve(need.count);
  for (std::uint64_t i = 0; i < need.count; ++i) {
    std::uint64_t left = need.bytes;
    const std::uint64_t take = std::min(free, left);
    free -= take;
    left -= take;
    m_held += take;
    // The rest is handed over from the earliest releases (still held, now by the caller).
    while (left > 0) {
      if (m_releases.empty() && m_held > need.bytes * i + (need.bytes - left)) {
        // Held by ops that reserved and have not run yet: their releases come when they do.
        sc_core::wait(m_scheduled);
        continue;
      }
      if (m_releases.empty()) {
        throw std::logic_error(std::string(name()) + ": a reservation of " + std::to_string(need.count) + " x " +
                               std::to_string(need.bytes) + " bytes exceeds the capacity (" +
                               std::to_string(capacity) + ")");
      }
      const auto first = m_releases.begin();
      const std::uint64_t used = std::min(first->second, left);
      left -= used;
      cursor = std::max(cursor, first->first);
      if (used == first->second) {
        m_releases.erase(first);
      } else {
        first->second -= used;
      }
    }
    from.push_back(cursor);
  }
  return from;
}

void Scratchpad::release(std::uint64_t bytes, std::uint64_t cycle) {
  if (bytes == 0) return;
  m_releases.emplace(cycle, bytes);
  m_scheduled.notify(sc_core::SC_ZERO_TIME);
}

DmaEngine::DmaEngine(sc_core::sc_module_name name, sc_core::sc_time period)
    : sc_core::sc_module(name), socket("socket"), m_period(period), m_tag(new TransferTag) {
  m_trans.set_data_ptr(&m_dummy);
  m_trans.set_byte_enable_ptr(nullptr);
  m_trans.set_dmi_allowed(false);
  m_trans.set_extension(m_tag);
}

DmaEngine::~DmaEngine() {
  m_trans.clear_extension(m_tag);
  delete m_tag;
}

void DmaEngine::begin_op(std::uint32_t op) {
  m_op = op;
  m_cursor = 0;
}

std::uint64_t DmaEngine::transfer(std::uint64_t ready, std::uint64_t bytes, bool write) {
  if (bytes > 0xFFFFFFFFu) {
    // A TLM payload carries at most 4 GiB: larger transfers go in pieces, back to back.
    std::uint64_t left = bytes;
    std::uint64_t done = ready;
    while (left > 0) {
      const std::uint64_t piece = std::min<std::uint64_t>(left, 0x80000000u);
      done = transfer(ready, piece, write);
      left -= piece;
    }
    return done;
  }
  // Loosely timed: the unit runs ahead of SystemC time within an op and
  // annotates each transfer with its ready cycle; the DRAM returns completion.
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const sc_core::sc_time at = cycles_to_time(ready, m_period);
  if (at < now) throw std::logic_error("DMA transfer ready before the present");
  sc_core::sc_time delay = at - now;
  m_trans.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  m_trans.set_address(0);
  m_trans.set_data_length(static_cast<unsigned int>(bytes));
  m_trans.set_streaming_width(m_trans.get_data_length());
  m_trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  m_tag->op = m_op;
  m_tag->not_before = m_cursor;
  socket->b_transport(m_trans, delay);
  if (m_trans.is_response_error()) throw std::runtime_error("DRAM transfer failed: " + m_trans.get_response_string());
  const std::uint64_t done = time_to_cycles(now + delay, m_period);
  // In order within the op: the next transfer's bursts follow this one's.
  m_cursor = std::max(m_cursor, m_tag->busy_end);
  const std::uint64_t earliest = std::max(ready, m_tag->not_before);
  if (m_tag->begin > earliest) m_arbitration += m_tag->begin - earliest;
  if (done > m_tag->begin) {
    if (!m_busy.empty() && m_busy.back().second >= m_tag->begin && m_busy.back().first <= m_tag->begin) {
      m_busy.back().second = std::max(m_busy.back().second, m_tag->busy_end);
    } else if (m_tag->busy_end > m_tag->begin) {
      m_busy.emplace_back(m_tag->begin, m_tag->busy_end);
    }
    Span& span = m_spans[{m_op, write}];
    if (span.end == 0) {
      span = Span{m_tag->begin, done};
    } else {
      span.start = std::min(span.start, m_tag->begin);
      span.end = std::max(span.end, done);
    }
  }
  return done;
}

void DmaEngine::collect_timeline(const std::string& track, std::vector<TimelineEvent>& out) const {
  for (const auto& [key, span] : m_spans) {
    if (span.end > span.start) out.push_back(TimelineEvent{track, key.first, span.start, span.end, key.second ? "store" : "load"});
  }
}

UnitCycles DmaEngine::cycles() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> busy = m_busy;
  std::sort(busy.begin(), busy.end());
  UnitCycles c;
  std::uint64_t covered = 0;  // union of the intervals, swept in order
  for (const auto& [b, e] : busy) {
    const std::uint64_t from = std::max(b, covered);
    if (e > from) c.busy += e - from;
    covered = std::max(covered, e);
  }
  c.stalled_arbitration = m_arbitration;
  return c;
}

}  // namespace nibble::arch
