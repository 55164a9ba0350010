// `nibble compare`: two designs on the same workload, each evaluated by the
// same pipeline (evaluate.hpp), optionally at equal chip area (design B's
// array resized to design A's area), and the files that put them side by
// side: summary.json with the ratios, report.html, a short table, and each
// design's own outputs in a/ and b/.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/flow/evaluate.hpp"
#include "sim/flow/workload.hpp"

namespace nibble::flow {

/// How `compare` runs the two designs.
struct CompareOptions {
  std::string tech;         ///< --tech for both designs ("" = each design's own `tech`)
  PolicyChoice policy_a;    ///< A's policy (unset: its natural one)
  PolicyChoice policy_b;    ///< B's policy (unset: its natural one)
  bool iso_area = false;    ///< resize B's array to A's chip area before the run
  arch::SimOptions sim;     ///< options of both simulations
  bool concurrent = true;   ///< simulate A and B at the same time (results do not depend on it)
  SettingWords words = keep_setting_refs;  ///< EvalOptions::words
};

/// What --iso-area did to design B.
struct IsoArea {
  bool applied = false;            ///< --iso-area was given
  double reference_mm2 = 0.0;      ///< A's chip area
  std::uint64_t rows_before = 0;   ///< B's array before
  std::uint64_t cols_before = 0;
  double area_before_mm2 = 0.0;    ///< B's chip area before
  std::uint64_t rows_after = 0;    ///< B's array after
  std::uint64_t cols_after = 0;
  double area_after_mm2 = 0.0;     ///< B's chip area after
  double relative_error = 0.0;     ///< (after - reference) / reference, within 1 %
  std::uint64_t chunk_before = 0;  ///< B's array.chunk before (fp16-chunked designs)
  std::uint64_t chunk_after = 0;   ///< and after: the same number of folds per chunk
};

/// Resizes `b`'s array (rows and cols only; docs/energy-model.md, "Iso-area")
/// so that its chip area under `tech_b` is within 1 % of `a`'s under
/// `tech_a`; array.chunk of an fp16-chunked ws/is design is scaled with the
/// rows so that chunks still end where folds end. A SettingError ("iso_area")
/// says why when no shape fits or the resized design is invalid.
IsoArea resize_to_area_of(const design::Design& a, const energy::TechTable& tech_a, design::Design* b,
                          const energy::TechTable& tech_b);

/// Two evaluations and their ratios.
struct Comparison {
  Evaluation a;          ///< design A
  Evaluation b;          ///< design B (resized when iso_area.applied)
  IsoArea iso_area;      ///< what --iso-area did
  double speedup;        ///< B's time per step / A's (> 1: A is faster); NaN when A takes no time
  double energy_ratio;   ///< B's energy per step / A's; NaN when A takes no energy
  double edp_ratio;      ///< B's energy-delay product / A's
};

/// Evaluates `a` and `b` on `workload` (see CompareOptions). Bad input in
/// either is an InputError; when both fail, A's error is reported.
Comparison compare(design::Design a, design::Design b, const Workload& workload, const CompareOptions& options);

/// The compare summary.json: speedup, energy_ratio, edp_ratio, workload,
/// iso_area, and per design its figures and resolved design.
nlohmann::ordered_json compare_summary_object(const Comparison& c);
/// compare_summary_object() as text.
std::string compare_summary_json(const Comparison& c);
/// The self-contained HTML page with A and B side by side.
std::string compare_report_html(const Comparison& c);
/// The short table printed on stdout.
std::string compare_table(const Comparison& c);
/// Writes DIR/summary.json, DIR/report.html and each design's outputs in
/// DIR/a and DIR/b (prepared with prepare_output_dir(.., force)).
void write_compare_outputs(const Comparison& c, const std::string& dir, bool force);

}  // namespace nibble::flow
