#include "sim/design/design.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sim/common/error.hpp"
#include "sim/common/utf8.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/config/yaml_reader.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/design/trace_names.hpp"
#include "sim/numerics/dot.hpp"

namespace nibble::design {

using numerics::Format;
using numerics::PeMode;

VectorCost vector_cost(workloads::VectorKind kind) {
  using workloads::VectorKind;
  // The transformer kinds of trace version 2 and version 5's Hadamard transform, costed by
  // the kinds whose work they repeat (docs/timing.md, "Vector ops", derives each):
  switch (kind) {
    case VectorKind::kSoftmaxGrad: return {VectorKind::kEltwise, 2};       // sum(dY*Y) per row, then Y*(dY - sum)
    case VectorKind::kLayerNorm: return {VectorKind::kNorm, 1};            // batch norm's work, on rows
    case VectorKind::kLayerNormGrad: return {VectorKind::kNormGrad, 1};    // batch norm's dX, on rows
    case VectorKind::kGelu: return {VectorKind::kActivation, 2};           // Phi(x), then x * Phi(x)
    case VectorKind::kGeluGrad: return {VectorKind::kActivationGrad, 2};   // Phi(x) + x * phi(x)
    // A 16-point fast Walsh-Hadamard transform: log2(16) = 4 butterfly stages, one add or
    // subtract per element each; the random signs and the 1/4 scale change only sign and exponent.
    case VectorKind::kHadamard: return {VectorKind::kEltwise, 4};
    default: return {kind, 1};
  }
}

const std::vector<workloads::VectorKind>& keyed_vector_kinds() {
  static const std::vector<workloads::VectorKind> kinds = [] {
    std::vector<workloads::VectorKind> out;
    for (const auto kind : workloads::all_vector_kinds()) {
      if (vector_cost(kind).from == kind) out.push_back(kind);
    }
    return out;
  }();
  return kinds;
}

std::string_view dataflow_name(Dataflow value) {
  switch (value) {
    case Dataflow::kWs: return "ws";
    case Dataflow::kOs: return "os";
    case Dataflow::kIs: return "is";
  }
  return "ws";
}

std::string_view pe_kind_name(PeKind value) {
  switch (value) {
    case PeKind::kInt4Fp4: return "int4-fp4";
    case PeKind::kFp16: return "fp16";
    case PeKind::kHfp8: return "hfp8";
    case PeKind::kFp32: return "fp32";
    case PeKind::kFp4Block: return "fp4-block";
    case PeKind::kBf16: return "bf16";
  }
  return "int4-fp4";
}

std::string_view timing_name(TimingConvention value) {
  return value == TimingConvention::kScaleSim ? "scalesim" : "nibble";
}

std::string_view unsupported_name(UnsupportedOps value) {
  return value == UnsupportedOps::kMultiPass ? "multi-pass" : "error";
}

std::string_view mapper_name(MapperKind value) { return value == MapperKind::kSearch ? "search" : "fixed"; }

std::string_view tensor_scale_name(TensorScaleTiming value) {
  return value == TensorScaleTiming::kDelayed ? "delayed" : "current";
}

std::vector<Dataflow> ArrayConfig::allowed_dataflows() const {
  std::vector<Dataflow> out{dataflow};
  for (const Dataflow f : dataflows) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  return out;
}

Format Design::accumulator(PeMode mode) const {
  switch (mode) {
    case PeMode::kInt4xInt4: return array.acc_int4;
    case PeMode::kFp4xInt4:
    case PeMode::kInt4xFp4: return array.acc_fp4;
    default: return array.acc_float;
  }
}

Design Design::unit_view(std::size_t i) const {
  Design view = *this;
  const MatrixUnit u = unit(i);
  view.array = u.array;
  view.array_name = u.name;
  view.more_units.clear();
  return view;
}

std::uint64_t Design::pes_per_core() const {
  std::uint64_t pes = 0;
  for (std::size_t i = 0; i < unit_count(); ++i) pes += unit(i).array.rows * unit(i).array.cols;
  return pes;
}

std::uint64_t Design::macs_per_cycle_per_core() const {
  std::uint64_t macs = 0;
  for (std::size_t i = 0; i < unit_count(); ++i) {
    macs += unit(i).array.rows * unit(i).array.cols * unit(i).array.dot_product;
  }
  return macs;
}

std::string Design::unit_key(std::size_t i) const {
  if (more_units.empty() && array_name == "array") return "array";
  return "matrix_units." + unit(i).name;
}

numerics::PeArith Design::pe_arith(PeMode mode) const {
  numerics::PeArith arith;
  const Format acc = accumulator(mode);
  // Chunked accumulation runs each chunk through the FP16 accumulator; the
  // FP32 sum of the chunks is the output buffer's business (docs/timing.md).
  arith.acc = acc == Format::kFp16Chunked ? Format::kFp16 : acc;
  arith.fp4_bias = array.fp4_bias;
  return arith;
}

namespace {

constexpr std::uint64_t kMaxArrayDim = 65536;     // far beyond any published array; keeps products in range
constexpr std::uint64_t kMaxCores = 1024;         // bounds the per-core state the model allocates
constexpr std::uint64_t kMaxBytes = 1ULL << 50;   // 1 PiB: a typo guard, not a physical limit
constexpr std::uint64_t kMaxCycleParam = 1ULL << 32;
constexpr std::uint64_t kMaxLanes = 1u << 20;         // a typo guard, not a limit of physics
constexpr std::uint64_t kMaxWordBits = 65536;         // widest scratchpad access the energy model costs

template <typename E>
E pick(const std::string& text, const std::vector<std::pair<std::string, E>>& table) {
  for (const auto& [name, value] : table) {
    if (name == text) return value;
  }
  throw std::logic_error("pick: choice() let through " + text);
}

Format read_accumulator(config::YamlMap& map, const std::string& key, Format fallback,
                        const std::vector<std::string>& allowed) {
  if (!map.has(key)) return fallback;
  const std::string text = map.choice(key, allowed);
  return *numerics::parse_format(text);
}

ScratchpadConfig read_scratchpad(config::YamlMap& parent, const std::string& key) {
  config::YamlMap map = parent.map(key);
  map.finish({"capacity_bytes", "word_bits", "banks", "ports", "double_buffer"});  // typos first
  ScratchpadConfig spad;
  spad.capacity_bytes = map.u64("capacity_bytes", 1, kMaxBytes);
  spad.word_bits = map.u64("word_bits", 1, 1u << 20);
  spad.banks = map.u64("banks", 1, 1u << 16);
  spad.ports = map.u64("ports", 1, 16);
  spad.double_buffer = map.boolean("double_buffer");
  map.finish();
  return spad;
}

// A unit's name becomes a track and stats name (core0.<name>): a plain word,
// never one of the core's other units.
bool valid_unit_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char* taken : {"vector", "dma", "input", "weight", "output"}) {
    if (name == taken) return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// `dataflows: [ws, os, is]` (a --set gives it as one scalar, "[ws,os]" or "ws,os"):
// each entry a dataflow name, none twice. Absent: empty. validate_array checks the rest.
std::vector<Dataflow> read_dataflows(config::YamlMap& array) {
  const std::optional<YAML::Node> node = array.optional("dataflows");
  if (!node) return {};
  const std::string field = array.path().empty() ? "dataflows" : array.path() + ".dataflows";
  std::vector<std::pair<std::string, std::int64_t>> entries;  // name, line
  if (node->IsSequence()) {
    for (const auto& item : *node) {
      if (!item.IsScalar()) throw InputError(array.file(), config::line_of(item), field, "expected dataflow names (ws, os, is)");
      entries.emplace_back(item.Scalar(), config::line_of(item));
    }
  } else if (node->IsScalar()) {
    std::string text = node->Scalar();
    if (!text.empty() && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    for (const auto part : split(text, ',')) entries.emplace_back(std::string(trim(part)), config::line_of(*node));
  } else {
    throw array.error("dataflows", "expected a list of dataflows such as [ws, os, is]");
  }
  if (entries.empty()) throw array.error("dataflows", "expected at least one dataflow (ws, os, is)");
  std::vector<Dataflow> out;
  for (const auto& [name, line] : entries) {
    Dataflow f = Dataflow::kWs;
    if (name == "ws") {
      f = Dataflow::kWs;
    } else if (name == "os") {
      f = Dataflow::kOs;
    } else if (name == "is") {
      f = Dataflow::kIs;
    } else {
      throw InputError(array.file(), line, field, "expected one of ws, os, is, got '" + name + "'");
    }
    if (std::find(out.begin(), out.end(), f) != out.end()) {
      throw InputError(array.file(), line, field, "lists '" + name + "' twice");
    }
    out.push_back(f);
  }
  return out;
}

// One array's keys, at `array`'s path ("array" or "matrix_units.<name>"): the
// single home of the ArrayConfig keys, shared by `array:` and every matrix unit.
ArrayConfig read_array_config(config::YamlMap& array) {
  ArrayConfig a;
  array.finish({"rows", "cols", "dataflow", "dataflows", "pe_kind", "fp4_bias", "accumulators", "chunk", "dot_product",
                "unsupported"});
  a.rows = array.u64("rows", 1, kMaxArrayDim);
  a.cols = array.u64("cols", 1, kMaxArrayDim);
  a.dataflow = pick<Dataflow>(array.choice("dataflow", {"ws", "os", "is"}),
                              {{"ws", Dataflow::kWs}, {"os", Dataflow::kOs}, {"is", Dataflow::kIs}});
  a.dataflows = read_dataflows(array);
  a.pe_kind = pick<PeKind>(array.choice("pe_kind", {"int4-fp4", "fp16", "hfp8", "fp32", "fp4-block", "bf16"}),
                           {{"int4-fp4", PeKind::kInt4Fp4},
                            {"fp16", PeKind::kFp16},
                            {"hfp8", PeKind::kHfp8},
                            {"fp32", PeKind::kFp32},
                            {"fp4-block", PeKind::kFp4Block},
                            {"bf16", PeKind::kBf16}});
  a.fp4_bias = static_cast<int>(array.has("fp4_bias") ? array.i64("fp4_bias", 0, 15) : 7);
  if (array.has("accumulators")) {
    config::YamlMap acc = array.map("accumulators");
    acc.finish({"int4", "fp4", "float"});
    a.acc_int4 = read_accumulator(acc, "int4", a.acc_int4, {"int32", "fp16", "fp32", "fp16-chunked"});
    a.acc_fp4 = read_accumulator(acc, "fp4", a.acc_fp4, {"int32", "fp16", "fp32", "fp16-chunked"});
    a.acc_float = read_accumulator(acc, "float", a.acc_float, {"fp16", "fp32", "fp16-chunked"});
    acc.finish();
  }
  a.chunk = array.u64_or("chunk", 0, 0, 1u << 30);
  a.dot_product = array.u64_or("dot_product", 1, 1, numerics::kMaxDotProduct);
  a.unsupported = pick<UnsupportedOps>(
      array.choice_or("unsupported", "error", {"error", "multi-pass"}),
      {{"error", UnsupportedOps::kError}, {"multi-pass", UnsupportedOps::kMultiPass}});
  array.finish({"dataflows", "fp4_bias", "accumulators", "chunk", "dot_product", "unsupported"});
  return a;
}

// `array:` (one unit named "array") or `matrix_units:` (a name -> array mapping,
// units in file order), never both (docs/design-file.md, "matrix_units").
void read_matrix_units(config::YamlMap& top, Design& d) {
  if (top.has("array") && top.has("matrix_units")) {
    throw top.error("matrix_units", "give either array (one matrix unit) or matrix_units (several), not both");
  }
  if (!top.has("matrix_units")) {
    config::YamlMap array = top.map("array");
    d.array = read_array_config(array);
    return;
  }
  config::YamlMap units = top.map("matrix_units");
  std::vector<std::string> names;
  for (const auto& entry : units.node()) {
    if (!entry.first.IsScalar()) break;  // finish() reports it
    names.push_back(entry.first.Scalar());
  }
  units.finish(names);  // repeated names first
  if (names.empty()) throw top.error("matrix_units", "expected at least one matrix unit (name: {rows: ..., ...})");
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (!valid_unit_name(name)) {
      throw units.error(name, "expected a unit name of letters, digits, '_' or '-' (not vector, dma, input, weight or output), got '" +
                                  name + "'");
    }
    config::YamlMap array = units.map(name);
    if (i == 0) {
      d.array_name = name;
      d.array = read_array_config(array);
    } else {
      d.more_units.push_back(MatrixUnit{name, read_array_config(array)});
    }
  }
  units.finish();
}

Design read_design(const YAML::Node& root, const std::string& origin) {
  config::YamlMap top(root, origin, "");
  // Unknown keys are reported before missing ones: a typo reads "unknown key
  // (did you mean ...)", not "missing key" for the word it was meant to be.
  top.finish({"name", "clock_mhz", "cores", "timing", "mapper", "tech", "array", "matrix_units", "scratchpads", "dram", "vector"});
  Design d;
  d.name = top.string("name");
  d.clock_mhz = top.number("clock_mhz", 1e-3, 1e6);
  if (!(d.clock_mhz > 0)) throw top.error("clock_mhz", "expected a clock above 0 MHz");
  d.cores = top.u64("cores", 1, kMaxCores);
  d.timing = pick<TimingConvention>(top.choice_or("timing", "nibble", {"nibble", "scalesim"}),
                                    {{"nibble", TimingConvention::kNibble}, {"scalesim", TimingConvention::kScaleSim}});
  d.mapper = pick<MapperKind>(top.choice_or("mapper", "fixed", {"fixed", "search"}),
                              {{"fixed", MapperKind::kFixed}, {"search", MapperKind::kSearch}});
  d.tech = top.string_or("tech", "45nm");

  read_matrix_units(top, d);
  {
    config::YamlMap spads = top.map("scratchpads");
    spads.finish({"input", "weight", "output"});
    d.input = read_scratchpad(spads, "input");
    d.weight = read_scratchpad(spads, "weight");
    d.output = read_scratchpad(spads, "output");
    spads.finish();
  }
  {
    config::YamlMap dram = top.map("dram");
    dram.finish({"ideal", "bandwidth_bytes_per_cycle", "latency_cycles", "burst_bytes", "channels"});
    d.dram.ideal = dram.boolean_or("ideal", false);
    d.dram.bandwidth_bytes_per_cycle = dram.u64("bandwidth_bytes_per_cycle", 1, kMaxCycleParam);
    d.dram.latency_cycles = dram.u64("latency_cycles", 0, kMaxCycleParam);
    d.dram.burst_bytes = dram.u64("burst_bytes", 1, 1u << 24);
    d.dram.channels = dram.u64_or("channels", 1, 1, 1024);
    if (d.dram.bandwidth_bytes_per_cycle % d.dram.channels != 0) {
      throw dram.error("channels", "bandwidth_bytes_per_cycle (" + std::to_string(d.dram.bandwidth_bytes_per_cycle) +
                                       ") must split evenly between " + std::to_string(d.dram.channels) +
                                       " channels");
    }
    dram.finish({"ideal", "channels"});
  }
  {
    config::YamlMap vector = top.map("vector");
    vector.finish({"lanes", "cycles_per_element", "stream_gemm_output", "tensor_scale"});
    d.vector.lanes = vector.u64("lanes", 1, kMaxLanes);
    d.vector.stream_gemm_output = vector.boolean_or("stream_gemm_output", false);
    d.vector.tensor_scale =
        pick<TensorScaleTiming>(vector.choice_or("tensor_scale", "current", {"current", "delayed"}),
                                {{"current", TensorScaleTiming::kCurrent}, {"delayed", TensorScaleTiming::kDelayed}});
    config::YamlMap cpe = vector.map("cycles_per_element");
    std::vector<std::string> kinds;
    for (const auto kind : workloads::all_vector_kinds()) kinds.emplace_back(workloads::vector_kind_name(kind));
    cpe.finish(kinds);
    for (const auto kind : workloads::all_vector_kinds()) {
      const std::string key(workloads::vector_kind_name(kind));
      // Keyed kinds are required; the others may be given (docs/timing.md, "Vector ops").
      d.vector.cycles_per_element.at(static_cast<std::size_t>(kind)) =
          vector_cost(kind).from == kind ? cpe.u64(key, 1, 1u << 20) : cpe.u64_or(key, 0, 1, 1u << 20);
    }
    cpe.finish();
    vector.finish({"stream_gemm_output", "tensor_scale"});
  }
  top.finish({"timing", "mapper", "tech", "array", "matrix_units"});
  d.source = origin;
  return d;
}

// Where an error in an override points: the setting, not the file (sim/cli
// renders it as --set).
const std::string kOverride = setting_ref("override");

// Applies one override "a.b.c=value" to the YAML tree before it is read, so the
// value passes the same checks as the file. Returns the key path.
std::string apply_set(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(kOverride, 0, assignment, "expected KEY=VALUE with a key path such as array.rows=8");
  }
  const std::string path = std::string(trim(assignment.substr(0, eq)));
  const std::string value = std::string(trim(assignment.substr(eq + 1)));
  if (value.empty()) throw InputError(kOverride, 0, path, "has no value");
  const auto parts = split(path, '.');
  for (const auto& part : parts) {
    if (part.empty()) throw InputError(kOverride, 0, path, "empty key in the key path");
  }
  // yaml-cpp nodes are handles: walking by assignment would rebind them, so
  // the walk uses reset() on a copy of each child handle.
  YAML::Node node;
  node.reset(root);
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string key(parts[i]);
    walked += (walked.empty() ? "" : ".") + key;
    YAML::Node child = node[key];
    if (!child.IsDefined() || child.IsNull()) {
      node[key] = YAML::Node(YAML::NodeType::Map);
      child = node[key];
    } else if (!child.IsMap()) {
      throw InputError(kOverride, 0, walked, "is a single value, not a mapping with key '" + std::string(parts[i + 1]) + "'");
    }
    YAML::Node next;
    next.reset(child);
    node.reset(next);
  }
  const std::string last(parts.back());
  if (node[last].IsDefined() && node[last].IsMap()) {
    throw InputError(kOverride, 0, path, "is a mapping; set one of its keys, e.g. " + path + ".KEY=VALUE");
  }
  node[last] = value;
  return path;
}

