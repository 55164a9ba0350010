#include "workloads/trace_io.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "sim/common/text.hpp"

namespace nibble::workloads {

namespace {

constexpr std::string_view kMagic = "nibble-trace";
constexpr std::string_view kLegend = "# kind layer phase fields (see docs/trace-format.md)";

/// A problem with one field: the field's name and what was expected.
struct Problem {
  std::string field;
  std::string message;
};

/// Whether `format` can hold a sum of products: 16 bits or more (fp16, fp32, int32,
/// fp16-chunked); no block format is one (bf16 has 16 bits but 8 of significand).
bool is_accumulator_format(Format format) {
  return numerics::format_bits(format) >= 16 && !numerics::is_block_format(format);
}

std::string all_names_of_formats(bool accumulators) {
  std::string out;
  for (const auto f : numerics::all_formats()) {
    if (!accumulators && numerics::is_accumulator_only(f)) continue;
    if (accumulators && !is_accumulator_format(f)) continue;
    out += (out.empty() ? "" : ", ") + std::string(numerics::format_name(f));
  }
  return out;
}


std::optional<std::uint64_t> product(std::initializer_list<std::uint64_t> factors) {
  std::uint64_t total = 1;
  for (const auto f : factors) {
    const auto p = checked_mul(total, f);
    if (!p) return std::nullopt;
    total = *p;
  }
  return total;
}

std::optional<Problem> check_conv(const TraceOp& op) {
  const ConvGeometry& g = *op.conv;
  const std::pair<const char*, std::uint64_t> positive[] = {
      {"input", g.n}, {"input", g.c}, {"input", g.h}, {"input", g.w}, {"filters", g.k}, {"kernel", g.r},
      {"kernel", g.s}, {"stride", g.stride_h}, {"stride", g.stride_w}, {"dilation", g.dilation_h},
      {"dilation", g.dilation_w}};
  for (const auto& [field, value] : positive) {
    if (value == 0) return Problem{field, "expected sizes >= 1, got 0"};
  }
  if (g.groups != op.groups) return Problem{"groups", "the op's groups must equal the convolution's groups"};
  if (g.c % g.groups != 0 || g.k % g.groups != 0) {
    return Problem{"groups", "groups=" + std::to_string(g.groups) + " must divide the input channels (" +
                                 std::to_string(g.c) + ") and the filters (" + std::to_string(g.k) + ")"};
  }
  if (!product({g.n, g.c, g.h, g.w})) return Problem{"input", "N*C*H*W overflows 64 bits"};
  const std::uint64_t e = g.out_h(), f = g.out_w();
  if (e == 0 || f == 0) {
    return Problem{"kernel", "the " + std::to_string(g.r) + "x" + std::to_string(g.s) +
                                 " window (with dilation) does not fit the padded " + std::to_string(g.h) + "x" +
                                 std::to_string(g.w) + " input"};
  }
  const auto nef = product({g.n, e, f});
  const auto window = product({g.c / g.groups, g.r, g.s});
  if (!nef || !window || !product({*nef, g.k}) || !product({*nef, *window, g.groups})) {
    return Problem{"input", "the convolution's element counts overflow 64 bits"};
  }
  const std::uint64_t kg = g.k / g.groups;
  std::uint64_t em = 0, en = 0, ek = 0;
  const char* rule = "";
  switch (op.phase) {
    case Phase::kForward: em = *nef; en = kg; ek = *window; rule = "m=N*E*F, n=K/g, k=C/g*R*S"; break;
    case Phase::kInputGrad: em = *nef; en = *window; ek = kg; rule = "m=N*E*F, n=C/g*R*S, k=K/g"; break;
    case Phase::kWeightGrad: em = *window; en = kg; ek = *nef; rule = "m=C/g*R*S, n=K/g, k=N*E*F"; break;
    case Phase::kUpdate: break;
  }
  const std::pair<const char*, std::pair<std::uint64_t, std::uint64_t>> dims[] = {
      {"m", {op.m, em}}, {"n", {op.n, en}}, {"k", {op.k, ek}}};
  for (const auto& [field, values] : dims) {
    if (values.first != values.second) {
      return Problem{field, "expected " + std::to_string(values.second) + " for a " +
                                std::string(phase_name(op.phase)) + " conv of this geometry (" + rule + ", E=" +
                                std::to_string(e) + ", F=" + std::to_string(f) + "), got " +
                                std::to_string(values.first)};
    }
  }
  return std::nullopt;
}

const char* const kTensorNameRule = "1 to 512 printable characters without spaces or commas";

/// A list of tensor names: each valid, none twice.
std::optional<Problem> check_tensor_list(const std::vector<std::string>& names, const char* field) {
  std::unordered_set<std::string_view> seen;
  for (const auto& name : names) {
    if (!is_valid_tensor_name(name)) {
      return Problem{field, std::string("expected tensor names of ") + kTensorNameRule + ", separated by commas, got '" +
                                name + "'"};
    }
    if (!seen.insert(name).second) return Problem{field, "tensor '" + name + "' is named twice"};
  }
  return std::nullopt;
}

/// The first op that reads a tensor neither a step input nor written by an
/// earlier op (docs/trace-format.md, "Tensors"): its index and the problem.
std::optional<std::pair<std::size_t, Problem>> check_tensors(const Trace& trace) {
  std::unordered_set<std::string> known(trace.inputs.begin(), trace.inputs.end());
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    for (const auto& name : trace.ops[i].reads) {
      if (known.count(name) == 0) {
        return std::pair{i, Problem{"reads", "tensor '" + name +
                                                 "' is read before any op writes it and is not a step input "
                                                 "(declare one in the header: 'input " + name + "')"}};
      }
    }
    known.insert(trace.ops[i].writes.begin(), trace.ops[i].writes.end());
  }
  return std::nullopt;
}

std::optional<Problem> check(const TraceOp& op) {
  if (!is_valid_trace_name(op.layer)) {
    return Problem{"layer", "expected 1 to 256 printable characters without spaces"};
  }
  if (auto problem = check_tensor_list(op.reads, "reads")) return problem;
  if (auto problem = check_tensor_list(op.writes, "writes")) return problem;
  if (!op.is_gemm()) {
    if (op.elements == 0) return Problem{"elements", "expected a whole number >= 1, got 0"};
    return std::nullopt;
  }
  const std::pair<const char*, std::uint64_t> sizes[] = {{"m", op.m}, {"n", op.n}, {"k", op.k}, {"groups", op.groups}};
  for (const auto& [field, value] : sizes) {
    if (value == 0) return Problem{field, "expected a whole number >= 1, got 0"};
  }
  if (op.phase == Phase::kUpdate) {
    return Problem{"phase", "a GEMM op runs in forward, input_grad or weight_grad, not update"};
  }
  if (op.kind == OpKind::kConv && op.groups != 1) {
    return Problem{"groups", "a conv op has groups=1 (grouped convolutions are group-conv ops), got " +
                                 std::to_string(op.groups)};
  }
  if (op.kind == OpKind::kGroupConv && op.groups < 2) {
    return Problem{"groups", "a group-conv op has groups >= 2 (use conv for groups=1)"};
  }
  for (const auto& [field, format] : {std::pair{"a", op.a_format}, std::pair{"b", op.b_format}}) {
    if (numerics::is_accumulator_only(format)) {
      return Problem{field, "expected an operand format (" + all_names_of_formats(false) + "), got the accumulator-only '" +
                                std::string(numerics::format_name(format)) + "'"};
    }
  }
  if (!is_accumulator_format(op.acc_format)) {
    return Problem{"acc", "expected an accumulator format of 16 bits or more (" + all_names_of_formats(true) +
                              "), got '" + std::string(numerics::format_name(op.acc_format)) + "'"};
  }
  if (op.store_format && numerics::is_accumulator_only(*op.store_format) && *op.store_format != op.acc_format) {
    return Problem{"out", "expected a storage format (" + all_names_of_formats(false) +
                              ", or the accumulator's own), got the accumulator-only '" +
                              std::string(numerics::format_name(*op.store_format)) + "'"};
  }
  if (!product({op.groups, op.m, op.n, op.k})) return Problem{"macs", "groups*m*n*k overflows 64 bits"};
  if (op.kind != OpKind::kGemm) {
    if (!op.conv) return Problem{"input", "a conv op needs its geometry"};
    return check_conv(op);
  }
  return std::nullopt;
}

// ---- writing ---------------------------------------------------------------

void append_dims(std::string& out, const char* key, std::initializer_list<std::uint64_t> dims) {
  out += ' ';
  out += key;
  out += '=';
  bool first = true;
  for (const auto d : dims) {
    if (!first) out += 'x';
    out += std::to_string(d);
    first = false;
  }
}

void append_field(std::string& out, const char* key, std::uint64_t value) {
  out += ' ';
  out += key;
  out += '=';
  out += std::to_string(value);
}

void append_field(std::string& out, const char* key, Format format) {
  out += ' ';
  out += key;
  out += '=';
  out += numerics::format_name(format);
}

void append_gemm_fields(std::string& out, const TraceOp& op) {
  append_field(out, "m", op.m);
  append_field(out, "n", op.n);
  append_field(out, "k", op.k);
  append_field(out, "groups", op.groups);
  append_field(out, "a", op.a_format);
  append_field(out, "b", op.b_format);
  append_field(out, "acc", op.acc_format);
  append_field(out, "out", op.stored_format());
  if (op.conv) {
    const ConvGeometry& g = *op.conv;
    append_dims(out, "input", {g.n, g.c, g.h, g.w});
    append_field(out, "filters", g.k);
    append_dims(out, "kernel", {g.r, g.s});
    append_dims(out, "stride", {g.stride_h, g.stride_w});
    append_dims(out, "pad", {g.pad_h, g.pad_w});
    append_dims(out, "dilation", {g.dilation_h, g.dilation_w});
    out += " im2col=";
    out += im2col_name(g.im2col);
  }
}

void append_tensors(std::string& out, const char* key, const std::vector<std::string>& names) {
  out += ' ';
  out += key;
  out += '=';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
  }
}

