// The evaluation pipeline (sim/flow) and the two commands built on it,
// `nibble simulate` and `nibble compare`: energy computed by hand for a tiny
// design and GEMM through the whole pipeline; the sum check (every row's
// energy recomputed from layers.csv's counters and the table's raw entries);
// iso-area; the HTML parsed with libxml2; compare's ratios against the two
// designs' own summaries; byte-identical reruns; error messages and exit codes;
// the headline rows of docs/validation.md ("4-bit vs FP16") against a fresh run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/design/design.hpp"
#include "sim/energy/area.hpp"
#include "sim/energy/tech_table.hpp"
#include "sim/flow/compare.hpp"
#include "sim/flow/evaluate.hpp"
#include "sim/flow/outputs.hpp"
#include "sim/flow/workload.hpp"
#include "sim/report/csv_reader.hpp"
#include "tests/report/xml_check.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/trace_ops.hpp"
#include "workloads/trace.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::flow {
namespace {

namespace fs = std::filesystem;
using numerics::Format;
using test::gemm;
using workloads::Phase;
using workloads::TraceOp;

const std::string kSource = NIBBLE_SOURCE_DIR;

/// A workload source with exactly the fields these tests set (the others default).
WorkloadSource source_of(const std::string& model, const std::string& trace_file, const std::string& onnx_file,
                         std::optional<std::uint64_t> batch) {
  WorkloadSource s;
  s.model = model;
  s.trace_file = trace_file;
  s.onnx_file = onnx_file;
  s.batch = batch;
  return s;
}

const std::string kRound = kSource + "/tests/energy/data/round.yaml";

design::Design shipped(const std::string& file, const std::vector<std::string>& sets = {}) {
  return design::load_design(kSource + "/hw/designs/" + file, sets);
}

/// A fresh directory under the system temp dir, removed when the test ends.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : m_path(test::fresh_dir("test_flow_" + name)) {}
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  std::string operator/(const std::string& leaf) const { return (m_path / leaf).string(); }
  std::string str() const { return m_path.string(); }

 private:
  fs::path m_path;
};