// The 1-based line of the key at `path` ("a.b.c") in the file, or of its
// deepest existing parent; 0 when nothing of it is in the file.
std::int64_t line_of_path(const YAML::Node& root, const std::string& path) {
  std::int64_t line = 0;
  YAML::Node node;
  node.reset(root);
  for (const auto part : split(path, '.')) {
    if (!node.IsMap()) break;
    bool found = false;
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == part) {
        line = config::line_of(entry.first);
        YAML::Node child;
        child.reset(entry.second);
        node.reset(child);
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  return line;
}

bool starts_with_path(const std::string& field, const std::string& path) {
  return field == path || (field.size() > path.size() && field.compare(0, path.size(), path) == 0 &&
                           field[path.size()] == '.');
}

// The rules of one array and the scratchpads it uses (fields array.*):
// validate_design runs them on each unit's view.
void validate_array(const Design& d) {
  const std::string& file = d.source;
  auto fail = [&](const std::string& field, const std::string& message) { return InputError(file, 0, field, message); };
  if (d.array.rows < 1 || d.array.rows > kMaxArrayDim) throw fail("array.rows", "expected 1 to 65536 rows");
  if (d.array.cols < 1 || d.array.cols > kMaxArrayDim) throw fail("array.cols", "expected 1 to 65536 columns");
  const ScratchpadConfig* spads[] = {&d.input, &d.weight, &d.output};
  const char* spad_names[] = {"input", "weight", "output"};
  // The accumulators this PE kind uses must exist in sim/numerics (pe_mac
  // rejects a mode/accumulator pair no PE implements).
  for (const PeMode mode : native_modes(d.array.pe_kind)) {
    const std::string field = std::string("array.accumulators.") + std::string(accumulator_key(mode));
    if (numerics::pe_block_mode(mode)) {
      // Block modes have no single product for pe_mac: ask numerics directly.
      if (!numerics::pe_accumulator_supported(mode, d.accumulator(mode))) {
        throw fail(field, "the " + std::string(pe_kind_name(d.array.pe_kind)) + " PE accumulates blocks in fp16 or "
                          "fp32, got " + std::string(numerics::format_name(d.accumulator(mode))));
      }
      continue;
    }
    try {
      (void)numerics::pe_mac(d.pe_arith(mode), mode, 0, 0, 0);
    } catch (const std::invalid_argument& e) {
      throw fail(field, "the " + std::string(pe_kind_name(d.array.pe_kind)) + " PE cannot accumulate " +
                            std::string(numerics::format_name(d.accumulator(mode))) + ": " + e.what());
    }
  }
  if (d.array.pe_kind == PeKind::kInt4Fp4 && d.array.unsupported == UnsupportedOps::kMultiPass) {
    // Multi-pass results combine in the float accumulator: it must exist too.
    try {
      (void)numerics::pe_mac(d.pe_arith(PeMode::kFp16xFp16), PeMode::kFp16xFp16, 0, 0, 0);
    } catch (const std::invalid_argument& e) {
      throw fail("array.accumulators.float", std::string("no FP16 product accumulates in ") +
                                                 std::string(numerics::format_name(d.array.acc_float)) + ": " + e.what());
    }
  }
  // Every dataflow the mapper may pick obeys the rules below, as if it were `dataflow`.
  if (!d.array.dataflows.empty()) {
    const auto& list = d.array.dataflows;
    if (std::find(list.begin(), list.end(), d.array.dataflow) == list.end()) {
      throw fail("array.dataflows", "expected a list that includes array.dataflow (" +
                                        std::string(dataflow_name(d.array.dataflow)) + "), the fixed mapper's choice");
    }
    for (const Dataflow f : list) {
      if (f == d.array.dataflow) continue;
      Design other = d;
      other.array.dataflow = f;
      other.array.dataflows.clear();
      try {
        validate_array(other);
      } catch (const InputError& e) {
        throw fail("array.dataflows", "'" + std::string(dataflow_name(f)) + "' cannot run on this unit: " + e.field() +
                                          ": " + e.message());
      }
    }
  }
  const std::uint64_t dot = d.array.dot_product;
  if (d.array.pe_kind == PeKind::kFp4Block) {
    // Each PE row reduces whole blocks (32 MXFP4, 16 NVFP4), so folds and PE
    // rows end on block boundaries (docs/timing.md, "Block-FP4 PEs").
    if (dot % kFp4BlockLanes != 0) {
      throw fail("array.dot_product", "fp4-block PEs take whole MXFP4 blocks: expected a multiple of " +
                                          std::to_string(kFp4BlockLanes) + ", got " + std::to_string(dot));
    }
    if (d.array.unsupported == UnsupportedOps::kMultiPass) {
      throw fail("array.unsupported", "fp4-block PEs have no multi-pass datapath: route other formats to another "
                                      "matrix unit (matrix_units) instead");
    }
  }
  if (dot < 1 || dot > numerics::kMaxDotProduct) {
    throw fail("array.dot_product", "expected a whole number in [1, " + std::to_string(numerics::kMaxDotProduct) +
                                        "], got " + std::to_string(dot));
  }
  if (dot > 1 && d.array.dataflow != Dataflow::kWs) {
    // A dot-product PE reduces N elements of K in place: only a dataflow that
    // maps K onto the PE rows with the weights stationary is modelled (docs/timing.md).
    throw fail("array.dot_product", "dot-product PEs (" + std::to_string(dot) + ") need array.dataflow: ws, got " +
                                        std::string(dataflow_name(d.array.dataflow)));
  }
  if (dot > 1 && d.timing == TimingConvention::kScaleSim) {
    throw fail("array.dot_product", "dot-product PEs (" + std::to_string(dot) +
                                        ") have no SCALE-Sim timing; use timing: nibble");
  }
  const bool chunked = uses_chunked_accumulator(d);
  if (chunked) {
    if (d.array.chunk < 1) {
      throw fail("array.chunk", "expected a chunk length >= 1: an fp16-chunked accumulator sums that many products in FP16");
    }
    if (dot > 1 && d.array.chunk % (d.array.rows * dot) != 0) {
      throw fail("array.chunk", "expected a multiple of array.rows x array.dot_product (" +
                                    std::to_string(d.array.rows * dot) +
                                    ") so that chunks end where folds end, on dot-product boundaries, got " +
                                    std::to_string(d.array.chunk));
    }
    if (d.array.dataflow != Dataflow::kOs && d.array.chunk % d.array.rows != 0) {
      throw fail("array.chunk", "expected a multiple of array.rows (" + std::to_string(d.array.rows) +
                                    ") so that chunks end where folds end in " +
                                    std::string(dataflow_name(d.array.dataflow)) + ", got " +
                                    std::to_string(d.array.chunk));
    }
  }

  // Every scratchpad must hold one tile of the smallest useful fold at the
  // PE's own operand widths (docs/design-file.md, "Scratchpads").
  const MinimumTiles need = minimum_tiles(d);
  const std::uint64_t have[] = {d.input.tile_capacity(), d.weight.tile_capacity(), d.output.tile_capacity()};
  const std::uint64_t needs[] = {need.input_bytes, need.weight_bytes, need.output_bytes};
  const std::string* why[] = {&need.input_what, &need.weight_what, &need.output_what};
  for (int i = 0; i < 3; ++i) {
    if (have[i] < needs[i]) {
      throw fail(std::string("scratchpads.") + spad_names[i] + ".capacity_bytes",
                 "too small for one tile: " + *why[i] + " needs " + std::to_string(needs[i]) + " bytes" +
                     (spads[i]->double_buffer ? " per half (double_buffer: true)" : "") + ", capacity gives " +
                     std::to_string(have[i]));
    }
  }

}

}  // namespace

