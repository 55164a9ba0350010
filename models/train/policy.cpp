#include "models/train/policy.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "models/train/quant.hpp"
#include "sim/common/error.hpp"
#include "sim/common/text.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/design/pe_support.hpp"
#include "workloads/expand.hpp"

namespace nibble::train {

namespace {

using numerics::Format;

struct AblationEntry {
  const char* name;         ///< emulator policy name
  const char* description;  ///< for --help
  Ablation ablation;        ///< what changes
};

const std::vector<AblationEntry>& ablations() {
  static const std::vector<AblationEntry> table = {
      {"int4-fp4-no-tpr", "int4-fp4, both backward GEMMs on the even FP4 phase (no two-phase rounding)",
       Ablation{false, true, false}},
      {"int4-fp4-radix2", "int4-fp4 with radix-2 FP4 gradients (+-2^(e-bias), same 4 bits, no TPR)",
       Ablation{false, true, true}},
      {"int4-fp4-no-gradscale", "int4-fp4 with the FP4 gradient scale fixed at 1 (no GradScale)",
       Ablation{true, false, false}},
  };
  return table;
}

bool is_fp4(Format f) { return f == Format::kFp4 || f == Format::kFp4Radix2; }

bool is_int4_or_fp4(Format f) { return is_fp4(f) || f == Format::kInt4 || f == Format::kUint4; }

}  // namespace

HardwareArith hardware_of(const design::Design& design, const std::string& path) {
  if (design.array.dataflow == design::Dataflow::kOs) {
    // Output-stationary folds start each k-chunk's sum from zero and the
    // output buffer adds the chunk sums (docs/timing.md); the emulator sums
    // every dot product sequentially over k (weight- and input-stationary).
    throw InputError(path, 0, "array.dataflow",
                     "the training emulator sums each dot product sequentially over k, as the weight- and "
                     "input-stationary arrays do; output-stationary fold sums (dataflow: os) are not emulated: use "
                     "dataflow: ws or is for nibble train");
  }
  HardwareArith hw;
  hw.design = design;
  hw.fp4_bias = design.array.fp4_bias;
  hw.chunk = design.array.chunk != 0 ? design.array.chunk : design.array.rows;
  hw.source = path;
  return hw;
}

/// int4-fp4 with the first and last GEMM layers in 4 bits too (the named
/// form of tests/train/policies/all-int4.yaml).
constexpr const char* kInt4Fp4All = "int4-fp4-all";

const std::vector<std::string>& train_policy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = workloads::precision_names();
    out.emplace_back(kInt4Fp4All);
    for (const auto& a : ablations()) out.emplace_back(a.name);
    // The block policies are trace precisions too (workloads/policy.hpp): listed once.
    for (const auto& b : block_policy_names()) {
      if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
    }
    return out;
  }();
  return names;
}

std::string train_policy_summary() {
  std::string out =
      "  fp32                   FP32 everywhere (the reference)\n"
      "  fp16                   FP16 operands, FP32 accumulation\n"
      "  hfp8                   FP8 [1,4,3] forward, FP8 [1,5,2] gradients, FP16 accumulation\n"
      "  int4-fp4               INT4 weights (SAWB), UINT4 activations (PACT), radix-4 FP4 gradients\n"
      "                         (GradScale, TPR), FP16 accumulation; first and last layers FP16\n"
      "  int4-fp4-all           int4-fp4 with every GEMM layer in 4 bits, first and last included\n";
  for (const auto& a : ablations()) {
    std::string name = a.name;
    name.resize(23, ' ');
    out += "  " + name + a.description + "\n";
  }
  out += block_policy_summary();
  out.pop_back();  // no final newline: the caller places it
  return out;
}

