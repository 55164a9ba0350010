#include "models/onnx/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"

namespace nibble::models {

namespace {

using Ints = std::vector<std::int64_t>;

/// Integer constants longer than this are not kept (shape arithmetic never needs them).
constexpr std::size_t kMaxFoldedInts = 4096;

/// A tensor name's meaning during import: an activation (a graph layer) or a constant.
struct Value {
  bool activation = false;    ///< produced from the data inputs at run time
  std::size_t layer = 0;      ///< activation: its graph layer
  Shape dims;                 ///< constant: its dimensions
  std::optional<Ints> ints;   ///< constant: integer contents, when integer-typed and short
  std::optional<double> scalar;  ///< constant: the value of a one-element float tensor
};

/// What a handler needs to know about one node.
struct Node {
  const onnx::NodeProto* proto;
  std::string label;  ///< "node 'name' (OpType)" for errors
  std::string name;   ///< unique, sanitized layer name
};

std::string sanitize(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 200)) out += (c <= ' ' || c > '~') ? '_' : c;
  return out;
}

bool is_integer_type(int type) {
  return type == onnx::TensorProto_DataType_INT64 || type == onnx::TensorProto_DataType_INT32 ||
         type == onnx::TensorProto_DataType_INT16 || type == onnx::TensorProto_DataType_INT8 ||
         type == onnx::TensorProto_DataType_UINT8;
}

class Importer {
 public:
  Importer(std::string_view bytes, std::string origin, std::string model_name, const OnnxOptions& options)
      : m_bytes(bytes), m_origin(std::move(origin)), m_model_name(std::move(model_name)), m_options(options) {}

  OnnxImport run() {
    parse();
    const onnx::GraphProto& g = m_model.graph();
    for (const auto& opset : m_model.opset_import()) {
      if (opset.domain().empty() || opset.domain() == "ai.onnx") m_opset = opset.version();
    }
    for (const auto& init : g.initializer()) m_values[init.name()] = constant_of(init, "initializer '" + init.name() + "'");
    for (const auto& output : g.output()) m_graph_outputs.insert(output.name());
    make_inputs();
    run_nodes();
    add_losses();
    return OnnxImport{std::move(*m_graph), std::move(m_skipped)};
  }

 private:
  // ---- errors -----------------------------------------------------------------

  InputError error(const std::string& field, const std::string& message) const {
    return InputError(m_origin, 0, field, message);
  }

  // ---- protobuf -----------------------------------------------------------------

  void parse() {
    if (m_bytes.size() > static_cast<std::size_t>(INT_MAX)) throw error("", "file larger than 2 GiB: not supported");
    // ParseFromArray fails (returns false) on truncated or corrupt input; it never aborts.
    if (!m_model.ParseFromArray(m_bytes.data(), static_cast<int>(m_bytes.size()))) {
      throw error("", "not a valid ONNX model: the protobuf does not parse (truncated or not an .onnx file)");
    }
    if (!m_model.has_graph() || m_model.graph().node_size() == 0) {
      throw error("", "not a valid ONNX model: no graph with nodes (truncated or not an .onnx file)");
    }
  }

  Value constant_of(const onnx::TensorProto& t, const std::string& what) const {
    Value v;
    for (const auto d : t.dims()) {
      if (d < 0) throw error(what, "negative dimension " + std::to_string(d));
      v.dims.push_back(static_cast<std::uint64_t>(d));
    }
    shape_elements(v.dims, what);
    if (shape_elements(v.dims, what) == 1) {
      // One float or double value (a scale, an epsilon, GELU's sqrt 2), from its typed field or raw bytes.
      const auto raw = [&](auto value) -> std::optional<double> {
        if (!t.has_raw_data() || t.raw_data().size() != sizeof(value)) return std::nullopt;
        std::memcpy(&value, t.raw_data().data(), sizeof(value));
        return static_cast<double>(value);
      };
      if (t.data_type() == onnx::TensorProto_DataType_FLOAT) {
        if (t.float_data_size() == 1) v.scalar = t.float_data(0);
        if (const auto r = raw(0.0f)) v.scalar = r;
      } else if (t.data_type() == onnx::TensorProto_DataType_DOUBLE) {
        if (t.double_data_size() == 1) v.scalar = t.double_data(0);
        if (const auto r = raw(0.0)) v.scalar = r;
      }
    }
    if (!is_integer_type(t.data_type())) return v;
    const std::uint64_t count = shape_elements(v.dims, what);
    if (count > kMaxFoldedInts) return v;
    Ints ints;
    if (t.int64_data_size() > 0) {
      ints.assign(t.int64_data().begin(), t.int64_data().end());
    } else if (t.int32_data_size() > 0) {
      ints.assign(t.int32_data().begin(), t.int32_data().end());
    } else if (t.has_raw_data()) {
      const std::string& raw = t.raw_data();
      const std::size_t width = t.data_type() == onnx::TensorProto_DataType_INT64   ? 8
                                : t.data_type() == onnx::TensorProto_DataType_INT32 ? 4
                                : t.data_type() == onnx::TensorProto_DataType_INT16 ? 2
                                                                                    : 1;
      if (raw.size() != count * width) {
        throw error(what, "raw_data holds " + std::to_string(raw.size()) + " bytes, expected " +
                              std::to_string(count * width) + " for shape " + shape_text(v.dims));
      }
      for (std::size_t i = 0; i < count; ++i) {
        std::int64_t value = 0;
        if (width == 8) {
          std::memcpy(&value, raw.data() + i * 8, 8);  // ONNX raw data is little-endian, as is x86-64
        } else if (width == 4) {
          std::int32_t x = 0;
          std::memcpy(&x, raw.data() + i * 4, 4);
          value = x;
        } else if (width == 2) {
          std::int16_t x = 0;
          std::memcpy(&x, raw.data() + i * 2, 2);
          value = x;
        } else {
          value = t.data_type() == onnx::TensorProto_DataType_UINT8 ? static_cast<unsigned char>(raw[i])
                                                                    : static_cast<signed char>(raw[i]);
        }
        ints.push_back(value);
      }
    } else if (count > 0) {
      return v;  // data stored externally: shape known, contents not
    }
    if (ints.size() != count) {
      throw error(what, "holds " + std::to_string(ints.size()) + " values, expected " + std::to_string(count));
    }
    v.ints = std::move(ints);
    return v;
  }

  // ---- graph inputs -------------------------------------------------------------

  /// Graph inputs that only ever appear as a weight operand are weights given as inputs
  /// (old exporters list every weight as an input); the others are training data.
  std::set<std::string> weight_operands() const {
    std::map<std::string, int> rank;
    for (const auto& input : m_model.graph().input()) {
      if (input.type().has_tensor_type() && input.type().tensor_type().has_shape()) {
        rank[input.name()] = input.type().tensor_type().shape().dim_size();
      }
    }
    std::set<std::string> weights, data;
    for (const auto& node : m_model.graph().node()) {
      const std::string& op = node.op_type();
      for (int i = 0; i < node.input_size(); ++i) {
        // A batched (3-D and up) second MatMul operand is an activation, not a weight matrix.
        const bool matrix = rank.count(node.input(i)) && rank.at(node.input(i)) == 2;
        const bool weight = ((op == "Conv" || op == "Gemm") && i >= 1) || (op == "MatMul" && i == 1 && matrix) ||
                            ((op == "BatchNormalization" || op == "LayerNormalization") && i >= 1) ||
                            (op == "Gather" && i == 0);
        (weight ? weights : data).insert(node.input(i));
      }
    }
    std::set<std::string> out;
    for (const auto& name : weights) {
      if (!data.count(name)) out.insert(name);
    }
    return out;
  }

