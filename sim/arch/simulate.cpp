#include "sim/arch/simulate.hpp"

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <systemc>
#include <unordered_map>

#include "sim/arch/arch_stats.hpp"
#include "sim/arch/chip.hpp"
#include "sim/arch/deps.hpp"
#include "sim/arch/engine.hpp"
#include "sim/arch/mapper.hpp"
#include "sim/common/error.hpp"
#include "sim/common/progress.hpp"
#include "sim/common/text.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/design/trace_names.hpp"

namespace nibble::arch {

using workloads::Phase;
using workloads::TraceOp;

double SimResult::seconds() const { return design.seconds(totals[ids.cycles]); }

double SimResult::utilization(const StatVector& stats) const {
  const std::uint64_t cycles = stats[ids.cycles];
  if (cycles == 0) return 0.0;
  // Every matrix unit's MAC slots (N per dot-product PE): a step that keeps one unit of two busy is not fully used.
  const double slots = static_cast<double>(cycles) * static_cast<double>(design.macs_per_cycle_per_core()) *
                       static_cast<double>(design.cores);
  return static_cast<double>(stats[ids.macs]) / slots;
}

// A timeline event crosses the child's pipe as [track, op, start, end, what].
// Found by nlohmann::json through argument-dependent lookup, hence here and
// not in the unnamed namespace; static keeps them to this file.
static void to_json(nlohmann::json& j, const TimelineEvent& e) {
  j = nlohmann::json::array({e.track, e.op, e.start, e.end, e.what});
}

static void from_json(const nlohmann::json& j, TimelineEvent& e) {
  e.track = j.at(0).get<std::string>();
  e.op = j.at(1).get<std::uint32_t>();
  e.start = j.at(2).get<std::uint64_t>();
  e.end = j.at(3).get<std::uint64_t>();
  e.what = j.at(4).get<std::string>();
}

namespace {

// The share of `total` that core `i` of `cores` gets: as even as possible,
// the first total % cores cores one more.
std::uint64_t share_of(std::uint64_t total, std::uint64_t cores, std::uint64_t i) {
  return total / cores + (i < total % cores ? 1 : 0);
}

// Per-op results as the child computes them: one StatVector per op.
struct OpResult {
  std::uint64_t cycles = 0;
  std::uint64_t compute = 0;
  StatVector counts;
};

struct ChildResult {
  std::vector<OpResult> ops;
  std::vector<UnitReport> units;
  std::vector<TimelineEvent> timeline;
  std::vector<PlanLabel> plans;  ///< per op: core 0's GEMM plan (empty for vector ops)
  std::uint64_t checked = 0;
  std::uint64_t too_large = 0;
  std::uint64_t no_arith = 0;
};

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t index) {
  // splitmix64 step: distinct, well-spread seeds per op from one user seed.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Cycles of each op (docs/timing.md, "Cycles of an op and of a step"): ops
// overlap, so each is charged the cycles by which it moves the step's end
// (the latest end of it and every op before it in trace order); the charges
// sum to the step. compute_cycles is the part of the charge the op would need
// with ideal memory (its slowest core's ideal span, at most the charge).
std::vector<OpResult> attribute_cycles(const Chip& chip, std::size_t ops, const ArchStats& st) {
  std::vector<OpResult> out(ops);
  std::uint64_t frontier = 0;
  for (std::size_t i = 0; i < ops; ++i) {
    OpResult& r = out[i];
    r.counts = StatVector(st.size);
    std::uint64_t end = 0;
    for (const auto& core : chip.cores) {
      const OpRecord& rec = core->records().at(i);
      end = std::max(end, rec.end);
      r.compute = std::max(r.compute, rec.ideal_cycles);
      r.counts += rec.counts;
    }
    r.cycles = end > frontier ? end - frontier : 0;
    frontier = std::max(frontier, end);
    r.compute = std::min(r.compute, r.cycles);
    r.counts[st.cycles] = r.cycles;
    r.counts[st.compute_cycles] = r.compute;
    r.counts[st.stall_cycles] = r.cycles - r.compute;
  }
  return out;
}

// Everything that happens in the child: planning, functional checks, the
// SystemC run. Throws on any failure.
ChildResult run_here(const design::Design& d, const workloads::Trace& trace, const SimOptions& options) {
  StatRegistry registry;
  const ArchStats st(registry);
  const std::uint64_t cores = d.cores;
  std::vector<design::Design> views;  // each matrix unit's view: the fold rules read its array
  for (std::size_t u = 0; u < d.unit_count(); ++u) views.push_back(d.unit_view(u));
  std::vector<Mapper> mappers;  // one per matrix unit: plans are searched once per distinct share
  for (const auto& view : views) mappers.emplace_back(view, st);
  std::vector<std::vector<OpShare>> work(cores);
  for (auto& w : work) w.reserve(trace.ops.size());
  ChildResult out;
  out.plans.resize(trace.ops.size());
  // The engine's steps (GEMM folds, vector chunks), added up before any runs:
  // an op of a few bytes in a trace can ask for hours of work and gigabytes.
  std::uint64_t steps = 0;
  const auto add_steps = [&](std::uint64_t n, std::size_t i) {
    steps = checked_add(steps, n).value_or(std::numeric_limits<std::uint64_t>::max());
    if (steps <= options.max_steps) return;
    throw SettingError("max_steps", "the simulation would take more than " + std::to_string(options.max_steps) +
                                        " engine steps (GEMM folds and vector chunks), reached at op " +
                                        std::to_string(i) + " (" + trace.ops[i].layer + "); raise " +
                                        setting_ref("max_steps") + " to run it anyway");
  };
  const bool named = trace.names_tensors();
  // How many ops read each tensor: a hadamard's result that only the quantize fused
  // after it reads never leaves the chip. Only a trace with such a transform needs it.
  std::unordered_map<std::string, std::size_t> readers;
  const auto is_hadamard = [](const TraceOp& op) { return op.vector == workloads::VectorKind::kHadamard; };
  if (named && std::any_of(trace.ops.begin(), trace.ops.end(), is_hadamard)) {
    for (const auto& op : trace.ops) {
      for (const auto& t : op.reads) ++readers[t];
    }
  }
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const TraceOp& op = trace.ops[i];
    if (op.is_gemm()) {
      const design::Execution exec = design::plan_execution(d, op);
      const design::Design& unit = views.at(exec.unit);
      // Cores split the batch: forward and input-gradient GEMMs by their rows
      // (m = batch x positions); weight-gradient GEMMs, whose batch is the
      // reduction, by output columns so no core needs another's partial sums.
      const bool split_n = op.phase == Phase::kWeightGrad;
      for (std::uint64_t c = 0; c < cores; ++c) {
        const std::uint64_t m = split_n ? op.m : share_of(op.m, cores, c);
        const std::uint64_t n = split_n ? share_of(op.n, cores, c) : op.n;
        OpShare s;
        s.op = &op;
        s.index = static_cast<std::uint32_t>(i);
        s.exec = exec;
        // Counted on the fixed plan, before the mapper costs its candidates (each as long as the GEMM).
        const GemmPlan fixed = plan_gemm(unit, exec, op, m, n, op.k);
        add_steps(gemm_folds(unit, fixed), i);
        s.plan = unit.mapper == design::MapperKind::kFixed ? fixed : mappers.at(exec.unit).plan(exec, op, m, n, op.k);
        if (c == 0) out.plans[i] = plan_label(unit, s.plan);
        work[c].push_back(std::move(s));
      }
      if (options.functional) {
        const GemmPlan whole = mappers.at(exec.unit).plan(exec, op, op.m, op.n, op.k);
        switch (check_functional(unit, exec, whole, op, mix_seed(options.seed, i), options.functional_max_macs)) {
          case FunctionalOutcome::kChecked: ++out.checked; break;
          case FunctionalOutcome::kTooLarge: ++out.too_large; break;
          case FunctionalOutcome::kNoArithmetic: ++out.no_arith; break;
        }
      }
    } else {
      // Fused into the op before it (docs/timing.md): the input never leaves the chip.
      // In a trace that names its tensors, only when the op reads what that one wrote.
      // A quantize that needs its whole input's amax first is neither (docs/timing.md).
      const bool producer = i > 0 && reads_output_of(op, trace.ops[i - 1], named);
      const bool on_chip = producer && !needs_whole_input(d, op);
      const bool fused = on_chip && fuses_into_previous(trace.ops[i - 1], op);
      // Streaming the GEMM just before it, tile by tile (docs/timing.md).
      const bool streams = d.vector.stream_gemm_output && on_chip && streams_from_gemm(trace.ops[i - 1], op);
      if (streams) {
        for (auto& w : work) w.back().log_outputs = true;
      }
      // A transform feeding only the quantizer keeps its result on chip (docs/timing.md,
      // "A result kept on chip").
      const auto read_once = [&](const std::string& t) { return readers[t] == 1; };
      if (fused && named && is_hadamard(trace.ops[i - 1]) && op.vector == workloads::VectorKind::kQuantize &&
          std::all_of(trace.ops[i - 1].writes.begin(), trace.ops[i - 1].writes.end(), read_once)) {
        for (auto& w : work) w.back().keeps_output = true;
      }
      for (std::uint64_t c = 0; c < cores; ++c) {
        OpShare s;
        s.op = &op;
        s.index = static_cast<std::uint32_t>(i);
        s.fused = fused;
        s.streams = streams;
        s.elements = share_of(op.elements, cores, c);
        const std::uint64_t chunk = vector_chunk(d, op);
        if (chunk > 0) add_steps(s.elements / chunk + (s.elements % chunk != 0 ? 1 : 0), i);
        work[c].push_back(std::move(s));
      }
    }
  }

  Progress progress("simulate", trace.ops.size(), options.progress);
  ChipConfig cfg;
  cfg.design = &d;
  cfg.trace = &trace;
  cfg.work = &work;
  cfg.stats = &st;
  cfg.progress = &progress;
  auto chip = std::make_unique<Chip>("chip", cfg);
  try {
    sc_core::sc_start();
  } catch (...) {
    if (time_overflow() == 0) throw;
    const sc_core::sc_time period = clock_period(d);
    throw InputError(d.source, 0, "clock_mhz",
                     "the simulation runs past cycle " + std::to_string(max_cycles(period)) +
                         ", the last one SystemC's time (2^64 ps) holds at " + format_double(d.clock_mhz) +
                         " MHz (" + std::to_string(period.value()) +
                         " ps a cycle); raise clock_mhz, lower dram.latency_cycles or simulate less");
  }
  progress.finish();
  out.ops = attribute_cycles(*chip, trace.ops.size(), st);
  out.units = collect_units(*chip);
  if (options.timeline != TimelineDetail::kNone) out.timeline = collect_timeline(*chip);

  std::uint64_t total = 0;
  for (const auto& r : out.ops) total += r.cycles;
  // Every reported cycle is SystemC time: the kernel stopped where the last op ended.
  const std::uint64_t kernel_cycles = time_to_cycles(sc_core::sc_time_stamp(), clock_period(d));
  if (kernel_cycles != total) {
    throw std::logic_error("SystemC time (" + std::to_string(kernel_cycles) + " cycles) differs from the ops' sum (" +
                           std::to_string(total) + ")");
  }
  return out;
}

std::string encode(const ChildResult& r) {
  nlohmann::json j;
  j["ok"] = true;
  j["checked"] = r.checked;
  j["too_large"] = r.too_large;
  j["no_arith"] = r.no_arith;
  auto& ops = j["ops"];
  ops = nlohmann::json::array();
  for (const auto& op : r.ops) ops.push_back(op.counts.values());
  j["timeline"] = r.timeline;
  auto& plans = j["plans"];
  plans = nlohmann::json::array();
  for (const auto& p : r.plans) plans.push_back({p.dataflow, p.loop_order, p.tile});
  auto& units = j["units"];
  units = nlohmann::json::array();
  for (const auto& u : r.units) {
    units.push_back({u.name, u.cycles.busy, u.cycles.stalled_dram, u.cycles.stalled_dependency,
                     u.cycles.stalled_arbitration, u.cycles.stalled_full_buffer});
  }
  return j.dump();
}

std::string encode_error(const std::string& kind, const std::string& message, const InputError* input = nullptr,
                         const SettingError* setting = nullptr) {
  nlohmann::json j;
  j["ok"] = false;
  j["kind"] = kind;
  j["message"] = message;
  if (input != nullptr) {
    j["file"] = input->file();
    j["line"] = input->line();
    j["field"] = input->field();
    j["message"] = input->message();
  }
  if (setting != nullptr) {
    j["file"] = setting->file();
    j["setting"] = setting->setting();
    j["message"] = setting->message();
  }
  return j.dump();
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the parent went away; nothing left to tell
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("simulate: reading the child's result failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

ChildResult decode(const std::string& text, std::size_t ops, std::size_t counters) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("simulate: the child's result is not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.value("ok", false)) {
    const std::string kind = j.value("kind", "internal");
    const std::string message = j.value("message", "unknown failure");
    if (kind == "input") {
      throw InputError(j.value("file", ""), j.value("line", std::int64_t{0}), j.value("field", ""), message);
    }
    if (kind == "setting") throw SettingError(j.value("setting", ""), message, j.value("file", ""));
    if (kind == "functional") throw FunctionalMismatch(message);
    throw std::runtime_error("simulation failed: " + message);
  }
  ChildResult r;
  r.checked = j.at("checked").get<std::uint64_t>();
  r.too_large = j.at("too_large").get<std::uint64_t>();
  r.no_arith = j.at("no_arith").get<std::uint64_t>();
  const auto& list = j.at("ops");
  if (list.size() != ops) throw std::runtime_error("simulate: the child returned a wrong number of ops");
  for (const auto& values : list) {
    OpResult op;
    op.counts = StatVector(counters);
    if (values.size() != counters) throw std::runtime_error("simulate: the child returned a wrong number of counters");
    for (std::size_t c = 0; c < counters; ++c) op.counts[c] = values[c].get<std::uint64_t>();
    r.ops.push_back(std::move(op));
  }
  r.timeline = j.at("timeline").get<std::vector<TimelineEvent>>();
  for (const auto& e : r.timeline) {
    if (e.op >= ops || e.end <= e.start) throw std::runtime_error("simulate: the child returned a bad timeline event");
  }
  for (const auto& p : j.at("plans")) {
    r.plans.push_back(PlanLabel{p.at(0).get<std::string>(), p.at(1).get<std::string>(), p.at(2).get<std::string>()});
  }
  if (r.plans.size() != ops) throw std::runtime_error("simulate: the child returned a wrong number of plans");
  for (const auto& u : j.at("units")) {
    UnitReport unit;
    unit.name = u.at(0).get<std::string>();
    unit.cycles.busy = u.at(1).get<std::uint64_t>();
    unit.cycles.stalled_dram = u.at(2).get<std::uint64_t>();
    unit.cycles.stalled_dependency = u.at(3).get<std::uint64_t>();
    unit.cycles.stalled_arbitration = u.at(4).get<std::uint64_t>();
    unit.cycles.stalled_full_buffer = u.at(5).get<std::uint64_t>();
    r.units.push_back(std::move(unit));
  }
  return r;
}

ChildResult run_forked(const design::Design& d, const workloads::Trace& trace, const SimOptions& options,
                       std::size_t counters) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("simulate: pipe failed: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("simulate: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // The child ends with its parent, however the parent ends (SIGKILL
    // included): nothing else would stop a simulation nobody waits for. The
    // signal is sent when the forking thread ends, and that thread waits for
    // this child. The parent may have died before prctl took effect: then
    // getppid() no longer names it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // The parent's SIGINT/SIGTERM handler removes the parent's temporary files;
    // it is not the child's to run.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    // Child: one SystemC kernel, one result, then _exit without running the
    // parent's atexit handlers or flushing its copies of stdio buffers.
    // Keep stdio and our pipe only: other threads' simulations may have pipes
    // open in the parent, and a copy of their write end held here would delay
    // their end-of-file until this child exits.
    int out_fd = fds[1];
    if (out_fd != 3) {
      ::dup2(fds[1], 3);
      out_fd = 3;
    }
    ::close_range(4, ~0u, 0);
    std::string text;
    try {
      text = encode(run_here(d, trace, options));
    } catch (const InputError& e) {
      text = encode_error("input", e.message(), &e);
    } catch (const SettingError& e) {
      text = encode_error("setting", e.message(), nullptr, &e);
    } catch (const FunctionalMismatch& e) {
      text = encode_error("functional", e.what());
    } catch (const std::exception& e) {
      text = encode_error("internal", e.what());
    } catch (...) {
      text = encode_error("internal", "unknown exception");
    }
    write_all(out_fd, text);
    ::close(out_fd);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  try {
    text = read_all(fds[0]);
  } catch (...) {
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    throw;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("simulate: waitpid failed: ") + std::strerror(errno));
  }
  if (WIFSIGNALED(status)) {
    throw std::runtime_error("simulation process died with signal " + std::to_string(WTERMSIG(status)) + " (" +
                             strsignal(WTERMSIG(status)) + ")");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) {
    throw std::runtime_error("simulation process failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  }
  return decode(text, trace.ops.size(), counters);
}

// Appends `value` to the '+'-joined list `list` unless it is there already.
void add_choice(std::string& list, const std::string& value) {
  for (const auto part : split(list, '+')) {
    if (part == value) return;
  }
  list += (list.empty() ? "" : "+") + value;
}

}  // namespace

SimResult simulate(const design::Design& design, const workloads::Trace& trace, const SimOptions& options) {
  design::validate_design(design);
  SimResult result;
  result.design = design;
  result.model = trace.model;
  result.batch = trace.batch;
  result.policy = trace.policy;
  result.ops = trace.ops.size();
  const ArchStats& st = result.ids;
  const std::size_t counters = st.size;

  ChildResult child;
  if (options.fork) {
    child = run_forked(design, trace, options, counters);
  } else {
    child = run_here(design, trace, options);
  }
  result.functional_checked = child.checked;
  result.functional_too_large = child.too_large;
  result.functional_no_arith = child.no_arith;
  result.units = std::move(child.units);
  result.timeline = std::move(child.timeline);

  result.totals = StatVector(counters);
  for (auto& p : result.phase_totals) p = StatVector(counters);
  std::map<std::pair<std::string, int>, std::size_t> index;
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const TraceOp& op = trace.ops[i];
    const auto key = std::make_pair(op.layer, static_cast<int>(op.phase));
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, result.rows.size()).first;
      result.rows.push_back(SimRow{op.layer, op.phase, StatVector(counters), "", "", "", ""});
    }
    result.op_labels.push_back(SimOpLabel{it->second, std::string(op.is_gemm() ? workloads::op_kind_name(op.kind)
                                                                                 : workloads::vector_kind_name(op.vector))});
    SimRow& row = result.rows[it->second];
    row.stats += child.ops[i].counts;
    if (op.is_gemm()) {
      add_choice(row.unit, design.unit(design::route_gemm(design, op)).name);
      const PlanLabel& plan = child.plans.at(i);
      add_choice(row.dataflow, plan.dataflow);
      add_choice(row.loop_order, plan.loop_order);
      add_choice(row.tile, plan.tile);
    }
    result.totals += child.ops[i].counts;
    result.phase_totals.at(static_cast<std::size_t>(op.phase)) += child.ops[i].counts;
  }
  return result;
}

bool concurrent_simulations_safe() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  return true;
#endif
}

}  // namespace nibble::arch
