#include "models/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include "models/train/attention.hpp"
#include "models/train/gemm.hpp"
#include "models/train/network.hpp"
#include "models/train/parallel.hpp"
#include "models/train/rng.hpp"
#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"

namespace nibble::train {

namespace {

/// Images per forward pass when evaluating (memory only; results do not depend on it
/// beyond the fixed GEMM blocking).
constexpr std::size_t kEvalBatch = 500;

/// Stream numbers for derive_seed(): one per use of randomness.
constexpr std::uint64_t kStreamInit = 0;
constexpr std::uint64_t kStreamShuffle = 1;  ///< + epoch index

void fill_batch(const ImageSet& set, const Normalization& norm, const std::vector<std::uint32_t>& order,
                std::size_t begin, std::size_t count, Tensor& x, std::vector<std::uint8_t>& labels) {
  const std::size_t pixels = static_cast<std::size_t>(set.rows) * set.cols;
  x.resize(Shape{count, 1, set.rows, set.cols});
  labels.resize(count);
  const float inv = 1.0f / (255.0f * norm.std);
  const float shift = norm.mean / norm.std;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t image = order[begin + i];
    const std::uint8_t* src = set.pixels.data() + image * pixels;
    float* dst = x.sample(i);
    for (std::size_t p = 0; p < pixels; ++p) dst[p] = static_cast<float>(src[p]) * inv - shift;
    labels[i] = set.labels[image];
  }
}

std::size_t argmax(const float* v, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < n; ++j) {
    if (v[j] > v[best]) best = j;
  }
  return best;
}

void check_numbers(const TrainConfig& c) {
  if (!(c.adamw_lr > 0.0) || !std::isfinite(c.adamw_lr)) {
    throw SettingError("lr", "expected a finite learning rate > 0");
  }
  if (c.epochs == 0) throw SettingError("epochs", "expected at least 1 epoch");
  if (c.batch == 0) throw SettingError("batch", "expected a batch of at least 1 image");
  if (!(c.sgd.lr > 0.0) || !std::isfinite(c.sgd.lr)) {
    throw SettingError("lr", "expected a finite learning rate > 0");
  }
  if (!(c.sgd.momentum >= 0.0 && c.sgd.momentum < 1.0)) {
    throw InputError("", 0, "momentum", "expected a momentum in [0, 1)");
  }
  if (!(c.sgd.weight_decay >= 0.0) || !std::isfinite(c.sgd.weight_decay)) {
    throw InputError("", 0, "weight_decay", "expected a finite weight decay >= 0");
  }
  if (c.lr && (!(*c.lr > 0.0) || !std::isfinite(*c.lr))) {
    throw SettingError("lr", "expected a finite learning rate > 0");
  }
  if (c.warmup && !(*c.warmup >= 0.0 && *c.warmup < 1.0)) {
    throw SettingError("warmup", "expected a fraction of the run's steps in [0, 1)");
  }
  if (c.threads == 0) throw SettingError("threads", "expected at least 1 thread");
  if (c.threads > 256) throw SettingError("threads", "expected at most 256 threads");
}

}  // namespace

Optimizer resolve_optimizer(Optimizer optimizer, const std::string& model) {
  if (optimizer != Optimizer::kDefault) return optimizer;
  return model == "fmnist-vit" ? Optimizer::kAdamW : Optimizer::kSgd;
}

double resolve_warmup(const std::optional<double>& warmup, const std::string& model) {
  if (warmup) return *warmup;
  // Goyal et al. (2017) warm up 5 of 90 epochs of ResNet-50; He et al.
  // (2016) warm up their deepest CIFAR ResNet before its peak rate. A
  // twentieth of the run keeps that proportion for any run length.
  return model == "fmnist-resnet" ? 0.05 : 0.0;
}

double resolve_lr(const TrainConfig& config) {
  if (config.lr) return *config.lr;
  if (resolve_optimizer(config.optimizer, config.model) == Optimizer::kAdamW) return config.adamw_lr;
  return config.model == "fmnist-resnet" ? 0.1 : config.sgd.lr;
}

std::string optimizer_name(Optimizer optimizer, const std::string& model) {
  return resolve_optimizer(optimizer, model) == Optimizer::kAdamW ? "adamw" : "sgd";
}

Normalization normalization_of(const ImageSet& train) {
  // Integer sums are exact: at most 60,000 x 784 x 255^2 < 2^63.
  std::uint64_t sum = 0;
  std::uint64_t sum_sq = 0;
  for (const std::uint8_t p : train.pixels) {
    sum += p;
    sum_sq += static_cast<std::uint64_t>(p) * p;
  }
  const double n = static_cast<double>(train.pixels.size());
  const double mean = static_cast<double>(sum) / n / 255.0;
  const double var = static_cast<double>(sum_sq) / n / (255.0 * 255.0) - mean * mean;
  Normalization norm;
  norm.mean = static_cast<float>(mean);
  norm.std = static_cast<float>(var > 0.0 ? std::sqrt(var) : 1.0);
  return norm;
}

