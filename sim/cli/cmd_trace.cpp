// `nibble trace`: a network (zoo model, ONNX file or SCALE-Sim topology)
// expanded into the trace of one training step, written as text
// (docs/trace-format.md), summarized as JSON, or exported to SCALE-Sim.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "models/graph/graph.hpp"
#include "models/onnx/onnx_import.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/cli/args.hpp"
#include "sim/cli/command.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "workloads/expand.hpp"
#include "workloads/policy.hpp"
#include "workloads/scalesim.hpp"
#include "workloads/stats.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::cli {

namespace {

std::string stem_of(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return workloads::sanitize_trace_name(name);
}

int run_trace(const std::vector<std::string>& args) {
  std::string model, onnx, topology, policy_name, policy_file, out, export_path, export_format = "gemm";
  std::uint64_t batch = 1, seq = 1, input_size = 1, hidden = 1;
  bool skip_unknown = false, stats = false, list_models = false;
  ArgParser parser(
      "nibble trace", "(--model NAME | --onnx FILE | --scalesim-topology FILE) [options]",
      "Expands one training step of a network into a trace: per GEMM layer the forward, input-gradient\n"
      "(not for layers whose input needs no gradient) and weight-gradient GEMMs with their operand\n"
      "formats, plus the vector ops around them (quantize, activations, norms, pooling, residual adds,\n"
      "loss, optimizer). The trace goes to -o FILE, or to stdout when neither -o nor --stats is given.\n"
      "Format: docs/trace-format.md. Models: see --list-models.",
      "nibble trace --model resnet50 --batch 256 --policy int4-fp4 -o resnet50.trace --stats");
  parser.option("--model", "NAME", "a zoo model (see --list-models)", &model);
  parser.option("--onnx", "FILE", "an ONNX model file", &onnx);
  parser.option("--scalesim-topology", "FILE", "a SCALE-Sim v2 topology CSV (conv or M,N,K form)", &topology);
  parser.option("--batch", "N", "training batch size (default 1; for ONNX, the file's)", &batch, 1);
  parser.option("--policy", "NAME", "precision policy: fp32, fp16, hfp8, int4-fp4, bf16, mxfp8, mxfp4, nvfp4 (default int4-fp4)", &policy_name);
  parser.option("--policy-file", "FILE", "YAML policy with per-layer overrides (docs/trace-format.md)", &policy_file);
  parser.option("--seq", "N", "sequence length (bert-base, lstm)", &seq, 1);
  parser.option("--input-size", "N", "image side (CNNs) or input features (lstm)", &input_size, 1);
  parser.option("--hidden", "N", "hidden size (lstm)", &hidden, 1);
  parser.flag("--skip-unknown", "ONNX: leave out ops nibble cannot cost (listed in the trace) instead of failing",
              &skip_unknown);
  parser.option("--out", "FILE", "write the trace to FILE", &out);
  parser.alias("-o", "--out");
  parser.flag("--stats", "print one JSON object of totals (MACs per phase and format pair, ...) on stdout", &stats);
  parser.option("--export-scalesim", "FILE", "also write the trace's GEMMs as a SCALE-Sim topology CSV", &export_path);
  parser.option("--scalesim-format", "FORM", "form of --export-scalesim: gemm (every GEMM of every phase, default) "
                "or conv (forward layers, batch 1)", &export_format);
  parser.flag("--list-models", "list the zoo models and exit", &list_models);
  parser.exactly_one_of({"--model", "--onnx", "--scalesim-topology"},
                        "give exactly one of --model, --onnx, --scalesim-topology");
  for (const char* flag : {"--seq", "--input-size", "--hidden"}) {
    parser.needs(flag, "--model", std::string(flag) + " applies to --model only");
  }
  parser.needs("--skip-unknown", "--onnx", "--skip-unknown applies to --onnx only");
  parser.waives_rules("--list-models");  // lists the zoo, needs no source
  parser.parse(args);

  if (list_models) {
    std::cout << models::zoo_model_summary();
    return kExitOk;
  }
  if (export_format != "gemm" && export_format != "conv") {
    throw UsageError("--scalesim-format: expected gemm or conv, got '" + export_format + "'");
  }

  const std::optional<std::string> cli_policy = parser.given("--policy") ? std::optional(policy_name) : std::nullopt;
  const workloads::Policy policy = parser.given("--policy-file")
                                       ? workloads::read_policy_file(policy_file, cli_policy)
                                       : workloads::named_policy(cli_policy.value_or("int4-fp4"));

  std::optional<models::Graph> graph;
  std::vector<workloads::SkippedNode> skipped;
  if (parser.given("--model")) {
    models::ZooOptions options;
    options.batch = batch;
    if (parser.given("--seq")) options.seq = seq;
    if (parser.given("--input-size")) options.input_size = input_size;
    if (parser.given("--hidden")) options.hidden = hidden;
    graph.emplace(models::build_zoo_model(model, options));
  } else if (parser.given("--onnx")) {
    models::OnnxOptions options;
    if (parser.given("--batch")) options.batch = batch;
    options.skip_unknown = skip_unknown;
    models::OnnxImport imported = models::import_onnx(onnx, options);
    for (const auto& s : imported.skipped) {
      std::cerr << "nibble trace: skipped " << s.node << " (" << s.op_type << "): not costed\n";
      skipped.push_back(workloads::SkippedNode{workloads::sanitize_trace_name(s.node), workloads::sanitize_trace_name(s.op_type)});
    }
    graph.emplace(std::move(imported.graph));
  } else {
    const workloads::ScaleSimTopology topo = workloads::read_scalesim_topology(topology);
    try {
      graph.emplace(workloads::scalesim_graph(topo, batch, stem_of(topology)));
    } catch (const InputError& e) {
      throw e.relocated(topology, e.line());
    }
  }

  workloads::Trace trace = workloads::expand_training_step(*graph, policy);
  trace.skipped = skipped;
  if (parser.given("--out")) workloads::write_trace_file(out, trace);
  if (parser.given("--export-scalesim")) {
    const auto form = export_format == "conv" ? workloads::ScaleSimFormat::kConv : workloads::ScaleSimFormat::kGemm;
    write_file_atomic(export_path, workloads::write_scalesim_topology(workloads::scalesim_from_trace(trace, form)));
  }
  if (stats) std::cout << workloads::stats_json(trace) << "\n";
  if (!parser.given("--out") && !stats) std::cout << workloads::write_trace(trace);
  return kExitOk;
}

}  // namespace

NIBBLE_COMMAND("trace", 20, "expand a network's training step into a trace (zoo, ONNX, SCALE-Sim)", run_trace);

}  // namespace nibble::cli
