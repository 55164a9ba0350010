// The RaPiD-like check: peak efficiency from the 7 nm table for an
// architecture like IBM's RaPiD chip (7 nm, 4 cores; Venkataramani et al.,
// ISCA 2021; docs/references.md), pinned to the figure derived by hand below
// from hw/tech/7nm.yaml (docs/energy-model.md, "Peak efficiency" and "The
// RaPiD-like check"). RaPiD's published 16.5 TOPS/W (INT4) and 3.5 TFLOPS/W
// (HFP8) at nominal voltage are printed next to the model's figure as
// documentation: the model's chip has no FP16 pipelines, special-function
// units, interconnect or I/O, so the two are not expected to agree closely.
//
// The architecture assumed (what RaPiD publishes does not fix it; these are
// choices, written down here and in docs/energy-model.md):
//   - 4 cores at 1.6 GHz (a clock at which a whole-number array reproduces the
//     published peaks: 4 x 8192 INT4 MACs x 2 ops x 1.6 GHz = 104.9 TOPS, and
//     4 x 2048 HFP8 MACs x 2 x 1.6 GHz = 26.2 TFLOPS);
//   - INT4: a 64 x 128 int4-fp4 array per core accumulating in int32;
//     HFP8: a 32 x 64 hfp8 array per core accumulating in FP16;
//   - per core: 512 KiB input and 512 KiB weight scratchpads, 1 MiB output
//     scratchpad, 8 banks each, 128-bit words; 128 vector lanes.
// "Peak" is defined in sim/energy/energy_model.hpp (every PE busy, no DRAM,
// operands from the scratchpads, leakage included).
//
// Shared by both modes (7 nm table): a 64-bit SRAM read of a bank of C KiB is
// interpolated log-log between 32 KiB (8.5 pJ) and 1 MiB (14 pJ): slope
// s = ln(14 / 8.5) / ln(1024 / 32) = 0.143978, E(C) = 8.5 x (C / 32)^s.
//   input bank  512 KiB / 8 = 64 KiB:  E = 8.5 x 2^s = 9.39206 pJ -> 1.17401 pJ/B
//   output bank 1 MiB / 8 = 128 KiB:   E = 8.5 x 4^s = 10.3777 pJ -> 1.29722 pJ/B
//   (a write costs a read: write_over_read = 1). Leakage 0.0124 W/mm^2.
// Chip area per core = rows x cols x PE + 2048 KiB x 442 (sram_per_kib)
//   + 128 lanes x 879 (vector_lane) + 14750 (core_overhead) um^2.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>

