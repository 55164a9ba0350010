#include "sim/arch/mapper.hpp"

#include <algorithm>
#include <optional>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::arch {

using design::Dataflow;

namespace {

// The smallest block that splits `total` into as many blocks as blocks of
// `most` would: equal blocks instead of a short last one.
std::uint64_t balanced(std::uint64_t total, std::uint64_t most) {
  if (total == 0 || most == 0) return most;
  return ceil_div(total, ceil_div(total, most));
}

// Two plans that run the same folds: the mapper costs only one of them.
bool same_plan(const GemmPlan& a, const GemmPlan& b) {
  return a.dataflow == b.dataflow && a.m_outer == b.m_outer && a.block == b.block &&
         a.stationary.residency == b.stationary.residency && a.streamed.residency == b.streamed.residency;
}

bool cheaper(const PlanCost& a, const PlanCost& b) {
  return std::tie(a.cycles, a.dram_bytes, a.spad_bytes) < std::tie(b.cycles, b.dram_bytes, b.spad_bytes);
}

}  // namespace

StreamMemory::StreamMemory(const design::Design& d, std::uint64_t limit)
    : m_ideal(d.dram.ideal),
      m_bandwidth(d.dram.bandwidth_bytes_per_cycle),
      m_cores(d.cores),
      m_latency(d.dram.latency_cycles),
      m_limit(limit) {}

std::uint64_t StreamMemory::transfer(std::uint64_t ready, std::uint64_t bytes, bool /*write*/) {
  std::uint64_t done = ready;
  if (!m_ideal) {
    const std::uint64_t begin = std::max(ready, m_free);
    // bytes x cores / bandwidth cycles: the share's 1 / cores of the bandwidth, exact.
    const unsigned __int128 scaled = static_cast<unsigned __int128>(bytes) * m_cores;
    m_free = begin + static_cast<std::uint64_t>((scaled + m_bandwidth - 1) / m_bandwidth);
    done = m_free + m_latency;
  }
  // run_gemm's end is at least every transfer's completion: past the limit, the rest is not needed.
  if (m_limit != 0 && done > m_limit) throw OverLimit{};
  return done;
}

std::optional<PlanCost> cost_plan(const design::Design& unit, const design::Execution& exec, const GemmPlan& plan,
                                  const ArchStats& st, std::uint64_t limit) {
  StreamMemory port(unit, limit);
  StatVector counts(st.size);
  PlanCost cost;
  try {
    cost.cycles = run_gemm(unit, exec, plan, port, 0, &counts, st);
  } catch (const StreamMemory::OverLimit&) {
    return std::nullopt;
  }
  if (limit != 0 && cost.cycles > limit) return std::nullopt;
  cost.dram_bytes = counts[st.dram_bytes_read] + counts[st.dram_bytes_written];
  cost.spad_bytes = counts[st.spad_input_read_bytes] + counts[st.spad_input_write_bytes] +
                    counts[st.spad_weight_read_bytes] + counts[st.spad_weight_write_bytes] +
                    counts[st.spad_output_read_bytes] + counts[st.spad_output_write_bytes];
  return cost;
}

PlanLabel plan_label(const design::Design& unit, const GemmPlan& p) {
  const std::uint64_t r = unit.array.rows * unit.array.dot_product;
  const std::uint64_t c = unit.array.cols;
  const std::uint64_t v = std::min(p.block, p.vectors);  // ws/is: vectors per fold
  PlanLabel label;
  label.dataflow = std::string(design::dataflow_name(p.dataflow));
  std::uint64_t tm = 0;
  std::uint64_t tn = 0;
  std::uint64_t tk = 0;
  switch (p.dataflow) {
    case Dataflow::kWs:  // vectors are rows of A (M), columns of B (N) stay
      tm = v, tn = std::min(c, p.columns), tk = std::min(r, p.reduction);
      label.loop_order = p.m_outer ? "mnk" : "nmk";
      break;
    case Dataflow::kIs:  // vectors are columns of B (N), rows of A (M) stay
      tm = std::min(c, p.columns), tn = v, tk = std::min(r, p.reduction);
      label.loop_order = p.m_outer ? "nmk" : "mnk";
      break;
    case Dataflow::kOs:  // output tiles R x C, the reduction in blocks
      tm = std::min(r, p.vectors), tn = std::min(c, p.columns), tk = std::min(p.block, p.reduction);
      label.loop_order = "nmk";
      break;
  }
  label.tile = std::to_string(tm) + "x" + std::to_string(tn) + "x" + std::to_string(tk);
  return label;
}

