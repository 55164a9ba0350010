// One evaluation of a design on a workload: the SystemC simulation
// (sim/arch), then energy and area with the design's technology table
// (sim/energy). Everything a report needs comes back in one Evaluation, so
// simulate, compare and sweep share the pipeline and never re-derive a number.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "sim/arch/simulate.hpp"
#include "sim/design/design.hpp"
#include "sim/energy/energy_model.hpp"
#include "sim/energy/energy_report.hpp"
#include "sim/energy/tech_table.hpp"
#include "sim/flow/timeline_outputs.hpp"
#include "workloads/trace.hpp"

namespace nibble::flow {

/// The technology table of an evaluation: `tech_option` (--tech: a file, or a
/// shipped name) when not empty, else the design's `tech` field. A bad
/// `tech_option` name is a SettingError ("tech"), a bad file an InputError;
/// a bad name from the design file names that file and the field `tech`.
energy::TechTable tech_table_for(const design::Design& design, const std::string& tech_option);

/// Where a table came from, for reports: the file as given, or the shipped
/// file's repository path for a built-in table.
struct TechSource {
  std::string file;      ///< e.g. "hw/tech/45nm.yaml" or the --tech path
  bool builtin = false;  ///< compiled into the binary (hw/tech)
};
/// The source of a table loaded by tech_table_for().
TechSource tech_source(const energy::TechTable& tech);

/// What an evaluation does besides simulating the design on the trace.
struct EvalOptions {
  std::string tech;        ///< --tech FILE or name ("" = the design's `tech`)
  arch::SimOptions sim;    ///< functional checks, seed, progress, fork, timeline detail
  /// How the reports word their setting references ("{setting:timeline}"):
  /// sim/cli passes its render_settings (the flags); unrendered by default.
  SettingWords words = keep_setting_refs;
};

/// Energy of a group of rows (a phase): per component and the chip figures.
struct PhaseEnergy {
  energy::RowEnergy energy;      ///< sum of the phase's rows
  energy::EnergyMetrics metrics; ///< energy, seconds, TOPS/W, EDP of the phase alone
};

/// A design evaluated on one trace: everything the outputs are written from.
struct Evaluation {
  arch::SimResult sim;                      ///< cycles and action counts (design included, resolved)
  energy::EnergyModel model;                ///< the table applied to the design
  energy::EnergyReport energy;              ///< energy per row (same order as sim.rows), total, area, metrics
  std::vector<energy::RowLabel> labels;     ///< layer and phase of each row
  std::array<PhaseEnergy, 4> phases;        ///< per workloads::Phase
  TechSource tech;                          ///< where the table came from
  TimelineChoice timeline;                  ///< timeline.json's detail and bytes (options.sim.timeline)
  SettingWords words = keep_setting_refs;  ///< EvalOptions::words
};

/// Simulates `trace` on `design` and accounts its energy (docs/energy-model.md).
/// When options.tech is set, the returned design's `tech` field names it, so
/// summary.json says what was used. InputError for bad input; the simulator's
/// other exceptions pass through (arch::simulate).
Evaluation evaluate(design::Design design, const workloads::Trace& trace, const EvalOptions& options);

/// The energy half of evaluate(), for a simulation already run (e.g. to time
/// accounting alone): the table `tech` applied to result.design.
Evaluation account_energy(arch::SimResult result, energy::TechTable tech);

}  // namespace nibble::flow