#include "sim/design/design.hpp"
#include "sim/energy/energy_model.hpp"
#include "sim/energy/energy_report.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::energy {
namespace {

using design::PeKind;

design::Design rapid_like(PeKind kind) {
  const bool int4 = kind == PeKind::kInt4Fp4;
  design::Design d = test::test_design("rapid-like-" + std::string(design::pe_kind_name(kind)), kind,
                                       int4 ? 64 : 32, int4 ? 128 : 64);
  d.array.acc_int4 = numerics::Format::kInt32;  // INT4: int32 accumulation
  d.array.acc_fp4 = numerics::Format::kInt32;
  d.array.acc_float = numerics::Format::kFp16;  // HFP8: FP16 accumulation
  d.cores = 4;
  d.input = test::scratchpad(512 * 1024, 128, 8);
  d.weight = test::scratchpad(512 * 1024, 128, 8);
  d.output = test::scratchpad(1024 * 1024, 128, 8);
  d.vector.lanes = 128;
  d.clock_mhz = 1600.0;
  return d;
}

TEST(RapidLike, PeakThroughputMatchesThePublishedChip) {
  // 104.9 TOPS INT4 and 26.2 TFLOPS HFP8 (JSSC 2022), 2 ops per MAC.
  const EnergyModel int4(builtin_tech_table("7nm"), rapid_like(PeKind::kInt4Fp4));
  const EnergyModel hfp8(builtin_tech_table("7nm"), rapid_like(PeKind::kHfp8));
  EXPECT_NEAR(2 * peak_efficiency(int4, MacMode::kInt4Int4).macs_per_second / 1e12, 104.9, 0.1);
  EXPECT_NEAR(2 * peak_efficiency(hfp8, MacMode::kFp8).macs_per_second / 1e12, 26.2, 0.1);
}

// INT4 x INT4, per MAC:
//   multiply mac_int4_int4                                   0.0175
//   add acc_add_int32                                        0.03
//   registers (4 activation + 32 partial-sum bits) x 0.00129 0.04644
//   input read: one 4-bit operand feeds a row of 128 PEs,
//     0.5 B / 128 x 1.17401                                  0.00458597
//   output write: one 32-bit sum per 64 rows, 4 B / 64 x 1.29722
//                                                            0.0810761
//   dynamic                                                  0.179602 pJ
//   leakage: PE = 4.16 (mult_int4) + 5.30 (shift_int4_fp4) + 8.08 (add_int32)
//     + (3 x 4 + 32) x 0.174 (reg_bit) = 25.196 um^2; core = 8192 x 25.196
//     + 905216 + 112512 + 14750 = 1238883.6 um^2; 4 cores = 4.955535 mm^2;
//     0.0124 x 4.955535 = 0.0614486 W over 4 x 8192 x 1.6e9 = 5.24288e13 MAC/s
//                                                            0.00117204 pJ
//   total 0.180774 pJ/MAC -> 2 / 0.180774 = 11.0635 TOPS/W.
TEST(RapidLike, Int4PeakEfficiencyDerivedByHand) {
  const EnergyModel model(builtin_tech_table("7nm"), rapid_like(PeKind::kInt4Fp4));
  const PeakEfficiency p = peak_efficiency(model, MacMode::kInt4Int4);
  EXPECT_NEAR(model.area().total_mm2(), 4.955535, 1e-6);
  EXPECT_NEAR(p.pj_per_mac, 0.180774, 1e-6);
  EXPECT_NEAR(p.tops_per_watt, 11.0635, 1e-4);
  std::cout << "RaPiD-like INT4: " << p.pj_per_mac << " pJ/MAC, " << p.tops_per_watt
            << " TOPS/W; published 16.5 (ratio " << p.tops_per_watt / 16.5 << "), " << model.area().total_mm2()
            << " mm^2\n";
}

// HFP8 x HFP8, per MAC:
//   multiply mac_fp8                                         0.0931
//   add acc_add_fp16                                         0.16
//   registers (8 activation + 16 partial-sum bits) x 0.00129 0.03096
//   input read: one 8-bit operand feeds a row of 64 PEs,
//     1 B / 64 x 1.17401                                     0.0183439
//   output write: one 16-bit sum per 32 rows, 2 B / 32 x 1.29722
//                                                            0.0810761
//   dynamic                                                  0.383480 pJ
//   leakage: PE = 13.8 (mult_fp8) + 80.2 (add_fp16) + (3 x 8 + 16) x 0.174
//     = 100.96 um^2; core = 2048 x 100.96 + 905216 + 112512 + 14750
//     = 1239244.1 um^2; 4 cores = 4.956976 mm^2; 0.0124 x 4.956976 = 0.0614665 W
//     over 4 x 2048 x 1.6e9 = 1.31072e13 MAC/s               0.00468952 pJ
//   total 0.388169 pJ/MAC -> 2 / 0.388169 = 5.15239 TFLOPS/W.
TEST(RapidLike, Hfp8PeakEfficiencyDerivedByHand) {
  const EnergyModel model(builtin_tech_table("7nm"), rapid_like(PeKind::kHfp8));
  const PeakEfficiency p = peak_efficiency(model, MacMode::kFp8);
  EXPECT_NEAR(model.area().total_mm2(), 4.956976, 1e-6);
  EXPECT_NEAR(p.pj_per_mac, 0.388169, 1e-6);
  EXPECT_NEAR(p.tops_per_watt, 5.15239, 1e-4);
  std::cout << "RaPiD-like HFP8: " << p.pj_per_mac << " pJ/MAC, " << p.tops_per_watt
            << " TFLOPS/W; published 3.5 (ratio " << p.tops_per_watt / 3.5 << "), " << model.area().total_mm2()
            << " mm^2\n";
}

// hw/designs/rapid-like.yaml: both engines on one chip (matrix units `int` and `fp`),
// summary.json's `peak` (energy::peak_json). Each figure from the per-MAC energies above;
// the chip now holds both arrays, so both peaks carry the whole chip's leakage:
//   core = 8192 x 25.196 (int PEs) + 2048 x 100.96 (fp PEs) + 905216 + 112512 + 14750
//        = 1445649.712 um^2; 4 cores = 5.782598848 mm^2; 0.0124 x that = 0.0717042 W.
//   INT4: 0.179602 + 0.0717042e12 / 5.24288e13 = 0.180970 pJ/MAC -> 11.0516 TOPS/W;
//         2 x 4 x 8192 x 1.6e9 = 104.858 TOPS.
//   HFP8: 0.383480 + 0.0717042e12 / 1.31072e13 = 0.388951 pJ/MAC -> 5.14204 TFLOPS/W;
//         2 x 4 x 2048 x 1.6e9 = 26.2144 TFLOPS.
// The bars (docs/validation.md, "RaPiD"): throughput within 10 % of the published 104.9 TOPS
// and 26.2 TFLOPS (JSSC 2022) is met; TOPS/W within 25 % of 16.9 and 3.58 is not (0.654 and
// 1.436 of the silicon's): pinned here as measured, explained in docs/validation.md.
TEST(RapidLike, DesignFilePeakAgainstThePublishedChip) {
  const design::Design d = design::load_design(std::string(NIBBLE_SOURCE_DIR) + "/hw/designs/rapid-like.yaml");
  ASSERT_EQ(d.unit_count(), 2u);
  const EnergyModel model(builtin_tech_table(d.tech), d);
  EXPECT_NEAR(model.area().total_mm2(), 5.782598848, 1e-9);
  const auto peak = peak_json(model);
  const double int4_tops = peak["int4"]["tops"].get<double>();
  const double int4_eff = peak["int4"]["tops_per_watt"].get<double>();
  const double hfp8_tops = peak["hfp8"]["tops"].get<double>();
  const double hfp8_eff = peak["hfp8"]["tops_per_watt"].get<double>();
  EXPECT_NEAR(int4_tops, 104.8576, 1e-9);
  EXPECT_NEAR(hfp8_tops, 26.2144, 1e-9);
  EXPECT_NEAR(int4_eff, 11.0516, 1e-4);
  EXPECT_NEAR(hfp8_eff, 5.14204, 1e-5);
  EXPECT_FALSE(peak.contains("fp16"));  // FP16 runs in slices on fp: not a native peak
  // Throughput bars: within 10 %.
  EXPECT_LT(std::fabs(int4_tops / 104.9 - 1.0), 0.10);
  EXPECT_LT(std::fabs(hfp8_tops / 26.2 - 1.0), 0.10);
  // Efficiency against the published 16.9 TOPS/W and 3.58 TFLOPS/W: measured ratios.
  EXPECT_NEAR(int4_eff / 16.9, 0.6539, 1e-4);
  EXPECT_NEAR(hfp8_eff / 3.58, 1.4363, 1e-4);
  std::cout << "rapid-like.yaml peak: INT4 " << int4_tops << " TOPS (published 104.9), " << int4_eff
            << " TOPS/W (published 16.9, ratio " << int4_eff / 16.9 << "); HFP8 " << hfp8_tops
            << " TFLOPS (published 26.2), " << hfp8_eff << " TFLOPS/W (published 3.58, ratio " << hfp8_eff / 3.58
            << ")\n";
}

}  // namespace
}  // namespace nibble::energy
