// Iso-area comparison: resize a design's PE array so that its chip area
// equals a reference area (e.g. the other design of `nibble compare`).
#pragma once

#include <cstdint>

#include "sim/design/design.hpp"
#include "sim/energy/area.hpp"
#include "sim/energy/tech_table.hpp"

namespace nibble::energy {

/// The array shape that reaches the area, and how close it came.
struct IsoAreaResult {
  std::uint64_t rows = 0;       ///< array.rows of the resized design
  std::uint64_t cols = 0;       ///< array.cols of the resized design
  double reference_mm2 = 0.0;   ///< the area asked for
  double area_mm2 = 0.0;        ///< the resized chip's area
  double relative_error = 0.0;  ///< (area - reference) / reference
};

/// Resizes only the array (rows x cols per core; scratchpads, vector lanes,
/// cores and clock are kept) so that the chip area is within `tolerance` of
/// `reference_mm2`. Among the shapes within half the tolerance it picks the
/// one whose rows/cols is closest to the original aspect ratio (then the
/// smaller error, then fewer rows); rows and cols may differ by more than one
/// to hit the area. The design must pass design::validate_design (an
/// InputError otherwise). A SettingError ("iso_area") says why when no shape can: the reference
/// leaves no room for one PE per core, or the array is too small for any
/// whole number of PEs to land within the tolerance.
IsoAreaResult resize_to_area(const TechTable& tech, const design::Design& design, double reference_mm2,
                             double tolerance = 0.01);

}  // namespace nibble::energy
