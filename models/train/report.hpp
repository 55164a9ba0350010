// The files `nibble train --out DIR` writes (docs/training.md, "Outputs").
#pragma once

#include <string>

#include "models/train/trainer.hpp"
#include "sim/common/error.hpp"

namespace nibble::train {

/// Writes into `dir` (already prepared with prepare_output_dir), each file
/// atomically:
///   summary.json   configuration, final numbers, per-layer formats, timing
///   epochs.csv     per epoch: loss, train and test accuracy, learning rate, skipped steps
///   confusion.csv  final test confusion matrix, rows = true class, columns = predicted
///   layers.csv     per GEMM layer: formats and accumulators of its three GEMMs, final scales
///   trace.txt      the training step that was run (docs/trace-format.md)
///   report.html    the learning curves and the tables above, one self-contained page
/// Every file except summary.json (its timing fields) is byte-identical for
/// the same configuration and seed. `command_line` is shown in the report.
/// `words` renders the setting references (setting_ref) of the text the files
/// quote, e.g. precision_note's advice, as the front end names them (sim/cli:
/// render_settings, the flag).
void write_train_outputs(const std::string& dir, const TrainResult& result, const std::string& command_line,
                         const SettingWords& words);

/// The summary.json document's text (also printed by tests).
std::string train_summary_json(const TrainResult& result, const SettingWords& words);

}  // namespace nibble::train
