#include "sim/arch/chip.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

#include "sim/arch/deps.hpp"

namespace nibble::arch {

Scoreboard::Scoreboard(std::vector<std::vector<std::uint32_t>> deps, std::size_t cores,
                       const workloads::Trace* trace, Progress* progress)
    : m_deps(std::move(deps)),
      m_missing(m_deps.size(), cores),
      m_end(m_deps.size(), 0),
      m_trace(trace),
      m_progress(progress) {}

std::uint64_t Scoreboard::wait_inputs(std::uint32_t op, std::optional<std::uint32_t> streamed) {
  std::uint64_t ready = 0;
  for (const std::uint32_t dep : m_deps.at(op)) {
    while (m_missing.at(dep) != 0) sc_core::wait(m_issued);
    if (dep != streamed) ready = std::max(ready, m_end[dep]);
  }
  return ready;
}

void Scoreboard::issued(std::uint32_t op, std::uint64_t end) {
  m_end.at(op) = std::max(m_end.at(op), end);
  if (--m_missing.at(op) != 0) return;
  ++m_complete;
  m_issued.notify(sc_core::SC_ZERO_TIME);
  if (m_progress != nullptr) m_progress->update(m_complete, m_trace->ops.at(op).layer);
}

Core::Core(sc_core::sc_module_name name, const CoreConfig& config)
    : sc_core::sc_module(name),
      vector("vector", *config.design),
      dma("dma", clock_period(*config.design)),
      input("input", config.design->input),
      weight("weight", config.design->weight),
      output("output", config.design->output),
      m_config(config) {
  const std::vector<OpShare>& work = *config.work;
  m_records.resize(work.size());
  const design::Design& d = *config.design;
  std::vector<std::vector<const OpShare*>> gemms(d.unit_count());
  std::vector<const OpShare*> vectors;
  for (const OpShare& s : work) {
    if (s.op->is_gemm()) {
      gemms.at(s.exec.unit).push_back(&s);
    } else {
      vectors.push_back(&s);
    }
  }
  for (std::size_t u = 0; u < d.unit_count(); ++u) {
    arrays.push_back(std::make_unique<SystolicArray>(d.unit(u).name.c_str(), d.unit_view(u)));
    arrays.back()->assign(this, std::move(gemms[u]));
  }
  vector.assign(this, std::move(vectors));
}

std::uint64_t Core::wait_inputs(const OpShare& share) {
  if (share.streams) return m_config.scoreboard->wait_inputs(share.index, share.index - 1);
  return m_config.scoreboard->wait_inputs(share.index);
}

std::uint64_t Core::first_input(const OpShare& share) const {
  if (!share.streams) return 0;
  const OutputLog& log = m_outputs.at(share.index - 1);
  return log.empty() ? 0 : log.front().first;
}

const design::Design& Core::design_of(const OpShare& share) const {
  // GEMMs follow their unit's array (Design::unit_view); vector ops the whole design.
  return share.op->is_gemm() ? arrays.at(share.exec.unit)->design() : *m_config.design;
}

std::uint64_t Core::reserve(const OpShare& share) {
  const design::Design& d = design_of(share);
  const Reservation need = share.op->is_gemm() ? gemm_reservation(d, share.plan)
                                               : vector_reservation(d, *share.op, share.elements, share.streams);
  const std::uint64_t now = time_to_cycles(sc_core::sc_time_stamp(), clock_period(d));
  Held held{need, SlotTimes{input.claim(need.input, now), weight.claim(need.weight, now), output.claim(need.output, now)}};
  // The op starts once its first slot in each scratchpad is its own (the
  // slots are handed over in order: the first is the earliest).
  std::uint64_t first = now;
  for (const auto* from : {&held.from.input, &held.from.weight, &held.from.output}) {
    if (!from->empty()) first = std::max(first, from->front());
  }
  m_held[share.index] = std::move(held);
  return first;
}

RunTimes Core::execute(const OpShare& share, std::uint64_t start, std::uint64_t load_from,
                       std::uint64_t& ideal_cycles) {
  const design::Design& d = design_of(share);
  const auto held_at = m_held.find(share.index);
  if (held_at == m_held.end()) throw std::logic_error("an op ran without its scratchpad reservation");
  const Held held = std::move(held_at->second);
  m_held.erase(held_at);
  const ArchStats& st = *m_config.stats;
  OpRecord& rec = m_records.at(share.index);
  rec.counts = StatVector(st.size);
  IdealMemory ideal;
  dma.begin_op(share.index);
  const std::uint64_t waited = dma.arbitration_cycles();
  RunTimes t;
  if (share.op->is_gemm()) {
    // compute_cycles: the same folds with every transfer complete when ready.
    rec.ideal_cycles = run_gemm(d, share.exec, share.plan, ideal, 0, nullptr, st);
    OutputLog* produced = share.log_outputs ? &m_outputs[share.index] : nullptr;
    t = run_gemm(d, share.exec, share.plan, dma, start, &rec.counts, st, load_from, produced, &held.from);
  } else if (share.streams) {
    // Streams the GEMM's output (docs/timing.md, "Streaming a GEMM's output").
    const OutputLog& log = m_outputs.at(share.index - 1);
    const StreamSource source{&log, log.empty() ? 0 : log.back().second};
    rec.ideal_cycles = run_vector(d, *share.op, share.elements, ideal, 0, nullptr, st, true).end;
    t = run_vector(d, *share.op, share.elements, dma, start, &rec.counts, st, true, &source, &held.from);
    m_outputs.erase(share.index - 1);
  } else {
    rec.ideal_cycles = run_vector(d, *share.op, share.elements, ideal, 0, nullptr, st, share.fused, nullptr, nullptr,
                                  share.keeps_output)
                           .end;
    t = run_vector(d, *share.op, share.elements, dma, start, &rec.counts, st, share.fused, nullptr, &held.from,
                   share.keeps_output);
  }
  // Give the space back as the op lets it go: operands after their last read,
  // each output block (chunk) slot when its last store has completed.
  input.release(held.need.input.bytes * held.from.input.size(), t.released);
  weight.release(held.need.weight.bytes * held.from.weight.size(), t.released);
  for (std::size_t i = 0; i < held.from.output.size(); ++i) {
    output.release(held.need.output.bytes, i < t.freed.size() ? t.freed[i] : t.end);
  }
  rec.counts[st.dma_stall_arbitration_cycles] = dma.arbitration_cycles() - waited;
  rec.start = start;
  rec.compute_end = t.compute_end;
  rec.end = t.end;
  ideal_cycles = rec.ideal_cycles;
  m_config.scoreboard->issued(share.index, t.end);
  return t;
}

void Core::account(const OpShare& share, const UnitCycles& cycles) {
  const ArchStats& st = *m_config.stats;
  StatVector& counts = m_records.at(share.index).counts;
  counts[st.unit_busy_cycles] = cycles.busy;
  counts[st.unit_stall_dram_cycles] = cycles.stalled_dram;
  counts[st.unit_stall_dependency_cycles] = cycles.stalled_dependency;
  counts[st.unit_stall_full_buffer_cycles] = cycles.stalled_full_buffer;
}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& config)
    : sc_core::sc_module(name),
      dram("dram", DramParams{config.design->dram, clock_period(*config.design)}),
      m_scoreboard(op_dependencies(*config.trace), config.design->cores, config.trace, config.progress) {
  for (std::size_t i = 0; i < config.design->cores; ++i) {
    CoreConfig cc;
    cc.design = config.design;
    cc.index = i;
    cc.work = &config.work->at(i);
    cc.stats = config.stats;
    cc.scoreboard = &m_scoreboard;
    cores.push_back(std::make_unique<Core>(("core" + std::to_string(i)).c_str(), cc));
    cores.back()->dma.socket.bind(dram.socket);
  }
}

