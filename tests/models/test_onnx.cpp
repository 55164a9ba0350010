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

using test::error_of;

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
            "cnn.onnx: node 'odd' (Elu): unsupported op type 'Elu'; pass {setting:skip_unknown} to leave it out (treated "
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

namespace ob = nibble::testing::onnx_builder;

std::size_t count_layers(const Graph& g, LayerType type) {
  std::size_t n = 0;
  for (const auto& layer : g.layers()) n += layer.type == type ? 1 : 0;
  return n;
}

// One BERT layer as torch.onnx.export writes it (tests/support/onnx_builder.hpp), N = 2,
// S = 8, D = 32, 4 heads of 8, FFN 64. Per sample the standard count 4*S*D^2 + 2*S^2*D +
// 2*S*D*F = 4*8*1024 + 2*64*32 + 2*8*32*64 = 32,768 + 4,096 + 32,768 = 69,632; x 2 = 139,264.
// Q K^T and AV are one GEMM per (sample, head): groups 8 of 8 x 8 x 8.
TEST(Onnx, ExportedTransformerEncoderImportsWithExactMacs) {
  for (const auto ops : {ob::EncoderOps::kDecomposed, ob::EncoderOps::kFused}) {
    SCOPED_TRACE(ops == ob::EncoderOps::kDecomposed ? "opset 14, decomposed" : "opset 20, LayerNormalization + Gelu");
    const OnnxImport m = import_onnx_bytes(ob::exported_encoder_layer(ops), "bert_layer.onnx", "bert_layer", {});
    EXPECT_TRUE(m.skipped.empty());
    EXPECT_EQ(forward_macs(m.graph), 139264u);
    EXPECT_EQ(count_layers(m.graph, LayerType::kLinear), 6u);
    EXPECT_EQ(count_layers(m.graph, LayerType::kMatMul), 2u);
    EXPECT_EQ(count_layers(m.graph, LayerType::kLayerNorm), 2u);
    EXPECT_EQ(count_layers(m.graph, LayerType::kSoftmax), 1u);
    EXPECT_EQ(count_layers(m.graph, LayerType::kActivation), 1u);
    const std::size_t scores = m.graph.find("/attention/self/MatMul");
    ASSERT_LT(scores, m.graph.size());
    const GemmShape& s = m.graph.layer(scores).gemm;
    EXPECT_EQ(s.groups, 8u);
    EXPECT_EQ(s.m, 8u);
    EXPECT_EQ(s.n, 8u);
    EXPECT_EQ(s.k, 8u);
    // The chains are one layer each, named after the exporter's scope.
    const std::size_t ln = m.graph.find(ops == ob::EncoderOps::kDecomposed ? "/output/LayerNorm"
                                                                           : "/output/LayerNorm/LayerNormalization");
    ASSERT_LT(ln, m.graph.size());
    EXPECT_EQ(m.graph.layer(ln).type, LayerType::kLayerNorm);
    EXPECT_EQ(m.graph.layer(ln).params, 64u);
    const std::size_t gelu = m.graph.find(ops == ob::EncoderOps::kDecomposed ? "/intermediate/intermediate_act_fn"
                                                                             : "/intermediate/intermediate_act_fn/Gelu");
    ASSERT_LT(gelu, m.graph.size());
    EXPECT_EQ(m.graph.layer(gelu).activation, ActivationKind::kGelu);
    EXPECT_EQ(m.graph.layer(gelu).shape, (Shape{2, 8, 64}));
    // --batch 5 follows through the reshapes: 5 x 69,632.
    OnnxOptions b5;
    b5.batch = 5;
    EXPECT_EQ(forward_macs(import_onnx_bytes(ob::exported_encoder_layer(ops), "bert_layer.onnx", "bert_layer", b5).graph),
              348160u);
  }
}

/// The decomposed encoder with one node edited.
std::string edited_encoder(const std::function<void(onnx::ModelProto&)>& edit) {
  onnx::ModelProto model;
  model.ParseFromString(ob::exported_encoder_layer(ob::EncoderOps::kDecomposed));
  edit(model);
  return model.SerializeAsString();
}

onnx::NodeProto& node_named(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.name() == name) return n;
  }
  throw std::logic_error("no node " + name);
}