  Shape declared_shape(const onnx::ValueInfoProto& info, bool data, std::uint64_t* file_batch) const {
    const std::string what = "input '" + info.name() + "'";
    if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) {
      throw error(what, "missing shape: nibble needs the shape of every graph input");
    }
    Shape shape;
    const auto& dims = info.type().tensor_type().shape().dim();
    for (int i = 0; i < dims.size(); ++i) {
      const auto& d = dims[i];
      if (d.has_dim_value() && d.dim_value() > 0) {
        shape.push_back(static_cast<std::uint64_t>(d.dim_value()));
      } else if (data && i == 0) {
        shape.push_back(0);  // symbolic batch: set below
      } else {
        throw error(what, "dimension " + std::to_string(i) + " is " +
                              (d.has_dim_param() ? "symbolic ('" + d.dim_param() + "')" : std::string("unknown or 0")) +
                              "; nibble needs concrete sizes (only the batch may be symbolic)");
      }
    }
    if (data && shape.empty()) throw error(what, "a data input needs at least a batch dimension");
    if (data && file_batch && *file_batch == 0 && shape[0] > 0) *file_batch = shape[0];
    return shape;
  }

  void make_inputs() {
    const onnx::GraphProto& g = m_model.graph();
    const auto weights = weight_operands();
    std::vector<std::pair<std::string, Shape>> data;
    std::uint64_t file_batch = 0;
    for (const auto& input : g.input()) {
      if (m_values.count(input.name())) continue;  // an initializer also listed as input
      if (weights.count(input.name())) {
        Value v;
        v.dims = declared_shape(input, false, nullptr);
        m_values[input.name()] = v;
      } else {
        data.emplace_back(input.name(), declared_shape(input, true, &file_batch));
      }
    }
    if (data.empty()) throw error("", "the graph has no data input (every input is a weight)");
    m_file_batch = file_batch == 0 ? 1 : file_batch;
    m_batch = m_options.batch.value_or(m_file_batch);
    m_graph.emplace(m_model_name, m_batch);
    // Most nodes become one layer; a few add views or losses (the vector still grows then).
    m_graph->reserve(static_cast<std::size_t>(g.node_size()) + data.size() + static_cast<std::size_t>(g.output_size()));
    for (auto& [name, shape] : data) {
      shape[0] = m_batch;
      Value v;
      v.activation = true;
      try {
        v.layer = m_graph->add_input(unique_name(name), shape);
      } catch (const InputError& e) {
        throw error("input '" + name + "'", e.message());
      }
      m_values[name] = v;
    }
  }

  std::string unique_name(const std::string& wanted) {
    std::string base = sanitize(wanted);
    if (base.empty()) base = "_";
    std::string name = base;
    for (int i = 2; !m_names.insert(name).second; ++i) name = base + "_" + std::to_string(i);
    return name;
  }

  // ---- nodes --------------------------------------------------------------------

  void run_nodes() {
    const onnx::GraphProto& g = m_model.graph();
    const int count = g.node_size();
    // Kahn's algorithm, taking the earliest ready node first: a file in topological
    // order (as the ONNX spec requires) is processed in file order.
    auto& producer = m_producer;
    for (int i = 0; i < count; ++i) {
      for (const auto& out : g.node(i).output()) {
        if (!out.empty()) producer.emplace(out, i);
      }
      for (const auto& in : g.node(i).input()) {
        auto& users = m_users[in];
        if (users.empty() || users.back() != i) users.push_back(i);
      }
    }
    find_patterns();
    std::vector<int> missing(static_cast<std::size_t>(count), 0);
    std::vector<std::vector<int>> waiting(static_cast<std::size_t>(count));
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < count; ++i) {
      std::set<int> deps;
      for (const auto& in : g.node(i).input()) {
        if (in.empty() || m_values.count(in)) continue;
        const auto it = producer.find(in);
        if (it == producer.end()) {
          throw error(label_of(g.node(i), i), "input '" + in + "' is not produced by any node, initializer or graph input");
        }
        if (it->second != i) deps.insert(it->second);
      }
      missing[static_cast<std::size_t>(i)] = static_cast<int>(deps.size());
      for (const int d : deps) waiting[static_cast<std::size_t>(d)].push_back(i);
      if (deps.empty()) ready.push(i);
    }
    int done = 0;
    while (!ready.empty()) {
      const int i = ready.top();
      ready.pop();
      run_node(g.node(i), i);
      ++done;
      for (const int w : waiting[static_cast<std::size_t>(i)]) {
        if (--missing[static_cast<std::size_t>(w)] == 0) ready.push(w);
      }
    }
    if (done != count) {
      for (int i = 0; i < count; ++i) {
        if (missing[static_cast<std::size_t>(i)] > 0) throw error(label_of(g.node(i), i), "is part of a cycle");
      }
    }
  }

  static std::string label_of(const onnx::NodeProto& node, int index) {
    const std::string name = node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
    return "node '" + name + "' (" + node.op_type() + ")";
  }

  void run_node(const onnx::NodeProto& proto, int index) {
    if (m_inner.count(index)) return;  // inside a recognized pattern: its last node builds the layer
    Node node{&proto, label_of(proto, index), ""};
    if (const auto pattern = m_patterns.find(index); pattern != m_patterns.end()) {
      node.name = unique_name(pattern->second.name);
      try {
        run_pattern(node, pattern->second);
      } catch (const InputError& e) {
        if (!e.file().empty()) throw;
        throw error(node.label, e.message());
      }
      return;
    }
    node.name = unique_name(proto.name().empty() ? proto.op_type() + "_" + std::to_string(index) : proto.name());
    const auto handler = handlers().find(proto.op_type());
    const bool known = handler != handlers().end() && proto.domain().empty();
    if (!known && !m_options.skip_unknown) {
      throw error(node.label, "unsupported op type '" + proto.op_type() + "'" +
                                  (proto.domain().empty() ? "" : " in domain '" + proto.domain() + "'") +
                                  "; pass " + setting_ref("skip_unknown") +
                                  " to leave it out (treated as free), or see "
                                  "docs/trace-format.md for the supported ops");
    }
    try {
      if (known) {
        (this->*(handler->second))(node);
      } else {
        skip(node);
      }
    } catch (const InputError& e) {
      if (!e.file().empty()) throw;
      throw error(node.label, e.message());
    }
  }

  /// A skipped node passes its first activation input through; the output's shape is the
  /// file's value_info for it if there is one, else the input's.
  void skip(const Node& node) {
    const auto& proto = *node.proto;
    m_skipped.push_back(OnnxSkipped{node.name, sanitize(proto.op_type())});
    std::optional<Value> source;
    for (const auto& in : proto.input()) {
      if (!in.empty() && value(in, node).activation) {
        source = value(in, node);
        break;
      }
    }
    if (!source) throw error(node.label, "skipped, but it reads no activation, so its output cannot be passed through");
    for (const auto& out : proto.output()) {
      if (out.empty()) continue;
      Value v = *source;
      if (const auto shape = value_info_shape(out)) {
        v.layer = m_graph->add_view(unique_name(node.name + ".skipped"), source->layer, *shape, /*any_size=*/true);
      }
      m_values[out] = v;
    }
  }

  std::optional<Shape> value_info_shape(const std::string& name) {
    if (!m_value_info_indexed) {
      // Indexed on first use (a lookup per skipped node would otherwise scan the whole list);
      // the first entry of a name wins, value_info before outputs.
      const auto& g = m_model.graph();
      for (const auto* list : {&g.value_info(), &g.output()}) {
        for (const auto& info : *list) {
          if (info.type().has_tensor_type() && info.type().tensor_type().has_shape()) m_value_info.emplace(info.name(), &info);
        }
      }
      m_value_info_indexed = true;
    }
    const auto it = m_value_info.find(name);
    if (it == m_value_info.end()) return std::nullopt;
    Shape shape;
    for (const auto& d : it->second->type().tensor_type().shape().dim()) {
      if (!d.has_dim_value() || d.dim_value() <= 0) return std::nullopt;
      shape.push_back(static_cast<std::uint64_t>(d.dim_value()));
    }
    if (!shape.empty() && shape[0] == m_file_batch) shape[0] = m_batch;
    return shape;
  }

  // ---- patterns -------------------------------------------------------------------
  //
  // Exporters spell some layers as chains of primitive ops. Recognized chains become one
  // layer, built when the chain's last node (the anchor) runs; the other nodes of the
  // chain do nothing. A chain is recognized only when its intermediate tensors are read by
  // the chain alone (and are not graph outputs), so skipping them loses nothing.

  /// A recognized chain of nodes that is one layer.
  struct Pattern {
    enum class Kind { kGelu, kLayerNorm } kind = Kind::kGelu;
    std::string x;       ///< the tensor the layer reads
    std::string name;    ///< layer name (the nodes' common name prefix)
    Ints axes;           ///< kLayerNorm: the ReduceMean axes (checked once x's rank is known)
  };

  const onnx::NodeProto& node_at(int i) const { return m_model.graph().node(i); }

  /// A node's first output, or "" when it lists none (never index an empty list).
  const std::string& first_output(int i) const {
    static const std::string none;
    return node_at(i).output_size() > 0 ? node_at(i).output(0) : none;
  }

  /// The only node reading `tensor`, if exactly one node does and it is not a graph output.
  std::optional<int> sole_user(const std::string& tensor) const {
    if (tensor.empty()) return std::nullopt;  // an omitted optional input or output
    const auto it = m_users.find(tensor);
    if (it == m_users.end() || it->second.size() != 1 || m_graph_outputs.count(tensor)) return std::nullopt;
    return it->second[0];
  }

  std::optional<int> producer_of(const std::string& tensor) const {
    const auto it = m_producer.find(tensor);
    if (it == m_producer.end()) return std::nullopt;
    return it->second;
  }

  /// The value of a one-element float constant (an initializer or a Constant node's tensor).
  std::optional<double> scalar_constant(const std::string& tensor) const {
    if (const auto it = m_values.find(tensor); it != m_values.end()) return it->second.activation ? std::nullopt : it->second.scalar;
    const auto p = producer_of(tensor);
    if (!p || node_at(*p).op_type() != "Constant") return std::nullopt;
    for (const auto& a : node_at(*p).attribute()) {
      if (a.name() == "value_float") return static_cast<double>(a.f());
      if (a.name() == "value") {
        try {
          return constant_of(a.t(), "constant").scalar;
        } catch (const InputError&) {
          return std::nullopt;  // the Constant node reports it when it runs
        }
      }
    }
    return std::nullopt;
  }

  /// A tensor known before the data arrives: an initializer, a weight input or a Constant's output.
  bool is_constant(const std::string& tensor) const {
    if (const auto it = m_values.find(tensor); it != m_values.end()) return !it->second.activation;
    const auto p = producer_of(tensor);
    return p && node_at(*p).op_type() == "Constant";
  }

  static bool near(std::optional<double> value, double want) {
    return value && std::fabs(*value - want) <= 1e-3 * std::fabs(want);
  }

  /// For a binary node: the operand other than `tensor` (empty if `tensor` is not an operand).
  std::string other_operand(const onnx::NodeProto& n, const std::string& tensor) const {
    if (n.input_size() != 2) return "";
    if (n.input(0) == tensor) return n.input(1);
    if (n.input(1) == tensor) return n.input(0);
    return "";
  }

  bool is_op(int i, const char* op) const { return node_at(i).op_type() == op && node_at(i).domain().empty(); }

  std::string pattern_name(int first, int anchor) const {
    const std::string& n = node_at(first).name();
    const std::size_t slash = n.rfind('/');
    if (slash != std::string::npos && slash > 0) return n.substr(0, slash);
    return node_at(anchor).name().empty() ? node_at(anchor).op_type() + "_" + std::to_string(anchor) : node_at(anchor).name();
  }

  void find_patterns() {
    const int count = m_model.graph().node_size();
    for (int i = 0; i < count; ++i) {
      if (is_op(i, "Erf")) match_erf_gelu(i);
      if (is_op(i, "ReduceMean")) match_layer_norm(i);
    }
  }

  void add_pattern(const std::vector<int>& inner, int anchor, Pattern p) {
    for (const int i : inner) {
      if (m_inner.count(i) || m_patterns.count(i)) return;  // overlapping matches: keep the first
    }
    if (m_inner.count(anchor) || m_patterns.count(anchor)) return;
    m_inner.insert(inner.begin(), inner.end());
    m_patterns.emplace(anchor, std::move(p));
  }

  /// GELU as x * 0.5 * (1 + Erf(x / sqrt(2))), in the two orders exporters write:
  /// torch.onnx (opset < 20): Div(x, 1.414) -> Erf -> Add(1) -> Mul(x, .) -> Mul(., 0.5);
  /// Hugging Face's gelu(): Mul(x, 0.5) and Div(x, 1.414) -> Erf -> Add(1) -> Mul(half, .).
  /// Div by sqrt(2) may also be Mul by 1/sqrt(2).
  void match_erf_gelu(int erf) {
    const std::string& scaled = node_at(erf).input_size() > 0 ? node_at(erf).input(0) : std::string();
    const auto div = producer_of(scaled);
    if (!div || sole_user(scaled) != erf || node_at(*div).input_size() != 2) return;
    const onnx::NodeProto& d = node_at(*div);
    std::string x;
    if (is_op(*div, "Div") && near(scalar_constant(d.input(1)), std::sqrt(2.0))) {
      x = d.input(0);
    } else if (is_op(*div, "Mul") && near(scalar_constant(d.input(1)), 1.0 / std::sqrt(2.0))) {
      x = d.input(0);
    } else if (is_op(*div, "Mul") && near(scalar_constant(d.input(0)), 1.0 / std::sqrt(2.0))) {
      x = d.input(1);
    } else {
      return;
    }
    if (node_at(erf).output_size() != 1) return;
    const std::string& e = first_output(erf);
    const auto add = sole_user(e);
    if (!add || !is_op(*add, "Add") || !near(scalar_constant(other_operand(node_at(*add), e)), 1.0)) return;
    const std::string& one_plus = first_output(*add);
    const auto mul = sole_user(one_plus);
    if (!mul || !is_op(*mul, "Mul")) return;
    const std::string factor = other_operand(node_at(*mul), one_plus);
    Pattern p;
    p.kind = Pattern::Kind::kGelu;
    p.x = x;
    if (factor == x) {
      // x * (1 + erf) then * 0.5
      const std::string& product = first_output(*mul);
      const auto half = sole_user(product);
      if (!half || !is_op(*half, "Mul") || !near(scalar_constant(other_operand(node_at(*half), product)), 0.5)) return;
      p.name = pattern_name(*div, *half);
      add_pattern({*div, erf, *add, *mul}, *half, p);
      return;
    }
    // (x * 0.5) * (1 + erf)
    const auto half = producer_of(factor);
    if (!half || !is_op(*half, "Mul") || sole_user(factor) != *mul) return;
    if (!near(scalar_constant(other_operand(node_at(*half), x)), 0.5)) return;
    p.name = pattern_name(*half, *mul);
    add_pattern({*half, *div, erf, *add}, *mul, p);
  }

  Ints reduce_axes(int i) const {
    const onnx::NodeProto& n = node_at(i);
    if (n.input_size() > 1 && !n.input(1).empty()) {  // opset 18: axes is an input
      if (const auto it = m_values.find(n.input(1)); it != m_values.end() && it->second.ints) return *it->second.ints;
      const auto p = producer_of(n.input(1));
      if (p && node_at(*p).op_type() == "Constant") {
        for (const auto& a : node_at(*p).attribute()) {
          if (a.name() == "value") {
            try {
              if (const auto v = constant_of(a.t(), "axes"); v.ints) return *v.ints;
            } catch (const InputError&) {
            }
          }
          if (a.name() == "value_ints") return Ints(a.ints().begin(), a.ints().end());
        }
      }
      return {};
    }
    for (const auto& a : n.attribute()) {
      if (a.name() == "axes") return Ints(a.ints().begin(), a.ints().end());
    }
    return {};
  }

  bool keeps_dims(int i) const {
    for (const auto& a : node_at(i).attribute()) {
      if (a.name() == "keepdims") return a.i() != 0;
    }
    return true;
  }

  /// Layer norm as exporters before LayerNormalization (opset 17) write it:
  /// mean = ReduceMean(x); d = Sub(x, mean); var = ReduceMean(Pow(d, 2)) (or Mul(d, d));
  /// y = Div(d, Sqrt(Add(var, eps))), then optionally Mul(y, gamma) and Add(., beta).
  void match_layer_norm(int mean_node) {
    const onnx::NodeProto& r1 = node_at(mean_node);
    if (r1.input_size() < 1 || r1.output_size() != 1 || !keeps_dims(mean_node)) return;
    const std::string& x = r1.input(0);
    const Ints axes = reduce_axes(mean_node);
    if (axes.size() != 1) return;
    const auto sub = sole_user(first_output(mean_node));
    if (!sub || !is_op(*sub, "Sub") || node_at(*sub).input_size() != 2 || node_at(*sub).input(0) != x ||
        node_at(*sub).input(1) != first_output(mean_node)) {
      return;
    }
    const std::string& d = first_output(*sub);
    if (d.empty()) return;
    const auto users = m_users.find(d);
    if (users == m_users.end() || users->second.size() != 2 || m_graph_outputs.count(d)) return;
    int square = -1, divide = -1;
    for (const int u : users->second) {
      const onnx::NodeProto& n = node_at(u);
      if (is_op(u, "Pow") && n.input_size() == 2 && n.input(0) == d && near(scalar_constant(n.input(1)), 2.0)) square = u;
      if (is_op(u, "Mul") && n.input_size() == 2 && n.input(0) == d && n.input(1) == d) square = u;
      if (is_op(u, "Div") && n.input_size() == 2 && n.input(0) == d) divide = u;
    }
    if (square < 0 || divide < 0) return;
    const auto r2 = sole_user(first_output(square));
    if (!r2 || !is_op(*r2, "ReduceMean") || reduce_axes(*r2) != axes || !keeps_dims(*r2)) return;
    const auto eps = sole_user(first_output(*r2));
    if (!eps || !is_op(*eps, "Add") || !is_constant(other_operand(node_at(*eps), first_output(*r2)))) return;
    const auto sqrt = sole_user(first_output(*eps));
    if (!sqrt || !is_op(*sqrt, "Sqrt") || sole_user(first_output(*sqrt)) != divide ||
        node_at(divide).input(1) != first_output(*sqrt)) {
      return;
    }
    std::vector<int> inner{mean_node, *sub, square, *r2, *eps, *sqrt};
    int anchor = divide;
    // The affine part, when its scale and shift are weights.
    const auto scale = sole_user(first_output(divide));
    if (scale && is_op(*scale, "Mul") && is_constant(other_operand(node_at(*scale), first_output(divide)))) {
      inner.push_back(anchor);
      anchor = *scale;
      const auto shift = sole_user(first_output(*scale));
      if (shift && is_op(*shift, "Add") && is_constant(other_operand(node_at(*shift), first_output(*scale)))) {
        inner.push_back(anchor);
        anchor = *shift;
      }
    }
    Pattern p;
    p.kind = Pattern::Kind::kLayerNorm;
    p.x = x;
    p.axes = axes;
    p.name = pattern_name(mean_node, anchor);
    add_pattern(inner, anchor, p);
  }

  void run_pattern(const Node& node, const Pattern& p) {
    const Value& x = value(p.x, node);
    if (!x.activation) throw error(node.label, "its input '" + p.x + "' must be computed from the data, not a constant");
    if (p.kind == Pattern::Kind::kGelu) {
      set_activation(node, m_graph->add_activation(node.name, x.layer, ActivationKind::kGelu));
      return;
    }
    const std::size_t rank = shape_of(x).size();
    if (axis_of(node, p.axes[0], rank) + 1 != rank) {
      throw error(node.label, "layer norm (ReduceMean/Sub/Pow/Sqrt/Div) over axis " + std::to_string(p.axes[0]) +
                                  ": only the last axis is supported");
    }
    set_activation(node, m_graph->add_layer_norm(node.name, x.layer));
  }

  // ---- node helpers -------------------------------------------------------------

  const Value& value(const std::string& name, const Node& node) const {
    const auto it = m_values.find(name);
    if (it == m_values.end()) throw error(node.label, "input '" + name + "' has no value yet");
    return it->second;
  }

  const Value& input(const Node& node, int i) const {
    if (i >= node.proto->input_size() || node.proto->input(i).empty()) {
      throw error(node.label, "missing input " + std::to_string(i));
    }
    return value(node.proto->input(i), node);
  }

  bool has_input(const Node& node, int i) const { return i < node.proto->input_size() && !node.proto->input(i).empty(); }

  const Value& activation_input(const Node& node, int i) const {
    const Value& v = input(node, i);
    if (!v.activation) throw error(node.label, "input " + std::to_string(i) + " must be computed from the data, not a constant");
    return v;
  }

  const Shape& shape_of(const Value& v) const { return v.activation ? m_graph->layer(v.layer).shape : v.dims; }

  const Ints& ints_of(const Node& node, int i) const {
    const Value& v = input(node, i);
    if (v.activation || !v.ints) {
      throw error(node.label, "input " + std::to_string(i) + " must be a constant list of integers (nibble folds shape arithmetic, "
                              "it does not run it)");
    }
    return *v.ints;
  }

  const onnx::AttributeProto* attribute(const Node& node, const std::string& name) const {
    for (const auto& a : node.proto->attribute()) {
      if (a.name() == name) return &a;
    }
    return nullptr;
  }

  std::int64_t attr_int(const Node& node, const std::string& name, std::int64_t fallback) const {
    const auto* a = attribute(node, name);
    return a ? a->i() : fallback;
  }

  Ints attr_ints(const Node& node, const std::string& name, Ints fallback) const {
    const auto* a = attribute(node, name);
    return a ? Ints(a->ints().begin(), a->ints().end()) : fallback;
  }

  std::string attr_string(const Node& node, const std::string& name, const std::string& fallback) const {
    const auto* a = attribute(node, name);
    return a ? a->s() : fallback;
  }

  void set_output(const Node& node, Value v, int index = 0) {
    if (index < node.proto->output_size() && !node.proto->output(index).empty()) m_values[node.proto->output(index)] = v;
  }

  void set_activation(const Node& node, std::size_t layer) {
    Value v;
    v.activation = true;
    v.layer = layer;
    set_output(node, v);
  }

  void set_constant(const Node& node, Shape dims, std::optional<Ints> ints) {
    Value v;
    v.dims = std::move(dims);
    v.ints = std::move(ints);
    set_output(node, v);
  }

  std::uint64_t axis_of(const Node& node, std::int64_t axis, std::size_t rank) const {
    const std::int64_t r = static_cast<std::int64_t>(rank);
    if (axis < -r || axis >= r) {
      throw error(node.label, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    }
    return static_cast<std::uint64_t>(axis < 0 ? axis + r : axis);
  }

  /// Window sizes, strides, dilations and pads above this are rejected before any arithmetic.
  static constexpr std::int64_t kMaxWindowAttribute = std::int64_t{1} << 31;

  std::uint64_t positive(const Node& node, std::int64_t value, const char* what) const {
    if (value < 1 || value > kMaxWindowAttribute) {
      throw error(node.label, std::string(what) + " must be in [1, 2^31], got " + std::to_string(value));
    }
    return static_cast<std::uint64_t>(value);
  }

  /// Symmetric padding for one axis from ONNX's begin/end pads or auto_pad; asymmetric
  /// pads become the symmetric pad that gives the same output size.
  std::uint64_t pad_for(const Node& node, std::uint64_t in, std::uint64_t kernel, std::uint64_t stride,
                        std::uint64_t dilation, std::int64_t begin, std::int64_t end, bool ceil_mode) const {
    const std::string mode = attr_string(node, "auto_pad", "NOTSET");
    if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
      const std::uint64_t out = (in + stride - 1) / stride;
      const std::uint64_t span = dilation * (kernel - 1) + 1;
      const std::uint64_t needed = (out - 1) * stride + span;
      const std::uint64_t total = needed > in ? needed - in : 0;
      begin = static_cast<std::int64_t>(total / 2);
      end = static_cast<std::int64_t>(total - total / 2);
    } else if (mode == "VALID") {
      begin = end = 0;
    } else if (mode != "NOTSET") {
      throw error(node.label, "unknown auto_pad '" + mode + "'");
    }
    if (begin < 0 || end < 0) throw error(node.label, "negative padding is not supported");
    if (begin > kMaxWindowAttribute || end > kMaxWindowAttribute) throw error(node.label, "padding above 2^31");
    if (in > (std::uint64_t{1} << 40)) throw error(node.label, "spatial size above 2^40");
    if (begin == end) return static_cast<std::uint64_t>(begin);
    const auto out_size = [&](std::uint64_t padded) -> std::int64_t {
      const std::uint64_t span = dilation * (kernel - 1) + 1;
      if (padded < span) return -1;
      return static_cast<std::int64_t>(ceil_mode ? (padded - span + stride - 1) / stride + 1 : (padded - span) / stride + 1);
    };
    const std::uint64_t total = static_cast<std::uint64_t>(begin + end);
    const std::int64_t want = out_size(in + total);
    for (const std::uint64_t p : {total / 2, total / 2 + 1}) {
      if (out_size(in + 2 * p) == want) return p;
    }
    throw error(node.label, "asymmetric padding " + std::to_string(begin) + "/" + std::to_string(end) +
                                " that no symmetric padding reproduces is not supported");
  }

  // ---- op handlers ----------------------------------------------------------------

  using Handler = void (Importer::*)(const Node&);

  static const std::map<std::string, Handler>& handlers() {
    static const std::map<std::string, Handler> table = {
        {"Conv", &Importer::conv},
        {"Gemm", &Importer::gemm},
        {"MatMul", &Importer::matmul},
        {"BatchNormalization", &Importer::batch_norm},
        {"LayerNormalization", &Importer::layer_norm},
        {"Gelu", &Importer::gelu},
        {"Relu", &Importer::relu},
        {"Clip", &Importer::clip},
        {"Sigmoid", &Importer::sigmoid},
        {"Tanh", &Importer::tanh},
        {"MaxPool", &Importer::pool},
        {"AveragePool", &Importer::pool},
        {"GlobalAveragePool", &Importer::global_pool},
        {"GlobalMaxPool", &Importer::global_pool},
        {"Add", &Importer::binary},
        {"Sub", &Importer::binary},
        {"Mul", &Importer::binary},
        {"Div", &Importer::binary},
        {"Concat", &Importer::concat},
        {"Flatten", &Importer::flatten},
        {"Reshape", &Importer::reshape},
        {"Softmax", &Importer::softmax},
        {"LogSoftmax", &Importer::softmax},
        {"Transpose", &Importer::transpose},
        {"Identity", &Importer::identity},
        {"Dropout", &Importer::identity},
        {"Cast", &Importer::identity},
        {"Constant", &Importer::constant},
        {"Shape", &Importer::shape},
        {"Gather", &Importer::gather},
        {"Slice", &Importer::slice},
        {"Unsqueeze", &Importer::unsqueeze},
        {"Squeeze", &Importer::squeeze},
    };
    return table;
  }

 public:
  static std::vector<std::string> supported() {
    std::vector<std::string> out;
    for (const auto& entry : handlers()) out.push_back(entry.first);
    return out;
  }

 private:
  void conv(const Node& node) {
    const Value& x = activation_input(node, 0);
    const Value& w = input(node, 1);
    if (w.activation) throw error(node.label, "weights computed at run time are not supported");
    const Shape& xs = shape_of(x);
    const Shape& ws = w.dims;
    const bool one_d = xs.size() == 3;
    if ((xs.size() != 4 && !one_d) || ws.size() != xs.size()) {
      throw error(node.label, "only 1-D and 2-D convolutions are supported (input " + shape_text(xs) + ", weight " +
                                  shape_text(ws) + ")");
    }
    const std::uint64_t groups = positive(node, attr_int(node, "group", 1), "group");
    if (checked_mul(ws[1], groups) != std::optional<std::uint64_t>(xs[1])) {
      throw error(node.label, "weight " + shape_text(ws) + " with group=" + std::to_string(groups) + " does not match " +
                                  std::to_string(xs[1]) + " input channels");
    }
    const std::size_t spatial = one_d ? 1 : 2;
    const Ints kernel = attr_ints(node, "kernel_shape", Ints(ws.end() - static_cast<std::ptrdiff_t>(spatial), ws.end()));
    const Ints strides = attr_ints(node, "strides", Ints(spatial, 1));
    const Ints dilations = attr_ints(node, "dilations", Ints(spatial, 1));
    const Ints pads = attr_ints(node, "pads", Ints(2 * spatial, 0));
    if (kernel.size() != spatial || strides.size() != spatial || dilations.size() != spatial || pads.size() != 2 * spatial) {
      throw error(node.label, "kernel_shape, strides, dilations or pads has the wrong length");
    }
    for (std::size_t i = 0; i < spatial; ++i) {
      if (kernel[i] < 1 || kernel[i] > kMaxWindowAttribute || static_cast<std::uint64_t>(kernel[i]) != ws[2 + i]) {
        throw error(node.label, "kernel_shape does not match the weight " + shape_text(ws));
      }
    }
    ConvParams p;
    p.out_channels = ws[0];
    p.groups = groups;
    p.bias = has_input(node, 2);
    std::size_t in_layer = x.layer;
    const std::size_t a = spatial - 1;  // index of the width axis in the attribute lists
    p.kernel_w = static_cast<std::uint64_t>(kernel[a]);
    p.stride_w = positive(node, strides[a], "stride");
    p.dilation_w = positive(node, dilations[a], "dilation");
    p.pad_w = pad_for(node, xs.back(), p.kernel_w, p.stride_w, p.dilation_w, pads[a], pads[a + spatial], false);
    if (one_d) {
      // N x C x L runs as N x C x 1 x L.
      in_layer = m_graph->add_view(unique_name(node.name + ".as_2d"), x.layer, Shape{xs[0], xs[1], 1, xs[2]});
    } else {
      p.kernel_h = static_cast<std::uint64_t>(kernel[0]);
      p.stride_h = positive(node, strides[0], "stride");
      p.dilation_h = positive(node, dilations[0], "dilation");
      p.pad_h = pad_for(node, xs[2], p.kernel_h, p.stride_h, p.dilation_h, pads[0], pads[2], false);
    }
    std::size_t out = m_graph->add_conv(node.name, in_layer, p);
    if (one_d) {
      const Shape& os = m_graph->layer(out).shape;
      out = m_graph->add_view(unique_name(node.name + ".as_1d"), out, Shape{os[0], os[1], os[3]});
    }
    set_activation(node, out);
  }

  void gemm(const Node& node) {
    const Value& a = activation_input(node, 0);
    const Value& b = input(node, 1);
    const Shape& as = shape_of(a);
    const Shape& bs = shape_of(b);
    if (as.size() != 2 || bs.size() != 2) {
      throw error(node.label, "Gemm expects 2-D operands, got " + shape_text(as) + " and " + shape_text(bs));
    }
    std::size_t a_layer = a.layer;
    if (attr_int(node, "transA", 0) != 0) {
      a_layer = m_graph->add_view(unique_name(node.name + ".a_t"), a.layer, Shape{as[1], as[0]});
    }
    const bool trans_b = attr_int(node, "transB", 0) != 0;
    const std::uint64_t n = trans_b ? bs[0] : bs[1];
    const std::uint64_t k = trans_b ? bs[1] : bs[0];
    if (m_graph->layer(a_layer).shape[1] != k) {
      throw error(node.label, "inner dimensions differ: A " + shape_text(m_graph->layer(a_layer).shape) + ", B " +
                                  shape_text(bs) + (trans_b ? " (transposed)" : ""));
    }
    if (!b.activation) {
      set_activation(node, m_graph->add_linear(node.name, a_layer, n, has_input(node, 2)));
      return;
    }
    std::size_t b_layer = b.layer;
    if (trans_b) b_layer = m_graph->add_view(unique_name(node.name + ".b_t"), b.layer, Shape{k, n});
    std::size_t out = m_graph->add_matmul(has_input(node, 2) ? unique_name(node.name + ".matmul") : node.name, a_layer, b_layer);
    if (has_input(node, 2)) out = m_graph->add_eltwise(node.name, EltwiseKind::kAdd, {out}, shape_of(input(node, 2)));
    set_activation(node, out);
  }

  void matmul(const Node& node) {
    const Value& a = activation_input(node, 0);
    const Value& b = input(node, 1);
    if (b.activation) {
      set_activation(node, m_graph->add_matmul(node.name, a.layer, b.layer));
      return;
    }
    if (b.dims.size() != 2) {
      throw error(node.label, "a constant second operand must be 2-D (a weight matrix), got " + shape_text(b.dims));
    }
    const Shape& as = shape_of(a);
    if (as.size() < 2 || as.back() != b.dims[0]) {
      throw error(node.label, "inner dimensions differ: " + shape_text(as) + " x " + shape_text(b.dims));
    }
    set_activation(node, m_graph->add_linear(node.name, a.layer, b.dims[1], false));
  }

  void batch_norm(const Node& node) {
    set_activation(node, m_graph->add_batch_norm(node.name, activation_input(node, 0).layer));
  }

  void layer_norm(const Node& node) {
    // LayerNormalization (opset 17) normalizes over the axes from `axis` on; nibble's layer
    // norm is over the last one (what transformers use).
    const Value& x = activation_input(node, 0);
    const std::size_t rank = shape_of(x).size();
    const std::uint64_t axis = axis_of(node, attr_int(node, "axis", -1), rank);
    if (axis + 1 != rank) {
      throw error(node.label, "normalization over axes " + std::to_string(axis) + ".." + std::to_string(rank - 1) +
                                  " is not supported (only the last axis)");
    }
    if (node.proto->output_size() > 1) {
      for (int i = 1; i < node.proto->output_size(); ++i) {
        if (!node.proto->output(i).empty()) throw error(node.label, "the Mean and InvStdDev outputs are not supported");
      }
    }
    set_activation(node, m_graph->add_layer_norm(node.name, x.layer));
  }

  void gelu(const Node& node) {
    // Gelu (opset 20); approximate="tanh" costs the same on the vector unit.
    const std::string approximate = attr_string(node, "approximate", "none");
    if (approximate != "none" && approximate != "tanh") throw error(node.label, "unknown approximate '" + approximate + "'");
    set_activation(node, m_graph->add_activation(node.name, activation_input(node, 0).layer, ActivationKind::kGelu));
  }

  void relu(const Node& node) {
    set_activation(node, m_graph->add_activation(node.name, activation_input(node, 0).layer, ActivationKind::kRelu));
  }

  void sigmoid(const Node& node) {
    set_activation(node, m_graph->add_activation(node.name, activation_input(node, 0).layer, ActivationKind::kSigmoid));
  }

  void tanh(const Node& node) {
    set_activation(node, m_graph->add_activation(node.name, activation_input(node, 0).layer, ActivationKind::kTanh));
  }

  void clip(const Node& node) {
    // The lower bound decides whether the output is non-negative (ReLU6 is Clip(0, 6)).
    double low = -1.0;  // no lower bound: signed
    if (const auto* a = attribute(node, "min")) {
      low = a->f();
    } else if (has_input(node, 1)) {
      const Value& v = input(node, 1);
      if (v.scalar) low = *v.scalar;
      if (v.ints && v.ints->size() == 1) low = static_cast<double>((*v.ints)[0]);
    }
    set_activation(node, m_graph->add_activation(node.name, activation_input(node, 0).layer, ActivationKind::kClip, low));
  }

  void pool(const Node& node) {
    const Value& x = activation_input(node, 0);
    const Shape& xs = shape_of(x);
    if (xs.size() != 4) throw error(node.label, "only 2-D pooling is supported (input " + shape_text(xs) + ")");
    const Ints kernel = attr_ints(node, "kernel_shape", {});
    const Ints strides = attr_ints(node, "strides", Ints(2, 1));
    const Ints pads = attr_ints(node, "pads", Ints(4, 0));
    const Ints dilations = attr_ints(node, "dilations", Ints(2, 1));
    if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4) {
      throw error(node.label, "kernel_shape, strides or pads has the wrong length for 2-D pooling");
    }
    if (dilations != Ints{1, 1}) throw error(node.label, "dilated pooling is not supported");
    if (node.proto->output_size() > 1 && !node.proto->output(1).empty()) {
      throw error(node.label, "the Indices output of MaxPool is not supported");
    }
    PoolParams p;
    p.kind = node.proto->op_type() == "MaxPool" ? PoolKind::kMax : PoolKind::kAvg;
    p.ceil_mode = attr_int(node, "ceil_mode", 0) != 0;
    p.kernel_h = positive(node, kernel[0], "kernel");
    p.kernel_w = positive(node, kernel[1], "kernel");
    p.stride_h = positive(node, strides[0], "stride");
    p.stride_w = positive(node, strides[1], "stride");
    p.pad_h = pad_for(node, xs[2], p.kernel_h, p.stride_h, 1, pads[0], pads[2], p.ceil_mode);
    p.pad_w = pad_for(node, xs[3], p.kernel_w, p.stride_w, 1, pads[1], pads[3], p.ceil_mode);
    set_activation(node, m_graph->add_pool(node.name, x.layer, p));
  }

  void global_pool(const Node& node) {
    set_activation(node, m_graph->add_global_pool(node.name, activation_input(node, 0).layer));
  }

  void binary(const Node& node) {
    const std::string& op = node.proto->op_type();
    const Value& a = input(node, 0);
    const Value& b = input(node, 1);
    if (!a.activation && !b.activation) {
      fold_binary(node, a, b);
      return;
    }
    const EltwiseKind kind = op == "Add" ? EltwiseKind::kAdd : op == "Sub" ? EltwiseKind::kSub
                           : op == "Mul" ? EltwiseKind::kMul : EltwiseKind::kDiv;
    if (a.activation && b.activation) {
      set_activation(node, m_graph->add_eltwise(node.name, kind, {a.layer, b.layer}));
      return;
    }
    const Value& act = a.activation ? a : b;
    const Value& constant = a.activation ? b : a;
    const std::size_t constant_elements = shape_elements(constant.dims);
    // A tensor added to an activation is a trainable bias (e.g. MatMul + Add from nn.Linear);
    // a scalar, or a scale that multiplies or divides, is a fixed constant.
    const bool trainable = (kind == EltwiseKind::kAdd || kind == EltwiseKind::kSub) && constant_elements > 1;
    if (trainable) {
      set_activation(node, m_graph->add_eltwise(node.name, kind, {act.layer}, constant.dims));
      return;
    }
    const std::size_t out = m_graph->add_eltwise(node.name, kind, {act.layer});
    if (constant_elements > shape_elements(m_graph->layer(out).shape)) {
      throw error(node.label, "a constant operand larger than the activation is not supported");
    }
    set_activation(node, out);
  }

  void fold_binary(const Node& node, const Value& a, const Value& b) {
    const std::string& op = node.proto->op_type();
    if (!a.ints || !b.ints) {
      // Constant float arithmetic (e.g. a scale computed at export time): only its shape matters.
      set_constant(node, a.dims.size() >= b.dims.size() ? a.dims : b.dims, std::nullopt);
      return;
    }
    const Ints& x = *a.ints;
    const Ints& y = *b.ints;
    if (x.size() != y.size() && x.size() != 1 && y.size() != 1) {
      throw error(node.label, "cannot broadcast integer constants of " + std::to_string(x.size()) + " and " +
                                  std::to_string(y.size()) + " values");
    }
    Ints out;
    const std::size_t n = std::max(x.size(), y.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t p = x[x.size() == 1 ? 0 : i], q = y[y.size() == 1 ? 0 : i];
      std::int64_t r = 0;
      bool overflow = false;
      if (op == "Add") overflow = __builtin_add_overflow(p, q, &r);
      if (op == "Sub") overflow = __builtin_sub_overflow(p, q, &r);
      if (op == "Mul") overflow = __builtin_mul_overflow(p, q, &r);
      if (op == "Div") {
        if (q == 0 || (p == INT64_MIN && q == -1)) throw error(node.label, "integer division by zero or overflow");
        r = p / q;
      }
      if (overflow) throw error(node.label, "integer arithmetic overflows");
      out.push_back(r);
    }
    set_constant(node, x.size() >= y.size() ? a.dims : b.dims, out);
  }

  void concat(const Node& node) {
    bool any_activation = false, all_ints = true;
    for (int i = 0; i < node.proto->input_size(); ++i) {
      const Value& v = input(node, i);
      any_activation = any_activation || v.activation;
      all_ints = all_ints && !v.activation && v.ints.has_value();
    }
    const std::int64_t axis = attr_int(node, "axis", 0);
    if (!any_activation) {
      if (!all_ints) {
        throw error(node.label, "concatenation of constants whose values nibble does not keep (floats, or integer "
                                "lists of more than " + std::to_string(kMaxFoldedInts) + " values) is not supported");
      }
      // Concatenations can feed concatenations, each listing its inputs many times:
      // beyond kMaxFoldedInts the contents are dropped (as for long initializers),
      // or a small file could ask for more memory than exists.
      std::uint64_t total = 0;
      for (int i = 0; i < node.proto->input_size(); ++i) total += input(node, i).ints->size();
      if (total > kMaxFoldedInts) {
        set_constant(node, Shape{total}, std::nullopt);
        return;
      }
      Ints out;
      for (int i = 0; i < node.proto->input_size(); ++i) {
        const Ints& part = *input(node, i).ints;
        out.insert(out.end(), part.begin(), part.end());
      }
      set_constant(node, Shape{out.size()}, out);
      return;
    }
    std::vector<std::size_t> layers;
    for (int i = 0; i < node.proto->input_size(); ++i) {
      const Value& v = input(node, i);
      if (!v.activation) throw error(node.label, "concatenating a constant with activations is not supported");
      layers.push_back(v.layer);
    }
    const std::uint64_t a = axis_of(node, axis, shape_of(input(node, 0)).size());
    set_activation(node, m_graph->add_concat(node.name, layers, a));
  }

  void flatten(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& s = shape_of(x);
    const std::int64_t raw = attr_int(node, "axis", 1);
    const std::uint64_t axis = raw == static_cast<std::int64_t>(s.size()) ? s.size() : axis_of(node, raw, s.size());
    const Shape front(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(axis));
    const Shape back(s.begin() + static_cast<std::ptrdiff_t>(axis), s.end());
    const Shape out{shape_elements(front), shape_elements(back)};
    if (!x.activation) {
      set_constant(node, out, x.ints);
      return;
    }
    set_activation(node, m_graph->add_view(node.name, x.layer, out));
  }

  void reshape(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& in = shape_of(x);
    Ints target = has_input(node, 1) ? ints_of(node, 1) : attr_ints(node, "shape", {});
    if (target.empty() && !has_input(node, 1) && !attribute(node, "shape")) {
      throw error(node.label, "no target shape");
    }
    const bool allow_zero = attr_int(node, "allowzero", 0) != 0;
    // A batch size baked into the file's target shape follows the --batch override.
    if (x.activation && m_batch != m_file_batch && !target.empty() && !in.empty() && in[0] == m_batch &&
        target[0] == static_cast<std::int64_t>(m_file_batch)) {
      target[0] = static_cast<std::int64_t>(m_batch);
    }
    Shape out;
    std::optional<std::size_t> infer;
    for (std::size_t i = 0; i < target.size(); ++i) {
      const std::int64_t t = target[i];
      if (t == -1) {
        if (infer) throw error(node.label, "more than one -1 in the target shape");
        infer = i;
        out.push_back(1);
      } else if (t == 0 && !allow_zero) {
        if (i >= in.size()) throw error(node.label, "target dimension 0 copies a dimension the input does not have");
        out.push_back(in[i]);
      } else if (t < 1) {
        throw error(node.label, "target dimension " + std::to_string(t) + " is not supported");
      } else {
        out.push_back(static_cast<std::uint64_t>(t));
      }
    }
    const std::uint64_t total = shape_elements(in);
    const std::uint64_t known = shape_elements(out);
    if (infer) {
      if (known == 0 || total % known != 0) {
        throw error(node.label, "cannot reshape " + shape_text(in) + " to target with -1 (" + shape_text(out) + ")");
      }
      out[*infer] = total / known;
    }
    if (shape_elements(out) != total) {
      throw error(node.label, "cannot reshape " + shape_text(in) + " (" + std::to_string(total) + " elements) to " +
                                  shape_text(out));
    }
    if (!x.activation) {
      set_constant(node, out, x.ints);
      return;
    }
    set_activation(node, m_graph->add_view(node.name, x.layer, out));
  }

  void softmax(const Node& node) {
    const Value& x = activation_input(node, 0);
    // A node may list no outputs at all (then nothing reads it): never index output(0) blindly.
    const bool is_output = node.proto->output_size() > 0 && m_graph_outputs.count(node.proto->output(0)) > 0;
    if (is_output) {
      // A softmax on the network's output is part of the softmax-cross-entropy loss.
      set_output(node, x);
      m_absorbed.insert(node.proto->output(0));
      return;
    }
    const std::int64_t fallback = m_opset >= 13 ? -1 : 1;
    const std::uint64_t axis = axis_of(node, attr_int(node, "axis", fallback), shape_of(x).size());
    set_activation(node, m_graph->add_softmax(node.name, x.layer, axis));
  }

  void transpose(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& s = shape_of(x);
    Ints perm = attr_ints(node, "perm", {});
    if (perm.empty()) {
      for (std::size_t i = s.size(); i-- > 0;) perm.push_back(static_cast<std::int64_t>(i));
    }
    if (perm.size() != s.size()) throw error(node.label, "perm has " + std::to_string(perm.size()) + " entries for rank " + std::to_string(s.size()));
    Shape out;
    std::set<std::uint64_t> seen;
    for (const auto p : perm) {
      const std::uint64_t a = axis_of(node, p, s.size());
      if (!seen.insert(a).second) throw error(node.label, "perm repeats axis " + std::to_string(a));
      out.push_back(s[a]);
    }
    if (!x.activation) {
      set_constant(node, out, std::nullopt);
      return;
    }
    set_activation(node, m_graph->add_view(node.name, x.layer, out));
  }

  void identity(const Node& node) {
    // Identity, Cast and (inference-mode) Dropout move no data that nibble costs.
    set_output(node, input(node, 0));
  }

  void constant(const Node& node) {
    if (const auto* a = attribute(node, "value")) {
      set_output(node, constant_of(a->t(), node.label));
    } else if (const auto* ints = attribute(node, "value_ints")) {
      const Ints values(ints->ints().begin(), ints->ints().end());
      set_constant(node, Shape{values.size()}, values);
    } else if (const auto* one = attribute(node, "value_int")) {
      set_constant(node, Shape{}, Ints{one->i()});
    } else if (const auto* floats = attribute(node, "value_floats")) {
      set_constant(node, Shape{static_cast<std::uint64_t>(floats->floats_size())}, std::nullopt);
    } else if (const auto* one_float = attribute(node, "value_float")) {
      Value v;
      v.scalar = one_float->f();
      set_output(node, v);
    } else {
      throw error(node.label, "a Constant needs a value, value_ints, value_int, value_floats or value_float attribute");
    }
  }

  void shape(const Node& node) {
    const Shape& s = shape_of(input(node, 0));
    const std::int64_t rank = static_cast<std::int64_t>(s.size());
    std::int64_t start = attr_int(node, "start", 0), end = attr_int(node, "end", rank);
    start = std::clamp(start < 0 ? start + rank : start, std::int64_t{0}, rank);
    end = std::clamp(end < 0 ? end + rank : end, std::int64_t{0}, rank);
    Ints out;
    for (std::int64_t i = start; i < end; ++i) out.push_back(static_cast<std::int64_t>(s[static_cast<std::size_t>(i)]));
    set_constant(node, Shape{out.size()}, out);
  }

  void gather(const Node& node) {
    const Value& data = input(node, 0);
    const Value& indices = input(node, 1);
    if (!data.activation && indices.activation) {
      // A table looked up by token ids: an embedding.
      if (data.dims.size() != 2 || attr_int(node, "axis", 0) != 0) {
        throw error(node.label, "only a 2-D table gathered on axis 0 (an embedding) is supported");
      }
      set_activation(node, m_graph->add_embedding(node.name, indices.layer, data.dims[0], data.dims[1], 1));
      return;
    }
    if (!data.activation && !indices.activation && !data.ints && data.dims.size() == 2 &&
        attr_int(node, "axis", 0) == 0) {
      // Rows of a float table at fixed indices (BERT's position embeddings for position_ids
      // 0..S-1): a constant, which an Add then applies as a trained tensor.
      Shape dims = indices.dims;
      dims.push_back(data.dims[1]);
      set_constant(node, dims, std::nullopt);
      return;
    }
    if (data.activation || indices.activation) {
      throw error(node.label, "gathering from an activation is not supported (only shape arithmetic and embeddings)");
    }
    if (!data.ints || !indices.ints || data.dims.size() > 1) {
      throw error(node.label, "only gathering from a 1-D list of integers (shape arithmetic) is supported");
    }
    Ints out;
    const std::int64_t size = static_cast<std::int64_t>(data.ints->size());
    for (std::int64_t i : *indices.ints) {
      if (i < 0) i += size;
      if (i < 0 || i >= size) throw error(node.label, "index out of range");
      out.push_back((*data.ints)[static_cast<std::size_t>(i)]);
    }
    set_constant(node, indices.dims, out);
  }

  /// Slice (opset 1: attributes; 10 and later: inputs) with positive steps: of an
  /// activation, a copy of the part (a slice layer); of a constant, the part of its integers
  /// (BERT's position_ids[:, :S]) or, for floats, its shape.
  void slice(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& in = shape_of(x);
    const bool from_inputs = m_opset >= 10;
    const Ints starts = from_inputs ? ints_of(node, 1) : attr_ints(node, "starts", {});
    const Ints ends = from_inputs ? ints_of(node, 2) : attr_ints(node, "ends", {});
    Ints axes = from_inputs ? (has_input(node, 3) ? ints_of(node, 3) : Ints{}) : attr_ints(node, "axes", {});
    const Ints steps = from_inputs && has_input(node, 4) ? ints_of(node, 4) : Ints(starts.size(), 1);
    if (axes.empty()) {
      for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
    }
    if (starts.empty() || starts.size() != ends.size() || starts.size() != axes.size() || steps.size() != starts.size()) {
      throw error(node.label, "starts, ends, axes and steps must have the same, non-zero length");
    }
    std::vector<std::uint64_t> begin(in.size(), 0), step(in.size(), 1);
    Shape out = in;
    std::set<std::uint64_t> seen;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      const std::uint64_t a = axis_of(node, axes[i], in.size());
      if (!seen.insert(a).second) throw error(node.label, "axis " + std::to_string(a) + " sliced twice");
      if (steps[i] < 1) throw error(node.label, "only positive steps are supported, got " + std::to_string(steps[i]));
      const std::int64_t dim = static_cast<std::int64_t>(std::min<std::uint64_t>(in[a], INT64_MAX / 2));
      const auto clamp = [&](std::int64_t v) { return std::clamp(v < 0 ? (v < -dim ? 0 : v + dim) : v, std::int64_t{0}, dim); };
      const std::int64_t b = clamp(starts[i]), e = clamp(ends[i]);
      if (e <= b) throw error(node.label, "the slice of axis " + std::to_string(a) + " is empty");
      begin[a] = static_cast<std::uint64_t>(b);
      step[a] = static_cast<std::uint64_t>(steps[i]);
      out[a] = static_cast<std::uint64_t>((e - b + steps[i] - 1) / steps[i]);
    }
    if (x.activation) {
      set_activation(node, m_graph->add_slice(node.name, x.layer, out));
      return;
    }
    if (!x.ints || x.ints->size() != shape_elements(in)) {
      set_constant(node, out, std::nullopt);
      return;
    }
    // Integer constants hold at most kMaxFoldedInts values: walk the output's indices.
    const std::uint64_t count = shape_elements(out);
    Ints values;
    values.reserve(count);
    std::vector<std::uint64_t> index(out.size(), 0);
    for (std::uint64_t n = 0; n < count; ++n) {
      std::uint64_t flat = 0;
      for (std::size_t d = 0; d < in.size(); ++d) flat = flat * in[d] + begin[d] + index[d] * step[d];
      values.push_back((*x.ints)[flat]);
      for (std::size_t d = out.size(); d-- > 0;) {
        if (++index[d] < out[d]) break;
        index[d] = 0;
      }
    }
    set_constant(node, out, values);
  }

  Ints axes_of(const Node& node) const {
    if (has_input(node, 1)) return ints_of(node, 1);
    return attr_ints(node, "axes", {});
  }

  void unsqueeze(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& s = shape_of(x);
    const Ints axes = axes_of(node);
    const std::size_t rank = s.size() + axes.size();
    std::set<std::uint64_t> positions;
    for (const auto a : axes) positions.insert(axis_of(node, a, rank));
    if (positions.size() != axes.size()) throw error(node.label, "repeated axes");
    Shape out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < rank; ++i) out.push_back(positions.count(i) ? 1 : s[next++]);
    if (!x.activation) {
      set_constant(node, out, x.ints);
      return;
    }
    set_activation(node, m_graph->add_view(node.name, x.layer, out));
  }

  void squeeze(const Node& node) {
    const Value& x = input(node, 0);
    const Shape& s = shape_of(x);
    const Ints axes = axes_of(node);
    std::set<std::uint64_t> drop;
    for (const auto a : axes) {
      const std::uint64_t i = axis_of(node, a, s.size());
      if (s[i] != 1) throw error(node.label, "cannot squeeze axis " + std::to_string(i) + " of size " + std::to_string(s[i]));
      drop.insert(i);
    }
    Shape out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (axes.empty() ? s[i] != 1 : !drop.count(i)) out.push_back(s[i]);
    }
    if (!x.activation) {
      set_constant(node, out, x.ints);
      return;
    }
    set_activation(node, m_graph->add_view(node.name, x.layer, out));
  }

  // ---- outputs ----------------------------------------------------------------------

  void add_losses() {
    int losses = 0;
    for (const auto& output : m_model.graph().output()) {
      const auto it = m_values.find(output.name());
      if (it == m_values.end()) throw error("output '" + output.name() + "'", "is not produced by any node");
      if (!it->second.activation) continue;
      m_graph->add_loss(unique_name("loss." + output.name()), it->second.layer);
      ++losses;
    }
    if (losses == 0) throw error("", "no graph output is computed from the data inputs");
  }

  std::string_view m_bytes;                  ///< the file's contents
  std::string m_origin;                      ///< file name for errors
  std::string m_model_name;                  ///< graph name
  OnnxOptions m_options;                     ///< batch override, skip_unknown
  onnx::ModelProto m_model;                  ///< the parsed file
  std::int64_t m_opset = 13;                 ///< default-domain opset (changes some defaults)
  std::uint64_t m_file_batch = 1;            ///< batch dimension as written in the file
  std::uint64_t m_batch = 1;                 ///< batch dimension of the graph
  std::optional<Graph> m_graph;              ///< built once the batch is known
  // Hash containers: lookups stay O(1) per node on graphs of 100,000 nodes (the elements
  // never move, so references to values survive later inserts, as in std::map).
  std::unordered_map<std::string, Value> m_values;  ///< tensor name -> meaning
  std::unordered_set<std::string> m_names;   ///< layer names in use
  std::set<std::string> m_graph_outputs;     ///< names of the graph's outputs
  std::unordered_map<std::string, const onnx::ValueInfoProto*> m_value_info;  ///< shaped value_info/outputs by name
  bool m_value_info_indexed = false;         ///< m_value_info built
  std::unordered_map<std::string, int> m_producer;  ///< tensor name -> index of the node writing it
  std::unordered_map<std::string, std::vector<int>> m_users;  ///< tensor name -> nodes reading it, in order
  std::map<int, Pattern> m_patterns;         ///< anchor node index -> the chain it completes
  std::set<int> m_inner;                     ///< nodes inside a chain (not its anchor)
  std::set<std::string> m_absorbed;          ///< outputs whose softmax the loss absorbed
  std::vector<OnnxSkipped> m_skipped;        ///< nodes left out
};

