// Energy accounting: a tiny design and GEMM computed by hand, and the sum
// check (energy recomputed from a layers.csv file and the table, row by row).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/energy/energy_model.hpp"
#include "sim/energy/energy_report.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/layers_table.hpp"
#include "tests/energy/counters.hpp"
#include "tests/support/design_builder.hpp"
#include "tests/support/temp_dir.hpp"

namespace nibble::energy {
namespace {

using design::PeKind;
using numerics::Format;

TechTable round_table() {
  return load_tech_table(std::string(NIBBLE_SOURCE_DIR) + "/tests/energy/data/round.yaml");
}

/// 4x4 int4-fp4 array, int32 accumulator, one core, 500 MHz.
design::Design tiny_design() {
  design::Design d = test::test_design("tiny", PeKind::kInt4Fp4, 4, 4);
  d.array.acc_int4 = Format::kInt32;
  d.array.acc_fp4 = Format::kInt32;               // one int32 adder per PE
  d.input = test::scratchpad(4 * 1024, 64, 1);    // one 4 KiB bank
  d.weight = test::scratchpad(1024, 32, 1);       // one 1 KiB bank, 32-bit words
  d.output = test::scratchpad(32 * 1024, 128, 2); // two 16 KiB banks
  d.vector.lanes = 2;
  d.clock_mhz = 500.0;
  return d;
}

void expect_rel(double got, double want, double tolerance = 1e-12) {
  EXPECT_LE(std::fabs(got - want), tolerance * std::max(1.0, std::fabs(want))) << got << " vs " << want;
}

TEST(EnergyModel, TinyDesignAreaByHand) {
  const EnergyModel model(round_table(), tiny_design());
  // PE = mult_int4 100 + shift 50 + add_int32 20 + (3 x 4 + 32 = 44 register bits) x 1 = 214 um^2.
  EXPECT_DOUBLE_EQ(model.area().pe_um2, 214.0);
  // Array 16 x 214 = 3424; SRAM (4 + 1 + 32) KiB x 1000 = 37000; vector 2 x 500 = 1000;
  // overhead 10000: total 51424 um^2 = 0.051424 mm^2.
  expect_rel(model.area().mm2[static_cast<std::size_t>(AreaPart::kPeArray)], 0.003424);
  expect_rel(model.area().mm2[static_cast<std::size_t>(AreaPart::kScratchpadOutput)], 0.032);
  expect_rel(model.area().total_mm2(), 0.051424);
  // Leakage 0.5 W/mm^2 x 0.051424 mm^2 = 0.025712 W; per 2 ns cycle 51.424 pJ.
  expect_rel(model.actions().leakage_w, 0.025712);
  expect_rel(model.actions().leakage_pj_per_cycle, 51.424);
  // Scratchpads per byte: E64(kib) = 8 sqrt(kib); per byte = E64 / 8 (width cancels).
  // input 4 KiB bank: 16 pJ -> 2 pJ/B read, x1.5 = 3 pJ/B write;
  // weight 1 KiB: 8 pJ -> 1 / 1.5; output 16 KiB banks: 32 pJ -> 4 / 6.
  const auto& s = model.actions().spad_byte;
  expect_rel(s[0], 2.0);
  expect_rel(s[1], 3.0);
  expect_rel(s[2], 1.0);
  expect_rel(s[3], 1.5);
  expect_rel(s[4], 4.0);
  expect_rel(s[5], 6.0);
}

// One forward GEMM, M = 8 vectors, K = 4, N = 4, on the 4x4 weight-stationary
// array: one fold with T = 8. The counts below are what the simulator reports
// for it under docs/timing.md (the energy model only multiplies them; the
// counting rules belong to sim/arch):
//   cycles   = 2R + C + T - 1 = 8 + 4 + 8 - 1 = 19 (one fold alone)
//   macs     = 8 x 4 x 4 = 128, all INT4 x INT4, 128 int32 adds (k = R: no cross-fold adds)
//   register bits = activations 8 x 4 x 4 hops x 4 bits = 512
//                 + partial sums 8 x 4 x 4 hops x 32 bits = 4096
//                 + weight preload (1+2+3+4) x 4 columns x 4 bits = 160 + 16 active copies x 4 = 64
//                 = 4832
//   input 8 x 4 x 0.5 B = 16 B written and read; weights 16 x 0.5 B = 8 B written and read;
//   outputs 32 x 4 B = 128 B written and read; DRAM 24 B in, 128 B out;
//   vector: 32 quantize + 8 softmax element-ops.
TEST(EnergyModel, TinyGemmEnergyByHand) {
  const StatRegistry reg = testing::contract_registry();
  StatVector v(reg.size());
  v[reg.at("cycles")] = 19;
  v[reg.at("compute_cycles")] = 19;
  v[reg.at("macs")] = 128;
  v[reg.at("mac_int4_int4")] = 128;
  v[reg.at("acc_add_int32")] = 128;
  v[reg.at("pe_reg_write_bits")] = 4832;
  v[reg.at("spad_input_read_bytes")] = 16;
  v[reg.at("spad_input_write_bytes")] = 16;
  v[reg.at("spad_weight_read_bytes")] = 8;
  v[reg.at("spad_weight_write_bytes")] = 8;
  v[reg.at("spad_output_read_bytes")] = 128;
  v[reg.at("spad_output_write_bytes")] = 128;
  v[reg.at("dram_bytes_read")] = 24;
  v[reg.at("dram_bytes_written")] = 128;
  v[reg.at("vec_ops")] = 40;
  v[reg.at("vec_ops_quantize")] = 32;
  v[reg.at("vec_ops_softmax")] = 8;

  const EnergyModel model(round_table(), tiny_design());
  const EnergyReport report = model.account(reg, {v});
  ASSERT_EQ(report.rows.size(), 1u);
  const RowEnergy& e = report.rows[0];
  expect_rel(e[Component::kMac], 128 * 0.5);                  // 64
  expect_rel(e[Component::kAccumulator], 128 * 1.0);          // 128
  expect_rel(e[Component::kRegisters], 4832 * 0.01);         // 48.32
  expect_rel(e[Component::kScratchpadInput], 16 * 2 + 16 * 3.0);    // 80
  expect_rel(e[Component::kScratchpadWeight], 8 * 1 + 8 * 1.5);     // 20
  expect_rel(e[Component::kScratchpadOutput], 128 * 4 + 128 * 6.0); // 1280
  expect_rel(e[Component::kDram], 24 * 100 + 128 * 200.0);          // 28000
  expect_rel(e[Component::kVector], 32 * 10 + 8 * 40.0);            // 640 (softmax has its own entry)
  expect_rel(e[Component::kLeakage], 19 * 51.424);                  // 977.056
  expect_rel(e.total_pj(), 31237.376);
  expect_rel(report.total.total_pj(), 31237.376);

  const EnergyMetrics& m = report.metrics;
  expect_rel(m.energy_per_step_j, 31237.376e-12);
  expect_rel(m.seconds, 19 / 500e6);                          // 38 ns
  expect_rel(m.tops_per_watt, 2.0 * 128 / 31237.376);          // 2 ops per MAC / pJ
  expect_rel(m.edp_js, 31237.376e-12 * 38e-9);
  expect_rel(m.average_power_w, 31237.376e-12 / 38e-9);
  expect_rel(m.area_mm2, 0.051424);
}

// The worked example of docs/energy-model.md ("Dot-product PEs: energy per
// action"), from the counts tests/flow gets out of the simulator
// (Pipeline.EnergyOfADotProductGemmByHand): test-4x4's array (4x4 int4-fp4,
// int32 + fp16 adders, three 64 KiB one-bank scratchpads, 4 lanes, 1 GHz) with
// dot_product: 4, one INT4 GEMM m = 8, n = 4, k = 16, round.yaml.
TEST(EnergyModel, DotProductGemmEnergyByHand) {
  design::Design d = test::test_design("test-4x4-dot4", PeKind::kInt4Fp4, 4, 4);
  d.array.dot_product = 4;
  d.vector.lanes = 4;
  const StatRegistry reg = testing::contract_registry();
  StatVector v(reg.size());
  v[reg.at("cycles")] = 19;
  v[reg.at("compute_cycles")] = 19;
  v[reg.at("macs")] = 512;
  v[reg.at("mac_int4_int4")] = 512;
  v[reg.at("acc_add_int32")] = 128;       // 8 steps x 4 PE rows x 4 columns: one per 4 products
  v[reg.at("dot_tree_add_bits")] = 7040;  // 128 x (18 + 18 + 19)
  v[reg.at("pe_reg_write_bits")] = 7040;  // preload 896 + activations 2048 + partial sums 4096
  v[reg.at("spad_input_read_bytes")] = 64;
  v[reg.at("spad_input_write_bytes")] = 64;
  v[reg.at("spad_weight_read_bytes")] = 32;
  v[reg.at("spad_weight_write_bytes")] = 32;
  v[reg.at("spad_output_read_bytes")] = 128;
  v[reg.at("spad_output_write_bytes")] = 128;
  v[reg.at("dram_bytes_read")] = 96;
  v[reg.at("dram_bytes_written")] = 128;
  const EnergyModel model(round_table(), d);
  // PE 4 x (100 + 50 + 12) + 20 + 60 + 32 + 55 x 20/32 = 794.375 um^2; chip 0.21671 mm^2.
  expect_rel(model.area().pe_um2, 794.375);
  expect_rel(model.area().total_mm2(), 0.21671);
  const RowEnergy e = model.account(reg, {v}).rows.at(0);
  expect_rel(e[Component::kMac], 256.0);
  expect_rel(e[Component::kAccumulator], 128.0 + 140.8);
  expect_rel(e[Component::kRegisters], 70.4);
  expect_rel(e[Component::kScratchpadInput], 1280.0);
  expect_rel(e[Component::kScratchpadWeight], 640.0);
  expect_rel(e[Component::kScratchpadOutput], 2560.0);
  expect_rel(e[Component::kDram], 35200.0);
  expect_rel(e[Component::kLeakage], 2058.745);
  expect_rel(e.total_pj(), 42333.945);
}

TEST(EnergyModel, MissingCountersAndInconsistentRowsAreErrors) {
  StatRegistry partial;
  partial.add("cycles", "cycles", "");
  partial.add("macs", "count", "");
  const EnergyModel model(round_table(), tiny_design());
  try {
    model.account(partial, {}, "run/layers.csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "run/layers.csv");
    EXPECT_EQ(e.field(), "mac_int4_int4");
  }
  const StatRegistry reg = testing::contract_registry();
  StatVector v(reg.size());
  v[reg.at("vec_ops")] = 3;
  v[reg.at("vec_ops_norm")] = 5;  // more by kind than in total
  EXPECT_THROW(model.account(reg, {v}), InputError);
  EXPECT_THROW(model.row(CounterMap(reg), StatVector(3)), std::logic_error);
}

// The model costs only designs that design::validate_design accepts.
TEST(EnergyModel, DesignIsValidated) {
  design::Design d = tiny_design();
  d.array.rows = 0;
  EXPECT_THROW(EnergyModel(round_table(), d), InputError);
  d = tiny_design();
  d.clock_mhz = std::nan("");
  EXPECT_THROW(EnergyModel(round_table(), d), InputError);
  d = tiny_design();
  d.output.banks = 1u << 12;  // 32 KiB in 4096 banks: 8 bytes each, less than a 16-byte word
  try {
    EnergyModel bad(round_table(), d);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "scratchpads.output.banks");
  }
}

// --- the sum check -----------------------------------------------------------

/// log-log interpolation of the table's SRAM points, written out again here.
double sram_per_byte(const TechTable& t, double bank_kib, bool write) {
  const auto& p = t.sram_read;
  std::size_t i = 0;
  while (i + 2 < p.size() && bank_kib > p[i + 1].kib) ++i;
  const double slope = std::log(p[i + 1].read_pj.value / p[i].read_pj.value) / std::log(p[i + 1].kib / p[i].kib);
  const double e64 = p[i].read_pj.value * std::pow(bank_kib / p[i].kib, slope);
  return e64 / t.sram_reference_bits.value * 8.0 * (write ? t.sram_write_over_read.value : 1.0);
}

// Writes a layers.csv of 40 rows with random counts (as a simulate run would),
// reads it back through the report library, accounts it, and recomputes every
// row's energy here from the CSV text and the table's raw entries: the model
// must be exactly "counts x energies + leakage x time", nothing else.
TEST(EnergyModel, SumCheckAgainstLayersCsvAndTable) {
  const std::vector<std::string> names = testing::contract_counter_names();
  std::vector<std::string> columns = {"layer", "phase"};
  columns.insert(columns.end(), names.begin(), names.end());
  columns.push_back("utilization");  // a double column the reader must skip
  report::CsvWriter csv(columns);
  std::mt19937_64 rng(42);
  const char* phases[] = {"forward", "input_grad", "weight_grad", "update"};
  for (int r = 0; r < 40; ++r) {
    std::vector<std::string> fields = {"layer" + std::to_string(r / 4) + (r % 8 == 0 ? ", \"quoted\"" : ""),
                                       phases[r % 4]};
    std::vector<std::uint64_t> counts(names.size());
    for (std::size_t c = 0; c < names.size(); ++c) counts[c] = rng() % 1000000000;
    std::uint64_t kinds = 0;
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (names[c].rfind("vec_ops_", 0) == 0) kinds += counts[c];
    }
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (names[c] == "vec_ops") counts[c] = kinds + rng() % 1000;
      fields.push_back(std::to_string(counts[c]));
    }
    fields.push_back("0.5");
    csv.row(fields);
  }
  const auto dir = test::fresh_dir("energy_sum");
  const std::string path = (dir / "layers.csv").string();
  write_file_atomic(path, csv.str());

