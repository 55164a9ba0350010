// Iso-area sizing: the resized design's area equals the reference within 1 %.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/common/error.hpp"
#include "sim/energy/iso_area.hpp"

namespace nibble::energy {
namespace {

ArchSummary design(PeKind kind, AccFormat acc, std::uint64_t rows, std::uint64_t cols) {
  ArchSummary a;
  a.name = pe_kind_name(kind);
  a.pe_kind = kind;
  a.acc_int4 = acc;
  a.acc_fp4 = acc;
  a.acc_float = acc;
  a.rows = rows;
  a.cols = cols;
  a.input = {256 * 1024, 128, 4};
  a.weight = {256 * 1024, 128, 4};
  a.output = {512 * 1024, 128, 4};
  a.vector_lanes = 64;
  a.clock_mhz = 1000.0;
  return a;
}

TEST(IsoArea, Fp16BaselineResizedToTheInt4DesignsArea) {
  for (const char* node : {"45nm", "7nm"}) {
    const TechTable tech = builtin_tech_table(node);
    const ArchSummary int4 = design(PeKind::kInt4Fp4, AccFormat::kFp16, 128, 128);
    const double reference = chip_area(tech, int4).total_mm2();
    const ArchSummary fp16 = design(PeKind::kFp16, AccFormat::kFp32, 64, 64);
    const IsoAreaResult r = resize_to_area(tech, fp16, reference);
    // The area is recomputed independently of what the helper reports.
    const double area = chip_area(tech, r.arch).total_mm2();
    EXPECT_NEAR(area, r.area_mm2, 1e-12 * area);
    EXPECT_LE(std::fabs(area - reference) / reference, 0.01) << node;
    EXPECT_NEAR(r.relative_error, (area - reference) / reference, 1e-15);
    // Only the array changed; the aspect ratio (1:1) is kept within one step.
    EXPECT_EQ(r.arch.input.capacity_bytes, fp16.input.capacity_bytes);
    EXPECT_EQ(r.arch.vector_lanes, fp16.vector_lanes);
    EXPECT_LE(std::fabs(std::log(double(r.arch.rows) / double(r.arch.cols))), 0.1) << r.arch.rows << "x" << r.arch.cols;
    // The FP16 PE is bigger than the 4-bit one, so fewer of them fit.
    EXPECT_LT(r.arch.rows * r.arch.cols, 128u * 128u);
  }
}

TEST(IsoArea, KeepsAnUnevenAspectRatio) {
  const TechTable tech = builtin_tech_table("45nm");
  const ArchSummary wide = design(PeKind::kFp16, AccFormat::kFp16, 32, 128);
  const double reference = chip_area(tech, design(PeKind::kFp16, AccFormat::kFp16, 64, 256)).total_mm2();
  const IsoAreaResult r = resize_to_area(tech, wide, reference);
  // 4x the PEs at 1:4 -> 64 x 256 exactly.
  EXPECT_EQ(r.arch.rows, 64u);
  EXPECT_EQ(r.arch.cols, 256u);
  EXPECT_NEAR(r.relative_error, 0.0, 1e-12);
}

TEST(IsoArea, ImpossibleTargetsSayWhy) {
  const TechTable tech = builtin_tech_table("45nm");
  const ArchSummary a = design(PeKind::kFp16, AccFormat::kFp32, 64, 64);
  try {
    resize_to_area(tech, a, 0.5);  // less than the scratchpads alone
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(e.message().find("leaves no room for one PE"), std::string::npos) << e.what();
  }
  // A reference of fixed area + 1.5 PEs: 1 or 2 PEs miss it by far more than 1 % of
  // a chip this small.
  ArchSummary tiny = design(PeKind::kFp32, AccFormat::kFp32, 1, 1);
  tiny.input = {1024, 64, 1};
  tiny.weight = {1024, 64, 1};
  tiny.output = {1024, 64, 1};
  tiny.vector_lanes = 1;
  const AreaBreakdown base = chip_area(tech, tiny);
  const double fixed = base.total_mm2() - base.mm2[0];
  EXPECT_THROW(resize_to_area(tech, tiny, fixed + 1.5 * base.pe_um2 * 1e-6), InputError);
  EXPECT_THROW(resize_to_area(tech, a, std::nan("")), InputError);
  EXPECT_THROW(resize_to_area(tech, a, 1e30), InputError);  // more PEs than any array side allows
}

}  // namespace
}  // namespace nibble::energy
