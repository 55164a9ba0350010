#include "models/train/report.hpp"

#include <filesystem>

#include "sim/common/files.hpp"
#include "sim/common/text.hpp"
#include "sim/report/csv.hpp"
#include "sim/report/html.hpp"
#include "sim/report/json.hpp"
#include "sim/report/svg_chart.hpp"
#include "workloads/trace_io.hpp"

namespace nibble::train {

namespace {

using nlohmann::ordered_json;
using report::json_number;

std::string fmt(numerics::Format f) { return std::string(numerics::format_name(f)); }

std::string rounding_name(numerics::Fp4Rounding r) {
  switch (r) {
    case numerics::Fp4Rounding::kNearestLog2: return "nearest-log2";
    case numerics::Fp4Rounding::kNearestValue: return "nearest-value";
    case numerics::Fp4Rounding::kStochastic: return "stochastic";
  }
  return "?";
}

ordered_json gemm_json(const GemmFormats& g) {
  ordered_json j;
  j["a"] = fmt(g.a);
  j["b"] = fmt(g.b);
  j["acc"] = fmt(g.acc);
  return j;
}


std::string path_in(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

std::string epochs_csv(const TrainResult& r) {
  report::CsvWriter csv({"epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "skipped_steps"});
  for (const auto& e : r.epochs) {
    csv.row({report::CsvWriter::field(e.epoch), report::CsvWriter::field(e.lr), report::CsvWriter::field(e.train_loss),
             report::CsvWriter::field(e.train_accuracy), report::CsvWriter::field(e.test_loss),
             report::CsvWriter::field(e.test_accuracy), report::CsvWriter::field(e.skipped_steps)});
  }
  return csv.str();
}

std::string confusion_csv(const TrainResult& r) {
  std::vector<std::string> columns{"true_class"};
  for (int c = 0; c < kClasses; ++c) columns.push_back("predicted_" + std::to_string(c));
  report::CsvWriter csv(columns);
  for (int t = 0; t < kClasses; ++t) {
    std::vector<std::string> row{std::to_string(t)};
    for (int p = 0; p < kClasses; ++p) row.push_back(report::CsvWriter::field(r.confusion[t][p]));
    csv.row(row);
  }
  return csv.str();
}

std::vector<std::string> layer_row(const LayerSummary& l) {
  const LayerArith& a = l.arith;
  return {l.name,
          fmt(a.forward.a), fmt(a.forward.b), fmt(a.forward.acc),
          fmt(a.input_grad.a), fmt(a.input_grad.b), fmt(a.input_grad.acc),
          fmt(a.weight_grad.a), fmt(a.weight_grad.b), fmt(a.weight_grad.acc),
          a.tpr ? "yes" : "no", a.gradscale ? "yes" : "no",
          format_double(l.grad_scale), format_double(l.pact_alpha)};
}

const std::vector<std::string>& layer_columns() {
  static const std::vector<std::string> c{"layer", "forward_a", "forward_b", "forward_acc", "input_grad_a",
                                          "input_grad_b", "input_grad_acc", "weight_grad_a", "weight_grad_b",
                                          "weight_grad_acc", "tpr", "gradscale", "final_grad_scale",
                                          "final_pact_alpha"};
  return c;
}

std::string layers_csv(const TrainResult& r) {
  report::CsvWriter csv(layer_columns());
  for (const auto& l : r.layers) csv.row(layer_row(l));
  return csv.str();
}

std::string report_html(const TrainResult& r, const std::string& command_line, const SettingWords& words) {
  const TrainConfig& c = r.config;
  report::HtmlPage page("nibble train: " + c.model + ", " + r.policy_name,
                        std::to_string(c.epochs) + " epochs, batch " + std::to_string(c.batch) + ", seed " +
                            std::to_string(c.seed) + ", " + std::to_string(r.train_images) + " training and " +
                            std::to_string(r.test_images) + " test images");
  const EpochStats& last = r.epochs.back();
  page.headlines({{"test accuracy", format_fixed(last.test_accuracy, 2), "%", "after the last epoch"},
                  {"train loss", format_fixed(last.train_loss, 4), "", "mean over the last epoch"},
                  {"test loss", format_fixed(last.test_loss, 4), "", "after the last epoch"}});
  page.section("Learning curves");
  report::LineChart acc{"Accuracy", "epoch", "accuracy (%)", {}};
  report::LineChart loss{"Loss", "epoch", "softmax cross-entropy", {}};
  report::LineSeries train_acc{"train (as trained)", {}, {}}, test_acc{"test", {}, {}};
  report::LineSeries train_loss{"train (as trained)", {}, {}}, test_loss{"test", {}, {}};
  for (const auto& e : r.epochs) {
    const double x = static_cast<double>(e.epoch);
    train_acc.x.push_back(x);
    train_acc.y.push_back(e.train_accuracy);
    test_acc.x.push_back(x);
    test_acc.y.push_back(e.test_accuracy);
    train_loss.x.push_back(x);
    train_loss.y.push_back(e.train_loss);
    test_loss.x.push_back(x);
    test_loss.y.push_back(e.test_loss);
  }
  acc.series = {train_acc, test_acc};
  loss.series = {train_loss, test_loss};
  page.figure(report::line_chart(acc), "Training accuracy is measured on each batch as it was trained; test "
                                       "accuracy on the test set after each epoch.");
  page.figure(report::line_chart(loss), "Mean softmax cross-entropy.");
  report::HtmlTable epochs;
  epochs.columns = {"epoch", "learning rate", "train loss", "train accuracy (%)", "test loss", "test accuracy (%)",
                    "skipped steps"};
  epochs.numeric = {true, true, true, true, true, true, true};
  for (const auto& e : r.epochs) {
    epochs.rows.push_back({std::to_string(e.epoch), format_double(e.lr), format_fixed(e.train_loss, 4),
                           format_fixed(e.train_accuracy, 2), format_fixed(e.test_loss, 4), format_fixed(e.test_accuracy, 2),
                           std::to_string(e.skipped_steps)});
  }
  page.table(epochs);

  page.section("Arithmetic per layer");
  if (const std::string note = precision_note(r); !note.empty()) page.paragraph("Note: " + words(note) + ".");
  page.paragraph("Operand formats (A x B) and accumulator of each GEMM; A is the streamed operand. Accumulators "
                 "from: " + c.hardware.source + ". FP4 bias " + std::to_string(c.hardware.fp4_bias) +
                 ", FP4 rounding " + rounding_name(c.hardware.fp4_rounding) + ".");
  report::HtmlTable layers;
  layers.columns = layer_columns();
  for (const auto& l : r.layers) layers.rows.push_back(layer_row(l));
  page.table(layers);

  page.section("Confusion matrix");
  page.paragraph("Final model on the test set; rows are the true class, columns the predicted class.");
  report::HtmlTable conf;
  conf.columns = {"true \\ predicted"};
  for (int p = 0; p < kClasses; ++p) conf.columns.push_back(std::to_string(p));
  conf.numeric.assign(conf.columns.size(), true);
  for (int t = 0; t < kClasses; ++t) {
    std::vector<std::string> row{std::to_string(t)};
    for (int p = 0; p < kClasses; ++p) row.push_back(std::to_string(r.confusion[t][p]));
    conf.rows.push_back(row);
  }
  page.table(conf);

  page.section("Run");
  page.preformatted(command_line);
  page.paragraph("Timing (seconds, images per second) is in summary.json only, so that this page is the same "
                 "for the same configuration and seed.");
  return page.str();
}

}  // namespace

std::string train_summary_json(const TrainResult& r, const SettingWords& words) {
  const TrainConfig& c = r.config;
  ordered_json doc;
  doc["model"] = c.model;
  doc["policy"] = r.policy_name;
  doc["dataset"] = c.data_dir;
  doc["epochs"] = c.epochs;
  doc["batch"] = c.batch;
  if (resolve_optimizer(c.optimizer, c.model) == Optimizer::kAdamW) {
    doc["optimizer"] = "adamw";
    doc["lr"] = json_number(resolve_lr(c));
    doc["lr_schedule"] = "cosine";
    doc["beta1"] = json_number(c.adamw.beta1);
    doc["beta2"] = json_number(c.adamw.beta2);
    doc["weight_decay"] = json_number(c.adamw.weight_decay);
  } else {
    doc["lr"] = json_number(resolve_lr(c));
    doc["lr_schedule"] = "cosine";
    doc["momentum"] = json_number(c.sgd.momentum);
    doc["weight_decay"] = json_number(c.sgd.weight_decay);
  }
  doc["lr_warmup"] = json_number(resolve_warmup(c.warmup, c.model));  // fraction of the run's steps
  doc["seed"] = c.seed;
  doc["train_images"] = r.train_images;
  doc["test_images"] = r.test_images;
  doc["pixel_mean"] = json_number(r.pixel_mean);
  doc["pixel_std"] = json_number(r.pixel_std);
  const EpochStats& last = r.epochs.back();
  doc["test_accuracy"] = json_number(last.test_accuracy);
  doc["test_loss"] = json_number(last.test_loss);
  doc["train_loss"] = json_number(last.train_loss);
  doc["train_accuracy"] = json_number(last.train_accuracy);
  std::uint64_t skipped = 0;
  for (const auto& e : r.epochs) skipped += e.skipped_steps;
  doc["skipped_steps"] = skipped;
  doc["four_bit_layers"] = four_bit_layers(r);
  if (const std::string note = precision_note(r); !note.empty()) doc["note"] = words(note);
  ordered_json hw;
  hw["source"] = c.hardware.source;
  hw["fp4_bias"] = c.hardware.fp4_bias;
  hw["fp4_rounding"] = rounding_name(c.hardware.fp4_rounding);
  if (c.hardware.design) {
    const design::Design& d = *c.hardware.design;
    hw["design"] = d.name;
    hw["pe_kind"] = std::string(design::pe_kind_name(d.array.pe_kind));
    hw["acc_int4"] = fmt(d.array.acc_int4);
    hw["acc_fp4"] = fmt(d.array.acc_fp4);
    hw["acc_float"] = fmt(d.array.acc_float);
    hw["chunk"] = c.hardware.chunk;
  }
  doc["hardware"] = hw;
  ordered_json layers = ordered_json::array();
  for (const auto& l : r.layers) {
    ordered_json j;
    j["name"] = l.name;
    j["forward"] = gemm_json(l.arith.forward);
    j["input_grad"] = gemm_json(l.arith.input_grad);
    j["weight_grad"] = gemm_json(l.arith.weight_grad);
    j["tpr"] = l.arith.tpr;
    j["gradscale"] = l.arith.gradscale;
    j["final_grad_scale"] = json_number(l.grad_scale);
    j["final_pact_alpha"] = json_number(l.pact_alpha);
    layers.push_back(j);
  }
  doc["layers"] = layers;
  // Timing: the only fields that change from run to run.
  doc["seconds"] = json_number(r.seconds);
  doc["images_per_s"] = json_number(r.images_per_s);
  ordered_json per_epoch = ordered_json::array();
  for (const auto& e : r.epochs) per_epoch.push_back(json_number(e.seconds));
  doc["epoch_seconds"] = per_epoch;
  doc["threads"] = c.threads;
  doc["fp16_kernel"] = r.fp16_kernel;
  return report::json_text(doc);
}

void write_train_outputs(const std::string& dir, const TrainResult& result, const std::string& command_line,
                         const SettingWords& words) {
  if (result.epochs.empty()) throw std::logic_error("write_train_outputs: no epoch ran");
  write_file_atomic(path_in(dir, "epochs.csv"), epochs_csv(result));
  write_file_atomic(path_in(dir, "confusion.csv"), confusion_csv(result));
  write_file_atomic(path_in(dir, "layers.csv"), layers_csv(result));
  workloads::write_trace_file(path_in(dir, "trace.txt"), result.trace);
  write_file_atomic(path_in(dir, "report.html"), report_html(result, command_line, words));
  write_file_atomic(path_in(dir, "summary.json"), train_summary_json(result, words));
}

}  // namespace nibble::train