TrainPolicy make_train_policy(const std::string& name, const std::optional<std::string>& policy_file) {
  TrainPolicy policy;
  policy.name = name;
  std::string base = name;
  bool known = workloads::parse_precision(name).has_value();
  const bool all_four_bit = name == kInt4Fp4All;
  if (all_four_bit) {
    base = "int4-fp4";
    known = true;
  }
  for (const auto& a : ablations()) {
    if (name == a.name) {
      base = "int4-fp4";
      policy.ablation = a.ablation;
      known = true;
    }
  }
  std::optional<BlockPolicy> block = named_block_policy(name);
  std::optional<YAML::Node> block_section;
  std::optional<YAML::Node> attention_key;
  if (policy_file) {
    const YAML::Node root = config::load_yaml_file(*policy_file);
    if (root.IsMap() && root["block"]) block_section = root["block"];
    if (root.IsMap() && root["attention"]) attention_key = root["attention"];
  }
  if (block || block_section) {
    // Block formats quantize on top of an FP32 base: FP32 accumulation, FP32 between GEMMs.
    if (!block && name != "fp32") {
      throw InputError(*policy_file, config::line_of(*block_section), "block",
                       "block formats replace the per-tensor ones: run with " + setting_ref("policy") +
                           " fp32 or a block policy (" +
                           [] {
                             std::string l;
                             for (const auto& b : block_policy_names()) l += (l.empty() ? "" : ", ") + b;
                             return l;
                           }() +
                           "), got " + setting_ref("policy") + " " + name);
    }
    policy.base = policy_file ? workloads::read_policy_file(*policy_file, std::string("fp32"))
                              : workloads::named_policy("fp32");
    if (attention_key) {
      // The block section says what every GEMM layer runs, attention's matmuls included.
      throw InputError(*policy_file, config::line_of(*attention_key), "attention",
                       "a block policy sets the attention matmuls itself (nvfp4: bf16; the others: as the middle "
                       "layers); set one with block.layers.NAME instead");
    }
    if (block_section) block = parse_block_policy(*block_section, *policy_file, config::line_of(*block_section), block);
    // A file renames the policy ("mxfp4+file" unless it says `name:`).
    const std::string prefix = "fp32+";
    if (!policy_file) {
      policy.name = name;
    } else if (policy.base.name.compare(0, prefix.size(), prefix) == 0 && block->name != "fp32") {
      policy.name = block->name + policy.base.name.substr(prefix.size() - 1);
    } else {
      policy.name = policy.base.name;
    }
    policy.base.name = policy.name;
    policy.block = std::move(block);
    return policy;
  }
  if (!known) {
    std::string list;
    for (const auto& n : train_policy_names()) list += (list.empty() ? "" : ", ") + n;
    const std::string guess = closest_match(name, train_policy_names());
    throw SettingError("policy",
                       "unknown policy '" + name + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                           "; expected one of " + list);
  }
  if (policy_file) {
    policy.base = workloads::read_policy_file(*policy_file, base);
    // A file renames the policy ("int4-fp4+file"); keep the ablation visible.
    policy.name = name == base ? policy.base.name : policy.base.name + "+" + name.substr(base.size() + 1);
  } else {
    policy.base = workloads::named_policy(base);
  }
  if (all_four_bit) {
    // A policy file's per-layer entries still win over first_last.
    policy.base.first_last = workloads::Precision::kInt4Fp4;
    if (!policy_file) policy.base.name = kInt4Fp4All;
  }
  return policy;
}

std::vector<LayerArith> plan_arithmetic(const models::Graph& graph, const TrainPolicy& policy,
                                        const HardwareArith& hw) {
  const std::vector<workloads::Precision> precisions = workloads::layer_precisions(graph, policy.base);
  const std::vector<bool> non_negative = models::non_negative(graph);
  std::vector<LayerArith> out(graph.size());
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const models::Layer& layer = graph.layer(i);
    if (!models::is_gemm_layer(layer.type) || layer.inputs.empty()) continue;
    const workloads::Precision precision = precisions.at(i);
    workloads::PrecisionFormats f = workloads::precision_formats(precision, non_negative.at(layer.inputs[0]));
    LayerArith& a = out[i];
    a.params.fp4_bias = hw.fp4_bias;
    a.params.chunk = hw.chunk;
    a.params.fp4_rounding = hw.fp4_rounding;
    a.tpr = workloads::uses_two_phase_rounding(precision);
    a.gradscale = false;  // GradScale serves FP4 gradients only
    if (precision == workloads::Precision::kInt4Fp4) {
      if (policy.ablation.radix2) f.gradient = Format::kFp4Radix2;
      a.tpr = a.tpr && policy.ablation.tpr && !policy.ablation.radix2;
      a.gradscale = policy.ablation.gradscale;
    }
    a.forward = {f.activation, f.weight, f.acc};
    a.input_grad = {f.gradient, f.weight, f.acc};
    a.weight_grad = {f.activation, f.gradient, f.acc};
  }
  if (policy.block) {
    std::vector<std::size_t> gemms;
    for (std::size_t i = 0; i < graph.size(); ++i) {
      if (models::is_gemm_layer(graph.layer(i).type) && !graph.layer(i).inputs.empty()) gemms.push_back(i);
    }
    // The attention matmuls: the block policy's own choice (nvfp4: BF16, as NVIDIA's recipe
    // keeps them; the trace's named policy sets the same), else as the middle layers.
    const std::optional<BlockArith>& attention = policy.block->attention;
    for (std::size_t k = 0; k < gemms.size(); ++k) {
      const bool matmul = graph.layer(gemms[k]).type == models::LayerType::kMatMul;
      out[gemms[k]].block = k == 0                  ? policy.block->first
                            : k + 1 == gemms.size() ? policy.block->last
                            : matmul && attention   ? *attention
                                                    : policy.block->middle;
    }
    for (const BlockLayerOverride& o : policy.block->layers) {
      const std::size_t index = graph.find(o.layer);
      if (index >= graph.size() || !models::is_gemm_layer(graph.layer(index).type)) {
        throw InputError(policy.block->file, o.line, "block.layers." + o.layer,
                         "no GEMM layer of that name in the model");
      }
      out[index].block = o.arith;
    }
  }
  if (hw.design) {
    // The design's accumulator for each GEMM, as the simulator plans it. The
    // radix-2 ablation is planned as radix-4 FP4: the same shift datapath.
    const workloads::Trace trace = workloads::expand_training_step(graph, policy.base);
    for (workloads::TraceOp op : trace.ops) {
      if (!op.is_gemm()) continue;
      const std::size_t index = graph.find(op.layer);
      if (index >= graph.size()) continue;
      LayerArith& a = out[index];
      GemmFormats& g = op.phase == workloads::Phase::kForward     ? a.forward
                       : op.phase == workloads::Phase::kInputGrad ? a.input_grad
                                                                  : a.weight_grad;
      op.a_format = g.a == Format::kFp4Radix2 ? Format::kFp4 : g.a;
      op.b_format = g.b == Format::kFp4Radix2 ? Format::kFp4 : g.b;
      const design::Execution exec = design::plan_execution(*hw.design, op);
      g.acc = exec.acc;
      const design::MatrixUnit unit = hw.design->unit(exec.unit);
      g.dot = unit.array.dot_product;
      if (g.dot > 1 && !(is_int4_or_fp4(g.a) && is_int4_or_fp4(g.b))) {
        // The exactness argument of the kernels' group sums (models/train/gemm.cpp) holds for
        // INT4/FP4 products only; a wider dot product would need an exact tree the emulator lacks.
        throw InputError(hw.source, 0, "dot_product",
                         "the training emulator runs dot-product PEs on INT4/FP4 operands only; layer '" + op.layer +
                             "' multiplies " + std::string(numerics::format_name(g.a)) + " x " +
                             std::string(numerics::format_name(g.b)) + " on unit '" + unit.name +
                             "' (dot_product " + std::to_string(g.dot) + ")");
      }
    }
  }
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const models::Layer& layer = graph.layer(i);
    if (!models::is_gemm_layer(layer.type) || layer.inputs.empty()) continue;
    const LayerArith& a = out[i];
    for (const auto& [phase, g] : {std::pair<const char*, const GemmFormats*>{"forward", &a.forward},
                                   {"input-gradient", &a.input_grad},
                                   {"weight-gradient", &a.weight_grad}}) {
      if (!accumulation_supported(g->a, g->b, g->acc)) {
        throw InputError(hw.source, 0, layer.name,
                         std::string("the ") + phase + " GEMM multiplies " + std::string(numerics::format_name(g->a)) +
                             " x " + std::string(numerics::format_name(g->b)) +
                             ", which the emulator cannot accumulate in " + std::string(numerics::format_name(g->acc)));
      }
    }
  }
  return out;
}

