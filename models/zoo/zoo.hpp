// Built-in networks as forward graphs with batch and input size as parameters.
// Layer structure and names follow torchvision (ResNet, MobileNetV2, VGG,
// AlexNet), Hugging Face BERT and PyTorch nn.LSTM, so that forward MAC counts
// at the reference sizes equal the published ones (tests/models/test_zoo.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/graph/graph.hpp"

namespace nibble::models {

/// Parameters of a zoo network; unset values take each model's default.
struct ZooOptions {
  std::uint64_t batch = 1;                  ///< training batch size N
  std::optional<std::uint64_t> input_size;  ///< image side (CNNs), input features (lstm)
  std::optional<std::uint64_t> seq;         ///< sequence length (bert-base, lstm)
  std::optional<std::uint64_t> hidden;      ///< hidden size (lstm)
};

/// Every zoo model name, in a fixed order.
const std::vector<std::string>& zoo_model_names();
/// One line per model: name, what it is and its defaults (for --help and docs).
std::string zoo_model_summary();

/// Builds a zoo network. An unknown name, an option the model does not take,
/// or a size too small for the network is an InputError (field "model",
/// "input_size", "seq" or "hidden"), with a "did you mean" for names.
Graph build_zoo_model(const std::string& name, const ZooOptions& options);

}  // namespace nibble::models
