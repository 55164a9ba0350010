// `nibble numerics quantize` (sim/cli/cmd_numerics_quantize.cpp).
#pragma once

#include <string>
#include <vector>

namespace nibble::cli {

/// Runs `nibble numerics quantize ARGS` (ARGS after the word "quantize").
int run_numerics_quantize(const std::vector<std::string>& args);

}  // namespace nibble::cli
