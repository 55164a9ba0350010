// ONNX import on files nobody here wrote (Debian's libonnx-testdata: PyTorch
// exports and ONNX backend tests), MAC counts checked by hand, and the errors
// malformed or unsupported files must give.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <sstream>

#include "models/onnx/onnx_import.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "tests/support/onnx_builder.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::models {
namespace {

const std::string kData = "/usr/share/libonnx-testdata/data/";

constexpr auto error_of = test::input_error_of;

OnnxImport load(const std::string& relative, OnnxOptions options = {}) {
  return import_onnx(kData + relative + "/model.onnx", options);
}

const Layer& only_gemm_layer(const Graph& g) {
  const Layer* found = nullptr;
  for (const auto& layer : g.layers()) {
    if (is_gemm_layer(layer.type)) {
      if (found) throw std::logic_error("more than one GEMM layer");
      found = &layer;
    }
  }
  if (!found) throw std::logic_error("no GEMM layer");
  return *found;
}

TEST(Onnx, PyTorchConvolutionsHaveHandCountedMacs) {
  // Conv2d_strided: x 2x3x6x6, W 4x3x3x3, stride 2, no pad: E = F = (6-3)/2+1 = 2;
  // MACs = N*E*F*K*C*R*S = 2*2*2*4*3*9 = 864.
  {
    const OnnxImport m = load("pytorch-converted/test_Conv2d_strided");
    EXPECT_EQ(m.graph.name(), "test_Conv2d_strided");
    EXPECT_EQ(m.graph.batch(), 2u);
    EXPECT_EQ(forward_macs(m.graph), 864u);
    const Layer& conv = only_gemm_layer(m.graph);
    EXPECT_EQ(conv.shape, (Shape{2, 4, 2, 2}));
    EXPECT_TRUE(conv.bias);
  }
  // Conv2d_depthwise: x 2x4x6x6, W 4x1x3x3, group 4: E = F = 4; per group m = 2*4*4 = 32,
  // n = 1, k = 9; MACs = 4*32*1*9 = 1152.
  {
    const OnnxImport m = load("pytorch-converted/test_Conv2d_depthwise");
    const Layer& conv = only_gemm_layer(m.graph);
    EXPECT_EQ(conv.gemm.groups, 4u);
    EXPECT_EQ(conv.gemm.m, 32u);
    EXPECT_EQ(conv.gemm.n, 1u);
    EXPECT_EQ(conv.gemm.k, 9u);
    EXPECT_EQ(forward_macs(m.graph), 1152u);
  }
  // Conv2d_dilated: x 2x3x8x8, W 2x3x3x3, dilation 2, pad 1, stride 2: span 5, padded 10,
  // E = F = (10-5)/2+1 = 3; MACs = 2*3*3*2*3*9 = 972.
  EXPECT_EQ(forward_macs(load("pytorch-converted/test_Conv2d_dilated").graph), 972u);
  // Conv2d_groups: x 2x4x6x5, W 6x2x3x2, group 2: E = 4, F = 4; MACs = 2*4*4*6*2*3*2 = 2304.
  EXPECT_EQ(forward_macs(load("pytorch-converted/test_Conv2d_groups").graph), 2304u);
  // Conv1d_stride: x 2x4x10, W 5x4x3, stride 2: L = (10-3)/2+1 = 4; MACs = 2*4*5*4*3 = 480.
  EXPECT_EQ(forward_macs(load("pytorch-converted/test_Conv1d_stride").graph), 480u);
  // operator_conv (no bias): x 20x16x50x40, W 13x16x3x3: E = 48, F = 38;
  // MACs = 20*48*38*13*16*9 = 68,290,560.
  EXPECT_EQ(forward_macs(load("pytorch-operator/test_operator_conv").graph), 68290560u);
}

TEST(Onnx, LinearGemmAndMatMul) {
  // Linear: x 4x10, W 8x10 (transB), bias 8: MACs = 4*10*8 = 320.
  const OnnxImport linear = load("pytorch-converted/test_Linear");
  const Layer& fc = only_gemm_layer(linear.graph);
  EXPECT_EQ(fc.type, LayerType::kLinear);
  EXPECT_EQ(fc.gemm.m, 4u);
  EXPECT_EQ(fc.gemm.n, 8u);
  EXPECT_EQ(fc.gemm.k, 10u);
  EXPECT_EQ(fc.params, 88u);  // 8*10 weights + 8 biases
  // gemm_transposeA: a 6x3 used transposed (3x6), b 6x4 (a weight given as an input): 3*4*6 = 72.
  EXPECT_EQ(forward_macs(load("node/test_gemm_transposeA").graph), 72u);
  // matmul_3d: a 2x3x4 x b 2x4x3, both activations: 2 groups of 3x3x4 = 72.
  const OnnxImport mm = load("node/test_matmul_3d");
  const Layer& m = only_gemm_layer(mm.graph);
  EXPECT_EQ(m.type, LayerType::kMatMul);
  EXPECT_EQ(m.gemm.groups, 2u);
  EXPECT_EQ(forward_macs(mm.graph), 72u);
}

TEST(Onnx, PoolingNormAndBatchOverride) {
  // MaxPool2d: 1x3x7x7, 3x3 stride 2 pad 1 -> 4x4 (the file's own output shape).
  const OnnxImport pool = load("pytorch-converted/test_MaxPool2d");
  EXPECT_EQ(pool.graph.layer(pool.graph.size() - 2).shape, (Shape{1, 3, 4, 4}));
  const OnnxImport bn = load("pytorch-converted/test_BatchNorm2d_eval");
  EXPECT_EQ(bn.graph.layer(1).type, LayerType::kBatchNorm);
  EXPECT_EQ(bn.graph.layer(1).params, 6u);  // scale and shift of 3 channels
  OnnxOptions options;
  options.batch = 16;
  const OnnxImport big = load("pytorch-converted/test_Conv2d_strided", options);
  EXPECT_EQ(big.graph.batch(), 16u);
  EXPECT_EQ(forward_macs(big.graph), 864u / 2 * 16);
}

// ---- files built here, for what the test data does not cover ---------------------

using namespace nibble::testing::onnx_builder;

TEST(Onnx, ShapeArithmeticFeedingAReshapeIsFolded) {
  OnnxOptions options;
  options.batch = 7;
  const OnnxImport m = import_onnx_bytes(exported_cnn(), "cnn.onnx", "cnn", options);
  // conv: 7*4*4*6*2*9 = 12,096; fc: 7*96*5 = 3,360.
  EXPECT_EQ(forward_macs(m.graph), 12096u + 3360u);
  EXPECT_EQ(m.graph.layer(m.graph.find("reshape")).shape, (Shape{7, 96}));
  EXPECT_EQ(m.graph.layer(m.graph.size() - 1).type, LayerType::kLoss);
}

TEST(Onnx, UnknownOpsAreErrorsUnlessSkipped) {
  EXPECT_EQ(error_of([] { import_onnx_bytes(exported_cnn("Elu"), "cnn.onnx", "cnn", {}); }),
            "cnn.onnx: node 'odd' (Elu): unsupported op type 'Elu'; pass --skip-unknown to leave it out (treated "
            "as free), or see docs/trace-format.md for the supported ops");
  OnnxOptions skip;
  skip.skip_unknown = true;
  const OnnxImport m = import_onnx_bytes(exported_cnn("Elu"), "cnn.onnx", "cnn", skip);
  ASSERT_EQ(m.skipped.size(), 1u);
  EXPECT_EQ(m.skipped[0].node, "odd");
  EXPECT_EQ(m.skipped[0].op_type, "Elu");
  EXPECT_EQ(forward_macs(m.graph), 3u * (4 * 4 * 6 * 2 * 9 + 96 * 5));
}

TEST(Onnx, MalformedFilesAreInputErrors) {
  const std::string good = read_file(kData + "pytorch-converted/test_Conv2d_strided/model.onnx");
  // Truncated in the middle of the graph: protobuf refuses it (or it loses its graph).
  const std::string truncated = good.substr(0, good.size() / 2);
  EXPECT_EQ(error_of([&] { import_onnx_bytes(truncated, "t.onnx", "t", {}); }).rfind("t.onnx: not a valid ONNX model", 0), 0u);
  EXPECT_EQ(error_of([] { import_onnx_bytes(std::string("\xff\xff\xff\xff garbage", 12), "g.onnx", "g", {}); })
                .rfind("g.onnx: not a valid ONNX model", 0),
            0u);
  EXPECT_EQ(error_of([] { import_onnx_bytes("", "e.onnx", "e", {}); }),
            "e.onnx: not a valid ONNX model: no graph with nodes (truncated or not an .onnx file)");
  EXPECT_EQ(error_of([] { import_onnx("/nonexistent.onnx", {}); }).rfind("/nonexistent.onnx: cannot open", 0), 0u);

  // A data input without a shape.
  onnx::ModelProto model;
  model.ParseFromString(exported_cnn());
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "s.onnx", "s", {}); }),
            "s.onnx: input 'x': missing shape: nibble needs the shape of every graph input");
  // A symbolic non-batch dimension.
  model.ParseFromString(exported_cnn());
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param("h");
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "h.onnx", "h", {}); }),
            "h.onnx: input 'x': dimension 2 is symbolic ('h'); nibble needs concrete sizes (only the batch may be "
            "symbolic)");
  // A weight that does not match the input channels.
  model.ParseFromString(exported_cnn());
  model.mutable_graph()->mutable_initializer(0)->set_dims(1, 3);
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "w.onnx", "w", {}); }),
            "w.onnx: node 'conv' (Conv): weight 6x3x3x3 with group=1 does not match 2 input channels");
  // An input no node produces.
  model.ParseFromString(exported_cnn());
  model.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "n.onnx", "n", {}); }),
            "n.onnx: node 'relu' (Relu): input 'nowhere' is not produced by any node, initializer or graph input");
}

