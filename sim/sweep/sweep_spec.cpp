#include "sim/sweep/sweep_spec.hpp"

#include <filesystem>
#include <set>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/config/yaml_reader.hpp"

namespace nibble::sweep {

namespace fs = std::filesystem;

std::string SweepPoint::signature() const {
  std::string out = "design=" + design;
  for (const auto& [key, value] : overrides) out += ";" + key + "=" + value;
  out += ";model=" + workload.model + ";batch=" + std::to_string(workload.batch) +
         ";seq=" + std::to_string(workload.seq) + ";policy=" + policy;
  return out;
}

std::string SweepPoint::name(std::size_t total) const {
  std::size_t width = 4;
  for (std::size_t n = total; n >= 10000; n /= 10) ++width;
  std::string digits = std::to_string(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return "p" + digits;
}

std::vector<SweepPoint> SweepSpec::points() const {
  std::vector<SweepPoint> out;
  for (const auto& design : designs) {
    for (const auto& overrides : parameter_sets) {
      for (const auto& workload : workloads) {
        for (const auto& policy : policies) {
          SweepPoint point;
          point.index = out.size();
          point.design = design;
          point.overrides = overrides;
          point.workload = workload;
          point.policy = policy;
          out.push_back(std::move(point));
        }
      }
    }
  }
  return out;
}

namespace {

std::vector<YAML::Node> list_or_scalar(const YAML::Node& node) {
  std::vector<YAML::Node> out;
  if (node.IsSequence()) {
    for (const auto& item : node) out.push_back(item);
  } else {
    out.push_back(node);
  }
  return out;
}

std::string resolve(const std::string& sweep_file, const std::string& path) {
  const fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(sweep_file).parent_path() / p).lexically_normal().string();
}

}  // namespace

SweepSpec load_sweep(const std::string& path, std::size_t max_points) {
  return parse_sweep(read_file(path), path, max_points);
}

void check_design_files(const SweepSpec& spec) {
  for (std::size_t i = 0; i < spec.designs.size(); ++i) {
    try {
      read_file(spec.designs[i]);
    } catch (const InputError& e) {
      throw InputError(spec.file, spec.design_lines[i], "design", "'" + spec.designs[i] + "': " + e.message());
    }
  }
}

SweepSpec parse_sweep(const std::string& text, const std::string& path, std::size_t max_points) {
  using config::YamlMap;
  const YAML::Node root = config::load_yaml_text(text, path);
  YamlMap top(root, path, "");
  // A misspelt required key (`workload:`) is reported where it is written, with the fix.
  const std::vector<std::string> top_keys = {"name", "design", "sweep", "parameters", "points", "workloads", "policies"};
  for (const char* key : {"design", "workloads"}) {
    if (!top.has(key)) {
      if (auto typo = top.typo_of(key, top_keys)) throw *typo;
    }
  }
  SweepSpec spec;
  spec.file = path;
  spec.name = top.string_or("name", fs::path(path).stem().string());

  for (const auto& node : list_or_scalar(top.required("design"))) {
    spec.designs.push_back(resolve(path, config::scalar_text(node, path, "design")));
    spec.design_lines.push_back(config::line_of(node));
  }
  if (spec.designs.empty()) throw top.error("design", "expected at least one design file");

  const std::string mode = top.choice_or("sweep", "product", {"product", "list"});
  if (mode == "product") {
    if (top.has("points")) throw top.error("points", "only allowed with 'sweep: list'");
    // The values of each key are read first and the product is built once, last
    // key fastest: building it key by key copied every partial set per key, which
    // grew as points x keys^2 (seconds for a few hundred one-value keys).
    std::vector<std::vector<std::string>> values_of_key;
    std::uint64_t total = 1;
    if (top.has("parameters")) {
      YamlMap parameters = top.map("parameters");
      std::set<std::string> seen;
      for (const auto& entry : parameters.node()) {
        const std::string key = config::scalar_text(entry.first, path, "parameters");
        const std::string field = "parameters." + key;
        // yaml-cpp keeps both copies of a repeated key; the second list would be ignored.
        if (!seen.insert(key).second) {
          throw InputError(path, config::line_of(entry.first), field, "listed twice; give each key once");
        }
        const auto values = list_or_scalar(parameters.required(key));
        if (values.empty()) throw parameters.error(key, "expected a list of at least one value");
        std::vector<std::string> texts;
        for (const auto& value : values) texts.push_back(config::scalar_text(value, path, field));
        const auto product = checked_mul(total, texts.size());
        if (!product || *product > max_points) {
          throw parameters.error(key, "the sweep expands to more than " + std::to_string(max_points) + " points");
        }
        total = *product;
        spec.parameter_keys.push_back(key);
        values_of_key.push_back(std::move(texts));
      }
    }
    spec.parameter_sets.reserve(total);
    for (std::uint64_t index = 0; index < total; ++index) {
      std::vector<std::pair<std::string, std::string>> set(values_of_key.size());
      std::uint64_t rest = index;
      for (std::size_t k = values_of_key.size(); k-- > 0;) {
        set[k] = {spec.parameter_keys[k], values_of_key[k][rest % values_of_key[k].size()]};
        rest /= values_of_key[k].size();
      }
      spec.parameter_sets.push_back(std::move(set));
    }
  } else {
    if (top.has("parameters")) throw top.error("parameters", "only allowed with 'sweep: product'");
    const YAML::Node points = top.required("points");
    if (!points.IsSequence() || points.size() == 0) throw top.error("points", "expected a list of points");
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::string field = "points[" + std::to_string(i) + "]";
      if (!points[i].IsMap()) throw InputError(path, config::line_of(points[i]), field, "expected a mapping key: value");
      std::vector<std::pair<std::string, std::string>> set;
      for (const auto& entry : points[i]) {
        const std::string key = config::scalar_text(entry.first, path, field);
        for (const auto& [k, v] : set) {
          if (k == key) {
            throw InputError(path, config::line_of(entry.first), field + "." + key, "listed twice; give each key once");
          }
        }
        set.emplace_back(key, config::scalar_text(entry.second, path, field + "." + key));
        bool known = false;
        for (const auto& k : spec.parameter_keys) known = known || k == key;
        if (!known) spec.parameter_keys.push_back(key);
      }
      spec.parameter_sets.push_back(std::move(set));
    }
  }

