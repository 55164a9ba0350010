// Building small ONNX models in tests: the pieces a PyTorch exporter writes,
// and the CNN with folded shape arithmetic that tests/models/test_onnx.cpp
// imports and tests/fuzz/make_onnx_inputs.cpp turns into fuzz seeds and bad
// inputs (one definition, so the seeds are exactly the tested model).
#pragma once

#include <onnx/onnx_pb.h>

#include <cmath>
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

/// Attributes of one type each.
inline void attr_ints(onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (auto x : v) a->add_ints(x);
}
inline void attr_int(onnx::NodeProto* n, const std::string& name, std::int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}
inline void attr_float(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(v);
}

/// A Constant node holding a 0-D float tensor (how torch.onnx writes 1.0, 0.5, sqrt(2)).
inline void float_constant(onnx::GraphProto* g, const std::string& name, float value) {
  auto* n = node(g, name + "_node", "Constant", {}, {name});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto_DataType_FLOAT);
  a->mutable_t()->add_float_data(value);
}

/// How an encoder layer's norms and GELU are written: as torch.onnx.export writes them at
/// opsets 14 to 16 (chains of primitive ops), or with the LayerNormalization (opset 17) and
/// Gelu (opset 20) ops.
enum class EncoderOps { kDecomposed, kFused };

