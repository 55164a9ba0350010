// The `block:` section of a policy file: per tensor role of each of the three
// GEMMs, the block format, block shape, rounding and Hadamard transform
// (docs/training.md, "Block-scaled policies"). Errors name file:line and the key path.
#include <set>

#include "models/train/block_quant.hpp"
#include "sim/config/yaml_reader.hpp"

namespace nibble::train {

namespace {

struct RoleKey {
  const char* name;                                ///< key in the file
  OperandQuant GemmBlockQuant::*operand;           ///< a or b
  GemmBlockQuant BlockArith::*gemm;                ///< which GEMM
};

const std::vector<RoleKey>& role_keys() {
  static const std::vector<RoleKey> keys{
      {"forward.activation", &GemmBlockQuant::a, &BlockArith::forward},
      {"forward.weight", &GemmBlockQuant::b, &BlockArith::forward},
      {"input_grad.gradient", &GemmBlockQuant::a, &BlockArith::input_grad},
      {"input_grad.weight", &GemmBlockQuant::b, &BlockArith::input_grad},
      {"weight_grad.activation", &GemmBlockQuant::a, &BlockArith::weight_grad},
      {"weight_grad.gradient", &GemmBlockQuant::b, &BlockArith::weight_grad},
  };
  return keys;
}

std::vector<std::string> format_choices() {
  std::vector<std::string> out{"fp32"};
  for (const auto& f : numerics::block_formats()) out.emplace_back(f.name);
  return out;
}

OperandQuant parse_operand(config::YamlMap& m) {
  OperandQuant q;
  const std::string format = m.choice("format", format_choices());
  q.format = numerics::find_block_format(format);  // nullptr for fp32
  q.two_d = m.choice_or("blocks", "1d", {"1d", "16x16"}) == "16x16";
  q.rounding = *numerics::parse_block_rounding(m.choice_or("rounding", "nearest-even", {"nearest-even", "stochastic"}));
  q.hadamard = m.boolean_or("hadamard", false);
  m.finish();
  return q;
}

/// Applies a mapping role -> operand to `arith`; roles not named keep their setting.
void parse_roles(config::YamlMap& m, BlockArith& arith) {
  for (const auto& key : role_keys()) {
    if (!m.has(key.name)) continue;
    config::YamlMap operand = m.map(key.name);
    (arith.*key.gemm).*key.operand = parse_operand(operand);
  }
  m.finish();
  // A Hadamard transform cancels in the product only when both operands of the GEMM take it.
  for (const auto& [gemm, name] : {std::pair<const GemmBlockQuant*, const char*>{&arith.forward, "forward"},
                                   {&arith.input_grad, "input_grad"},
                                   {&arith.weight_grad, "weight_grad"}}) {
    if (gemm->a.hadamard != gemm->b.hadamard) {
      throw m.error(std::string(name) + (gemm == &arith.forward ? ".activation" : gemm == &arith.input_grad
                                                                                       ? ".gradient"
                                                                                       : ".activation"),
                    std::string("hadamard must be the same on both operands of the ") + name +
                        " GEMM (the transforms cancel only in pairs)");
    }
    if ((gemm->a.hadamard && gemm->a.format == nullptr) || (gemm->b.hadamard && gemm->b.format == nullptr)) {
      throw m.error(name, "hadamard needs a block format on both operands (fp32 operands are not transformed)");
    }
  }
}

}  // namespace

BlockPolicy parse_block_policy(const YAML::Node& node, const std::string& file, std::int64_t line,
                               const std::optional<BlockPolicy>& start) {
  config::YamlMap top(node, file, "block", line);
  BlockPolicy policy = start.value_or(BlockPolicy{"fp32", {}, {}, {}, {}, "", std::nullopt});
  if (top.has("policy")) {
    const std::string name = top.choice("policy", block_policy_names());
    policy = *named_block_policy(name);
  }
  for (const auto& [key, arith] : {std::pair<const char*, BlockArith*>{"first", &policy.first},
                                   {"middle", &policy.middle},
                                   {"last", &policy.last}}) {
    if (!top.has(key)) continue;
    config::YamlMap roles = top.map(key);
    parse_roles(roles, *arith);
  }
  if (top.has("layers")) {
    config::YamlMap layers = top.map("layers");
    std::set<std::string> seen;
    for (const auto& entry : layers.node()) {
      const std::string name = config::scalar_text(entry.first, file, "block.layers");
      if (!seen.insert(name).second) throw layers.error(name, "layer listed twice");
      config::YamlMap roles = layers.map(name);
      BlockLayerOverride o{name, policy.middle, config::line_of(entry.first)};
      parse_roles(roles, o.arith);
      policy.layers.push_back(o);
    }
    layers.finish();
  }
  top.finish();
  policy.file = file;
  return policy;
}

}  // namespace nibble::train