namespace {

/// The zoo graph of `config.model`, checked to take 1-channel rows x cols images.
models::Graph load_graph(const TrainConfig& config, std::uint32_t rows, std::uint32_t cols) {
  models::ZooOptions options;
  options.batch = config.batch;
  models::Graph graph = [&] {
    try {
      return models::build_zoo_model(config.model, options);
    } catch (const InputError& e) {
      throw SettingError("model", e.message());
    }
  }();
  const models::Layer& input = graph.layer(0);
  if (input.shape.size() != 4 || input.shape[1] != 1 || input.shape[2] != rows || input.shape[3] != cols) {
    throw SettingError("model", config.model + " takes " + models::shape_text(input.shape) +
                                    " inputs; the training emulator needs 1-channel " + std::to_string(rows) + " x " +
                                    std::to_string(cols) + " images (fmnist-mlp, fmnist-cnn, fmnist-resnet, fmnist-vit)");
  }
  return graph;
}

}  // namespace

void validate_config(const TrainConfig& config) {
  check_numbers(config);
  const TrainPolicy policy = make_train_policy(config.policy, config.policy_file);
  const models::Graph graph = load_graph(config, 28, 28);
  build_network(graph, plan_arithmetic(graph, policy, config.hardware), policy.base.storage());
}

std::size_t four_bit_layers(const TrainResult& result) {
  std::size_t count = 0;
  for (const auto& l : result.layers) {
    const GemmFormats& f = l.arith.forward;
    if (numerics::format_bits(f.a) <= 4 || numerics::format_bits(f.b) <= 4) ++count;
  }
  return count;
}

std::string precision_note(const TrainResult& result) {
  const bool four_bit_policy = result.policy_name.rfind("int4", 0) == 0;
  if (!four_bit_policy || result.layers.empty() || four_bit_layers(result) > 0) return "";
  std::string formats;
  for (const auto& l : result.layers) {
    const std::string f = std::string(numerics::format_name(l.arith.forward.a));
    if (formats.find(f) == std::string::npos) formats += (formats.empty() ? "" : "/") + f;
  }
  return "no GEMM layer of " + result.config.model + " runs in 4 bits under " + result.policy_name + " (all " +
         std::to_string(result.layers.size()) + " are first or last layers, kept in " + formats +
         "): this is " + formats + " training; use " + setting_ref("policy") +
         " int4-fp4-all to train every layer in 4 bits";
}

