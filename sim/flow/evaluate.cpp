#include "sim/flow/evaluate.hpp"

#include <utility>

#include "sim/common/error.hpp"
#include "sim/energy/builtin_tech.hpp"

namespace nibble::flow {

energy::TechTable tech_table_for(const design::Design& design, const std::string& tech_option) {
  if (!tech_option.empty()) {
    try {
      return energy::resolve_tech_table(tech_option);
    } catch (const InputError& e) {
      // An unknown name has no file: it came from the command line.
      if (e.file().empty()) throw SettingError("tech", e.message());
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
  energy::EnergyModel model(std::move(tech), result.design);
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
  const StatRegistry::Id macs_id = result.ids.macs;
  const StatRegistry::Id cycles_id = result.ids.cycles;
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
  // The model is built before the simulation runs, so a design the table
  // cannot cost fails fast.
  (void)energy::EnergyModel(tech, design);
  arch::SimResult result = arch::simulate(design, trace, options.sim);
  Evaluation eval = account_energy(std::move(result), std::move(tech));
  eval.timeline = choose_timeline(eval.sim, options.sim.timeline);
  eval.words = options.words;
  return eval;
}

}  // namespace nibble::flow