  const YAML::Node workloads = top.required("workloads");
  if (!workloads.IsSequence() || workloads.size() == 0) {
    throw top.error("workloads", "expected a list of workloads, e.g. [{model: resnet18, batch: 32}]");
  }
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    YamlMap w(workloads[i], path, "workloads[" + std::to_string(i) + "]");
    SweepWorkload workload;
    workload.model = w.string("model");
    workload.batch = w.u64_or("batch", 32, 1, 1u << 20);
    workload.seq = w.u64_or("seq", 0, 1, 1u << 20);
    w.finish();
    spec.workloads.push_back(workload);
  }

  if (top.has("policies")) {
    for (const auto& node : list_or_scalar(top.required("policies"))) {
      spec.policies.push_back(config::scalar_text(node, path, "policies"));
    }
  } else {
    spec.policies.push_back("natural");
  }
  top.finish({"name", "sweep", "parameters", "points", "policies"});

  std::uint64_t total = 1;
  for (const std::uint64_t n : {spec.designs.size(), spec.parameter_sets.size(), spec.workloads.size(),
                                spec.policies.size()}) {
    const auto product = checked_mul(total, n);
    if (!product || *product > max_points) {
      throw InputError(path, 0, "", "the sweep expands to more than the limit of " + std::to_string(max_points) +
                                        " points");
    }
    total = *product;
  }
  return spec;
}

}  // namespace nibble::sweep