std::string model_name_of(const std::string& path) {
  std::string stem = path;
  const std::size_t slash = stem.find_last_of('/');
  std::string dir;
  if (slash != std::string::npos) {
    dir = stem.substr(0, slash);
    stem = stem.substr(slash + 1);
    const std::size_t parent = dir.find_last_of('/');
    if (parent != std::string::npos) dir = dir.substr(parent + 1);
  }
  const std::size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos && dot > 0) stem.resize(dot);
  // ONNX test suites name every file model.onnx: the folder says what it is.
  if (stem == "model" && !dir.empty()) stem = dir;
  return sanitize(stem);
}

}  // namespace

OnnxImport import_onnx_bytes(std::string_view bytes, const std::string& origin, const std::string& model_name,
                             const OnnxOptions& options) {
  if (options.batch && *options.batch == 0) throw InputError(origin, 0, "batch", "expected a batch size >= 1, got 0");
  return Importer(bytes, origin, model_name, options).run();
}

OnnxImport import_onnx(const std::string& path, const OnnxOptions& options) {
  const std::string bytes = read_file(path, kMaxModelFileBytes);
  return import_onnx_bytes(bytes, path, model_name_of(path), options);
}

const std::vector<std::string>& onnx_supported_ops() {
  static const std::vector<std::string> ops = Importer::supported();
  return ops;
}

}  // namespace nibble::models