workloads::Trace trace_of_run(const models::Graph& graph, const TrainPolicy& policy,
                              const std::vector<LayerArith>& plan) {
  using workloads::Phase;
  workloads::Trace trace = workloads::expand_training_step(graph, policy.base);
  trace.policy = workloads::sanitize_trace_name(policy.name);
  std::vector<workloads::TraceOp> ops;
  // Tensors of dropped ops -> the copies read instead (the trace names its tensors).
  std::map<std::string, std::string> renamed;
  for (workloads::TraceOp op : trace.ops) {
    for (auto& name : op.reads) {
      const auto it = renamed.find(name);
      if (it != renamed.end()) name = it->second;
    }
    const std::size_t index = graph.find(op.layer);
    const bool gemm_layer = index < graph.size() && models::is_gemm_layer(graph.layer(index).type);
    if (!gemm_layer) {
      ops.push_back(op);
      continue;
    }
    const LayerArith& a = plan.at(index);
    if (op.is_gemm()) {
      const GemmFormats& f = op.phase == Phase::kForward     ? a.forward
                             : op.phase == Phase::kInputGrad ? a.input_grad
                                                             : a.weight_grad;
      op.a_format = f.a;
      op.b_format = f.b;
      // C keeps the trace's storage format; a store_format equal to acc is written as none.
      const numerics::Format stored = op.stored_format();
      op.acc_format = f.acc;
      op.store_format.reset();
      if (stored != f.acc) op.store_format = stored;
    } else if (op.vector == workloads::VectorKind::kQuantize && is_fp4(op.out_format)) {
      op.out_format = a.weight_grad.b;
      // Without TPR the input-gradient copy also feeds the weight-gradient GEMM.
      const auto input_grad_copy = std::find_if(trace.ops.begin(), trace.ops.end(), [&](const workloads::TraceOp& o) {
        return o.layer == op.layer && !o.is_gemm() && o.vector == workloads::VectorKind::kQuantize &&
               o.phase == Phase::kInputGrad && is_fp4(o.out_format);
      });
      if (!a.tpr && op.phase == Phase::kWeightGrad && input_grad_copy != trace.ops.end()) {
        for (std::size_t w = 0; w < op.writes.size() && w < input_grad_copy->writes.size(); ++w) {
          renamed[op.writes[w]] = input_grad_copy->writes[w];
        }
        continue;
      }
    }
    ops.push_back(op);
  }
  trace.ops = std::move(ops);
  return trace;
}

}  // namespace nibble::train