/// Runs the built `nibble` (CTest sets $NIBBLE) with `args`; returns the exit
/// code and fills stdout and stderr.
int nibble(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
  const char* exe = std::getenv("NIBBLE");
  const std::string binary = exe != nullptr ? exe : std::string(NIBBLE_BINARY_DIR) + "/nibble";
  static int counter = 0;
  const std::string base = (fs::temp_directory_path() / ("nibble-test-flow-io-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(counter++)))
                               .string();
  const std::string command = "cd '" + kSource + "' && '" + binary + "' " + args + " > '" + base + ".out' 2> '" +
                              base + ".err'";
  const int status = std::system(command.c_str());
  if (out != nullptr) *out = read_file(base + ".out");
  if (err != nullptr) *err = read_file(base + ".err");
  fs::remove(base + ".out");
  fs::remove(base + ".err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

nlohmann::json json_file(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

void expect_rel(double got, double want, double tolerance = 1e-12) {
  EXPECT_LE(std::fabs(got - want), tolerance * std::max(1.0, std::fabs(want))) << got << " vs " << want;
}

TraceOp softmax(const std::string& layer, std::uint64_t elements) {
  return test::vector_op(layer, workloads::VectorKind::kSoftmax, elements, Format::kFp16, Format::kFp16);
}

/// One INT4 GEMM (m = 8, n = 4, k = 4) and an 8-element softmax.
workloads::Trace tiny_trace() {
  workloads::Trace t;
  t.model = "tiny";
  t.policy = "int4-fp4";
  t.ops = {gemm("g", 8, 4, 4), softmax("s", 8)};
  return t;
}

// ------------------------------------------------------------- by hand

// hw/designs/test-4x4.yaml (4x4 ws int4-fp4 PEs, int4 -> int32 and fp4 -> fp16
// accumulators, no multi-pass; 64 KiB single-bank scratchpads; ideal DRAM with
// 4-byte bursts; 4 vector lanes; 1 GHz) costed with tests/energy/data/round.yaml.
//
// Area: PE = mult_int4 100 + shift 50 + add_int32 20 + add_fp16 60
//            + (3 x 4 operand + 32 partial-sum = 44) register bits x 1 = 274 um^2;
//       array 16 x 274 = 4384; SRAM 3 x 64 KiB x 1000 = 192000; vector 4 x 500 = 2000;
//       overhead 10000 -> 208384 um^2 = 0.208384 mm^2.
// Leakage 0.5 W/mm^2 x 0.208384 mm^2 = 0.104192 W = 104.192 pJ per 1 ns cycle.
// SRAM: E64(kib) = 8 sqrt(kib) (the table's two points, continued past 16 KiB):
//       a 64 KiB bank reads 64 pJ per 64-bit word = 8 pJ/B, writes x1.5 = 12 pJ/B.
//
// Row (g, forward), one fold with T = 8 (docs/timing.md):
//   cycles = R + T + R + C - 1 = 4 + 8 + 4 + 4 - 1 = 19
//   mac_int4_int4 = acc_add_int32 = 8 x 4 x 4 = 128  -> 128 x 0.5 = 64 and 128 x 1 = 128
//   register bits = preload (1+2+3+4 shifts + 4 copies) x 4 cols x 4 bits = 224
//                   + 128 hops x (4 activation + 32 partial-sum bits) = 4608 -> 4832 x 0.01 = 48.32
//   input: 16 B written (DRAM fill), 16 B read -> 16 x 12 + 16 x 8 = 320
//   weight: 8 B written, 8 B read -> 8 x 12 + 8 x 8 = 160
//   output: 32 int32 partial sums written (128 B), read for the store (128 B) -> 128 x 12 + 128 x 8 = 2560
//   DRAM: 24 B read, 128 B written -> 24 x 100 + 128 x 200 = 28000
//   leakage 19 x 104.192 = 1979.648;  total 33259.968 pJ
// Row (s, forward), softmax of 8 FP16 elements on 4 lanes at 4 cycles each:
//   cycles = ceil(8 / 4) x 4 = 8 (ideal memory: load and store take no time)
//   vector 8 x 40 (vector_op_softmax) = 320
//   output scratchpad: 16 B in + 16 B out, written and read -> 32 x 12 + 32 x 8 = 640
//   DRAM 16 B read, 16 B written -> 1600 + 3200 = 4800
//   leakage 8 x 104.192 = 833.536;  total 6593.536 pJ
// Step: 39853.504 pJ in 27 cycles (27 ns); TOPS/W = 2 x 128 / 39853.504.
TEST(Pipeline, EnergyOfATinyGemmByHand) {
  EvalOptions options;
  options.tech = kRound;
  const Evaluation e = evaluate(shipped("test-4x4.yaml"), tiny_trace(), options);
  ASSERT_EQ(e.energy.rows.size(), 2u);
  EXPECT_EQ(e.sim.total("cycles"), 27u);
  expect_rel(e.energy.area.pe_um2, 274.0);
  expect_rel(e.energy.area.total_mm2(), 0.208384);
  const energy::RowEnergy& g = e.energy.rows[0];
  using energy::Component;
  expect_rel(g[Component::kMac], 64.0);
  expect_rel(g[Component::kAccumulator], 128.0);
  expect_rel(g[Component::kRegisters], 48.32);
  expect_rel(g[Component::kScratchpadInput], 320.0);
  expect_rel(g[Component::kScratchpadWeight], 160.0);
  expect_rel(g[Component::kScratchpadOutput], 2560.0);
  expect_rel(g[Component::kDram], 28000.0);
  expect_rel(g[Component::kVector], 0.0);
  expect_rel(g[Component::kLeakage], 1979.648);
  expect_rel(g.total_pj(), 33259.968);
  const energy::RowEnergy& s = e.energy.rows[1];
  expect_rel(s[Component::kVector], 320.0);
  expect_rel(s[Component::kScratchpadOutput], 640.0);
  expect_rel(s[Component::kDram], 4800.0);
  expect_rel(s[Component::kLeakage], 833.536);
  expect_rel(s.total_pj(), 6593.536);
  expect_rel(e.energy.total.total_pj(), 39853.504);
  expect_rel(e.energy.metrics.energy_per_step_j, 39853.504e-12);
  expect_rel(e.energy.metrics.seconds, 27e-9);
  expect_rel(e.energy.metrics.tops_per_watt, 256.0 / 39853.504);
  expect_rel(e.energy.metrics.edp_js, 39853.504e-12 * 27e-9);
  // Both rows are forward: the phase holds everything, the others nothing.
  expect_rel(e.phases[0].energy.total_pj(), 39853.504);
  expect_rel(e.phases[1].energy.total_pj(), 0.0);
  // --tech is what the resolved design says was used.
  EXPECT_EQ(e.sim.design.tech, kRound);
  EXPECT_EQ(e.tech.file, kRound);
  EXPECT_FALSE(e.tech.builtin);

  // The same numbers reach summary.json and layers.csv exactly.
  const nlohmann::json j = nlohmann::json::parse(summary_json(e));
  expect_rel(j.at("energy").at("energy_pj").at("total").get<double>(), 39853.504);
  expect_rel(j.at("energy").at("area_mm2").get<double>(), 0.208384);
  EXPECT_EQ(j.at("energy").at("tech").get<std::string>(), "round");
  EXPECT_EQ(j.at("energy").at("tech_file").get<std::string>(), kRound);
  const report::CsvTable csv = report::parse_csv(layers_csv(e), "layers.csv");
  ASSERT_EQ(csv.rows.size(), 2u);
  const auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < csv.header.size(); ++i) {
      if (csv.header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return std::size_t{0};
  };
  expect_rel(std::stod(csv.rows[0][col("energy_total_pj")]), 33259.968);
  expect_rel(std::stod(csv.rows[1][col("energy_vector_pj")]), 320.0);
}

// The worked example of docs/energy-model.md ("Dot-product PEs: energy per
// action"): test-4x4 with array.dot_product: 4 (each PE sums 4 INT4 products in
// an exact tree of two 18-bit and one 19-bit adder, 55 bits, then one int32
// accumulate), one INT4 GEMM m = 8, n = 4, k = 16, costed with round.yaml.
//
// Area: PE = 4 x (mult_int4 100 + shift 50 + 12 operand register bits) = 648
//            + add_int32 20 + add_fp16 60 + 32 partial-sum bits + 55 x 20/32 = 794.375 um^2;
//       array 16 x 794.375 = 12710; SRAM 192000; vector 2000; overhead 10000
//       -> 216710 um^2 = 0.21671 mm^2; leakage 0.5 x 0.21671 = 0.108355 W = 108.355 pJ/cycle.
// One fold (R x N = 16 = k), T = 8: cycles = 2R + C + T - 1 = 19.
//   mac_int4_int4     = 8 x 16 x 4 = 512 products          x 0.5  = 256
//   acc_add_int32     = 8 steps x 4 PE rows x 4 cols = 128  x 1    = 128
//   dot_tree_add_bits = 128 x 55 = 7040                     x 0.02 = 140.8  (accumulator 268.8)
//   pe_reg_write_bits = preload (4 x 5/2 x 4 shifts + 16 copies) x 4 cols x 4 bits = 896
//                       + 512 activations x 4 bits = 2048 + 128 partial sums x 32 bits = 4096
//                       = 7040                              x 0.01 = 70.4
//   input  64 B written, 64 B read  -> 64 x 12 + 64 x 8   = 1280
//   weight 32 B written, 32 B read  -> 32 x 12 + 32 x 8   = 640
//   output 32 int32 sums written (128 B), read for the store (128 B) = 2560
//   DRAM 96 B read, 128 B written   -> 9600 + 25600      = 35200
//   leakage 19 x 108.355                                  = 2058.745
//   total 42333.945 pJ (the MAC-PE charge, one add per product, would be 512 x 1 for the adds).
TEST(Pipeline, EnergyOfADotProductGemmByHand) {
  EvalOptions options;
  options.tech = kRound;
  workloads::Trace t;
  t.model = "tiny";
  t.policy = "int4-fp4";
  t.ops = {gemm("g", 8, 4, 16)};
  const Evaluation e = evaluate(shipped("test-4x4.yaml", {"array.dot_product=4"}), t, options);
  ASSERT_EQ(e.energy.rows.size(), 1u);
  EXPECT_EQ(e.sim.total("cycles"), 19u);
  EXPECT_EQ(e.sim.total("macs"), 512u);
  EXPECT_EQ(e.sim.total("acc_add_int32"), 128u);
  EXPECT_EQ(e.sim.total("dot_tree_add_bits"), 7040u);
  EXPECT_EQ(e.sim.total("pe_reg_write_bits"), 7040u);
  expect_rel(e.energy.area.pe_um2, 794.375);
  expect_rel(e.energy.area.total_mm2(), 0.21671);
  using energy::Component;
  const energy::RowEnergy& g = e.energy.rows[0];
  expect_rel(g[Component::kMac], 256.0);
  expect_rel(g[Component::kAccumulator], 268.8);
  expect_rel(g[Component::kRegisters], 70.4);
  expect_rel(g[Component::kScratchpadInput], 1280.0);
  expect_rel(g[Component::kScratchpadWeight], 640.0);
  expect_rel(g[Component::kScratchpadOutput], 2560.0);
  expect_rel(g[Component::kDram], 35200.0);
  expect_rel(g[Component::kVector], 0.0);
  expect_rel(g[Component::kLeakage], 2058.745);
  expect_rel(g.total_pj(), 42333.945);
  expect_rel(e.energy.metrics.tops_per_watt, 2.0 * 512 / 42333.945);
}

// The shipped int4-train's `int` unit (32 x 128 int4-fp4 PEs of 4 products,
// fp16-chunked) is the only unit that adds in FP16 in its PEs, so in every row
// of a real step its tree bits are 55 per FP16 accumulate, and the accumulates
// cover its products 4 at a time (more only where a k-tile's last PE row takes
// fewer than 4); the accumulator energy is those counts times the 45 nm table.
TEST(Pipeline, ShippedDotProductUnitAccumulatesOncePerFourProducts) {
  const design::Design d = shipped("int4-train.yaml");
  const Workload w = Workload::load(source_of("fmnist-cnn", "", "", 4));
  const Evaluation e = evaluate(d, w.trace_for(d, PolicyChoice{}), EvalOptions{});
  const energy::TechTable& t = e.model.tech();
  const auto& ids = e.sim.ids;
  std::uint64_t products = 0, accumulates = 0;
  for (std::size_t r = 0; r < e.sim.rows.size(); ++r) {
    const StatVector& v = e.sim.rows[r].stats;
    const std::uint64_t int_products = v[ids.mac_int4_int4] + v[ids.mac_int4_fp4];
    EXPECT_EQ(v[ids.dot_tree_add_bits], 55 * v[ids.acc_add_fp16]) << r;
    EXPECT_GE(4 * v[ids.acc_add_fp16], int_products) << r;
    EXPECT_LE(v[ids.acc_add_fp16], int_products) << r;
    products += int_products;
    accumulates += v[ids.acc_add_fp16];
    expect_rel(e.energy.rows[r][energy::Component::kAccumulator],
               static_cast<double>(v[ids.acc_add_int32]) * t.pj(energy::Action::kAccAddInt32) +
                   static_cast<double>(v[ids.acc_add_fp16]) * 0.4 + static_cast<double>(v[ids.acc_add_fp32]) * 0.9 +
                   static_cast<double>(v[ids.dot_tree_add_bits]) * 0.1 / 32);
  }
  EXPECT_GT(products, 0u);
  // fmnist-cnn's 4-bit GEMMs (conv64 and fc128: forward, input and weight gradients) reduce over
  // multiples of 4 (32 x 9, 64 x 9, 3136, 128, batch x pixels), so every PE operation takes 4.
  EXPECT_EQ(4 * accumulates, products);
}

TEST(Pipeline, EnergyModelReadsTheShippedDesigns) {
  using numerics::Format;
  const design::Design a = shipped("int4-single-array.yaml");
  // fp16-chunked (int4 and fp4) adds in FP16 in the PE; unsupported: multi-pass
  // -> the FP16 layers' slice products add in accumulators.float (FP32) in every PE.
  EXPECT_TRUE(energy::float_adder_in_pe(a));
  EXPECT_EQ(energy::pe_adders(a), (std::vector<Format>{Format::kFp16, Format::kFp32}));
  const design::Design b = shipped("fp16-baseline.yaml");
  EXPECT_FALSE(energy::float_adder_in_pe(b));
  EXPECT_EQ(energy::pe_adders(b), std::vector<Format>{Format::kFp32});
  EXPECT_FALSE(energy::float_adder_in_pe(shipped("test-4x4.yaml")));  // unsupported: error
  // The model keeps the design it was given.
  const energy::EnergyModel model(energy::builtin_tech_table("45nm"), a);
  EXPECT_EQ(design::design_to_json(model.design()), design::design_to_json(a));
}

// ------------------------------------------------------------- the sum check

/// Energy of every component of one layers.csv row, recomputed from the
/// row's counters and the table's raw entries (docs/energy-model.md, section 1).
std::vector<double> recompute(const std::map<std::string, double>& n, const energy::TechTable& t,
                              const design::Design& d, double area_mm2) {
  using energy::Action;
  const auto spad = [&](const design::ScratchpadConfig& s, const std::string& name) {
    const double kib = static_cast<double>(s.capacity_bytes) / static_cast<double>(s.banks) / 1024.0;
    const double w = static_cast<double>(s.word_bits);
    return n.at("spad_" + name + "_read_bytes") * t.sram_read_pj(kib, w) / (w / 8.0) +
           n.at("spad_" + name + "_write_bytes") * t.sram_write_pj(kib, w) / (w / 8.0);
  };
  double vector_kinds = 0.0, vector_by_kind = 0.0;
  for (const auto& kind : energy::vector_kinds()) {
    const auto it = n.find("vec_ops_" + kind);
    if (it == n.end()) continue;
    vector_by_kind += it->second * t.vector_pj(kind);
    vector_kinds += it->second;
  }
  return {
      n.at("mac_int4_int4") * t.pj(Action::kMacInt4Int4) + n.at("mac_int4_fp4") * t.pj(Action::kMacInt4Fp4) +
          n.at("mac_fp8") * t.pj(Action::kMacFp8) + n.at("mac_fp16") * t.pj(Action::kMacFp16) +
          n.at("mac_fp32") * t.pj(Action::kMacFp32),
      n.at("acc_add_int32") * t.pj(Action::kAccAddInt32) + n.at("acc_add_fp16") * t.pj(Action::kAccAddFp16) +
          n.at("acc_add_fp32") * t.pj(Action::kAccAddFp32) + n.at("dot_tree_add_bits") * t.pj(Action::kDotTreeAddBit),
      n.at("pe_reg_write_bits") * t.pj(Action::kPeRegWriteBit),
      spad(d.input, "input"),
      spad(d.weight, "weight"),
      spad(d.output, "output"),
      n.at("dram_bytes_read") * t.pj(Action::kDramReadByte) + n.at("dram_bytes_written") * t.pj(Action::kDramWriteByte),
      vector_by_kind + (n.at("vec_ops") - vector_kinds) * t.pj(Action::kVectorOp),
      t.leakage_w_per_mm2.value * area_mm2 * n.at("cycles") / (d.clock_mhz * 1e6) * 1e12,
  };
}

TEST(Pipeline, SumCheckFromLayersCsvAndTheTable) {
  const TempDir dir("sum");
  ASSERT_EQ(nibble("simulate --design hw/designs/int4-single-array.yaml --model fmnist-cnn --batch 4 --quiet --out " +
                   dir.str()),
            0);
  const report::CsvTable csv = report::parse_csv(read_file(dir / "layers.csv"), "layers.csv");
  const nlohmann::json summary = json_file(dir / "summary.json");
  const energy::TechTable tech = energy::builtin_tech_table("45nm");
  const design::Design d = shipped("int4-single-array.yaml");
  const double area = summary.at("energy").at("area_mm2").get<double>();
  // The area itself, independently: PEs with an FP16 and an FP32 adder
  // (multi-pass) and 4 x 3 + 32 register bits, plus SRAM, lanes and overhead.
  const double pe = tech.um2(energy::AreaItem::kMultInt4) + tech.um2(energy::AreaItem::kShiftInt4Fp4) +
                    tech.um2(energy::AreaItem::kAddFp16) + tech.um2(energy::AreaItem::kAddFp32) +
                    44 * tech.um2(energy::AreaItem::kRegBit);
  expect_rel(area, (128.0 * 128.0 * pe + 8192.0 * tech.um2(energy::AreaItem::kSramPerKib) +
                    128.0 * tech.um2(energy::AreaItem::kVectorLane) + tech.um2(energy::AreaItem::kCoreOverhead)) /
                       1e6);
  const std::vector<std::string> columns = {"energy_mac_pj",
                                            "energy_accumulator_pj",
                                            "energy_registers_pj",
                                            "energy_scratchpad_input_pj",
                                            "energy_scratchpad_weight_pj",
                                            "energy_scratchpad_output_pj",
                                            "energy_dram_pj",
                                            "energy_vector_pj",
                                            "energy_leakage_pj"};
  ASSERT_GT(csv.rows.size(), 10u);
  double sum = 0.0;
  std::map<std::string, bool> phases_seen;
  for (const auto& row : csv.rows) {
    std::map<std::string, double> values;
    for (std::size_t i = 0; i < csv.header.size(); ++i) {
      // The plan columns are words: unit, dataflow, loop_order, tile.
      const bool words = csv.header[i] == "unit" || csv.header[i] == "dataflow" || csv.header[i] == "loop_order" ||
                         csv.header[i] == "tile";
      if (i >= 2 && !words) values[csv.header[i]] = std::stod(row[i]);
    }
    phases_seen[row[1]] = true;
    const std::vector<double> want = recompute(values, tech, d, area);
    double row_total = 0.0;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      expect_rel(values.at(columns[c]), want[c], 1e-12);
      row_total += want[c];
    }
    expect_rel(values.at("energy_total_pj"), row_total, 1e-12);
    sum += values.at("energy_total_pj");
  }
  EXPECT_EQ(phases_seen.size(), 4u);
  expect_rel(summary.at("energy").at("energy_pj").at("total").get<double>(), sum, 1e-12);
  expect_rel(summary.at("energy").at("energy_per_step_j").get<double>(), sum * 1e-12, 1e-12);
  // The phases add up to the step.
  double phases = 0.0;
  for (const char* p : {"forward", "input_grad", "weight_grad", "update"}) {
    phases += summary.at("energy").at("phases").at(p).at("energy_pj").at("total").get<double>();
  }
  expect_rel(phases, sum, 1e-12);
  expect_rel(summary.at("energy").at("tops_per_watt").get<double>(),
             2.0 * summary.at("macs").get<double>() / sum, 1e-12);
  EXPECT_EQ(summary.at("energy").at("tech_file").get<std::string>(), "hw/tech/45nm.yaml");
  EXPECT_TRUE(summary.at("energy").at("tech_builtin").get<bool>());
}

// ------------------------------------------------------------- iso-area and compare

TEST(Compare, IsoAreaGivesEqualAreasWithinOnePercent) {
  const design::Design a = shipped("int4-single-array.yaml");
  design::Design b = shipped("fp16-baseline.yaml");
  const energy::TechTable t = energy::builtin_tech_table("45nm");
  const IsoArea iso = resize_to_area_of(a, t, &b, t);
  EXPECT_TRUE(iso.applied);
  EXPECT_EQ(iso.rows_before, 128u);
  EXPECT_LT(std::fabs(iso.relative_error), 0.01);
  // Recomputed here from the resized design, not taken from the result.
  const double area_a = energy::chip_area(t, a).total_mm2();
  const double area_b = energy::chip_area(t, b).total_mm2();
  EXPECT_LT(std::fabs(area_b - area_a) / area_a, 0.01);
  EXPECT_EQ(b.array.rows, iso.rows_after);
  EXPECT_EQ(b.array.cols, iso.cols_after);
  EXPECT_EQ(b.input.capacity_bytes, 4194304u);  // only the array changes
  // Resizing the 4-bit design instead keeps its FP16 chunks one fold long.
  design::Design a2 = shipped("int4-single-array.yaml");
  const design::Design small = shipped("fp16-baseline.yaml", {"array.rows=32", "array.cols=32"});
  const IsoArea shrunk = resize_to_area_of(small, t, &a2, t);
  EXPECT_LT(a2.array.rows, 128u);
  EXPECT_EQ(a2.array.chunk, a2.array.rows);
  EXPECT_EQ(shrunk.chunk_before, 128u);
}

TEST(Compare, RatiosAreThoseOfTheTwoSummaries) {
  const TempDir dir("cmp");
  std::string out;
  ASSERT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --batch 8 "
                   "--iso-area --out " + dir.str(),
                   &out),
            0);
  const nlohmann::json c = json_file(dir / "summary.json");
  const nlohmann::json a = json_file(dir / "a/summary.json");
  const nlohmann::json b = json_file(dir / "b/summary.json");
  // speedup = B's time per step over A's; energy_ratio = B's energy per step over A's.
  expect_rel(c.at("speedup").get<double>(), b.at("seconds").get<double>() / a.at("seconds").get<double>(), 1e-12);
  expect_rel(c.at("energy_ratio").get<double>(),
             b.at("energy").at("energy_per_step_j").get<double>() / a.at("energy").at("energy_per_step_j").get<double>(),
             1e-12);
  expect_rel(c.at("edp_ratio").get<double>(),
             b.at("energy").at("edp_js").get<double>() / a.at("energy").at("edp_js").get<double>(), 1e-12);
  for (const char* key : {"tops_per_watt", "energy_per_step_j", "edp_js", "area_mm2"}) {
    expect_rel(c.at("a").at(key).get<double>(), a.at("energy").at(key).get<double>(), 0.0);
    expect_rel(c.at("b").at(key).get<double>(), b.at("energy").at(key).get<double>(), 0.0);
  }
  EXPECT_EQ(c.at("a").at("cycles"), a.at("total_cycles"));
  EXPECT_EQ(c.at("b").at("seconds"), b.at("seconds"));
  EXPECT_EQ(c.at("a").at("policy"), "int4-fp4");  // natural policies
  EXPECT_EQ(c.at("b").at("policy"), "fp16");
  // Iso-area: equal areas within 1 %, and B's resolved design is the resized one.
  const double area_a = c.at("a").at("area_mm2").get<double>();
  const double area_b = c.at("b").at("area_mm2").get<double>();
  EXPECT_LT(std::fabs(area_b - area_a) / area_a, 0.01);
  EXPECT_TRUE(c.at("iso_area").at("applied").get<bool>());
  EXPECT_EQ(c.at("b").at("design").at("array").at("rows"), c.at("iso_area").at("b_rows"));
  EXPECT_EQ(b.at("design").at("array").at("cols"), c.at("iso_area").at("b_cols"));
  EXPECT_NE(c.at("iso_area").at("b_rows").get<int>(), 128);
  EXPECT_NE(out.find("speedup (B's time / A's)"), std::string::npos) << out;
}

TEST(Compare, PoliciesAndErrorsOfOneDesign) {
  Workload w = Workload::load(source_of("fmnist-mlp", "", "", 2));
  CompareOptions options;
  options.policy_a.name = "fp16";  // the 4-bit design runs everything in 9 passes
  options.policy_b.name = "fp16";
  options.concurrent = false;
  const Comparison c = compare(shipped("int4-single-array.yaml"), shipped("fp16-baseline.yaml"), w, options);
  EXPECT_EQ(c.a.sim.policy, "fp16");
  EXPECT_GT(c.a.sim.total("mac_int4_int4"), 0u);  // fp16 slices on the int4 datapath
  EXPECT_NEAR(c.speedup, c.b.energy.metrics.seconds / c.a.energy.metrics.seconds, 1e-15);
  // fp16-baseline refuses FP32 GEMMs (unsupported: error): an InputError, B's.
  options.policy_b.name = "fp32";
  EXPECT_THROW(compare(shipped("int4-single-array.yaml"), shipped("fp16-baseline.yaml"), w, options), InputError);
  options.concurrent = true;
  EXPECT_THROW(compare(shipped("int4-single-array.yaml"), shipped("fp16-baseline.yaml"), w, options), InputError);
}

// ------------------------------------------------------------- reports

/// Layer names of a layers.csv.
std::vector<std::string> layer_names(const std::string& path) {
  const report::CsvTable csv = report::parse_csv(read_file(path), path);
  std::vector<std::string> out;
  for (const auto& row : csv.rows) out.push_back(row[0]);
  return out;
}

TEST(Reports, HtmlIsWellFormedAndNamesEveryLayer) {
  const TempDir dir("html");
  ASSERT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-cnn --batch 2 "
                   "--quiet --out " + dir.str()),
            0);
  for (const std::string page : {"report.html", "a/report.html", "b/report.html"}) {
    const std::string html = read_file(dir / page);
    std::string text;
    EXPECT_EQ(report::testing::xml_errors(html, &text), "") << page;
    for (const auto& layer : layer_names(dir / "a/layers.csv")) {
      EXPECT_NE(text.find(layer), std::string::npos) << page << " lacks layer " << layer;
    }
    // Self-contained: nothing fetched from anywhere (the only URL is the XHTML namespace name).
    for (const char* fetch : {"<script", "src=", "href=\"http", "@import", "url("}) {
      EXPECT_EQ(html.find(fetch), std::string::npos) << page << " has " << fetch;
    }
  }
  const std::string single = read_file(dir / "a/report.html");
  for (const char* must : {"Energy per layer", "Cycles per layer", "Utilization per layer", "Technology table",
                           "Horowitz", "Units over the whole step", "Zoom: weight_grad", ">core0.array</text>"}) {
    EXPECT_NE(single.find(must), std::string::npos) << must;
  }
  const std::string both = read_file(dir / "report.html");
  for (const char* must : {"speedup", "energy ratio", "A: int4-single-array", "B: fp16-baseline", "Cycles per layer",
                           "Energy per layer", "Units over the whole step: A: int4-single-array",
                           "Units over the whole step: B: fp16-baseline"}) {
    EXPECT_NE(both.find(must), std::string::npos) << must;
  }
}

