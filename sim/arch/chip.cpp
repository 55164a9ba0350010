#include "sim/arch/chip.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace nibble::arch {

void OpBarrier::arrive_and_wait() {
  if (++m_arrived == m_parties) {
    m_arrived = 0;
    m_all.notify(sc_core::SC_ZERO_TIME);
    return;
  }
  sc_core::wait(m_all);
}

Core::Core(sc_core::sc_module_name name, const CoreConfig& config)
    : sc_core::sc_module(name),
      socket("socket"),
      array("array", *config.design),
      input("input", config.design->input),
      weight("weight", config.design->weight),
      output("output", config.design->output),
      vector("vector", config.design->vector),
      m_config(config),
      m_period(clock_period(*config.design)) {
  m_trans.set_data_ptr(&m_dummy);
  m_trans.set_byte_enable_ptr(nullptr);
  m_trans.set_dmi_allowed(false);
  SC_THREAD(controller);
}

std::uint64_t Core::transfer(std::uint64_t ready, std::uint64_t bytes, bool write) {
  // Loosely timed: the controller runs ahead of SystemC time within an op and
  // annotates each transfer with its ready cycle; the DRAM returns completion.
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  sc_core::sc_time delay = cycles_to_time(ready, m_period) - now;
  m_trans.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  m_trans.set_address(0);
  m_trans.set_data_length(static_cast<unsigned int>(std::min<std::uint64_t>(bytes, 0xFFFFFFFFu)));
  m_trans.set_streaming_width(m_trans.get_data_length());
  m_trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
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
  socket->b_transport(m_trans, delay);
  if (m_trans.is_response_error()) throw std::runtime_error("DRAM transfer failed: " + m_trans.get_response_string());
  const std::uint64_t done = time_to_cycles(now + delay, m_period);
  // The timeline keeps only the union of an op's transfers: one that starts
  // inside the previous record's interval extends it (most do, pipelined).
  TransferRecord* last = m_transfers.empty() ? nullptr : &m_transfers.back();
  if (last != nullptr && last->op == m_op && ready >= last->ready && ready <= last->done) {
    last->done = std::max(last->done, done);
  } else if (done > ready) {
    m_transfers.push_back(TransferRecord{m_op, ready, done});
  }
  return done;
}

void Core::controller() {
  const design::Design& d = *m_config.design;
  const ArchStats& st = *m_config.stats;
  const std::vector<OpShare>& work = *m_config.work;
  const std::size_t counters = st.size;
  m_records.reserve(work.size());
  IdealMemory ideal;
  for (std::size_t i = 0; i < work.size(); ++i) {
    const OpShare& share = work[i];
    m_op = static_cast<std::uint32_t>(i);
    const std::uint64_t start = time_to_cycles(sc_core::sc_time_stamp(), m_period);
    OpRecord rec;
    rec.start = start;
    rec.counts = StatVector(counters);
    if (share.op->is_gemm()) {
      // compute_cycles: the same folds with every transfer complete when ready.
      rec.ideal_cycles = run_gemm(d, share.exec, share.plan, ideal, 0, nullptr, st);
      rec.end = run_gemm(d, share.exec, share.plan, *this, start, &rec.counts, st);
    } else {
      // Fused into the op before it (docs/timing.md): the input never leaves the chip.
      const bool fused = i > 0 && fuses_into_previous(*work[i - 1].op, *share.op);
      rec.ideal_cycles = run_vector(d, *share.op, share.elements, ideal, 0, nullptr, st, fused);
      rec.end = run_vector(d, *share.op, share.elements, *this, start, &rec.counts, st, fused);
    }
    m_records.push_back(std::move(rec));
    // Let SystemC time catch up with the op's end, then meet the other cores.
    sc_core::wait(cycles_to_time(m_records.back().end - start, m_period));
    m_config.barrier->arrive_and_wait();
    if (m_config.progress != nullptr) m_config.progress->update(i + 1, share.op->layer);
  }
}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config)
    : sc_core::sc_module(name),
      dram("dram", DramParams{config.design->dram, config.design->cores, clock_period(*config.design)}),
      m_barrier(config.design->cores) {
  for (std::size_t i = 0; i < config.design->cores; ++i) {
    CoreConfig cc;
    cc.design = config.design;
    cc.index = i;
    cc.work = &config.work->at(i);
    cc.stats = config.stats;
    cc.barrier = &m_barrier;
    cc.progress = i == 0 ? config.progress : nullptr;
    cores.push_back(std::make_unique<Core>(("core" + std::to_string(i)).c_str(), cc));
    cores.back()->socket.bind(dram.socket);
  }
}

}  // namespace nibble::arch