std::vector<TimelineEvent> collect_timeline(const Chip& chip) {
  std::vector<TimelineEvent> out;
  for (std::size_t i = 0; i < chip.cores.size(); ++i) {
    const Core& core = *chip.cores[i];
    const std::string prefix = "core" + std::to_string(i) + ".";
    for (const auto& array : core.arrays) {
      for (TimelineEvent e : array->events()) {
        e.track = prefix + array->design().array_name;
        out.push_back(std::move(e));
      }
    }
    for (TimelineEvent e : core.vector.events()) {
      e.track = prefix + "vector";
      out.push_back(std::move(e));
    }
    core.dma.collect_timeline(prefix + "dma", out);
  }
  chip.dram.collect_timeline(out);
  std::sort(out.begin(), out.end(), [](const TimelineEvent& a, const TimelineEvent& b) {
    return std::tie(a.start, a.track, a.op, a.what) < std::tie(b.start, b.track, b.op, b.what);
  });
  return out;
}

std::vector<UnitReport> collect_units(const Chip& chip) {
  std::vector<UnitReport> out;
  for (std::size_t i = 0; i < chip.cores.size(); ++i) {
    const Core& core = *chip.cores[i];
    const std::string prefix = "core" + std::to_string(i) + ".";
    for (const auto& array : core.arrays) out.push_back(UnitReport{prefix + array->design().array_name, array->cycles()});
    out.push_back(UnitReport{prefix + "vector", core.vector.cycles()});
    out.push_back(UnitReport{prefix + "dma", core.dma.cycles()});
  }
  for (std::size_t c = 0; c < chip.dram.channels(); ++c) {
    UnitReport r{"dram.ch" + std::to_string(c), UnitCycles{}};
    r.cycles.busy = chip.dram.channel_busy_cycles(c);
    out.push_back(r);
  }
  return out;
}

}  // namespace nibble::arch
