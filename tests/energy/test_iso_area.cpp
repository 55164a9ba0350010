// Iso-area sizing: the resized design's area equals the reference within 1 %.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/common/error.hpp"
#include "sim/design/design.hpp"
#include "sim/energy/iso_area.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::energy {
namespace {

using design::PeKind;
using numerics::Format;

design::Design make(PeKind kind, Format acc, std::uint64_t rows, std::uint64_t cols) {
  design::Design d = test::test_design(std::string(design::pe_kind_name(kind)), kind, rows, cols);
  d.array.acc_int4 = acc;
  d.array.acc_fp4 = acc;
  d.array.acc_float = acc;
  d.input = test::scratchpad(256 * 1024, 128, 4);
  d.weight = test::scratchpad(256 * 1024, 128, 4);
  d.output = test::scratchpad(512 * 1024, 128, 4);
  d.vector.lanes = 64;
  return d;
}

/// `d` with the array shape `r` chose.
design::Design resized(design::Design d, const IsoAreaResult& r) {
  d.array.rows = r.rows;
  d.array.cols = r.cols;
  return d;
}

TEST(IsoArea, Fp16BaselineResizedToTheInt4DesignsArea) {
  for (const char* node : {"45nm", "7nm"}) {
    const TechTable tech = builtin_tech_table(node);
    const design::Design int4 = make(PeKind::kInt4Fp4, Format::kFp16, 128, 128);
    const double reference = chip_area(tech, int4).total_mm2();
    const design::Design fp16 = make(PeKind::kFp16, Format::kFp32, 64, 64);
    const IsoAreaResult r = resize_to_area(tech, fp16, reference);
    // The area is recomputed independently of what the helper reports, with
    // only the array shape changed.
    const double area = chip_area(tech, resized(fp16, r)).total_mm2();
    EXPECT_NEAR(area, r.area_mm2, 1e-12 * area);
    EXPECT_LE(std::fabs(area - reference) / reference, 0.01) << node;
    EXPECT_NEAR(r.relative_error, (area - reference) / reference, 1e-15);
    // The aspect ratio (1:1) is kept within one step.
    EXPECT_LE(std::fabs(std::log(double(r.rows) / double(r.cols))), 0.1) << r.rows << "x" << r.cols;
    // The FP16 PE is bigger than the 4-bit one, so fewer of them fit.
    EXPECT_LT(r.rows * r.cols, 128u * 128u);
  }
}

TEST(IsoArea, KeepsAnUnevenAspectRatio) {
  const TechTable tech = builtin_tech_table("45nm");
  const design::Design wide = make(PeKind::kFp16, Format::kFp16, 32, 128);
  const double reference = chip_area(tech, make(PeKind::kFp16, Format::kFp16, 64, 256)).total_mm2();
  const IsoAreaResult r = resize_to_area(tech, wide, reference);
  // 4x the PEs at 1:4 -> 64 x 256 exactly.
  EXPECT_EQ(r.rows, 64u);
  EXPECT_EQ(r.cols, 256u);
  EXPECT_NEAR(r.relative_error, 0.0, 1e-12);
}

TEST(IsoArea, OnlyTheFirstMatrixUnitIsResized) {
  // rapid-like.yaml resized to its own area keeps its first unit's 64 x 128 shape: the
  // second unit's PEs are fixed area, not PEs of the first unit's kind.
  const design::Design d = design::load_design(std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/rapid-like.yaml");
  const TechTable tech = builtin_tech_table(d.tech);
  const IsoAreaResult r = resize_to_area(tech, d, chip_area(tech, d).total_mm2());
  EXPECT_EQ(r.rows, 64u);
  EXPECT_EQ(r.cols, 128u);
  EXPECT_NEAR(r.relative_error, 0.0, 1e-12);
}

TEST(IsoArea, ImpossibleTargetsSayWhy) {
  const TechTable tech = builtin_tech_table("45nm");
  const design::Design a = make(PeKind::kFp16, Format::kFp32, 64, 64);
  try {
    resize_to_area(tech, a, 0.5);  // less than the scratchpads alone
    FAIL();
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "iso_area");
    EXPECT_NE(e.message().find("leaves no room for one PE"), std::string::npos) << e.what();
  }
  // A reference of fixed area + 1.5 PEs: 1 or 2 PEs miss it by far more than 1 % of
  // a chip this small.
  design::Design tiny = make(PeKind::kFp32, Format::kFp32, 1, 1);
  tiny.input = tiny.weight = tiny.output = test::scratchpad(1024, 64, 1);
  tiny.vector.lanes = 1;
  const AreaBreakdown base = chip_area(tech, tiny);
  const double fixed = base.total_mm2() - base.mm2[0];
  EXPECT_THROW(resize_to_area(tech, tiny, fixed + 1.5 * base.pe_um2 * 1e-6), SettingError);
  EXPECT_THROW(resize_to_area(tech, a, std::nan("")), SettingError);
  EXPECT_THROW(resize_to_area(tech, a, 1e30), SettingError);  // more PEs than any array side allows
  design::Design invalid = a;
  invalid.array.rows = 0;
  EXPECT_THROW(resize_to_area(tech, invalid, 10.0), InputError);  // the input design is validated
}

}  // namespace
}  // namespace nibble::energy