/// One BERT encoder layer (post-LN, Hugging Face's BertLayer without an attention mask) with
/// the node patterns torch.onnx.export emits for it: x N x S x D ->
/// Q, K, V (MatMul + Add) -> Reshape N x S x H x Dh -> Transpose (K to N x H x Dh x S) ->
/// MatMul Q K^T -> Div by sqrt(Dh) -> Softmax -> MatMul with V -> Transpose, Reshape N x S x D
/// (its batch from Shape/Gather/Concat) -> MatMul + Add -> Add x -> LayerNorm ->
/// MatMul + Add (D -> F) -> GELU -> MatMul + Add (F -> D) -> Add -> LayerNorm. Node names
/// follow the exporter's scopes (/attention/self/query/MatMul ...).
inline std::string exported_encoder_layer(EncoderOps ops, std::int64_t n = 2, std::int64_t s = 8, std::int64_t d = 32,
                                          std::int64_t heads = 4, std::int64_t f = 64) {
  const std::int64_t dh = d / heads;
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(ops == EncoderOps::kFused ? 20 : 14);
  auto* g = model.mutable_graph();
  *g->add_input() = tensor("hidden_states", {n, s, d});
  const auto linear = [&](const std::string& scope, const std::string& in, std::int64_t k, std::int64_t out) {
    weight(g, scope + ".weight_t", {k, out});
    weight(g, scope + ".bias", {out});
    node(g, "/" + scope + "/MatMul", "MatMul", {in, scope + ".weight_t"}, {"/" + scope + "/MatMul_output_0"});
    // The exporter puts the bias first.
    node(g, "/" + scope + "/Add", "Add", {scope + ".bias", "/" + scope + "/MatMul_output_0"},
         {"/" + scope + "/Add_output_0"});
    return "/" + scope + "/Add_output_0";
  };
  const auto layer_norm = [&](const std::string& scope, const std::string& in) {
    const std::string p = "/" + scope + "/";
    weight(g, scope + ".weight", {d});
    weight(g, scope + ".bias", {d});
    if (ops == EncoderOps::kFused) {
      auto* ln = node(g, p + "LayerNormalization", "LayerNormalization", {in, scope + ".weight", scope + ".bias"},
                      {p + "LayerNormalization_output_0"});
      attr_int(ln, "axis", -1);
      attr_float(ln, "epsilon", 1e-12f);
      return p + "LayerNormalization_output_0";
    }
    attr_ints(node(g, p + "ReduceMean", "ReduceMean", {in}, {p + "ReduceMean_output_0"}), "axes", {-1});
    node(g, p + "Sub", "Sub", {in, p + "ReduceMean_output_0"}, {p + "Sub_output_0"});
    float_constant(g, p + "Constant_output_0", 2.0f);
    node(g, p + "Pow", "Pow", {p + "Sub_output_0", p + "Constant_output_0"}, {p + "Pow_output_0"});
    attr_ints(node(g, p + "ReduceMean_1", "ReduceMean", {p + "Pow_output_0"}, {p + "ReduceMean_1_output_0"}), "axes", {-1});
    float_constant(g, p + "Constant_1_output_0", 1e-12f);
    node(g, p + "Add", "Add", {p + "ReduceMean_1_output_0", p + "Constant_1_output_0"}, {p + "Add_output_0"});
    node(g, p + "Sqrt", "Sqrt", {p + "Add_output_0"}, {p + "Sqrt_output_0"});
    node(g, p + "Div", "Div", {p + "Sub_output_0", p + "Sqrt_output_0"}, {p + "Div_output_0"});
    node(g, p + "Mul", "Mul", {p + "Div_output_0", scope + ".weight"}, {p + "Mul_output_0"});
    node(g, p + "Add_1", "Add", {p + "Mul_output_0", scope + ".bias"}, {p + "Add_1_output_0"});
    return p + "Add_1_output_0";
  };
  const auto reshape = [&](const std::string& name, const std::string& in, const std::vector<std::int64_t>& shape) {
    int_constant(g, name + "_shape", shape);
    node(g, name, "Reshape", {in, name + "_shape"}, {name + "_output_0"});
    return name + "_output_0";
  };
  const auto transpose = [&](const std::string& name, const std::string& in, const std::vector<std::int64_t>& perm) {
    attr_ints(node(g, name, "Transpose", {in}, {name + "_output_0"}), "perm", perm);
    return name + "_output_0";
  };
  const std::string a = "/attention/self/";
  const std::string q = transpose(a + "Transpose", reshape(a + "Reshape", linear("attention/self/query", "hidden_states", d, d), {n, s, heads, dh}), {0, 2, 1, 3});
  const std::string kt = transpose(a + "Transpose_1", reshape(a + "Reshape_1", linear("attention/self/key", "hidden_states", d, d), {n, s, heads, dh}), {0, 2, 3, 1});
  const std::string v = transpose(a + "Transpose_2", reshape(a + "Reshape_2", linear("attention/self/value", "hidden_states", d, d), {n, s, heads, dh}), {0, 2, 1, 3});
  node(g, a + "MatMul", "MatMul", {q, kt}, {a + "MatMul_output_0"});
  float_constant(g, a + "Constant_output_0", static_cast<float>(std::sqrt(static_cast<double>(dh))));
  node(g, a + "Div", "Div", {a + "MatMul_output_0", a + "Constant_output_0"}, {a + "Div_output_0"});
  attr_int(node(g, a + "Softmax", "Softmax", {a + "Div_output_0"}, {a + "Softmax_output_0"}), "axis", -1);
  node(g, a + "MatMul_1", "MatMul", {a + "Softmax_output_0", v}, {a + "MatMul_1_output_0"});
  const std::string ctx = transpose(a + "Transpose_3", a + "MatMul_1_output_0", {0, 2, 1, 3});
  // context.view(context.size()[0], S, D): the batch from Shape -> Gather -> Concat.
  node(g, a + "Shape", "Shape", {ctx}, {a + "Shape_output_0"});
  int_constant(g, a + "Constant_1_output_0", {0});
  node(g, a + "Gather", "Gather", {a + "Shape_output_0", a + "Constant_1_output_0"}, {a + "Gather_output_0"});
  int_constant(g, a + "Constant_2_output_0", {s, d});
  attr_int(node(g, a + "Concat", "Concat", {a + "Gather_output_0", a + "Constant_2_output_0"}, {a + "Concat_output_0"}),
           "axis", 0);
  node(g, a + "Reshape_3", "Reshape", {ctx, a + "Concat_output_0"}, {a + "Reshape_3_output_0"});
  const std::string attn = linear("attention/output/dense", a + "Reshape_3_output_0", d, d);
  node(g, "/attention/output/Add", "Add", {attn, "hidden_states"}, {"/attention/output/Add_output_0"});
  const std::string h = layer_norm("attention/output/LayerNorm", "/attention/output/Add_output_0");
  const std::string up = linear("intermediate/dense", h, d, f);
  std::string act;
  const std::string i = "/intermediate/intermediate_act_fn/";
  if (ops == EncoderOps::kFused) {
    node(g, i + "Gelu", "Gelu", {up}, {i + "Gelu_output_0"});
    act = i + "Gelu_output_0";
  } else {
    float_constant(g, i + "Constant_output_0", 1.4142135f);
    node(g, i + "Div", "Div", {up, i + "Constant_output_0"}, {i + "Div_output_0"});
    node(g, i + "Erf", "Erf", {i + "Div_output_0"}, {i + "Erf_output_0"});
    float_constant(g, i + "Constant_1_output_0", 1.0f);
    node(g, i + "Add", "Add", {i + "Erf_output_0", i + "Constant_1_output_0"}, {i + "Add_output_0"});
    node(g, i + "Mul", "Mul", {up, i + "Add_output_0"}, {i + "Mul_output_0"});
    float_constant(g, i + "Constant_2_output_0", 0.5f);
    node(g, i + "Mul_1", "Mul", {i + "Mul_output_0", i + "Constant_2_output_0"}, {i + "Mul_1_output_0"});
    act = i + "Mul_1_output_0";
  }
  const std::string down = linear("output/dense", act, f, d);
  node(g, "/output/Add", "Add", {down, h}, {"/output/Add_output_0"});
  const std::string y = layer_norm("output/LayerNorm", "/output/Add_output_0");
  node(g, "/output/Identity", "Identity", {y}, {"last_hidden_state"});
  *g->add_output() = tensor("last_hidden_state", {n, s, d});
  return model.SerializeAsString();
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