Mapper::Mapper(const design::Design& unit, const ArchStats& stats) : m_unit(unit), m_stats(stats) {}

std::vector<GemmPlan> Mapper::candidates(const design::Execution& exec, const workloads::TraceOp& op,
                                         std::uint64_t m, std::uint64_t n, std::uint64_t k) const {
  std::vector<GemmPlan> out;
  std::optional<InputError> first_error;
  const auto add = [&](const PlanChoice& choice) -> const GemmPlan* {
    try {
      const GemmPlan p = plan_gemm(m_unit, exec, op, m, n, k, &choice);
      for (const auto& q : out) {
        if (same_plan(p, q)) return &q;
      }
      out.push_back(p);
      return &out.back();
    } catch (const InputError& e) {
      if (!first_error) first_error = e;
      return nullptr;
    }
  };
  const bool scalesim = m_unit.timing == design::TimingConvention::kScaleSim;
  for (const Dataflow f : m_unit.array.allowed_dataflows()) {
    add(PlanChoice{f, std::nullopt, 0});  // plan_gemm's own rule for this dataflow
    if (scalesim) continue;               // SCALE-Sim's folds fix the loop order and blocks
    const std::vector<std::optional<bool>> orders =
        f == Dataflow::kOs ? std::vector<std::optional<bool>>{std::nullopt}
                           : std::vector<std::optional<bool>>{false, true};
    for (const auto& order : orders) {
      const GemmPlan* widest = add(PlanChoice{f, order, 0});
      if (widest == nullptr) continue;
      const std::uint64_t most = widest->block;
      const std::uint64_t total = f == Dataflow::kOs ? widest->reduction : widest->vectors;
      // Smaller blocks start the first fold sooner and even out the last one;
      // larger ones reload less. Halving twice brackets the choice.
      for (const std::uint64_t b : {balanced(total, most), balanced(total, most / 2), balanced(total, most / 4)}) {
        if (b >= 1 && b < most) add(PlanChoice{f, order, b});
      }
    }
  }
  if (out.empty() && first_error) throw *first_error;
  return out;
}

namespace {

std::vector<std::uint64_t> plan_inputs(const design::Execution& exec, const workloads::TraceOp& op) {
  std::vector<std::uint64_t> v{static_cast<std::uint64_t>(exec.a_quarter_bits),
                               static_cast<std::uint64_t>(exec.b_quarter_bits), static_cast<std::uint64_t>(op.phase)};
  if (op.conv && op.conv->im2col == workloads::Im2col::kOnChip) {
    const workloads::ConvGeometry& g = *op.conv;
    v.insert(v.end(), {g.n, g.c, g.h, g.w, g.k, g.r, g.s, g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dilation_h,
                       g.dilation_w, g.groups});
  }
  return v;
}

}  // namespace

GemmPlan Mapper::plan(const design::Execution& exec, const workloads::TraceOp& op, std::uint64_t m, std::uint64_t n,
                      std::uint64_t k) {
  if (m_unit.mapper == design::MapperKind::kFixed) return plan_gemm(m_unit, exec, op, m, n, k);
  const Key key{m,
                n,
                k,
                op.groups,
                exec.a_bits,
                exec.b_bits,
                static_cast<int>(exec.acc),
                static_cast<int>(exec.pe_acc),
                static_cast<int>(exec.pe_mode),
                exec.passes,
                static_cast<int>(op.stored_format()),
                static_cast<int>(op.acc_format),
                plan_inputs(exec, op)};
  const auto hit = m_cache.find(key);
  if (hit != m_cache.end()) return hit->second;
  const std::vector<GemmPlan> all = candidates(exec, op, m, n, k);
  std::size_t best = 0;
  PlanCost best_cost;
  for (std::size_t i = 0; i < all.size(); ++i) {
    // Costing stops once a candidate is sure to be slower than the best so far.
    const std::optional<PlanCost> cost = cost_plan(m_unit, exec, all[i], m_stats, i == 0 ? 0 : best_cost.cycles);
    if (cost && (i == 0 || cheaper(*cost, best_cost))) {  // strict: the earlier candidate wins a tie
      best = i;
      best_cost = *cost;
    }
  }
  return m_cache.emplace(key, all.at(best)).first->second;
}

}  // namespace nibble::arch
