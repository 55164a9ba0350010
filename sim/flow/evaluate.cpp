#include "sim/flow/evaluate.hpp"

#include <stdexcept>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/energy/builtin_tech.hpp"

namespace nibble::flow {

namespace {

energy::PeKind energy_pe_kind(design::PeKind kind) {
  switch (kind) {
    case design::PeKind::kInt4Fp4: return energy::PeKind::kInt4Fp4;
    case design::PeKind::kFp16: return energy::PeKind::kFp16;
    case design::PeKind::kHfp8: return energy::PeKind::kHfp8;
    case design::PeKind::kFp32: return energy::PeKind::kFp32;
  }
  throw std::logic_error("unknown design::PeKind");
}

// The adder a PE needs for an accumulator format: fp16-chunked adds in FP16
// in the PE (the FP32 chunk totals are the output buffer's, docs/timing.md).
energy::AccFormat energy_acc(numerics::Format format, const char* field) {
  switch (format) {
    case numerics::Format::kInt32: return energy::AccFormat::kInt32;
    case numerics::Format::kFp16:
    case numerics::Format::kFp16Chunked: return energy::AccFormat::kFp16;
    case numerics::Format::kFp32: return energy::AccFormat::kFp32;
    default: break;
  }
  throw std::logic_error(std::string("design field ") + field + " holds a format that is no accumulator: " +
                         std::string(numerics::format_name(format)));
}

energy::ScratchpadSummary spad(const design::ScratchpadConfig& s) {
  energy::ScratchpadSummary out;
  out.capacity_bytes = s.capacity_bytes;
  out.word_bits = s.word_bits;
  out.banks = s.banks;
  return out;
}

}  // namespace

energy::ArchSummary arch_summary(const design::Design& d) {
  energy::ArchSummary a;
  a.name = d.name;
  a.pe_kind = energy_pe_kind(d.array.pe_kind);
  a.acc_int4 = energy_acc(d.array.acc_int4, "array.accumulators.int4");
  a.acc_fp4 = energy_acc(d.array.acc_fp4, "array.accumulators.fp4");
  a.acc_float = energy_acc(d.array.acc_float, "array.accumulators.float");
  // A multi-pass op adds its slice products into the partial sum in the PE,
  // in accumulators.float (docs/timing.md, "Multi-pass"; the simulator counts
  // those adds per PE operation), so a 4-bit PE that runs multi-pass layers
  // holds that adder too.
  a.float_adder_in_pe =
      d.array.pe_kind == design::PeKind::kInt4Fp4 && d.array.unsupported == design::UnsupportedOps::kMultiPass;
  a.rows = d.array.rows;
  a.cols = d.array.cols;
  a.cores = d.cores;
  a.input = spad(d.input);
  a.weight = spad(d.weight);
  a.output = spad(d.output);
  a.vector_lanes = d.vector.lanes;
  a.clock_mhz = d.clock_mhz;
  return a;
}

energy::TechTable tech_table_for(const design::Design& design, const std::string& tech_option) {
  if (!tech_option.empty()) {
    try {
      return energy::resolve_tech_table(tech_option);
    } catch (const InputError& e) {
      // An unknown name has no file: it came from the command line.
      if (e.file().empty()) throw InputError("", 0, "--tech", e.message());
      throw;
    }
  }
  try {
    return energy::resolve_tech_table(design.tech);
  } catch (const InputError& e) {
    if (e.file().empty()) throw InputError(design.source, 0, "tech", e.message());
    throw;
  }
}

TechSource tech_source(const energy::TechTable& tech) {
  static const std::string kBuiltin = "builtin:";
  if (tech.origin.compare(0, kBuiltin.size(), kBuiltin) == 0) {
    const std::string name = tech.origin.substr(kBuiltin.size());
    for (const auto& b : energy::builtin_tech_sources()) {
      if (name == b.name) return {b.path, true};
    }
  }
  return {tech.origin, false};
}

Evaluation account_energy(arch::SimResult result, energy::TechTable tech) {
  const TechSource source = tech_source(tech);
  energy::EnergyModel model(std::move(tech), arch_summary(result.design));
  std::vector<StatVector> rows;
  std::vector<energy::RowLabel> labels;
  rows.reserve(result.rows.size());
  labels.reserve(result.rows.size());
  for (const auto& row : result.rows) {
    rows.push_back(row.stats);
    labels.push_back({row.layer, std::string(workloads::phase_name(row.phase))});
  }
  energy::EnergyReport report = model.account(result.registry, rows, "simulation of " + result.design.name);
  std::array<PhaseEnergy, 4> phases{};
  std::array<double, 4> macs{}, cycles{};
  const StatRegistry::Id macs_id = result.registry.at("macs");
  const StatRegistry::Id cycles_id = result.registry.at("cycles");
  for (std::size_t i = 0; i < result.rows.size(); ++i) {
    const auto p = static_cast<std::size_t>(result.rows[i].phase);
    phases.at(p).energy += report.rows[i];
    macs.at(p) += static_cast<double>(result.rows[i].stats[macs_id]);
    cycles.at(p) += static_cast<double>(result.rows[i].stats[cycles_id]);
  }
  for (std::size_t p = 0; p < phases.size(); ++p) {
    phases[p].metrics = model.metrics(phases[p].energy, macs[p], cycles[p]);
  }
  return Evaluation{std::move(result), std::move(model), std::move(report), std::move(labels), phases, source,
                    TimelineChoice{}};
}

Evaluation evaluate(design::Design design, const workloads::Trace& trace, const EvalOptions& options) {
  energy::TechTable tech = tech_table_for(design, options.tech);
  if (!options.tech.empty()) design.tech = options.tech;
  // The architecture is checked before the simulation runs, so a design the
  // energy model cannot cost fails fast.
  (void)energy::EnergyModel(tech, arch_summary(design));
  arch::SimResult result = arch::simulate(design, trace, options.sim);
  Evaluation eval = account_energy(std::move(result), std::move(tech));
  eval.timeline = choose_timeline(eval.sim, options.sim.timeline);
  return eval;
}

}  // namespace nibble::flow