TEST(Reports, SameInputsGiveTheSameBytes) {
  const TempDir one("det1"), two("det2");
  const std::string sim = "simulate --design hw/designs/int4-single-array.yaml --model fmnist-cnn --batch 2 --quiet --out ";
  ASSERT_EQ(nibble(sim + one / "s"), 0);
  ASSERT_EQ(nibble(sim + two / "s"), 0);
  for (const char* f : {"summary.json", "layers.csv", "report.html", "timeline.json"}) {
    EXPECT_EQ(read_file(one / "s/" + f), read_file(two / "s/" + f)) << f;
  }
  // compare: concurrent and one after the other give the same bytes.
  const std::string cmp =
      "compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --iso-area --quiet ";
  ASSERT_EQ(nibble(cmp + "--out " + one / "c"), 0);
  ASSERT_EQ(nibble(cmp + "--serial --out " + two / "c"), 0);
  for (const char* f : {"summary.json", "report.html", "a/summary.json", "a/layers.csv", "a/report.html",
                        "a/timeline.json", "b/summary.json", "b/layers.csv", "b/report.html", "b/timeline.json"}) {
    EXPECT_EQ(read_file(one / "c/" + f), read_file(two / "c/" + f)) << f;
  }
}

// ------------------------------------------------------------- timeline.json

