#include "sim/energy/iso_area.hpp"

#include <algorithm>
#include <cmath>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::energy {

namespace {
// Candidate sides stop here before the conversion from double; a shape beyond
// the design file's bound is refused when the resized design is validated.
constexpr std::uint64_t kMaxSide = 1u << 20;
}

IsoAreaResult resize_to_area(const TechTable& tech, const design::Design& design, double reference_mm2,
                             double tolerance) {
  design::validate_design(design);
  if (!std::isfinite(reference_mm2) || !(reference_mm2 > 0.0)) {
    throw SettingError("iso_area", "expected a positive reference area, got " + format_double(reference_mm2));
  }
  if (!(tolerance > 0.0 && tolerance < 1.0)) throw SettingError("iso_area", "tolerance must be in (0, 1)");

  const AreaBreakdown base = chip_area(tech, design);
  // Only the first matrix unit is resized: the others' PEs count as fixed area (the
  // same product as chip_area's, so a one-unit design's figure is unchanged).
  const double first_unit_mm2 = static_cast<double>(design.cores) *
                                (static_cast<double>(design.array.rows) * static_cast<double>(design.array.cols) *
                                 base.pe_um2) /
                                1e6;
  const double fixed_mm2 = base.total_mm2() - first_unit_mm2;
  const double pe_mm2_per_core_pe = base.pe_um2 / 1e6 * static_cast<double>(design.cores);
  const double budget_pes = (reference_mm2 - fixed_mm2) / pe_mm2_per_core_pe;  // PEs per core
  if (!(budget_pes >= 1.0)) {
    throw SettingError("iso_area",
                     "the reference area " + format_double(reference_mm2) + " mm^2 leaves no room for one PE per core: " +
                         "the scratchpads, vector unit and core overhead of '" + design.name + "' alone take " +
                         format_double(fixed_mm2) + " mm^2");
  }

  const double aspect = static_cast<double>(design.array.rows) / static_cast<double>(design.array.cols);
  const double r0 = std::sqrt(budget_pes * aspect);
  // Both bounds are clamped before the conversion: a huge reference area must
  // give an error, not an out-of-range cast.
  const auto lo = static_cast<std::uint64_t>(std::min(static_cast<double>(kMaxSide), std::max(1.0, std::floor(r0 / 2.0))));
  const auto hi = static_cast<std::uint64_t>(std::min(static_cast<double>(kMaxSide), std::ceil(r0 * 2.0) + 1.0));

  struct Candidate {
    std::uint64_t rows = 0, cols = 0;
    double area = 0.0, error = 0.0, skew = 0.0;
  };
  bool have_close = false;
  Candidate best_close;    // within tolerance/2: best aspect ratio
  Candidate best_any;      // smallest error overall
  best_any.error = INFINITY;
  design::Design trial = design;
  for (std::uint64_t r = lo; r <= hi; ++r) {
    const double ideal_c = budget_pes / static_cast<double>(r);
    for (const double c_real : {std::floor(ideal_c), std::ceil(ideal_c)}) {
      if (c_real < 1.0 || c_real > static_cast<double>(kMaxSide)) continue;
      trial.array.rows = r;
      trial.array.cols = static_cast<std::uint64_t>(c_real);
      Candidate c;
      c.rows = trial.array.rows;
      c.cols = trial.array.cols;
      c.area = chip_area(tech, trial).total_mm2();
      c.error = std::fabs(c.area - reference_mm2) / reference_mm2;
      c.skew = std::fabs(std::log(static_cast<double>(c.rows) / static_cast<double>(c.cols) / aspect));
      if (c.error < best_any.error) best_any = c;
      if (c.error <= tolerance / 2.0) {
        const bool better = !have_close || c.skew < best_close.skew ||
                            (c.skew == best_close.skew && c.error < best_close.error);
        if (better) {
          best_close = c;
          have_close = true;
        }
      }
    }
  }
  const Candidate& pick = have_close ? best_close : best_any;
  if (!(pick.error <= tolerance)) {
    throw SettingError("iso_area",
                     "no array shape of '" + design.name + "' reaches " + format_double(reference_mm2) +
                         " mm^2 within " + format_double(tolerance * 100.0) + " %: the closest, " +
                         std::to_string(pick.rows) + "x" + std::to_string(pick.cols) + ", has " +
                         format_double(pick.area) + " mm^2 (one PE is too large a step at this size)");
  }
  IsoAreaResult out;
  out.rows = pick.rows;
  out.cols = pick.cols;
  out.reference_mm2 = reference_mm2;
  out.area_mm2 = pick.area;
  out.relative_error = (pick.area - reference_mm2) / reference_mm2;
  return out;
}

}  // namespace nibble::energy