  const report::LayersTable table = report::read_layers_csv(path, required_counter_names());
  ASSERT_EQ(table.rows.size(), 40u);
  EXPECT_EQ(table.other_columns, std::vector<std::string>{"utilization"});
  EXPECT_EQ(table.layers[0], "layer0, \"quoted\"");

  const TechTable tech = builtin_tech_table("45nm");
  design::Design d = tiny_design();
  d.array.rows = 32;
  d.array.cols = 16;
  d.cores = 2;
  d.array.acc_int4 = Format::kFp16;
  d.array.acc_fp4 = Format::kFp16;
  const EnergyModel model(tech, d);
  const EnergyReport report = model.account(table.registry, table.rows, path);

  // Independent recomputation from the CSV text.
  std::istringstream in(read_file(path));
  std::string header_line;
  std::getline(in, header_line);
  const auto header = split(header_line, ',');
  // PE: INT4 mult + shifter + FP16 adder + (3 x 4 + 16) register bits.
  const double pe_um2 = tech.um2(AreaItem::kMultInt4) + tech.um2(AreaItem::kShiftInt4Fp4) +
                        tech.um2(AreaItem::kAddFp16) + 28 * tech.um2(AreaItem::kRegBit);
  const double area_um2 = 2 * (32 * 16 * pe_um2 + (4 + 1 + 32) * tech.um2(AreaItem::kSramPerKib) +
                               2 * tech.um2(AreaItem::kVectorLane) + tech.um2(AreaItem::kCoreOverhead));
  const double leak_pj_per_cycle = tech.leakage_w_per_mm2.value * area_um2 * 1e-6 / 500e6 * 1e12;
  double grand_total = 0.0;
  std::string line;
  std::size_t row = 0;
  while (std::getline(in, line)) {
    // Names with commas are quoted; strip the quoted layer name before splitting.
    if (line.front() == '"') line = line.substr(line.find("\",") + 1);
    const auto fields = split(line, ',');
    std::map<std::string, double> c;
    for (std::size_t k = 0; k < fields.size(); ++k) {
      const std::size_t column = k + (header.size() - fields.size());
      c[std::string(header[column])] = std::strtod(std::string(fields[k]).c_str(), nullptr);
    }
    double kinds = 0.0, kind_pj = 0.0;
    for (const auto& kind : vector_kinds()) {
      kinds += c["vec_ops_" + kind];
      kind_pj += c["vec_ops_" + kind] * tech.vector_pj(kind);
    }
    const double want =
        c["mac_int4_int4"] * tech.pj(Action::kMacInt4Int4) + c["mac_int4_fp4"] * tech.pj(Action::kMacInt4Fp4) +
        c["mac_fp8"] * tech.pj(Action::kMacFp8) + c["mac_fp16"] * tech.pj(Action::kMacFp16) +
        c["mac_fp32"] * tech.pj(Action::kMacFp32) + c["acc_add_int32"] * tech.pj(Action::kAccAddInt32) +
        c["acc_add_fp16"] * tech.pj(Action::kAccAddFp16) + c["acc_add_fp32"] * tech.pj(Action::kAccAddFp32) +
        c["dot_tree_add_bits"] * tech.pj(Action::kDotTreeAddBit) + c["pe_reg_write_bits"] * tech.pj(Action::kPeRegWriteBit) +
        c["spad_input_read_bytes"] * sram_per_byte(tech, 4, false) +
        c["spad_input_write_bytes"] * sram_per_byte(tech, 4, true) +
        c["spad_weight_read_bytes"] * sram_per_byte(tech, 1, false) +
        c["spad_weight_write_bytes"] * sram_per_byte(tech, 1, true) +
        c["spad_output_read_bytes"] * sram_per_byte(tech, 16, false) +
        c["spad_output_write_bytes"] * sram_per_byte(tech, 16, true) +
        c["dram_bytes_read"] * tech.pj(Action::kDramReadByte) +
        c["dram_bytes_written"] * tech.pj(Action::kDramWriteByte) + kind_pj +
        (c["vec_ops"] - kinds) * tech.pj(Action::kVectorOp) + c["cycles"] * leak_pj_per_cycle;
    ASSERT_LT(row, report.rows.size());
    expect_rel(report.rows[row].total_pj(), want, 1e-12);
    grand_total += want;
    ++row;
  }
  EXPECT_EQ(row, 40u);
  expect_rel(report.total.total_pj(), grand_total, 1e-12);
  std::filesystem::remove_all(dir);
}

