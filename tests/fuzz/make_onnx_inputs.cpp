// Writes the ONNX files of tests/fuzz that no test-data package has: fuzz seeds
// (tests/fuzz/corpus/fuzz_onnx/) — a PyTorch-style CNN with folded shape
// arithmetic (exported_cnn() of tests/support/onnx_builder.hpp), a model using
// every other supported op once, and a BERT encoder layer in its opset-14 and
// opset-20 spellings (exported_encoder_layer()) — and the damaged copies of the CNN that the
// "Bad input" table of docs/validation.md quotes (tests/fuzz/bad_input/onnx/).
// Not built by default; run by hand from the repository root:
//   cmake --build B --target make_onnx_inputs && B/tests/make_onnx_inputs tests/fuzz
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/onnx_builder.hpp"

namespace {

using nibble::testing::onnx_builder::int_constant;
using nibble::testing::onnx_builder::node;
using nibble::testing::onnx_builder::tensor;
using nibble::testing::onnx_builder::weight;


/// Attributes of one type each.
void ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
  nibble::testing::onnx_builder::attr_ints(n, name, v);
}
void one_int(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  nibble::testing::onnx_builder::attr_int(n, name, v);
}
void one_float(onnx::NodeProto* n, const std::string& name, float v) {
  nibble::testing::onnx_builder::attr_float(n, name, v);
}

/// exported_cnn() with a damage hook and no extra op.
std::string exported_cnn(const std::function<void(onnx::ModelProto&)>& damage = {}) {
  return nibble::testing::onnx_builder::exported_cnn("", damage);
}

/// The node of exported_cnn() called `name`.
onnx::NodeProto& node_named(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.name() == name) return n;
  }
  throw std::logic_error("no node " + name);
}