// Found while fuzzing the importer (input kept in tests/fuzz/regressions/fuzz_onnx/):
// a node may list no outputs (nothing reads it then). The Softmax handler read
// output(0) of the empty list: a null dereference (ASan: SEGV).
TEST(Onnx, ANodeWithoutOutputsIsNotAnError) {
  onnx::ModelProto model;
  model.ParseFromString(exported_cnn());
  node(model.mutable_graph(), "lonely", "Softmax", {"r"}, {});
  const OnnxImport m = import_onnx_bytes(model.SerializeAsString(), "o.onnx", "o", {});
  // The MACs are those of exported_cnn() (batch 3): conv 3*4*4*6*2*9 = 5184, fc 3*96*5 = 1440.
  EXPECT_EQ(forward_macs(m.graph), 5184u + 1440u);
}

// Found while fuzzing the importer (tests/fuzz/regressions/fuzz_onnx/): integer
// constants folded through Concat grew without bound (each Concat listing the
// previous one 30 times: 2 -> 60 -> 1,800 -> ... values), so a 1 KB file asked
// for terabytes. Past 4096 values the contents are dropped, as for long
// initializers; the shape is kept.
TEST(Onnx, ConcatenatedConstantsStayBounded) {
  onnx::ModelProto model;
  model.ParseFromString(exported_cnn());
  std::string previous = "target";  // [N, -1]: the Reshape target of exported_cnn()
  for (int k = 0; k < 3; ++k) {      // 2 x 30 = 60, 1,800, then 54,000 values: dropped
    const std::string name = "cc" + std::to_string(k);
    node(model.mutable_graph(), name, "Concat", std::vector<std::string>(30, previous), {name});
    previous = name;
  }
  const OnnxImport m = import_onnx_bytes(model.SerializeAsString(), "c.onnx", "c", {});
  EXPECT_EQ(forward_macs(m.graph), 5184u + 1440u);
  // A fourth level would concatenate values that are no longer kept.
  node(model.mutable_graph(), "cc3", "Concat", std::vector<std::string>(30, previous), {"cc3"});
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "c.onnx", "c", {}); }),
            "c.onnx: node 'cc3' (Concat): concatenation of constants whose values nibble does not keep (floats, or "
            "integer lists of more than 4096 values) is not supported");
  // A Reshape whose target lost its contents says so instead of guessing.
  model.ParseFromString(exported_cnn());
  node(model.mutable_graph(), "big", "Concat", std::vector<std::string>(3000, "target"), {"big_target"});
  for (auto& n : *model.mutable_graph()->mutable_node()) {
    if (n.name() == "reshape") n.set_input(1, "big_target");
  }
  EXPECT_EQ(error_of([&] { import_onnx_bytes(model.SerializeAsString(), "r.onnx", "r", {}); }),
            "r.onnx: node 'reshape' (Reshape): input 1 must be a constant list of integers (nibble folds shape "
            "arithmetic, it does not run it)");
}

// Every truncation of a real file is either a clean import or an InputError: never a crash.
TEST(Onnx, EveryTruncationIsHandled) {
  const std::string good = read_file(kData + "pytorch-converted/test_Conv2d_depthwise/model.onnx");
  for (std::size_t n = 0; n < good.size(); n += 7) {
    try {
      import_onnx_bytes(good.substr(0, n), "t.onnx", "t", {});
    } catch (const InputError&) {
    }
  }
}

}  // namespace
}  // namespace nibble::models