void validate_design(const Design& d) {
  const std::string& file = d.source;
  auto fail = [&](const std::string& field, const std::string& message) { return InputError(file, 0, field, message); };
  if (d.name.empty()) throw fail("name", "expected a non-empty name");
  // Both end up in summary.json, whose writer refuses bytes that are not UTF-8.
  if (!is_plain_text(d.name)) {
    throw fail("name", "expected text (UTF-8 without control characters), got '" + d.name + "'");
  }
  if (!is_plain_text(d.tech)) {
    throw fail("tech", "expected text (UTF-8 without control characters), got '" + d.tech + "'");
  }
  if (!(d.clock_mhz > 0) || d.clock_mhz > 1e6) throw fail("clock_mhz", "expected a clock in (0, 1e6] MHz");
  if (d.cores < 1 || d.cores > kMaxCores) throw fail("cores", "expected 1 to 1024 cores");
  if (d.dram.bandwidth_bytes_per_cycle < 1) throw fail("dram.bandwidth_bytes_per_cycle", "expected at least 1 byte per cycle");
  if (d.dram.burst_bytes < 1) throw fail("dram.burst_bytes", "expected at least 1 byte");
  if (d.dram.channels < 1 || d.dram.channels > 1024) throw fail("dram.channels", "expected 1 to 1024 channels");
  if (d.dram.bandwidth_bytes_per_cycle % d.dram.channels != 0) {
    throw fail("dram.channels", "bandwidth_bytes_per_cycle must split evenly between the channels");
  }
  if (d.vector.lanes < 1) throw fail("vector.lanes", "expected at least 1 lane");
  if (d.vector.lanes > kMaxLanes) {
    throw fail("vector.lanes", "expected a whole number in [1, " + std::to_string(kMaxLanes) + "], got " +
                                   std::to_string(d.vector.lanes));
  }
  for (const auto kind : keyed_vector_kinds()) {
    if (d.vector.cycles_for(kind) < 1) {
      throw fail("vector.cycles_per_element." + std::string(workloads::vector_kind_name(kind)), "expected at least 1 cycle");
    }
  }
  const ScratchpadConfig* spads[] = {&d.input, &d.weight, &d.output};
  const char* spad_names[] = {"input", "weight", "output"};
  for (int i = 0; i < 3; ++i) {
    const std::string base = std::string("scratchpads.") + spad_names[i];
    if (spads[i]->capacity_bytes < 1) throw fail(base + ".capacity_bytes", "expected at least 1 byte");
    if (spads[i]->word_bits < 1) throw fail(base + ".word_bits", "expected at least 1 bit");
    if (spads[i]->banks < 1) throw fail(base + ".banks", "expected at least 1 bank");
    if (spads[i]->ports < 1) throw fail(base + ".ports", "expected at least 1 port");
  }

  for (std::size_t i = 0; i < d.unit_count(); ++i) {
    const std::string key = d.unit_key(i);
    if (i > 0 || d.array_name != "array" || !d.more_units.empty()) {
      const std::string name = d.unit(i).name;
      if (!valid_unit_name(name)) {
        throw fail(key, "expected a unit name of letters, digits, '_' or '-' (not vector, dma, input, weight or output), got '" + name + "'");
      }
      for (std::size_t j = 0; j < i; ++j) {
        if (d.unit(j).name == name) throw fail(key, "appears twice; give each matrix unit its own name");
      }
    }
    // The one-array rules, on this unit alone; their fields read array.* and
    // are renamed to the unit's key path.
    try {
      validate_array(d.unit_view(i));
    } catch (const InputError& e) {
      if (key == "array") throw;
      if (!starts_with_path(e.field(), "array")) {
        throw InputError(e.file(), e.line(), e.field(), "matrix unit '" + d.unit(i).name + "': " + e.message());
      }
      throw InputError(e.file(), e.line(), key + e.field().substr(5), e.message());
    }
  }

  // Energy is costed per byte and per bank (docs/energy-model.md, "Scratchpads"):
  // an access moves whole bytes, and a bank holds at least one word.
  for (int i = 0; i < 3; ++i) {
    const ScratchpadConfig& s = *spads[i];
    const std::string base = std::string("scratchpads.") + spad_names[i];
    if (s.word_bits % 8 != 0 || s.word_bits > kMaxWordBits) {
      throw fail(base + ".word_bits", "expected a whole number of bytes per access (8.." +
                                          std::to_string(kMaxWordBits) + " bits), got " + std::to_string(s.word_bits));
    }
    if (s.capacity_bytes / s.banks < s.word_bits / 8) {
      throw fail(base + ".banks", "each of the " + std::to_string(s.banks) + " banks would hold less than one " +
                                      std::to_string(s.word_bits) + "-bit word of the " +
                                      std::to_string(s.capacity_bytes) + "-byte scratchpad");
    }
  }
}

