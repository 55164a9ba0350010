// ONNX import: a real .onnx file (with or without weight initializers) read
// into a forward graph with concrete shapes, ready to expand like a zoo model.
// Shapes come from initializers, graph inputs and value_info, and are
// propagated through every supported op; docs/trace-format.md lists them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/graph/graph.hpp"

namespace nibble::models {

struct OnnxOptions {
  std::optional<std::uint64_t> batch;  ///< replaces dimension 0 of the data inputs (default: the file's, 1 if symbolic)
  bool skip_unknown = false;           ///< unsupported ops become free pass-throughs instead of errors
};

/// A node the importer left out (`skip_unknown`).
struct OnnxSkipped {
  std::string node;     ///< node name as used for layer names
  std::string op_type;  ///< ONNX op type
};

struct OnnxImport {
  Graph graph;                       ///< the forward graph, a loss on each graph output
  std::vector<OnnxSkipped> skipped;  ///< nodes left out, in file order
};

/// Imports an ONNX file. Every problem — unreadable or malformed protobuf,
/// missing shapes, an unsupported op (without skip_unknown), impossible
/// shapes — is an InputError naming the file and, where there is one, the
/// node and its op type ("node 'conv1' (Conv)").
OnnxImport import_onnx(const std::string& path, const OnnxOptions& options);
/// The same from the file's bytes; `origin` names it in errors, `model_name` names the graph.
OnnxImport import_onnx_bytes(std::string_view bytes, const std::string& origin, const std::string& model_name,
                             const OnnxOptions& options);
/// The op types the importer understands, sorted (for help and errors).
const std::vector<std::string>& onnx_supported_ops();

}  // namespace nibble::models