TEST(Onnx, ChainsThatAreNotGeluOrLayerNormStayUnknown) {
  // 1 + erf(x / sqrt 2) with 2 instead of 1: not GELU, so Erf is an unknown op as before.
  const std::string not_gelu = edited_encoder([](onnx::ModelProto& m) {
    node_named(m, "/intermediate/intermediate_act_fn/Add").set_input(1, "/intermediate/intermediate_act_fn/Constant_output_0");
  });
  EXPECT_EQ(error_of([&] { import_onnx_bytes(not_gelu, "x.onnx", "x", {}); }),
            "x.onnx: node '/intermediate/intermediate_act_fn/Erf' (Erf): unsupported op type 'Erf'; pass {setting:skip_unknown} "
            "to leave it out (treated as free), or see docs/trace-format.md for the supported ops");
  // The mean subtracted read by a third node: the chain's tensors must be its own.
  const std::string shared = edited_encoder([](onnx::ModelProto& m) {
    node_named(m, "/output/dense/MatMul").set_input(0, "/attention/output/LayerNorm/Sub_output_0");
  });
  EXPECT_EQ(error_of([&] { import_onnx_bytes(shared, "x.onnx", "x", {}); }).rfind(
                "x.onnx: node '/attention/output/LayerNorm/ReduceMean' (ReduceMean): unsupported op type 'ReduceMean'", 0),
            0u);
  // A layer norm over the sequence axis.
  const std::string wrong_axis = edited_encoder([](onnx::ModelProto& m) {
    for (const char* name : {"/output/LayerNorm/ReduceMean", "/output/LayerNorm/ReduceMean_1"}) {
      node_named(m, name).mutable_attribute(0)->set_ints(0, 1);
    }
  });
  EXPECT_EQ(error_of([&] { import_onnx_bytes(wrong_axis, "x.onnx", "x", {}); }),
            "x.onnx: node '/output/LayerNorm/Add_1' (Add): layer norm (ReduceMean/Sub/Pow/Sqrt/Div) over axis 1: only "
            "the last axis is supported");
}

// The chain matcher reads nodes before they run: every node of the encoder with its outputs
// dropped, its first input blanked or its op type changed imports or is an InputError (no
// crash, no other exception), with and without --skip-unknown.
TEST(Onnx, DamagedChainsAreHandled) {
  onnx::ModelProto base;
  ASSERT_TRUE(base.ParseFromString(ob::exported_encoder_layer(ob::EncoderOps::kDecomposed)));
  int imported = 0, refused = 0;
  for (int i = 0; i < base.graph().node_size(); ++i) {
    for (int damage = 0; damage < 3; ++damage) {
      onnx::ModelProto m = base;
      onnx::NodeProto* n = m.mutable_graph()->mutable_node(i);
      if (damage == 0) n->clear_output();
      if (damage == 1 && n->input_size() > 0) n->set_input(0, "");
      if (damage == 2) n->set_op_type(n->op_type() == "Mul" ? "Add" : "Mul");
      const std::string bytes = m.SerializeAsString();
      for (const bool skip : {false, true}) {
        OnnxOptions o;
        o.skip_unknown = skip;
        try {
          import_onnx_bytes(bytes, "d.onnx", "d", o);
          ++imported;
        } catch (const InputError&) {
          ++refused;
        }
      }
    }
  }
  EXPECT_GT(imported, 0);
  EXPECT_GT(refused, 0);
}