Design parse_design(const std::string& text, const std::string& origin, const std::vector<std::string>& sets) {
  YAML::Node root = config::load_yaml_text(text, origin);
  std::vector<std::string> set_paths;
  for (const auto& s : sets) set_paths.push_back(apply_set(root, s));
  try {
    Design d = read_design(root, origin);
    // An override of `<unit>.dataflow` pins that unit's dataflow: the search keeps it.
    for (const auto& path : set_paths) {
      for (std::size_t i = 0; i < d.unit_count(); ++i) {
        if (path != d.unit_key(i) + ".dataflow") continue;
        (i == 0 ? d.array : d.more_units.at(i - 1).array).dataflows.clear();
      }
    }
    validate_design(d);
    return d;
  } catch (const InputError& e) {
    // An error in a value that came from an override points at the override.
    for (const auto& path : set_paths) {
      if (!e.field().empty() && (starts_with_path(e.field(), path) || starts_with_path(path, e.field()))) {
        throw InputError(kOverride, 0, e.field(), e.message());
      }
    }
    // Checks across fields know the key, not the line: find it in the file.
    if (e.line() == 0 && e.file() == origin && !e.field().empty()) {
      const std::int64_t line = line_of_path(root, e.field());
      if (line > 0) throw e.relocated(origin, line);
    }
    throw;
  }
}

