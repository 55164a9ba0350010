// Accelergy export: the ERT/ART YAML parses, and its numbers are the model's.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "sim/energy/accelergy.hpp"
#include "tests/support/design_builder.hpp"

namespace nibble::energy {
namespace {

design::Design arch() {
  // Not an identifier: exported as int4_train_v1.
  design::Design d = test::test_design("int4 train/v1", design::PeKind::kInt4Fp4, 8, 4);
  d.array.acc_int4 = numerics::Format::kFp16;
  d.array.acc_fp4 = numerics::Format::kFp16;
  d.cores = 2;
  d.input = test::scratchpad(64 * 1024, 64, 2);
  d.weight = test::scratchpad(32 * 1024, 128, 1);
  d.output = test::scratchpad(128 * 1024, 256, 4);
  d.vector.lanes = 16;
  d.clock_mhz = 800.0;
  return d;
}

const YAML::Node* find_table(const YAML::Node& tables, const std::string& name, std::vector<YAML::Node>& keep) {
  for (const auto& t : tables) {
    if (t["name"].as<std::string>() == name) {
      keep.push_back(t);
      return &keep.back();
    }
  }
  return nullptr;
}

double action(const YAML::Node& table, const std::string& name) {
  for (const auto& a : table["actions"]) {
    if (a["name"].as<std::string>() == name) {
      EXPECT_TRUE(a["arguments"].IsNull());
      return a["energy"].as<double>();
    }
  }
  ADD_FAILURE() << "no action " << name;
  return NAN;
}

TEST(Accelergy, ErtHoldsTheModelsActionEnergies) {
  const EnergyModel model(builtin_tech_table("45nm"), arch());
  const YAML::Node doc = YAML::Load(accelergy_ert_yaml(model));
  ASSERT_TRUE(doc["ERT"]);
  EXPECT_EQ(doc["ERT"]["version"].as<std::string>(), "0.3");
  const YAML::Node tables = doc["ERT"]["tables"];
  std::vector<YAML::Node> keep;
  keep.reserve(8);
  const YAML::Node* pe = find_table(tables, "system.int4_train_v1.core[0..1].PE[0..31]", keep);
  ASSERT_NE(pe, nullptr);
  EXPECT_DOUBLE_EQ(action(*pe, "mac_int4_fp4"), model.tech().pj(Action::kMacInt4Fp4));
  EXPECT_DOUBLE_EQ(action(*pe, "acc_add_fp16"), 0.4);
  // leak per cycle = PE area x W/mm^2 / clock: um^2 x 1e-6 x 0.0124 / 800e6 x 1e12 pJ.
  EXPECT_NEAR(action(*pe, "leak"), model.area().pe_um2 * 1e-6 * 0.0124 / 800e6 * 1e12, 1e-15);
  const YAML::Node* out = find_table(tables, "system.int4_train_v1.core[0..1].spad_output", keep);
  ASSERT_NE(out, nullptr);
  // One 256-bit access to a 32 KiB bank: E64(32 KiB) = 20 pJ x 256/64 = 80 pJ.
  EXPECT_NEAR(action(*out, "read"), 80.0, 1e-9);
  const YAML::Node* dram = find_table(tables, "system.int4_train_v1.DRAM", keep);
  ASSERT_NE(dram, nullptr);
  EXPECT_DOUBLE_EQ(action(*dram, "read"), 8 * 243.75);  // one 64-bit access
  const YAML::Node* lanes = find_table(tables, "system.int4_train_v1.core[0..1].vector_unit.lane[0..15]", keep);
  ASSERT_NE(lanes, nullptr);
  EXPECT_DOUBLE_EQ(action(*lanes, "op_softmax"), model.tech().pj(Action::kVectorOp));
  // A MAC PE has no adder tree.
  for (const auto& a : (*pe)["actions"]) EXPECT_NE(a["name"].as<std::string>(), "dot_tree_add");
}

// An INT4/FP4 dot-product PE (N = 4) lists one pass through its tree: two 18-bit
// and one 19-bit adder, 55 bits x 0.1/32 pJ = 0.171875 pJ at 45 nm.
TEST(Accelergy, DotProductPeListsItsTreePass) {
  design::Design d = arch();
  d.array.dot_product = 4;
  const EnergyModel model(builtin_tech_table("45nm"), d);
  const YAML::Node doc = YAML::Load(accelergy_ert_yaml(model));
  std::vector<YAML::Node> keep;
  const YAML::Node* pe = find_table(doc["ERT"]["tables"], "system.int4_train_v1.core[0..1].PE[0..31]", keep);
  ASSERT_NE(pe, nullptr);
  EXPECT_DOUBLE_EQ(action(*pe, "dot_tree_add"), 55 * 0.1 / 32);
  EXPECT_DOUBLE_EQ(action(*pe, "acc_add_fp16"), 0.4);
}

TEST(Accelergy, ArtHoldsAreasPerInstance) {
  const EnergyModel model(builtin_tech_table("7nm"), arch());
  const YAML::Node doc = YAML::Load(accelergy_art_yaml(model));
  EXPECT_EQ(doc["ART"]["version"].as<std::string>(), "0.3");
  double chip_um2 = 0.0;
  for (const auto& t : doc["ART"]["tables"]) {
    const std::string name = t["name"].as<std::string>();
    double instances = 2;  // cores
    if (name.find("PE[0..31]") != std::string::npos) instances *= 32;
    if (name.find("lane[0..15]") != std::string::npos) instances *= 16;
    if (name.find("DRAM") != std::string::npos) instances = 1;
    chip_um2 += instances * t["area"].as<double>();
  }
  EXPECT_NEAR(chip_um2 * 1e-6, model.area().total_mm2(), 1e-9);
}

}  // namespace
}  // namespace nibble::energy