TEST(EnergyModel, PeakEfficiencyFollowsItsDefinition) {
  const EnergyModel model(round_table(), tiny_design());
  // INT4 x INT4 on the tiny array: 0.5 (mult) + 1 (int32 add) + (4 + 32) x 0.01 (registers)
  // + 4/8 B / 4 cols x 2 pJ/B (input read) + 32/8 B / 4 rows x 6 pJ/B (output write)
  // = 0.5 + 1 + 0.36 + 0.25 + 6 = 8.11 pJ; leakage 0.025712 W at 16 x 500e6 MAC/s = 3.214 pJ.
  const PeakEfficiency p = peak_efficiency(model, MacMode::kInt4Int4);
  expect_rel(p.macs_per_second, 8e9);
  expect_rel(p.pj_per_mac, 8.11 + 0.025712e12 / 8e9);
  expect_rel(p.tops_per_watt, 2.0 / (8.11 + 3.214));
  EXPECT_THROW(peak_efficiency(model, MacMode::kFp16), std::logic_error);
  // Both INT4 x FP4 orders count in one MAC counter.
  EXPECT_EQ(native_mac_modes(PeKind::kInt4Fp4), (std::vector<MacMode>{MacMode::kInt4Int4, MacMode::kInt4Fp4}));
  EXPECT_EQ(native_mac_modes(PeKind::kHfp8), std::vector<MacMode>{MacMode::kFp8});
}