Design load_design(const std::string& path, const std::vector<std::string>& sets) {
  return parse_design(read_file(path), path, sets);
}

std::string units_text(const Design& d, bool dataflow) {
  std::string out;
  for (std::size_t i = 0; i < d.unit_count(); ++i) {
    const MatrixUnit u = d.unit(i);
    if (i > 0) out += " + ";
    if (d.unit_count() > 1) out += u.name + ": ";
    out += std::to_string(u.array.rows) + "x" + std::to_string(u.array.cols) + " " +
           std::string(pe_kind_name(u.array.pe_kind));
    if (dataflow) out += " (" + std::string(dataflow_name(u.array.dataflow)) + ")";
  }
  return out;
}

std::string design_to_json(const Design& d, int indent) {
  nlohmann::ordered_json j;
  j["name"] = d.name;
  j["clock_mhz"] = d.clock_mhz;
  j["cores"] = d.cores;
  j["timing"] = std::string(timing_name(d.timing));
  j["mapper"] = std::string(mapper_name(d.mapper));
  j["tech"] = d.tech;
  const auto array_json = [](const ArrayConfig& array) {
    nlohmann::ordered_json a;
    a["rows"] = array.rows;
    a["cols"] = array.cols;
    a["dataflow"] = std::string(dataflow_name(array.dataflow));
    a["dataflows"] = nlohmann::ordered_json::array();
    for (const Dataflow f : array.allowed_dataflows()) a["dataflows"].push_back(std::string(dataflow_name(f)));
    a["pe_kind"] = std::string(pe_kind_name(array.pe_kind));
    a["fp4_bias"] = array.fp4_bias;
    a["accumulators"]["int4"] = std::string(numerics::format_name(array.acc_int4));
    a["accumulators"]["fp4"] = std::string(numerics::format_name(array.acc_fp4));
    a["accumulators"]["float"] = std::string(numerics::format_name(array.acc_float));
    a["chunk"] = array.chunk;
    a["dot_product"] = array.dot_product;
    a["unsupported"] = std::string(unsupported_name(array.unsupported));
    return a;
  };
  // A design with one unit named array keeps today's `array` block.
  if (d.unit_key(0) == "array") {
    j["array"] = array_json(d.array);
  } else {
    for (std::size_t i = 0; i < d.unit_count(); ++i) j["matrix_units"][d.unit(i).name] = array_json(d.unit(i).array);
  }
  const std::pair<const char*, const ScratchpadConfig*> spads[] = {
      {"input", &d.input}, {"weight", &d.weight}, {"output", &d.output}};
  for (const auto& [key, spad] : spads) {
    auto& s = j["scratchpads"][key];
    s["capacity_bytes"] = spad->capacity_bytes;
    s["word_bits"] = spad->word_bits;
    s["banks"] = spad->banks;
    s["ports"] = spad->ports;
    s["double_buffer"] = spad->double_buffer;
  }
  auto& m = j["dram"];
  m["ideal"] = d.dram.ideal;
  m["bandwidth_bytes_per_cycle"] = d.dram.bandwidth_bytes_per_cycle;
  m["latency_cycles"] = d.dram.latency_cycles;
  m["burst_bytes"] = d.dram.burst_bytes;
  m["channels"] = d.dram.channels;
  auto& v = j["vector"];
  v["lanes"] = d.vector.lanes;
  for (const auto kind : workloads::all_vector_kinds()) {
    // Keyed kinds always; the others only when the design gives them their own value.
    if (vector_cost(kind).from != kind && d.vector.cycles_per_element.at(static_cast<std::size_t>(kind)) == 0) continue;
    v["cycles_per_element"][std::string(workloads::vector_kind_name(kind))] = d.vector.cycles_for(kind);
  }
  v["stream_gemm_output"] = d.vector.stream_gemm_output;
  // Only when not the default, so summary.json of every design without the key keeps its bytes.
  if (d.vector.tensor_scale != TensorScaleTiming::kCurrent) v["tensor_scale"] = tensor_scale_name(d.vector.tensor_scale);
  return j.dump(indent);
}

}  // namespace nibble::design
