#include "workloads/policy.hpp"

#include <array>
#include <set>
#include <utility>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/config/yaml_reader.hpp"
#include "workloads/trace.hpp"

namespace nibble::workloads {

namespace {

constexpr std::array<std::pair<Precision, std::string_view>, 8> kPrecisions{{
    {Precision::kFp32, "fp32"},
    {Precision::kFp16, "fp16"},
    {Precision::kHfp8, "hfp8"},
    {Precision::kInt4Fp4, "int4-fp4"},
    {Precision::kBf16, "bf16"},
    {Precision::kMxfp8, "mxfp8"},
    {Precision::kMxfp4, "mxfp4"},
    {Precision::kNvfp4, "nvfp4"},
}};

std::string file_stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}

}  // namespace

std::string_view precision_name(Precision precision) {
  for (const auto& [p, name] : kPrecisions) {
    if (p == precision) return name;
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view name) {
  for (const auto& [p, n] : kPrecisions) {
    if (n == name) return p;
  }
  return std::nullopt;
}

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : kPrecisions) out.emplace_back(entry.second);
    return out;
  }();
  return names;
}

PrecisionFormats precision_formats(Precision precision, bool non_negative) {
  switch (precision) {
    case Precision::kFp32:
      return {Format::kFp32, Format::kFp32, Format::kFp32, Format::kFp32};
    case Precision::kFp16:
      return {Format::kFp16, Format::kFp16, Format::kFp16, Format::kFp32};
    case Precision::kHfp8:
      return {Format::kFp8E4M3, Format::kFp8E4M3, Format::kFp8E5M2, Format::kFp16};
    case Precision::kInt4Fp4:
      return {non_negative ? Format::kUint4 : Format::kInt4, Format::kInt4, Format::kFp4, Format::kFp16};
    case Precision::kBf16:
      return {Format::kBf16, Format::kBf16, Format::kBf16, Format::kFp32};
    case Precision::kMxfp8:
      return {Format::kMxfp8E4M3, Format::kMxfp8E4M3, Format::kMxfp8E5M2, Format::kFp32};
    case Precision::kMxfp4:
      return {Format::kMxfp4, Format::kMxfp4, Format::kMxfp4, Format::kFp32};
    case Precision::kNvfp4:
      return {Format::kNvfp4, Format::kNvfp4, Format::kNvfp4, Format::kFp32};
  }
  return {Format::kFp32, Format::kFp32, Format::kFp32, Format::kFp32};
}

bool uses_two_phase_rounding(Precision precision) { return precision == Precision::kInt4Fp4; }

bool uses_transposed_requantization(Precision precision) {
  return precision == Precision::kMxfp8 || precision == Precision::kMxfp4 || precision == Precision::kNvfp4;
}

bool weights_square_blocks(Precision precision) { return precision == Precision::kNvfp4; }

bool uses_hadamard(Precision precision) { return precision == Precision::kNvfp4; }

Format Policy::storage() const {
  if (base == Precision::kFp32) return Format::kFp32;
  // Block-scaled training keeps the tensors between GEMMs in BF16 (NVIDIA's
  // NVFP4 recipe, docs/references.md); the others in FP16.
  return numerics::is_block_format(precision_formats(base, false).weight) ? Format::kBf16 : Format::kFp16;
}

Policy named_policy(const std::string& name) {
  const auto precision = parse_precision(name);
  if (!precision) {
    std::string all;
    for (const auto& n : precision_names()) all += (all.empty() ? "" : ", ") + n;
    const std::string suggestion = closest_match(name, precision_names());
    throw InputError("", 0, "policy",
                     "unknown policy '" + name + "'" + (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                         "; expected one of " + all);
  }
  Policy policy;
  policy.name = name;
  policy.base = *precision;
  // int4-fp4 keeps the first and last layers in FP16; mxfp8 and mxfp4 keep them
  // in BF16 and nvfp4 its last ones (the emulator's block policies,
  // models/train/block_quant.hpp); fp32, fp16, hfp8 and bf16 are uniform.
  switch (*precision) {
    case Precision::kInt4Fp4:
      policy.first_last = Precision::kFp16;
      // The attention matmuls (QK^T, PV) multiply two activations: in 4 bits the
      // softmax probabilities would be UINT4 with a step of 1/15 of the largest,
      // while most of a row of T probabilities lies near 1/T and would round to
      // zero. 4-bit transformer training keeps them wider (NVIDIA's NVFP4 recipe,
      // docs/references.md): FP16, as the first and last layers. A policy file's
      // `attention:` key chooses otherwise.
      policy.attention = Precision::kFp16;
      break;
    case Precision::kMxfp8:
    case Precision::kMxfp4: policy.first_last = Precision::kBf16; break;
    case Precision::kNvfp4:
      policy.first_last = Precision::kBf16;
      policy.first = Precision::kNvfp4;
      // The recipe quantizes the linear layers' GEMMs only: attention's QK^T and PV
      // stay BF16 (NVIDIA, arXiv 2509.25149; docs/references.md).
      policy.attention = Precision::kBf16;
      break;
    default: policy.first_last = *precision; break;
  }
  return policy;
}

Policy parse_policy_text(const std::string& text, const std::string& origin,
                         const std::optional<std::string>& cli_policy) {
  config::YamlMap top(config::load_yaml_text(text, origin), origin, "");
  Policy policy = named_policy(cli_policy.value_or("int4-fp4"));
  if (top.has("policy")) {
    const std::string base = top.choice("policy", precision_names());
    if (cli_policy && *cli_policy != base) {
      throw top.error("policy", "the file says '" + base + "' but " + setting_ref("policy") + " says '" + *cli_policy +
                                    "'; give one of them, or make them agree");
    }
    policy = named_policy(base);
  }
  policy.file = origin;
  policy.name = top.has("name") ? top.string("name") : policy.name + "+" + sanitize_trace_name(file_stem(origin));
  if (!is_valid_trace_name(policy.name)) {
    throw top.error("name", "expected 1 to 256 printable characters without spaces, got '" + policy.name + "'");
  }
  if (top.has("first_last")) {
    policy.first_last = *parse_precision(top.choice("first_last", precision_names()));
    policy.first.reset();
  }
  if (top.has("conv1x1")) policy.conv1x1 = *parse_precision(top.choice("conv1x1", precision_names()));
  if (top.has("attention")) policy.attention = *parse_precision(top.choice("attention", precision_names()));
  if (top.has("im2col")) policy.im2col = *parse_im2col(top.choice("im2col", {std::string(im2col_name(Im2col::kDram)),
                                                                              std::string(im2col_name(Im2col::kOnChip))}));
  if (top.has("layers")) {
    config::YamlMap layers = top.map("layers");
    std::set<std::string> seen;
    for (const auto& entry : layers.node()) {
      const std::string key = config::scalar_text(entry.first, origin, "layers");
      if (!seen.insert(key).second) throw layers.error(key, "layer listed twice");
      const std::string value = layers.choice(key, precision_names());
      policy.layers.push_back(LayerOverride{key, *parse_precision(value), config::line_of(entry.first)});
    }
    layers.finish();
  }
  // `block:` (block-scaled operands) is read by the training emulator (models/train/block_quant.hpp).
  top.finish({"policy", "name", "first_last", "conv1x1", "attention", "im2col", "layers", "block"});
  return policy;
}

Policy read_policy_file(const std::string& path, const std::optional<std::string>& cli_policy) {
  return parse_policy_text(read_file(path), path, cli_policy);
}

}  // namespace nibble::workloads