// Hugging Face's BERT embeddings: position_ids is a buffer 0..15 sliced to the sequence
// (Slice of an integer constant), its rows of the position table a constant that the Add
// applies as a trained 1 x 8 x 32 tensor; token 0 of the output sliced out (Slice of an
// activation: a copy of 2 x 1 x 32).
TEST(Onnx, SliceOfConstantsAndActivations) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(14);
  auto* g = model.mutable_graph();
  auto ids = ob::tensor("input_ids", {2, 8});
  ids.mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_INT64);
  *g->add_input() = ids;
  ob::weight(g, "word", {100, 32});
  ob::weight(g, "position", {16, 32});
  auto* pos = g->add_initializer();
  pos->set_name("position_ids");
  pos->set_data_type(onnx::TensorProto_DataType_INT64);
  pos->add_dims(1);
  pos->add_dims(16);
  for (int i = 0; i < 16; ++i) pos->add_int64_data(i);
  ob::int_constant(g, "zero", {0});
  ob::int_constant(g, "one", {1});
  ob::int_constant(g, "eight", {8});
  ob::node(g, "words", "Gather", {"word", "input_ids"}, {"w"});
  ob::node(g, "slice_ids", "Slice", {"position_ids", "zero", "eight", "one"}, {"ids8"});
  ob::node(g, "positions", "Gather", {"position", "ids8"}, {"p"});
  ob::node(g, "add", "Add", {"w", "p"}, {"e"});
  // e.view(e.size(0), 8, 32) with the 8, 32 sliced out of a constant (99, 8, 32): folded values.
  ob::node(g, "shape", "Shape", {"e"}, {"s"});
  ob::node(g, "batch", "Gather", {"s", "zero"}, {"n"});
  ob::int_constant(g, "dims", {99, 8, 32});
  ob::int_constant(g, "three", {3});
  ob::node(g, "tail", "Slice", {"dims", "one", "three"}, {"sd"});
  ob::attr_int(ob::node(g, "target", "Concat", {"n", "sd"}, {"t"}), "axis", 0);
  ob::node(g, "view", "Reshape", {"e", "t"}, {"ev"});
  ob::node(g, "cls", "Slice", {"ev", "zero", "one", "one"}, {"first"});
  *g->add_output() = ob::tensor("first", {2, 1, 32});
  const OnnxImport m = import_onnx_bytes(model.SerializeAsString(), "emb.onnx", "emb", {});
  const Layer& add = m.graph.layer(m.graph.find("add"));
  EXPECT_EQ(add.params, 256u);  // the 8 position rows used, trained through the Add
  EXPECT_EQ(add.shape, (Shape{2, 8, 32}));
  const Layer& cls = m.graph.layer(m.graph.find("cls"));
  EXPECT_EQ(cls.type, LayerType::kSlice);
  EXPECT_EQ(cls.shape, (Shape{2, 1, 32}));
  EXPECT_EQ(m.graph.layer(m.graph.find("view")).shape, (Shape{2, 8, 32}));
  onnx::ModelProto bad = model;
  node_named(bad, "cls").set_input(2, "zero");  // ends 0: an empty slice
  EXPECT_EQ(error_of([&] { import_onnx_bytes(bad.SerializeAsString(), "emb.onnx", "emb", {}); }),
            "emb.onnx: node 'cls' (Slice): the slice of axis 1 is empty");
}

// numpy.matmul broadcasting: q N x H x S x Dh times k N x 1 x Dh x S (one key for every head,
// as multi-query attention) runs a GEMM per (sample, head): groups 2*4 = 8 of S x S x Dh
// = 8 x 8 x 16 -> 8*8*8*16 = 8,192 MACs. A 1-D operand is a vector (numpy's rule).
TEST(Onnx, MatMulBroadcastsBatchDimensions) {
  onnx::ModelProto simple;
  simple.set_ir_version(8);
  simple.add_opset_import()->set_version(17);
  auto* h = simple.mutable_graph();
  *h->add_input() = ob::tensor("q", {2, 4, 8, 16});
  *h->add_input() = ob::tensor("k", {2, 16, 8});
  ob::int_constant(h, "one", {1});
  ob::node(h, "unsqueeze", "Unsqueeze", {"k", "one"}, {"k1"});
  ob::node(h, "scores", "MatMul", {"q", "k1"}, {"s"});
  *h->add_output() = ob::tensor("s", {2, 4, 8, 8});
  const OnnxImport m = import_onnx_bytes(simple.SerializeAsString(), "mqa.onnx", "mqa", {});
  const Layer& scores = m.graph.layer(m.graph.find("scores"));
  EXPECT_EQ(scores.shape, (Shape{2, 4, 8, 8}));
  EXPECT_EQ(scores.gemm.groups, 8u);
  EXPECT_EQ(forward_macs(m.graph), 8192u);

  Graph v("vectors", 2);
  const std::size_t a = v.add_input("a", Shape{2, 3, 5});
  const std::size_t b = v.add_input("b", Shape{5});
  const std::size_t av = v.add_matmul("av", a, b);  // 2 x 3 x 5 . 5 -> 2 x 3, one GEMM of 6 x 1 x 5
  EXPECT_EQ(v.layer(av).shape, (Shape{2, 3}));
  EXPECT_EQ(forward_macs(v.layer(av)), 30u);
  const std::size_t c = v.add_input("c", Shape{4, 1, 3, 5});
  const std::size_t d = v.add_input("d", Shape{6, 5, 2});
  const std::size_t cd = v.add_matmul("cd", c, d);  // batch 4 x 1 and 6 -> 4 x 6: 24 GEMMs of 3 x 2 x 5
  EXPECT_EQ(v.layer(cd).shape, (Shape{4, 6, 3, 2}));
  EXPECT_EQ(v.layer(cd).gemm.groups, 24u);
  EXPECT_EQ(forward_macs(v.layer(cd)), 24u * 3 * 2 * 5);
  const std::size_t e = v.add_input("e", Shape{3, 3, 5});
  EXPECT_EQ(error_of([&] { v.add_matmul("bad", e, d); }),
            "bad: batch dimensions cannot be broadcast: 3x3x5 x 6x5x2");
}

}  // namespace
}  // namespace nibble::models
