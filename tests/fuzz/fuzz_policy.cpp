// Fuzz target: precision-policy YAML files (workloads/policy.hpp). Any input
// must parse or raise InputError, with and without a --policy given beside it.
// A policy that parses must survive what `nibble trace --policy-file X` does:
// expand a small network (fmnist-cnn: conv1 conv2 fc1 fc2) into a training
// step (per-layer overrides naming no layer are InputErrors) whose trace,
// carrying the policy's name, round-trips.
#include <cstdint>
#include <optional>

#include "models/zoo/zoo.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"
#include "workloads/trace_io.hpp"

namespace {

using namespace nibble;
using namespace nibble::workloads;

void parse_and_expand(const std::string& text, const std::optional<std::string>& cli_policy) {
  static const models::Graph network = models::build_zoo_model("fmnist-cnn", models::ZooOptions{});
  std::optional<Policy> policy;
  if (!fuzz::accepts("parse_policy_text", [&] { policy = parse_policy_text(text, "fuzz.yaml", cli_policy); })) return;
  fuzz::check(is_valid_trace_name(policy->name), "an accepted policy has a name no trace can carry");
  std::optional<Trace> trace;
  if (!fuzz::accepts("expand_training_step", [&] { trace = expand_training_step(network, *policy); })) return;
  std::string written;
  fuzz::must("write_trace under the policy", [&] { written = write_trace(*trace); });
  std::optional<Trace> back;
  fuzz::must("read_trace under the policy", [&] { back = read_trace(written, "step.trace"); });
  fuzz::check(*back == *trace, "the step's trace under the policy does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::text_of(data, size));
  parse_and_expand(text, std::nullopt);
  parse_and_expand(text, std::string("int4-fp4"));
  return 0;
}