TrainResult train(const TrainConfig& config, const Dataset& data, const EpochCallback& on_epoch) {
  check_numbers(config);
  const TrainPolicy policy = make_train_policy(config.policy, config.policy_file);
  const models::Graph graph = load_graph(config, data.train.rows, data.train.cols);
  const std::vector<LayerArith> plan = plan_arithmetic(graph, policy, config.hardware);
  Network net = build_network(graph, plan, policy.base.storage());
  const Shape logits = net.output_shape(Shape{1, 1, data.train.rows, data.train.cols});
  if (logits.per_sample() != static_cast<std::size_t>(kClasses)) {
    throw SettingError("model", config.model + " has " + std::to_string(logits.per_sample()) +
                                    " outputs; expected one per class (" + std::to_string(kClasses) + ")");
  }
  net.init(derive_seed(config.seed, kStreamInit));
  const std::vector<Param*> params = net.params();

  TrainResult result;
  result.config = config;
  result.fp16_kernel = fp16_kernel_name();
  result.policy_name = policy.name;
  result.trace = trace_of_run(graph, policy, plan);
  const std::size_t train_n = config.train_subset == 0
                                  ? data.train.count
                                  : static_cast<std::size_t>(std::min<std::uint64_t>(config.train_subset, data.train.count));
  const std::size_t test_n = config.test_subset == 0
                                 ? data.test.count
                                 : static_cast<std::size_t>(std::min<std::uint64_t>(config.test_subset, data.test.count));
  result.train_images = train_n;
  result.test_images = test_n;
  const Normalization norm = normalization_of(data.train);
  result.pixel_mean = norm.mean;
  result.pixel_std = norm.std;
  const std::size_t batch = static_cast<std::size_t>(config.batch);
  const std::uint64_t steps_per_epoch = (train_n + batch - 1) / batch;
  const std::uint64_t total_steps = steps_per_epoch * config.epochs;

  ThreadPool pool(config.threads);
  StepContext ctx;
  ctx.pool = &pool;
  SoftmaxCrossEntropy loss;
  Tensor x;
  Tensor dlogits;
  std::vector<std::uint8_t> labels;
  std::vector<std::uint32_t> test_order(test_n);
  std::iota(test_order.begin(), test_order.end(), 0u);
  std::uint64_t step = 0;
  std::uint64_t adam_steps = 0;
  const bool adamw = resolve_optimizer(config.optimizer, config.model) == Optimizer::kAdamW;
  const double peak_lr = resolve_lr(config);
  double lr = peak_lr;
  const auto warmup_steps = static_cast<std::uint64_t>(
      std::llround(resolve_warmup(config.warmup, config.model) * static_cast<double>(total_steps)));

  for (std::uint64_t epoch = 0; epoch < config.epochs; ++epoch) {
    std::vector<std::uint32_t> order(train_n);
    std::iota(order.begin(), order.end(), 0u);
    Rng shuffle_rng(derive_seed(config.seed, kStreamShuffle + epoch));
    shuffle_rng.shuffle(order);

    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0.0;
    std::uint64_t correct = 0;
    std::uint64_t skipped = 0;
    ctx.training = true;
    for (std::size_t begin = 0; begin < train_n; begin += batch) {
      const std::size_t count = std::min(batch, train_n - begin);
      fill_batch(data.train, norm, order, begin, count, x, labels);
      ctx.step = step;
      const Tensor& out = net.forward(x, ctx);
      loss_sum += loss.forward(out, labels) * static_cast<double>(count);
      for (std::size_t i = 0; i < count; ++i) correct += argmax(out.sample(i), kClasses) == labels[i];
      loss.backward(labels, dlogits);
      net.backward(dlogits, ctx);
      lr = warmup_cosine_lr(peak_lr, step, warmup_steps, total_steps);
      // An overflowed gradient (e.g. an FP16 accumulator reaching inf) skips
      // the update, as dynamic loss scaling does; the count is reported.
      if (net.gradients_finite()) {
        if (adamw) {
          ++adam_steps;  // AdamW's bias correction counts the updates made
          adamw_step(params, config.adamw, lr, adam_steps);
        } else {
          sgd_step(params, config.sgd, lr);
        }
      } else {
        ++skipped;
      }
      ++step;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Evaluation on the test set with the current weights.
    ctx.training = false;
    double test_loss = 0.0;
    std::uint64_t test_correct = 0;
    result.confusion = {};
    for (std::size_t begin = 0; begin < test_n; begin += kEvalBatch) {
      const std::size_t count = std::min(kEvalBatch, test_n - begin);
      fill_batch(data.test, norm, test_order, begin, count, x, labels);
      const Tensor& out = net.forward(x, ctx);
      test_loss += loss.forward(out, labels) * static_cast<double>(count);
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t predicted = argmax(out.sample(i), kClasses);
        test_correct += predicted == labels[i];
        ++result.confusion[labels[i]][predicted];
      }
    }

    EpochStats stats;
    stats.epoch = epoch + 1;
    stats.lr = lr;
    stats.train_loss = loss_sum / static_cast<double>(train_n);
    stats.train_accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(train_n);
    stats.test_loss = test_loss / static_cast<double>(test_n);
    stats.test_accuracy = 100.0 * static_cast<double>(test_correct) / static_cast<double>(test_n);
    stats.skipped_steps = skipped;
    stats.seconds = seconds;
    stats.images_per_s = seconds > 0.0 ? static_cast<double>(train_n) / seconds : 0.0;
    result.epochs.push_back(stats);
    result.seconds += seconds;
    if (on_epoch) on_epoch(result, stats);
  }
  result.images_per_s =
      result.seconds > 0.0 ? static_cast<double>(train_n) * static_cast<double>(config.epochs) / result.seconds : 0.0;
  const auto summarize = [&](const GemmLayer& g) {
    LayerSummary s;
    s.name = g.name();
    s.arith = g.arith();
    s.grad_scale = g.grad_scale();
    s.pact_alpha = g.pact_alpha();
    result.layers.push_back(s);
  };
  for (const auto& layer : net.layers()) {
    if (const auto* g = dynamic_cast<const GemmLayer*>(layer.get())) summarize(*g);
    const auto* a = dynamic_cast<const MultiHeadAttention*>(layer.get());
    if (a == nullptr) continue;
    for (const GemmLayer* p : a->projections()) summarize(*p);
    // The two attention matmuls, under their graph names (in graph order after V).
    const std::size_t v = graph.find(a->spec().v);
    for (std::size_t m = 0; m < 2; ++m) {
      const std::size_t index = m == 0 ? v + 4 : graph.find(a->name()) - 1;
      LayerSummary s;
      s.name = graph.layer(index).name;
      s.arith = plan.at(index);
      s.grad_scale = a->grad_scale(m);
      result.layers.push_back(s);
    }
  }
  return result;
}

}  // namespace nibble::train