// A dot-product PE's peak (docs/energy-model.md, "Peak efficiency"): the tiny
// 4x4 array with dot_product: 4 (int32 accumulators), INT4 x INT4, round.yaml.
// Per MAC: mult 0.5 + (int32 add 1 + 55 tree bits x 0.02) / 4 = 0.525
// + (4 activation + 32/4 partial-sum bits) x 0.01 = 0.12 + input 0.5 B / 4 cols x 2 = 0.25
// + output 4 B / (4 rows x 4 products) x 6 = 1.5: 2.895 pJ dynamic (a MAC PE: 8.11).
// Area: PE 4 x (100 + 50 + 12) + 20 + 32 + 55 x 20/32 = 734.375; chip 16 x 734.375
// + 37000 + 1000 + 10000 = 59750 um^2; leakage 0.5 x 0.05975 = 0.029875 W over
// 4 x 4 x 4 x 500e6 = 3.2e10 MAC/s = 0.93359375 pJ: 3.82859375 pJ/MAC.
TEST(EnergyModel, PeakOfADotProductPe) {
  design::Design d = tiny_design();
  d.array.dot_product = 4;
  const EnergyModel model(round_table(), d);
  expect_rel(model.area().pe_um2, 734.375);
  const PeakEfficiency p = peak_efficiency(model, MacMode::kInt4Int4);
  expect_rel(p.macs_per_second, 3.2e10);
  expect_rel(p.pj_per_mac, 3.82859375);
  expect_rel(p.tops_per_watt, 2.0 / 3.82859375);
  // The INT4 x FP4 mode uses the same tree and, here, the same int32 accumulator:
  // mult_int4_fp4 0.25 instead of 0.5.
  expect_rel(peak_efficiency(model, MacMode::kInt4Fp4).pj_per_mac, 3.82859375 - 0.25);
}

