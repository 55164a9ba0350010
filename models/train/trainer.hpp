// The training loop: a zoo network, a precision policy, a dataset and a
// seed in; per-epoch loss and accuracy, the final confusion matrix and
// timing out. Same configuration and seed -> the same numbers to the last
// digit, at any thread count (only the timing fields differ).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/train/idx.hpp"
#include "models/train/policy.hpp"
#include "models/train/adamw.hpp"
#include "models/train/sgd.hpp"
#include "workloads/trace.hpp"

namespace nibble::train {

/// The optimizer of a run.
enum class Optimizer {
  kDefault,  ///< the model's: AdamW for fmnist-vit (as transformers are trained), SGD otherwise
  kSgd,      ///< SGD with momentum (SgdConfig)
  kAdamW,    ///< AdamW (AdamWConfig), learning rate TrainConfig::adamw_lr
};
/// "sgd" or "adamw" (kDefault resolved for `model` first).
std::string optimizer_name(Optimizer optimizer, const std::string& model);
/// kDefault resolved: the optimizer `model` trains with.
Optimizer resolve_optimizer(Optimizer optimizer, const std::string& model);

/// The warm-up: `warmup` when given, else the model's (0.05 of the run's
/// steps for fmnist-resnet, as batch-norm ResNets are trained with a
/// warm-up; none for the others).
double resolve_warmup(const std::optional<double>& warmup, const std::string& model);

struct TrainConfig;
/// The peak learning rate of `config`: its `lr` when set; else AdamW's
/// `adamw_lr`; else with SGD 0.1 for fmnist-resnet (He et al. 2016's rate for
/// CIFAR ResNets, made safe at the start by the warm-up) and `sgd.lr` for the others.
double resolve_lr(const TrainConfig& config);

/// Everything that determines a training run.
struct TrainConfig {
  std::string model = "fmnist-mlp";  ///< zoo name: fmnist-mlp, fmnist-cnn, fmnist-resnet or fmnist-vit
  std::string policy = "fp32";       ///< policy name (models/train/policy.hpp)
  std::optional<std::string> policy_file;  ///< YAML per-layer overrides (workloads/policy.hpp), if any
  HardwareArith hardware;            ///< accumulators and FP4 bias (a design, or defaults)
  std::uint64_t epochs = 10;         ///< passes over the training set
  std::uint64_t batch = 64;          ///< images per SGD step
  SgdConfig sgd;                     ///< learning rate (unless `lr` is set or the model has its own), momentum, weight decay
  Optimizer optimizer = Optimizer::kDefault;  ///< SGD or AdamW
  AdamWConfig adamw;                 ///< AdamW's moments and weight decay
  double adamw_lr = 1e-3;            ///< AdamW's peak learning rate unless `lr` is set (cosine decay per step, as SGD's)
  std::optional<double> lr;          ///< peak learning rate (--lr); unset: the model's (resolve_lr)
  std::optional<double> warmup;      ///< fraction of the run's steps with a linear warm-up (resolve_warmup)
  std::uint64_t seed = 1;            ///< initialization, shuffling, stochastic rounding
  std::uint64_t train_subset = 0;    ///< train on the first N training images (0: all)
  std::uint64_t test_subset = 0;     ///< evaluate on the first N test images (0: all)
  unsigned threads = 1;              ///< worker threads (results do not depend on it)
  std::string data_dir = kDefaultDataDir;  ///< where the data came from (reported only; train() takes the data)
};

/// Numbers of one epoch. Loss is the mean softmax cross-entropy.
struct EpochStats {
  std::uint64_t epoch = 0;       ///< 1-based
  double lr = 0.0;               ///< learning rate of the epoch's last step
  double train_loss = 0.0;       ///< mean over the epoch's training batches, as trained
  double train_accuracy = 0.0;   ///< percent correct on the epoch's training batches, as trained
  double test_loss = 0.0;        ///< mean over the test set after the epoch
  double test_accuracy = 0.0;    ///< percent correct on the test set after the epoch
  std::uint64_t skipped_steps = 0;  ///< SGD steps skipped because a gradient was inf or NaN
  double seconds = 0.0;          ///< wall time of the training part of the epoch (not deterministic)
  double images_per_s = 0.0;     ///< training images / seconds (not deterministic)
};

/// One GEMM layer as trained (for the report).
struct LayerSummary {
  std::string name;        ///< graph layer name
  LayerArith arith;        ///< formats of its three GEMMs
  float grad_scale = 1.0f; ///< final GradScale (1 if unused)
  float pact_alpha = 0.0f; ///< final PACT clip (0 if unused)
};

/// What a run produced.
struct TrainResult {
  TrainConfig config;                                        ///< the run's configuration
  std::uint64_t train_images = 0;                            ///< images per epoch
  std::uint64_t test_images = 0;                             ///< images evaluated
  std::vector<EpochStats> epochs;                            ///< one per epoch
  std::array<std::array<std::uint64_t, kClasses>, kClasses> confusion{};  ///< [true label][predicted], final model
  std::vector<LayerSummary> layers;                          ///< GEMM layers in order
  double seconds = 0.0;                                      ///< total training wall time (not deterministic)
  double images_per_s = 0.0;                                 ///< overall training throughput (not deterministic)
  std::string fp16_kernel;                                   ///< FP16-accumulator kernel used ("avx512", ...)
  std::string policy_name;                                   ///< the policy as run (a policy file renames it)
  float pixel_mean = 0.0f;                                   ///< input normalization: mean of pixel / 255
  float pixel_std = 1.0f;                                    ///< input normalization: its standard deviation
  workloads::Trace trace;                                    ///< the training step that was run, as a trace
};

/// GEMM layers of a run whose forward GEMM multiplies 4-bit operands (the
/// int4-fp4 family keeps the first and last layers in FP16, so a network whose
/// GEMM layers are all first or last, like fmnist-mlp, has none).
std::size_t four_bit_layers(const TrainResult& result);
/// "" when some GEMM layer is 4-bit or the policy is not a 4-bit one; otherwise
/// a sentence saying that the run is not 4-bit training (for stderr, summary.json
/// and report.html); its advice names the policy setting by setting_ref.
std::string precision_note(const TrainResult& result);

/// Called after every epoch (progress lines).
using EpochCallback = std::function<void(const TrainResult& so_far, const EpochStats& epoch)>;

/// Checks everything about `config` that needs no data: numbers in range, a
/// known model that the emulator can run on 28 x 28 images, a known policy
/// (and a readable policy file). InputError naming the option otherwise.
void validate_config(const TrainConfig& config);

/// Trains `config.model` on `data` with `config.policy`. Bad configuration
/// values (unknown model or policy, batch 0, ...) are InputErrors.
TrainResult train(const TrainConfig& config, const Dataset& data, const EpochCallback& on_epoch = {});

/// Per-pixel normalization: (pixel / 255 - mean) / std, with the mean and
/// standard deviation of all training pixels (Fashion-MNIST: about 0.286 and 0.353).
struct Normalization {
  float mean = 0.0f;  ///< of pixel / 255
  float std = 1.0f;   ///< of pixel / 255
};
/// The normalization of a training set (exact sums in integers).
Normalization normalization_of(const ImageSet& train);

}  // namespace nibble::train