/// Writes the op's line; `tensors`: the trace names its tensors (version 4).
void write_op(std::string& out, const TraceOp& op, bool tensors) {
  out += op_kind_name(op.kind);
  out += ' ';
  out += op.layer;
  out += ' ';
  out += phase_name(op.phase);
  if (!op.is_gemm()) {
    out += " op=";
    out += vector_kind_name(op.vector);
    append_field(out, "elements", op.elements);
    append_field(out, "in", op.in_format);
    append_field(out, "out", op.out_format);
  } else {
    append_gemm_fields(out, op);
  }
  if (tensors) {
    append_tensors(out, "reads", op.reads);
    append_tensors(out, "writes", op.writes);
  }
  out += '\n';
}

// ---- reading ---------------------------------------------------------------

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

class Reader {
 public:
  Reader(std::string_view text, std::string origin) : m_origin(std::move(origin)) {
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      m_lines.push_back(line);
      start = end + 1;
    }
  }

  Trace read() {
    Trace trace;
    auto header = next_tokens();
    if (!header || (*header)[0] != kMagic) {
      throw error("header", "expected 'nibble-trace " + std::to_string(Trace::kVersion) +
                                "' on the first line (is this a nibble trace?)");
    }
    if (header->size() != 2) throw error("version", "expected 'nibble-trace VERSION', one number");
    const auto version = parse_u64((*header)[1]);
    if (!version) throw error("version", "expected a whole number, got '" + std::string((*header)[1]) + "'");
    if (*version < static_cast<std::uint64_t>(Trace::kOldestVersion) || *version > static_cast<std::uint64_t>(Trace::kVersion)) {
      throw error("version", "this nibble reads trace versions " + std::to_string(Trace::kOldestVersion) + " to " +
                                 std::to_string(Trace::kVersion) + ", got " + std::string((*header)[1]));
    }
    m_version = static_cast<int>(*version);
    trace.model = name_value(keyword_line("model", 2)[1], "model");
    trace.batch = number(keyword_line("batch", 2)[1], "batch");
    trace.policy = name_value(keyword_line("policy", 2)[1], "policy");
    std::uint64_t count = 0;
    std::vector<std::size_t> op_lines;  // per op: its line, for the tensor check
    std::unordered_set<std::string> declared;  // the step inputs so far
    for (;;) {
      const auto tokens = next_tokens();
      if (!tokens) throw error("ops", "expected 'ops COUNT' before the end of the file");
      if ((*tokens)[0] == "skipped") {
        if (tokens->size() != 3) throw error("skipped", "expected 'skipped NODE OP_TYPE'");
        trace.skipped.push_back(SkippedNode{name_value((*tokens)[1], "skipped"), name_value((*tokens)[2], "skipped")});
        continue;
      }
      if ((*tokens)[0] == "input") {
        if (m_version < 4) {
          throw error("input", "step inputs need trace version 4 (this file says 'nibble-trace " +
                                   std::to_string(m_version) + "')");
        }
        if (tokens->size() != 2) throw error("input", "expected 'input TENSOR', one name");
        const std::string name((*tokens)[1]);
        if (!is_valid_tensor_name(name)) throw error("input", std::string("expected a tensor name of ") + kTensorNameRule);
        if (!declared.insert(name).second) throw error("input", "tensor '" + name + "' is declared twice");
        trace.inputs.push_back(name);
        continue;
      }
      if ((*tokens)[0] != "ops") {
        throw error("ops", std::string("expected 'ops COUNT' (or ") + (m_version >= 4 ? "'input TENSOR', " : "") +
                               "'skipped NODE OP_TYPE'), got '" + std::string((*tokens)[0]) + "'");
      }
      if (tokens->size() != 2) throw error("ops", "expected 'ops COUNT', one number");
      const auto parsed = parse_u64((*tokens)[1]);
      if (!parsed) throw error("ops", "expected a whole number, got '" + std::string((*tokens)[1]) + "'");
      count = *parsed;
      break;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto tokens = next_tokens();
      if (!tokens) {
        throw error("ops", "the header says " + std::to_string(count) + " ops, the file ends after " +
                               std::to_string(i));
      }
      trace.ops.push_back(parse_op(*tokens));
      op_lines.push_back(m_line);
    }
    if (next_tokens()) {
      throw error("ops", "the header says " + std::to_string(count) + " ops, found more (remove the extra lines or fix the count)");
    }
    if (const auto problem = check_tensors(trace)) {
      m_line = op_lines.at(problem->first);
      throw error(problem->second.field, problem->second.message);
    }
    return trace;
  }

 private:
  InputError error(const std::string& field, const std::string& message) const {
    return InputError(m_origin, static_cast<std::int64_t>(m_line), field, message);
  }

  /// Tokens of the next line that is neither blank nor a comment; nullopt at the end.
  std::optional<std::vector<std::string_view>> next_tokens() {
    while (m_next < m_lines.size()) {
      m_line = m_next + 1;
      const std::string_view line = m_lines[m_next++];
      auto tokens = tokens_of(line);
      if (tokens.empty() || tokens[0].front() == '#') continue;
      return tokens;
    }
    m_line = m_lines.size();
    return std::nullopt;
  }

  std::vector<std::string_view> keyword_line(const char* keyword, std::size_t size) {
    auto tokens = next_tokens();
    if (!tokens || (*tokens)[0] != keyword || tokens->size() != size) {
      throw error(keyword, std::string("expected '") + keyword + " VALUE' here");
    }
    return *tokens;
  }

  std::string name_value(std::string_view token, const std::string& field) const {
    if (!is_valid_trace_name(token)) throw error(field, "expected 1 to 256 printable characters without spaces");
    return std::string(token);
  }

  std::uint64_t number(std::string_view token, const std::string& field, std::uint64_t minimum = 1) const {
    const auto value = parse_u64(token);
    if (!value) {
      const bool digits = !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
      throw error(field, digits ? "the number " + std::string(token) + " does not fit in 64 bits"
                                : "expected a whole number >= " + std::to_string(minimum) + ", got '" +
                                      std::string(token) + "'");
    }
    if (*value < minimum) {
      throw error(field, "expected a whole number >= " + std::to_string(minimum) + ", got " + std::string(token));
    }
    return *value;
  }

  /// The value of token `index`, which must be `key=VALUE`.
  std::string_view value(const std::vector<std::string_view>& tokens, std::size_t index, const char* key) const {
    if (index >= tokens.size()) throw error(key, std::string("missing field '") + key + "=' (fields are in a fixed order)");
    const std::string_view token = tokens[index];
    const std::size_t eq = token.find('=');
    if (eq == std::string_view::npos || token.substr(0, eq) != key) {
      throw error(key, std::string("expected '") + key + "=...' here, got '" + std::string(token) + "'");
    }
    return token.substr(eq + 1);
  }

  Format format(const std::vector<std::string_view>& tokens, std::size_t index, const char* key) const {
    const std::string_view text = value(tokens, index, key);
    const auto parsed = numerics::parse_format(text);
    if (!parsed) {
      std::string names;
      for (const auto f : numerics::all_formats()) names += (names.empty() ? "" : ", ") + std::string(numerics::format_name(f));
      throw error(key, "expected a format (" + names + "), got '" + std::string(text) + "'");
    }
    return *parsed;
  }

  std::vector<std::uint64_t> dims(const std::vector<std::string_view>& tokens, std::size_t index, const char* key,
                                  std::size_t count, std::uint64_t minimum) const {
    const std::string_view text = value(tokens, index, key);
    const auto parts = split(text, 'x');
    if (parts.size() != count) {
      throw error(key, "expected " + std::to_string(count) + " numbers joined by 'x', got '" + std::string(text) + "'");
    }
    std::vector<std::uint64_t> out;
    for (const auto part : parts) out.push_back(number(part, key, minimum));
    return out;
  }

  /// The names of token `index`, `key=A,B,...` (empty after '=': none); checked by check().
  std::vector<std::string> tensors(const std::vector<std::string_view>& tokens, std::size_t index, const char* key) const {
    const std::string_view text = value(tokens, index, key);
    std::vector<std::string> out;
    if (text.empty()) return out;
    for (const auto part : split(text, ',')) out.emplace_back(part);
    return out;
  }

  TraceOp parse_op(const std::vector<std::string_view>& tokens) {
    TraceOp op;
    const auto kind = parse_op_kind(tokens[0]);
    if (!kind) {
      throw error("kind", "expected gemm, conv, group-conv or vector, got '" + std::string(tokens[0]) + "'");
    }
    op.kind = *kind;
    if (tokens.size() < 3) throw error("phase", "expected 'KIND LAYER PHASE fields...'");
    op.layer = name_value(tokens[1], "layer");
    const auto phase = parse_phase(tokens[2]);
    if (!phase) {
      throw error("phase", "expected forward, input_grad, weight_grad or update, got '" + std::string(tokens[2]) + "'");
    }
    op.phase = *phase;
    std::size_t expected = 0;
    if (op.kind == OpKind::kVector) {
      const std::string_view vk = value(tokens, 3, "op");
      const auto parsed = parse_vector_kind(vk);
      if (!parsed) {
        std::string names;
        for (const auto v : all_vector_kinds()) names += (names.empty() ? "" : ", ") + std::string(vector_kind_name(v));
        throw error("op", "expected a vector op (" + names + "), got '" + std::string(vk) + "'");
      }
      if (vector_kind_version(*parsed) > m_version) {
        throw error("op", "'" + std::string(vk) + "' needs trace version " + std::to_string(vector_kind_version(*parsed)) +
                              " (this file says 'nibble-trace " + std::to_string(m_version) + "')");
      }
      op.vector = *parsed;
      op.elements = number(value(tokens, 4, "elements"), "elements");
      op.in_format = format(tokens, 5, "in");
      op.out_format = format(tokens, 6, "out");
      expected = 7;
    } else {
      op.m = number(value(tokens, 3, "m"), "m");
      op.n = number(value(tokens, 4, "n"), "n");
      op.k = number(value(tokens, 5, "k"), "k");
      op.groups = number(value(tokens, 6, "groups"), "groups");
      op.a_format = format(tokens, 7, "a");
      op.b_format = format(tokens, 8, "b");
      op.acc_format = format(tokens, 9, "acc");
      std::size_t at = 10;
      if (m_version >= 3) {
        // Stored as the accumulator: the same op as a version-2 line without `out=`.
        const Format stored = format(tokens, at++, "out");
        if (stored != op.acc_format) op.store_format = stored;
      }
      expected = at;
      if (op.kind != OpKind::kGemm) {
        ConvGeometry g;
        const auto in = dims(tokens, at, "input", 4, 1);
        g.n = in[0]; g.c = in[1]; g.h = in[2]; g.w = in[3];
        g.k = number(value(tokens, at + 1, "filters"), "filters");
        const auto kernel = dims(tokens, at + 2, "kernel", 2, 1);
        g.r = kernel[0]; g.s = kernel[1];
        const auto stride = dims(tokens, at + 3, "stride", 2, 1);
        g.stride_h = stride[0]; g.stride_w = stride[1];
        const auto pad = dims(tokens, at + 4, "pad", 2, 0);
        g.pad_h = pad[0]; g.pad_w = pad[1];
        const auto dilation = dims(tokens, at + 5, "dilation", 2, 1);
        g.dilation_h = dilation[0]; g.dilation_w = dilation[1];
        g.groups = op.groups;
        expected = at + 6;
        // Since version 3, optional: a file written before the key existed lowered through DRAM.
        if (m_version >= 3 && tokens.size() > expected && tokens[expected].substr(0, 7) == "im2col=") {
          const std::string_view text = value(tokens, expected++, "im2col");
          const auto parsed = parse_im2col(text);
          if (!parsed) throw error("im2col", "expected dram or on-chip, got '" + std::string(text) + "'");
          g.im2col = *parsed;
        }
        op.conv = g;
      }
    }
    if (m_version >= 4) {
      op.reads = tensors(tokens, expected++, "reads");
      op.writes = tensors(tokens, expected++, "writes");
    }
    if (tokens.size() > expected) {
      throw error("fields", "unexpected extra field '" + std::string(tokens[expected]) + "' after the last field of a " +
                                std::string(op_kind_name(op.kind)) + " op");
    }
    if (const auto problem = check(op)) throw error(problem->field, problem->message);
    return op;
  }

  std::string m_origin;                    ///< file name for errors
  std::vector<std::string_view> m_lines;   ///< the text split into lines
  std::size_t m_next = 0;                  ///< index of the next line to read
  std::size_t m_line = 0;                  ///< 1-based number of the line last read
  int m_version = Trace::kVersion;         ///< the file's format version (kinds of later versions are errors)
};

}  // namespace

