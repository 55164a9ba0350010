// The trace text format (docs/trace-format.md): a versioned header and one op
// per line. write_trace() is canonical, so write -> read -> write gives the
// same bytes; read_trace() checks every field and reports the first problem as
// an InputError `file:line: field: what was expected`.
#pragma once

#include <string>
#include <string_view>

#include "workloads/trace.hpp"

namespace nibble::workloads {

/// The canonical text of `trace`. A trace no reader would accept (a bad name,
/// a zero size, geometry that does not match m, n, k) is a std::logic_error:
/// traces are built by code, so that is a programming error.
std::string write_trace(const Trace& trace);
/// Writes the canonical text to `path` atomically.
void write_trace_file(const std::string& path, const Trace& trace);

/// Parses trace text; `origin` names it in errors (a file path).
Trace read_trace(std::string_view text, const std::string& origin);
/// Reads and parses a trace file.
Trace read_trace_file(const std::string& path);

/// Checks one op as the reader does; returns "" if valid, else "field: message".
std::string validate_op(const TraceOp& op);

}  // namespace nibble::workloads