// Every other supported op once: a residual block, pooling with asymmetric pads
// and ceil_mode, an attention-like batched MatMul, integer shape arithmetic.
std::string mixed() {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* g = model.mutable_graph();
  auto in = tensor("x", {2, 4, 8, 8});
  in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
  *g->add_input() = in;
  weight(g, "w1", {4, 4, 3, 3});
  weight(g, "w2", {4, 1, 3, 3});
  weight(g, "bias", {1, 4, 1, 1});
  auto* c1 = node(g, "conv1", "Conv", {"x", "w1"}, {"c1"});
  ints(c1, "pads", {1, 1, 1, 1});
  node(g, "bn1", "BatchNormalization", {"c1", "bn_s", "bn_b", "bn_m", "bn_v"}, {"b1"});
  for (auto n : {"bn_s", "bn_b", "bn_m", "bn_v"}) weight(g, n, {4});
  auto* clip = node(g, "relu6", "Clip", {"b1"}, {"r1"});
  one_float(clip, "min", 0.0f);
  one_float(clip, "max", 6.0f);
  auto* dw = node(g, "dw", "Conv", {"r1", "w2", "bias_unused"}, {"c2"});
  weight(g, "bias_unused", {4});
  ints(dw, "pads", {1, 1, 1, 1});
  one_int(dw, "group", 4);
  node(g, "add", "Add", {"c2", "x"}, {"res"});
  node(g, "addb", "Add", {"res", "bias"}, {"res_b"});
  auto* pool = node(g, "pool", "AveragePool", {"res_b"}, {"p"});
  ints(pool, "kernel_shape", {3, 3});
  ints(pool, "strides", {2, 2});
  ints(pool, "pads", {0, 0, 1, 1});
  one_int(pool, "ceil_mode", 1);
  node(g, "sig", "Sigmoid", {"p"}, {"sg"});
  node(g, "mul", "Mul", {"p", "sg"}, {"swish"});
  node(g, "drop", "Dropout", {"swish"}, {"d"});
  auto* mp = node(g, "maxpool", "MaxPool", {"d"}, {"mp"});
  ints(mp, "kernel_shape", {2, 2});
  ints(mp, "strides", {2, 2});
  node(g, "shape", "Shape", {"mp"}, {"s"});
  int_constant(g, "idx", {0, 1});
  node(g, "gather", "Gather", {"s", "idx"}, {"nc"});
  int_constant(g, "four", {4});
  node(g, "concat", "Concat", {"nc", "four"}, {"target"});
  node(g, "reshape", "Reshape", {"mp", "target"}, {"seq"});          // N x 4 x 4
  auto* tr = node(g, "transpose", "Transpose", {"seq"}, {"seq_t"});   // N x 4 x 4 (swap last two)
  ints(tr, "perm", {0, 2, 1});
  node(g, "attn", "MatMul", {"seq", "seq_t"}, {"scores"});
  node(g, "div", "Div", {"scores", "scale"}, {"scaled"});
  weight(g, "scale", {});
  auto* sm = node(g, "softmax", "Softmax", {"scaled"}, {"probs"});
  one_int(sm, "axis", -1);
  node(g, "ctx", "MatMul", {"probs", "seq"}, {"ctx"});
  node(g, "tanh", "Tanh", {"ctx"}, {"t"});
  node(g, "cast", "Cast", {"t"}, {"tc"});
  node(g, "unsqueeze", "Unsqueeze", {"tc", "ax"}, {"u"});
  int_constant(g, "ax", {1});
  node(g, "squeeze", "Squeeze", {"u", "ax"}, {"sq"});
  auto* fl = node(g, "flatten", "Flatten", {"sq"}, {"f"});
  one_int(fl, "axis", 1);
  weight(g, "fc_w", {16, 3});
  node(g, "fc", "MatMul", {"f", "fc_w"}, {"logits"});
  node(g, "id", "Identity", {"logits"}, {"y"});
  *g->add_output() = tensor("y", {2, 3});
  return model.SerializeAsString();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string root = argv[1];
  const auto write = [&](const std::string& path, const std::string& bytes) {
    std::ofstream(root + "/" + path, std::ios::binary) << bytes;
  };
  write("corpus/fuzz_onnx/exported_cnn.onnx", exported_cnn());
  write("corpus/fuzz_onnx/mixed_ops.onnx", mixed());
  // A BERT layer as torch.onnx.export writes it at opset 14 (Erf GELU, decomposed layer
  // norms) and with opset 20's LayerNormalization and Gelu; docs/guide/04 imports the first.
  using nibble::testing::onnx_builder::EncoderOps;
  write("corpus/fuzz_onnx/bert_layer.onnx", nibble::testing::onnx_builder::exported_encoder_layer(EncoderOps::kDecomposed));
  write("corpus/fuzz_onnx/bert_layer_opset20.onnx",
        nibble::testing::onnx_builder::exported_encoder_layer(EncoderOps::kFused));

  const std::string bad = "bad_input/onnx/";
  const std::string whole = exported_cnn();
  write(bad + "truncated.onnx", whole.substr(0, whole.size() / 2));
  write(bad + "huge-number.onnx", exported_cnn([](onnx::ModelProto& m) {
          auto* dims = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
          dims->mutable_dim(2)->set_dim_value(std::int64_t{1} << 40);
          dims->mutable_dim(3)->set_dim_value(std::int64_t{1} << 40);
        }));
  write(bad + "negative-size.onnx", exported_cnn([](onnx::ModelProto& m) {
          m.mutable_graph()->mutable_initializer(0)->set_dims(2, -3);
        }));
  write(bad + "negative-stride.onnx", exported_cnn([](onnx::ModelProto& m) { ints(&node_named(m, "conv"), "strides", {-1, -1}); }));
  write(bad + "zero-size.onnx", exported_cnn([](onnx::ModelProto& m) {
          m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(0);
        }));
  write(bad + "nan.onnx", exported_cnn([](onnx::ModelProto& m) {
          auto& relu = node_named(m, "relu");
          relu.set_op_type("Clip");
          one_float(&relu, "min", std::nanf(""));
        }));
  write(bad + "unknown-op.onnx", exported_cnn([](onnx::ModelProto& m) { node_named(m, "relu").set_op_type("Elu"); }));
  write(bad + "wrong-type.onnx", exported_cnn([](onnx::ModelProto& m) {
          auto* g = m.mutable_graph();
          weight(g, "float_target", {2});
          node_named(m, "reshape").set_input(1, "float_target");
        }));
  write(bad + "missing-shape.onnx", exported_cnn([](onnx::ModelProto& m) {
          m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
        }));
  write(bad + "cycle.onnx", exported_cnn([](onnx::ModelProto& m) { node_named(m, "conv").set_input(0, "r"); }));
  write(bad + "deep-nesting.onnx", exported_cnn([](onnx::ModelProto& m) {
          // A subgraph attribute holding a node with a subgraph attribute ... 150 deep.
          onnx::AttributeProto* a = node_named(m, "relu").add_attribute();
          for (int depth = 0; depth < 150; ++depth) {
            a->set_name("body");
            a->set_type(onnx::AttributeProto_AttributeType_GRAPH);
            onnx::NodeProto* inner = a->mutable_g()->add_node();
            inner->set_op_type("Identity");
            a = inner->add_attribute();
          }
        }));
}