std::string validate_op(const TraceOp& op) {
  const auto problem = check(op);
  return problem ? problem->field + ": " + problem->message : "";
}

std::string write_trace(const Trace& trace) {
  if (!is_valid_trace_name(trace.model) || !is_valid_trace_name(trace.policy) || trace.batch == 0) {
    throw std::logic_error("write_trace: invalid model name, policy name or batch");
  }
  // The oldest version that holds the trace, so a file keeps its bytes until it
  // uses something newer: a trace that names no tensors is what version 3 holds
  // (dependencies inferred from the order), one that names them version 4, and
  // one with a hadamard op version 5. Version 4 and later lines carry the tensor
  // fields, empty when the trace names none (it still orders by position).
  int needed = trace.names_tensors() ? 4 : 3;
  for (const auto& op : trace.ops) {
    if (!op.is_gemm()) needed = std::max(needed, vector_kind_version(op.vector));
  }
  const bool tensors = needed >= 4;
  std::string out;
  out.reserve(64 + trace.ops.size() * (tensors ? 200 : 120));
  out += kMagic;
  out += ' ' + std::to_string(needed) + '\n';
  out += "model " + trace.model + '\n';
  out += "batch " + std::to_string(trace.batch) + '\n';
  out += "policy " + trace.policy + '\n';
  std::unordered_set<std::string> declared;
  for (const auto& name : trace.inputs) {
    if (!is_valid_tensor_name(name) || !declared.insert(name).second) {
      throw std::logic_error("write_trace: invalid or repeated step input '" + name + "'");
    }
    out += "input " + name + '\n';
  }
  for (const auto& s : trace.skipped) {
    if (!is_valid_trace_name(s.node) || !is_valid_trace_name(s.op_type)) {
      throw std::logic_error("write_trace: invalid skipped node name");
    }
    out += "skipped " + s.node + ' ' + s.op_type + '\n';
  }
  out += "ops " + std::to_string(trace.ops.size()) + '\n';
  out += kLegend;
  out += '\n';
  for (const auto& op : trace.ops) {
    if (const auto problem = check(op)) {
      throw std::logic_error("write_trace: op of layer '" + op.layer + "': " + problem->field + ": " + problem->message);
    }
    // Fields the text does not carry must hold their defaults, or write -> read would change the op.
    const bool clean =
        op.is_gemm()
            ? (op.elements == 0 && (op.kind == OpKind::kGemm) == !op.conv && op.vector == VectorKind::kEltwise &&
               op.in_format == Format::kFp32 && op.out_format == Format::kFp32)
            : (op.m == 0 && op.n == 0 && op.k == 0 && op.groups == 1 && !op.conv && op.a_format == Format::kFp32 &&
               op.b_format == Format::kFp32 && op.acc_format == Format::kFp32 && !op.store_format);
    if (!clean) throw std::logic_error("write_trace: op of layer '" + op.layer + "' sets fields of another op kind");
    write_op(out, op, tensors);
  }
  if (const auto problem = check_tensors(trace)) {
    throw std::logic_error("write_trace: op " + std::to_string(problem->first) + " of layer '" +
                           trace.ops[problem->first].layer + "': " + problem->second.field + ": " + problem->second.message);
  }
  return out;
}

void write_trace_file(const std::string& path, const Trace& trace) { write_file_atomic(path, write_trace(trace)); }

Trace read_trace(std::string_view text, const std::string& origin) { return Reader(text, origin).read(); }

Trace read_trace_file(const std::string& path) { return read_trace(read_file(path), path); }

}  // namespace nibble::workloads