/// The complete events of a timeline.json, and its thread names by (pid, tid).
struct TraceFile {
  nlohmann::json doc;
  std::vector<nlohmann::json> complete;
  std::map<std::pair<int, int>, std::string> threads;
  std::map<int, std::string> processes;
};

TraceFile trace_file(const std::string& path) {
  TraceFile t;
  t.doc = json_file(path);
  EXPECT_EQ(t.doc.at("displayTimeUnit"), "ns");
  for (const auto& e : t.doc.at("traceEvents")) {
    if (e.at("ph") == "X") t.complete.push_back(e);
    if (e.at("ph") == "M" && e.at("name") == "thread_name") t.threads[{e.at("pid"), e.at("tid")}] = e.at("args").at("name");
    if (e.at("ph") == "M" && e.at("name") == "process_name") t.processes[e.at("pid")] = e.at("args").at("name");
  }
  return t;
}

// The tiny trace on test-4x4 at 1000 MHz (EnergyOfATinyGemmByHand): the GEMM
// g on the array over cycles [0, 19), the softmax s on the vector unit over
// [19, 27); at 1 ns a cycle, ts 0 and 0.019 us, dur 0.019 and 0.008 us.
// With cores=2 each core takes 4 of the 8 rows of g, one fold with T = 4:
// 4 + 4 + 4 + 4 - 1 = 15 cycles, and 4 softmax elements on 4 lanes at 4
// cycles each: [15, 19) on both cores' vector units; 19 cycles in all.
TEST(Timeline, OpsOfATinyTraceByHand) {
  for (const std::uint64_t cores : {1, 2}) {
    EvalOptions options;
    options.tech = kRound;
    options.sim.timeline = arch::TimelineDetail::kOps;
    const Evaluation e =
        evaluate(shipped("test-4x4.yaml", {"cores=" + std::to_string(cores)}), tiny_trace(), options);
    const TempDir dir("timeline-ops-" + std::to_string(cores));
    write_outputs(e, dir.str());
    const TraceFile t = trace_file(dir / "timeline.json");
    const nlohmann::json summary = json_file(dir / "summary.json");
    const std::uint64_t total = summary.at("total_cycles");
    EXPECT_EQ(total, cores == 1 ? 27u : 19u);
    EXPECT_EQ(summary.at("timeline").at("detail"), "ops");
    EXPECT_EQ(summary.at("timeline").at("events"), 2 * cores);
    EXPECT_EQ(summary.at("timeline").at("bytes"), read_file(dir / "timeline.json").size());
    ASSERT_EQ(t.complete.size(), 2 * cores);
    std::map<std::string, std::uint64_t> busy;  // per core: the cycles of its tracks
    for (const auto& ev : t.complete) {
      const std::string track = t.threads.at({ev.at("pid"), ev.at("tid")});
      EXPECT_EQ(t.processes.at(ev.at("pid")), track.substr(0, track.find('.')));
      const std::uint64_t start = ev.at("args").at("start_cycle"), end = ev.at("args").at("end_cycle");
      // 1000 MHz: microseconds are cycles / 1000.
      EXPECT_DOUBLE_EQ(ev.at("ts").get<double>(), static_cast<double>(start) / 1000.0);
      EXPECT_DOUBLE_EQ(ev.at("dur").get<double>(), static_cast<double>(end - start) / 1000.0);
      busy[track.substr(0, track.find('.'))] += end - start;
      const bool gemm = ev.at("args").at("layer") == "g";
      EXPECT_EQ(track.substr(track.find('.')), gemm ? ".array" : ".vector");
      EXPECT_EQ(ev.at("name"), gemm ? "g gemm" : "s softmax");
      EXPECT_EQ(ev.at("args").at("phase"), "forward");
      EXPECT_EQ(ev.at("args").at("op"), gemm ? 0 : 1);
      EXPECT_EQ(start, gemm ? 0u : total - (cores == 1 ? 8u : 4u));
      EXPECT_EQ(end, gemm ? total - (cores == 1 ? 8u : 4u) : total);
    }
    ASSERT_EQ(busy.size(), cores);
    for (const auto& [core, cycles] : busy) EXPECT_EQ(cycles, total) << core;  // never idle in this trace
    // The Gantt chart is in the page, and the page still parses.
    const std::string html = read_file(dir / "report.html");
    EXPECT_EQ(report::testing::xml_errors(html), "");
    EXPECT_NE(html.find("aria-label=\"Units over the whole step\""), std::string::npos);
    EXPECT_NE(html.find("<summary>Zoom: forward (cycles 0 to " + std::to_string(total) + ")</summary>"),
              std::string::npos);
    EXPECT_NE(html.find("<title>core0.array: g forward, cycles 0 to "), std::string::npos);
  }
}