TEST(EnergyModel, PeakOfTwoMatrixUnits) {
  // The tiny design plus a 2x2 fp16 unit (FP32 accumulator): its PE is mult_fp16 400 +
  // add_fp32 100 + (3 x 16 + 32) register bits = 580 um^2, 4 of them 2320 um^2; the chip
  // 51424 + 2320 = 53744 um^2, leaking 0.5 x 0.053744 = 0.026872 W. Each format's peak
  // runs only the units that execute it natively; the whole chip leaks.
  design::Design d = tiny_design();
  design::MatrixUnit fp;
  fp.name = "fp";
  fp.array.rows = fp.array.cols = 2;
  fp.array.pe_kind = PeKind::kFp16;
  d.array_name = "int";
  d.more_units.push_back(fp);
  const EnergyModel model(round_table(), d);
  expect_rel(model.area().total_mm2(), 0.053744);
  // INT4 on int (16 PEs x 500 MHz = 8e9 MAC/s): 8.11 pJ dynamic (as above) + 0.026872e12 / 8e9.
  const PeakEfficiency i4 = peak_efficiency(model, MacMode::kInt4Int4);
  expect_rel(i4.macs_per_second, 8e9);
  expect_rel(i4.pj_per_mac, 8.11 + 3.359);
  // FP16 on fp (4 PEs, 2e9 MAC/s): mult 4 + fp32 add 5 + (16 + 32) x 0.01 + 2 B / 2 cols x 2 pJ/B
  // + 4 B / 2 rows x 6 pJ/B = 23.48 pJ, + 0.026872e12 / 2e9 = 13.436 pJ leakage.
  const PeakEfficiency f16 = peak_efficiency(model, MacMode::kFp16);
  expect_rel(f16.pj_per_mac, 23.48 + 13.436);
  EXPECT_THROW(peak_efficiency(model, MacMode::kFp8), std::logic_error);
  EXPECT_EQ(native_mac_modes(d), (std::vector<MacMode>{MacMode::kInt4Int4, MacMode::kInt4Fp4, MacMode::kFp16}));
  // summary.json's peak: 2 ops per MAC, by format.
  const nlohmann::ordered_json j = peak_json(model);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j.begin().key(), "int4");
  expect_rel(j["int4"]["tops"].get<double>(), 0.016);
  expect_rel(j["int4"]["tops_per_watt"].get<double>(), 2.0 / 11.469);
  // fp4 (INT4 x FP4 shift-add): 0.25 + 1 + 0.36 + 0.25 + 6 = 7.86 pJ + 3.359.
  expect_rel(j["fp4"]["tops_per_watt"].get<double>(), 2.0 / (7.86 + 3.359));
  expect_rel(j["fp16"]["tops"].get<double>(), 0.004);
  expect_rel(j["fp16"]["tops_per_watt"].get<double>(), 2.0 / 36.916);
}

