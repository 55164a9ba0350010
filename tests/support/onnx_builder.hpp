// Building small ONNX models in tests: the pieces a PyTorch exporter writes,
// and the CNN with folded shape arithmetic that tests/models/test_onnx.cpp
// imports and tests/fuzz/make_onnx_inputs.cpp turns into fuzz seeds and bad
// inputs (one definition, so the seeds are exactly the tested model).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nibble::testing::onnx_builder {

/// A float graph input/output of fixed dimensions.
inline onnx::ValueInfoProto tensor(const std::string& name, const std::vector<std::int64_t>& dims) {
  onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  auto* shape = t->mutable_shape();
  for (const auto d : dims) shape->add_dim()->set_dim_value(d);
  return v;
}

/// A node reading `in` and writing `out`.
inline onnx::NodeProto* node(onnx::GraphProto* g, const std::string& name, const std::string& op,
                             const std::vector<std::string>& in, const std::vector<std::string>& out) {
  auto* n = g->add_node();
  n->set_name(name);
  n->set_op_type(op);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

/// A float initializer without data (the importer needs only its shape).
inline void weight(onnx::GraphProto* g, const std::string& name, const std::vector<std::int64_t>& dims) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (const auto d : dims) t->add_dims(d);
}

/// A Constant node holding a 1-D int64 tensor.
inline void int_constant(onnx::GraphProto* g, const std::string& name, const std::vector<std::int64_t>& values) {
  auto* n = node(g, name + "_node", "Constant", {}, {name});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(onnx::TensorProto_DataType_INT64);
  t->add_dims(static_cast<std::int64_t>(values.size()));
  for (const auto v : values) t->add_int64_data(v);
}

/// x 3x2x4x4 -> Conv 2->6 3x3 pad 1 -> Relu [-> `extra_op`] -> Shape/Gather/Concat -> Reshape(N, -1)
/// -> Gemm 96->5, as PyTorch's exporter writes x.view(x.size(0), -1). `damage` edits the model
/// before it is serialized (the bad inputs of the fuzz tests).
inline std::string exported_cnn(const std::string& extra_op = "",
                                const std::function<void(onnx::ModelProto&)>& damage = {}) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  auto* g = model.mutable_graph();
  *g->add_input() = tensor("x", {3, 2, 4, 4});
  weight(g, "w", {6, 2, 3, 3});
  weight(g, "fc_w", {5, 96});
  weight(g, "fc_b", {5});
  auto* conv = node(g, "conv", "Conv", {"x", "w"}, {"c"});
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  node(g, "relu", "Relu", {"c"}, {"r"});
  std::string feature = "r";
  if (!extra_op.empty()) {
    node(g, "odd", extra_op, {"r"}, {"o"});
    feature = "o";
  }
  node(g, "shape", "Shape", {feature}, {"s"});
  int_constant(g, "zero", {0});
  node(g, "gather", "Gather", {"s", "zero"}, {"n"});
  int_constant(g, "minus_one", {-1});
  node(g, "concat", "Concat", {"n", "minus_one"}, {"target"})->add_attribute()->set_name("axis");
  node(g, "reshape", "Reshape", {feature, "target"}, {"flat"});
  auto* fc = node(g, "fc", "Gemm", {"flat", "fc_w", "fc_b"}, {"y"});
  auto* trans = fc->add_attribute();
  trans->set_name("transB");
  trans->set_type(onnx::AttributeProto_AttributeType_INT);
  trans->set_i(1);
  *g->add_output() = tensor("y", {3, 5});
  if (damage) damage(model);
  return model.SerializeAsString();
}

}  // namespace nibble::testing::onnx_builder