// docs/timing.md's DRAM example (test-4x4 with dram.ideal false: 4 B/cycle,
// latency 10, 4-byte bursts; m 10, n 4, k 8): B tile 0 done 12, A tile 0 done
// 17, B tile 1 done 19, A tile 1 done 24, all four ready at cycle 0 (double
// buffered: the first two units of each operand), so some transfer is under
// way over [0, 24); the channel moves their 40 bytes at 4 B/cycle over [0, 10)
// plus the latency of the last, [0, 14). The folds end at 45; the store is
// ready at 45 and done at 95 (40 bytes over [45, 55), the channel busy [45, 85)
// as docs/timing.md derives). core0.dma: [0, 24) and [45, 95); core0.array:
// the folds, [0, 45); dram.ch0: [0, 14) and [45, 85).
TEST(Timeline, DmaIntervalsOfTheTimingDocsExample) {
  workloads::Trace trace = tiny_trace();
  trace.ops = {gemm("g", 10, 4, 8)};
  EvalOptions options;
  options.sim.timeline = arch::TimelineDetail::kOps;
  const Evaluation e = evaluate(shipped("test-4x4.yaml", {"dram.ideal=false"}), trace, options);
  ASSERT_EQ(e.sim.total("cycles"), 95u);
  std::vector<std::string> got;
  for (const auto& ev : e.sim.timeline) {
    got.push_back(ev.track + " " + std::to_string(ev.start) + " " + std::to_string(ev.end));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"core0.array 0 45", "core0.dma 0 24", "dram.ch0 0 14", "core0.dma 45 95",
                                           "dram.ch0 45 85"}));
  const TempDir dir("timeline-dma");
  write_outputs(e, dir.str());
  const TraceFile t = trace_file(dir / "timeline.json");
  EXPECT_EQ(t.threads.at({1, 2}), "core0.dma");
  ASSERT_EQ(t.complete.size(), 5u);
  int stores = 0;
  for (const auto& ev : t.complete) {
    if (ev.at("args").at("what") != "store" || ev.at("ts").get<double>() != 0.045) continue;
    ++stores;  // the core's DMA [45, 95) and the channel's [45, 85), in microseconds at 1 GHz
    EXPECT_DOUBLE_EQ(ev.at("dur").get<double>(), ev.at("tid").get<int>() == 2 && ev.at("pid").get<int>() == 1 ? 0.05 : 0.04);
  }
  EXPECT_EQ(stores, 2);
}