TEST(EnergyModel, ColumnNamesAreStable) {
  EXPECT_EQ(energy_column_names(),
            (std::vector<std::string>{"energy_mac_pj", "energy_accumulator_pj", "energy_registers_pj",
                                      "energy_scratchpad_input_pj", "energy_scratchpad_weight_pj",
                                      "energy_scratchpad_output_pj", "energy_dram_pj", "energy_vector_pj",
                                      "energy_leakage_pj", "energy_total_pj"}));
}

}  // namespace
}  // namespace nibble::energy

namespace nibble::energy {
namespace {

// docs/energy-model.md, "Block-FP4 PE", with round.yaml's test values.
TEST(EnergyModel, BlockFp4PeFromItsParts) {
  const TechTable t = round_table();
  // Adder trees from the 9-bit E2M1 product: 16 x 10 + 8 x 11 + 4 x 12 + 2 x 13 + 14 = 336 bits for 32
  // products; 8 x 10 + 4 x 11 + 2 x 12 + 13 = 161 for 16.
  EXPECT_DOUBLE_EQ(block_tree_bits(32), 336.0);
  EXPECT_DOUBLE_EQ(block_tree_bits(16), 161.0);
  // Per product: mult 0.5 + tree share x 0.25 + the block's scale step / B.
  EXPECT_DOUBLE_EQ(block_mac_pj(t, MacMode::kMxfp4), 0.5 + 336.0 / 32 * 0.25 + 8.0 / 32);   // 3.375
  EXPECT_DOUBLE_EQ(block_mac_pj(t, MacMode::kNvfp4), 0.5 + 161.0 / 16 * 0.25 + 16.0 / 16);  // 4.015625
  EXPECT_THROW(block_mac_pj(t, MacMode::kFp16), std::logic_error);
  // A 32-lane PE with an FP32 accumulator: 32 x (mult 10 + 12 register bits) + 336 tree bits x 1
  // + 32/16 x (scale unit 100 + fp32 adder 100) + 32 partial-sum bits = 1472 um^2.
  design::Design d = tiny_design();
  d.array.pe_kind = PeKind::kFp4Block;
  d.array.dot_product = 32;
  d.weight = test::scratchpad(64 * 1024, 32, 1);
  EXPECT_DOUBLE_EQ(pe_area_um2(t, d), 1472.0);
  const EnergyModel model(t, d);
  EXPECT_DOUBLE_EQ(model.actions().mac[static_cast<std::size_t>(MacMode::kMxfp4)], 3.375);
  EXPECT_DOUBLE_EQ(model.actions().mac[static_cast<std::size_t>(MacMode::kNvfp4)], 4.015625);
  EXPECT_EQ(native_mac_modes(d), (std::vector<MacMode>{MacMode::kMxfp4, MacMode::kNvfp4}));
  // A BF16 PE: mult_bf16 1000 + fp32 adder 100 + (3 x 16 + 32) register bits = 1180.
  d.array.pe_kind = PeKind::kBf16;
  d.array.dot_product = 1;
  EXPECT_DOUBLE_EQ(pe_area_um2(t, d), 1180.0);
}

// The design files give an accumulator per operand family; a PE holds one
// adder per distinct format it uses (docs/energy-model.md, "PE area").
TEST(EnergyModel, PeAddersFollowTheAccumulators) {
  const TechTable t = round_table();
  design::Design a = tiny_design();
  a.array.acc_int4 = Format::kInt32;
  a.array.acc_fp4 = Format::kFp16;
  // mult 100 + shift 50 + int32 20 + fp16 60 + (12 + 32 register bits) = 274 um^2.
  EXPECT_FALSE(float_adder_in_pe(a));
  EXPECT_EQ(pe_adders(a), (std::vector<Format>{Format::kInt32, Format::kFp16}));
  EXPECT_DOUBLE_EQ(pe_area_um2(t, a), 274.0);
  // Multi-pass layers add their slices in accumulators.float, in the PE: + fp32 100.
  a.array.unsupported = design::UnsupportedOps::kMultiPass;
  EXPECT_TRUE(float_adder_in_pe(a));
  EXPECT_EQ(pe_adders(a), (std::vector<Format>{Format::kInt32, Format::kFp16, Format::kFp32}));
  EXPECT_DOUBLE_EQ(pe_area_um2(t, a), 374.0);
  // fp16-chunked adds in FP16 in the PE: int32 + fp16 + fp16-chunked is still two adders.
  a.array.unsupported = design::UnsupportedOps::kError;
  a.array.acc_fp4 = Format::kFp16Chunked;
  EXPECT_EQ(pe_adders(a), (std::vector<Format>{Format::kInt32, Format::kFp16}));
  EXPECT_DOUBLE_EQ(pe_area_um2(t, a), 274.0);
  // An fp16 PE uses accumulators.float only, multi-pass or not: mult 400 + fp32 100 + (48 + 32) = 580.
  a.array.pe_kind = PeKind::kFp16;
  a.array.unsupported = design::UnsupportedOps::kMultiPass;
  EXPECT_FALSE(float_adder_in_pe(a));
  EXPECT_EQ(pe_adders(a), std::vector<Format>{Format::kFp32});
  EXPECT_DOUBLE_EQ(pe_area_um2(t, a), 580.0);
  EXPECT_EQ(adder_index(Format::kFp16Chunked), 1u);
  // A dot-product PE, N = 4 (int32 + fp16 accumulators): 4 x (mult 100 + shift 50
  // + 12 operand register bits) = 648, adders 20 + 60 once, 32 partial-sum bits,
  // and a tree of 2 adders of 18 bits and 1 of 19 (from 17-bit products): 55
  // bits x 20/32 = 34.375: 794.375 um^2 (4 MAC PEs: 1096).
  design::Design dot = tiny_design();
  dot.array.acc_int4 = Format::kInt32;
  dot.array.acc_fp4 = Format::kFp16;
  dot.array.dot_product = 4;
  EXPECT_DOUBLE_EQ(pe_area_um2(t, dot), 794.375);
  // N = 3: 3 terms -> 2 (one 18-bit adder) -> 1 (one 19-bit adder): 37 bits x 0.625
  // = 23.125; 3 x 162 + 80 + 32 + 23.125 = 621.125.
  dot.array.dot_product = 3;
  EXPECT_DOUBLE_EQ(pe_area_um2(t, dot), 621.125);
  // Floating-point kinds are charged as N MAC PEs: fp16 N = 2: 2 x 580.
  a.array.dot_product = 2;
  EXPECT_DOUBLE_EQ(pe_area_um2(t, a), 1160.0);
  a.array.dot_product = 1;
  EXPECT_THROW(adder_index(Format::kFp8E4M3), std::logic_error);
  // Peak INT4 x FP4 accumulates in accumulators.fp4 (FP16: 3 pJ, 16-bit partial sums).
  design::Design b = tiny_design();
  b.array.acc_fp4 = Format::kFp16;
  const EnergyModel model(t, b);
  const PeakEfficiency p = peak_efficiency(model, MacMode::kInt4Fp4);
  // 0.25 + 3 + (4 + 16) x 0.01 + 0.5/4 x 2 + 2/4 x 6 = 6.7 pJ + leakage.
  expect_rel(p.pj_per_mac - model.actions().leakage_w * 1e12 / p.macs_per_second, 6.7);
}

}  // namespace
}  // namespace nibble::energy