// Two GEMMs of layer g (19 cycles each, one after the other) then the softmax
// s: at layers detail core0.array has one event [0, 38) of 2 ops, the
// vector unit one [38, 46); at ops detail the array has two.
TEST(Timeline, LayersDetailAndTheSizeLimit) {
  workloads::Trace trace = tiny_trace();
  trace.ops.insert(trace.ops.begin(), gemm("g", 8, 4, 4));
  EvalOptions options;
  options.sim.timeline = arch::TimelineDetail::kLayers;
  const Evaluation e = evaluate(shipped("test-4x4.yaml"), trace, options);
  ASSERT_EQ(e.sim.total("cycles"), 46u);
  EXPECT_EQ(e.timeline.detail, arch::TimelineDetail::kLayers);
  const TempDir dir("timeline-layers");
  write_outputs(e, dir.str());
  const TraceFile t = trace_file(dir / "timeline.json");
  ASSERT_EQ(t.complete.size(), 2u);
  EXPECT_EQ(t.complete[0].at("name"), "g forward");
  EXPECT_EQ(t.complete[0].at("args").at("ops"), 2);
  EXPECT_EQ(t.complete[0].at("args").at("start_cycle"), 0);
  EXPECT_EQ(t.complete[0].at("args").at("end_cycle"), 38);
  EXPECT_EQ(t.complete[0].at("args").at("busy_cycles"), 38);
  EXPECT_EQ(t.complete[1].at("args").at("start_cycle"), 38);
  EXPECT_EQ(t.complete[1].at("args").at("end_cycle"), 46);
  EXPECT_EQ(json_file(dir / "summary.json").at("timeline").at("detail"), "layers");
  // ops detail over the limit falls back to layers, and says so.
  const TimelineChoice ops = choose_timeline(e.sim, arch::TimelineDetail::kOps);
  EXPECT_EQ(ops.detail, arch::TimelineDetail::kOps);
  EXPECT_EQ(ops.events, 3u);
  const TimelineChoice small = choose_timeline(e.sim, arch::TimelineDetail::kOps, ops.json.size() - 1);
  EXPECT_EQ(small.detail, arch::TimelineDetail::kLayers);
  EXPECT_EQ(small.events, 2u);
  EXPECT_NE(small.reason.find("would exceed the limit"), std::string::npos) << small.reason;
}

TEST(Timeline, NoneWritesNoFileAndRemovesAnOldOne) {
  const TempDir dir("timeline-none");
  const std::string sim = "simulate --design hw/designs/int4-single-array.yaml --model fmnist-mlp --quiet --out " + dir / "s";
  ASSERT_EQ(nibble(sim), 0);
  ASSERT_TRUE(fs::exists(dir / "s/timeline.json"));
  EXPECT_EQ(json_file(dir / "s/summary.json").at("timeline").at("detail"), "ops");
  ASSERT_EQ(nibble(sim + " --timeline none"), 0);
  EXPECT_FALSE(fs::exists(dir / "s/timeline.json"));
  const nlohmann::json summary = json_file(dir / "s/summary.json");
  EXPECT_EQ(summary.at("timeline").at("detail"), "none");
  EXPECT_EQ(summary.at("timeline").at("bytes"), 0);
  EXPECT_NE(read_file(dir / "s/report.html").find("--timeline none"), std::string::npos);
  ASSERT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --quiet "
                   "--timeline layers --out " + dir / "c"),
            0);
  for (const char* side : {"a", "b"}) {
    const TraceFile t = trace_file(dir / "c/" + side + "/timeline.json");
    EXPECT_EQ(t.doc.at("otherData").at("detail"), "layers") << side;
    EXPECT_FALSE(t.complete.empty()) << side;
  }
}

// ------------------------------------------------------------- errors and exit codes

// docs/validation.md ("4-bit vs FP16") quotes the headline ratios of the
// shipped designs; a change to the model that moves them must update the page
// (tests/flow/four_bit_vs_fp16.sh prints the table). ~1 s for both models.
TEST(Validation, FourBitVsFp16HeadlineRowsOfTheDocsAreCurrent) {
  const std::string doc = read_file(kSource + "/docs/validation.md");
  CompareOptions options;
  options.iso_area = true;
  for (const std::string model : {"resnet18", "resnet50"}) {
    const Comparison c =
        compare(shipped("int4-train.yaml"), shipped("fp16-baseline.yaml"), Workload::load(source_of(model, "", "", 32)),
                options);
    const std::string row = "| **shipped designs, `--iso-area`** | " + model + " | " +
                            std::to_string(c.iso_area.rows_after) + "x" + std::to_string(c.iso_area.cols_after) +
                            " | **" + format_sig4(c.speedup) + "** | **" + format_sig4(c.energy_ratio) + "** |";
    EXPECT_NE(doc.find(row), std::string::npos)
        << "docs/validation.md should hold the row\n" << row << "\n(regenerate with tests/flow/four_bit_vs_fp16.sh)";
  }
}

// docs/validation.md ("4-bit formats side by side") quotes the block-FP4 chips' ResNet-18 steps
// as tests/flow/four_bit_formats.sh prints them; a model change that moves them must update the
// page. ~0.5 s.
TEST(Validation, BlockFormatRowsOfTheDocsAreCurrent) {
  const std::string doc = read_file(kSource + "/docs/validation.md");
  const Workload w = Workload::load(source_of("resnet18", "", "", 32));
  for (const std::string recipe : {"mxfp4", "nvfp4"}) {
    const design::Design d = shipped(recipe + "-train.yaml");
    PolicyChoice policy;
    policy.name = recipe;
    const Evaluation e = evaluate(d, w.trace_for(d, policy), EvalOptions{});
    char cells[128];
    std::snprintf(cells, sizeof cells, "| %.2f M | %.1f %% | %.3f | %.1f |",
                  static_cast<double>(e.sim.total("cycles")) / 1e6, e.sim.utilization(e.sim.totals) * 100.0,
                  e.energy.metrics.energy_per_step_j, e.energy.metrics.area_mm2);
    std::string upper = recipe;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string row = "| " + upper + " | resnet18 | " + recipe + "-train " + cells;
    EXPECT_NE(doc.find(row), std::string::npos)
        << "docs/validation.md should hold the row\n" << row << "\n(regenerate with tests/flow/four_bit_formats.sh)";
  }
}

TEST(Errors, MalformedTechTableNamesTheFileAndTheMissingAction) {
  const TempDir dir("tech");
  // round.yaml without its mac_fp8 entry.
  std::istringstream in(read_file(kRound));
  std::string line, text;
  while (std::getline(in, line)) {
    if (line.find("mac_fp8:") == std::string::npos) text += line + "\n";
  }
  const std::string broken = dir / "broken.yaml";
  std::ofstream(broken) << text;
  std::string err;
  EXPECT_EQ(nibble("simulate --design hw/designs/test-4x4.yaml --model fmnist-mlp --quiet --tech " + broken +
                       " --out " + dir / "out",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("nibble: " + broken + ":"), std::string::npos) << err;
  EXPECT_NE(err.find("mac_fp8"), std::string::npos) << err;
  // Nothing was simulated or written.
  EXPECT_FALSE(fs::exists(dir / "out/summary.json"));
  // compare reports it the same way.
  EXPECT_EQ(nibble("compare hw/designs/test-4x4.yaml hw/designs/test-4x4.yaml --model fmnist-mlp --quiet --tech " +
                       broken + " --out " + dir / "cmp",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("mac_fp8"), std::string::npos) << err;
}

TEST(Errors, ExitCodes) {
  const TempDir dir("codes");
  std::string err;
  // Success.
  EXPECT_EQ(nibble("simulate --design hw/designs/test-4x4.yaml --set array.unsupported=multi-pass --model fmnist-mlp "
                   "--quiet --tech " + kRound + " --out " + dir / "ok"),
            0);
  // Bad input: exit 2 with the reason.
  EXPECT_EQ(nibble("simulate --design hw/designs/test-4x4.yaml --model fmnist-mlp --tech 5nm --out " + dir / "x",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("nibble: --tech: no technology table named '5nm'"), std::string::npos) << err;
  EXPECT_EQ(nibble("simulate --design hw/designs/nope.yaml --model fmnist-mlp --out " + dir / "x", nullptr, &err), 2);
  EXPECT_EQ(nibble("simulate --design hw/designs/test-4x4.yaml --model resnet5 --out " + dir / "x", nullptr, &err), 2);
  EXPECT_NE(err.find("did you mean"), std::string::npos) << err;
  EXPECT_EQ(nibble("simulate --design hw/designs/test-4x4.yaml --model fmnist-mlp", nullptr, &err), 2);  // no --out
  EXPECT_EQ(nibble("compare hw/designs/int4-single-array.yaml --model fmnist-mlp --out " + dir / "x", nullptr, &err), 2);
  EXPECT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --policy fp16 "
                   "--policy-a fp16 --out " + dir / "x",
                   nullptr, &err),
            2);
  EXPECT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --set-b "
                   "array.rows=0 --out " + dir / "x",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("--set: array.rows"), std::string::npos) << err;
  // B (FP16 PEs, unsupported: error) cannot run FP32 GEMMs.
  EXPECT_EQ(nibble("compare hw/designs/int4-single-array.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --policy-b "
                   "fp32 --out " + dir / "x",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("array.pe_kind"), std::string::npos) << err;
  // Iso-area that leaves B no room for one PE: A is a 4x4 chip with 192 KiB of SRAM.
  EXPECT_EQ(nibble("compare hw/designs/test-4x4.yaml hw/designs/fp16-baseline.yaml --model fmnist-mlp --iso-area "
                   "--out " + dir / "x",
                   nullptr, &err),
            2);
  EXPECT_NE(err.find("--iso-area"), std::string::npos) << err;
  std::string help;
  EXPECT_EQ(nibble("compare --help", &help), 0);
  EXPECT_NE(help.find("--iso-area"), std::string::npos);
}

TEST(Errors, WorkloadSourcesAreExclusive) {
  // The library names the setting; the command line names the flag (sim/cli flag_error).
  const auto setting_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const SettingError& e) {
      return e.setting();
    }
    return std::string("no error");
  };
  EXPECT_EQ(setting_of([] { Workload::load(source_of("", "", "", std::nullopt)); }), "workload");
  EXPECT_EQ(setting_of([] { Workload::load(source_of("fmnist-mlp", "x.trace", "", std::nullopt)); }), "workload");
  const TempDir dir("trace");
  workloads::write_trace_file(dir / "t.trace", tiny_trace());
  EXPECT_EQ(setting_of([&] { Workload::load(source_of("", dir / "t.trace", "", 4)); }), "batch");  // a trace fixes it
  const Workload w = Workload::load(source_of("", dir / "t.trace", "", std::nullopt));
  EXPECT_TRUE(w.fixed_trace());
  PolicyChoice p;
  EXPECT_EQ(w.trace_for(shipped("test-4x4.yaml"), p).ops.size(), 2u);
  p.name = "fp16";
  EXPECT_EQ(setting_of([&] { w.trace_for(shipped("test-4x4.yaml"), p); }), "policy");  // and its policy
  // The design's natural policy when none is given.
  const Workload m = Workload::load(source_of("fmnist-mlp", "", "", 2));
  EXPECT_EQ(m.policy_for(shipped("fp16-baseline.yaml"), {}), "fp16");
  EXPECT_EQ(m.trace_for(shipped("int4-single-array.yaml"), {}).policy, "int4-fp4");
}

}  // namespace
}  // namespace nibble::flow
