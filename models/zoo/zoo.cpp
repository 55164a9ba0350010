#include "models/zoo/zoo.hpp"

#include <functional>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"

namespace nibble::models {

namespace {

constexpr std::uint64_t kImageNetClasses = 1000;

ConvParams conv_params(std::uint64_t filters, std::uint64_t kernel, std::uint64_t stride, std::uint64_t pad,
                       std::uint64_t groups = 1, bool bias = false) {
  ConvParams p;
  p.out_channels = filters;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.groups = groups;
  p.bias = bias;
  return p;
}

PoolParams pool_params(PoolKind kind, std::uint64_t kernel, std::uint64_t stride, std::uint64_t pad = 0) {
  PoolParams p;
  p.kind = kind;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  return p;
}

/// conv -> batch norm -> activation (torchvision's ConvBNReLU / ConvBNActivation).
std::size_t conv_bn_act(Graph& g, const std::string& prefix, const std::string& conv_name,
                        const std::string& bn_name, const std::string& act_name, std::size_t x,
                        const ConvParams& params, bool relu6) {
  x = g.add_conv(prefix + conv_name, x, params);
  x = g.add_batch_norm(prefix + bn_name, x);
  if (!act_name.empty()) {
    x = relu6 ? g.add_activation(prefix + act_name, x, ActivationKind::kClip, 0.0)
              : g.add_activation(prefix + act_name, x, ActivationKind::kRelu);
  }
  return x;
}

std::size_t image_input(Graph& g, std::uint64_t side) {
  return g.add_input("input", Shape{g.batch(), 3, side, side});
}

/// ResNet v1.5 as torchvision builds it (stride in the 3x3 conv of a bottleneck).
Graph resnet(const std::string& name, bool bottleneck, const std::vector<int>& blocks, const ZooOptions& o) {
  Graph g(name, o.batch);
  std::size_t x = image_input(g, o.input_size.value_or(224));
  x = conv_bn_act(g, "", "conv1", "bn1", "relu", x, conv_params(64, 7, 2, 3), false);
  x = g.add_pool("maxpool", x, pool_params(PoolKind::kMax, 3, 2, 1));
  const std::uint64_t expansion = bottleneck ? 4 : 1;
  std::uint64_t in_planes = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const std::uint64_t planes = 64ULL << stage;
    for (int b = 0; b < blocks[static_cast<std::size_t>(stage)]; ++b) {
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(b) + ".";
      const std::uint64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      const std::size_t identity_in = x;
      std::size_t y = x;
      if (bottleneck) {
        y = conv_bn_act(g, p, "conv1", "bn1", "relu1", y, conv_params(planes, 1, 1, 0), false);
        y = conv_bn_act(g, p, "conv2", "bn2", "relu2", y, conv_params(planes, 3, stride, 1), false);
        y = conv_bn_act(g, p, "conv3", "bn3", "", y, conv_params(planes * expansion, 1, 1, 0), false);
      } else {
        y = conv_bn_act(g, p, "conv1", "bn1", "relu1", y, conv_params(planes, 3, stride, 1), false);
        y = conv_bn_act(g, p, "conv2", "bn2", "", y, conv_params(planes, 3, 1, 1), false);
      }
      std::size_t shortcut = identity_in;
      if (stride != 1 || in_planes != planes * expansion) {
        shortcut = conv_bn_act(g, p, "downsample.0", "downsample.1", "", identity_in,
                               conv_params(planes * expansion, 1, stride, 0), false);
      }
      x = g.add_eltwise(p + "add", EltwiseKind::kAdd, {y, shortcut});
      x = g.add_activation(p + "relu", x, ActivationKind::kRelu);
      in_planes = planes * expansion;
    }
  }
  x = g.add_global_pool("avgpool", x);
  x = g.add_flatten("flatten", x);
  x = g.add_linear("fc", x, kImageNetClasses, true);
  g.add_loss("loss", x);
  return g;
}

/// torchvision's mobilenet_v2 (width 1.0): inverted residuals with linear bottlenecks, ReLU6.
Graph mobilenet_v2(const ZooOptions& o) {
  Graph g("mobilenet_v2", o.batch);
  std::size_t x = image_input(g, o.input_size.value_or(224));
  x = conv_bn_act(g, "features.0.", "0", "1", "2", x, conv_params(32, 3, 2, 1), true);
  struct Setting { std::uint64_t t, c; int n; std::uint64_t s; };
  const Setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  std::uint64_t channels = 32;
  int index = 1;
  for (const auto& st : settings) {
    for (int i = 0; i < st.n; ++i, ++index) {
      const std::string p = "features." + std::to_string(index) + ".conv.";
      const std::uint64_t stride = i == 0 ? st.s : 1;
      const std::uint64_t hidden = channels * st.t;
      std::size_t y = x;
      int sub = 0;
      if (st.t != 1) {  // 1x1 expansion
        const std::string q = p + std::to_string(sub++) + ".";
        y = conv_bn_act(g, q, "0", "1", "2", y, conv_params(hidden, 1, 1, 0), true);
      }
      {  // 3x3 depthwise
        const std::string q = p + std::to_string(sub++) + ".";
        y = conv_bn_act(g, q, "0", "1", "2", y, conv_params(hidden, 3, stride, 1, hidden), true);
      }
      // 1x1 linear projection (no activation)
      y = g.add_conv(p + std::to_string(sub), y, conv_params(st.c, 1, 1, 0));
      y = g.add_batch_norm(p + std::to_string(sub + 1), y);
      if (stride == 1 && channels == st.c) {
        y = g.add_eltwise("features." + std::to_string(index) + ".add", EltwiseKind::kAdd, {x, y});
      }
      x = y;
      channels = st.c;
    }
  }
  const std::string last = "features." + std::to_string(index) + ".";
  x = conv_bn_act(g, last, "0", "1", "2", x, conv_params(1280, 1, 1, 0), true);
  x = g.add_global_pool("avgpool", x);
  x = g.add_flatten("flatten", x);
  x = g.add_dropout("classifier.0", x);
  x = g.add_linear("classifier.1", x, kImageNetClasses, true);
  g.add_loss("loss", x);
  return g;
}

/// torchvision's vgg16 (configuration D, no batch norm).
Graph vgg16(const ZooOptions& o) {
  Graph g("vgg16", o.batch);
  std::size_t x = image_input(g, o.input_size.value_or(224));
  const int cfg[] = {64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1};
  int index = 0;
  for (const int v : cfg) {
    const std::string n = "features." + std::to_string(index);
    if (v < 0) {
      x = g.add_pool(n, x, pool_params(PoolKind::kMax, 2, 2));
      ++index;
    } else {
      x = g.add_conv(n, x, conv_params(static_cast<std::uint64_t>(v), 3, 1, 1, 1, true));
      x = g.add_activation("features." + std::to_string(index + 1), x, ActivationKind::kRelu);
      index += 2;
    }
  }
  x = g.add_global_pool("avgpool", x, 7, 7);
  x = g.add_flatten("flatten", x);
  x = g.add_linear("classifier.0", x, 4096, true);
  x = g.add_activation("classifier.1", x, ActivationKind::kRelu);
  x = g.add_dropout("classifier.2", x);
  x = g.add_linear("classifier.3", x, 4096, true);
  x = g.add_activation("classifier.4", x, ActivationKind::kRelu);
  x = g.add_dropout("classifier.5", x);
  x = g.add_linear("classifier.6", x, kImageNetClasses, true);
  g.add_loss("loss", x);
  return g;
}

/// torchvision's alexnet (the one-tower 64-192-384-256-256 variant).
Graph alexnet(const ZooOptions& o) {
  Graph g("alexnet", o.batch);
  std::size_t x = image_input(g, o.input_size.value_or(224));
  x = g.add_conv("features.0", x, conv_params(64, 11, 4, 2, 1, true));
  x = g.add_activation("features.1", x, ActivationKind::kRelu);
  x = g.add_pool("features.2", x, pool_params(PoolKind::kMax, 3, 2));
  x = g.add_conv("features.3", x, conv_params(192, 5, 1, 2, 1, true));
  x = g.add_activation("features.4", x, ActivationKind::kRelu);
  x = g.add_pool("features.5", x, pool_params(PoolKind::kMax, 3, 2));
  x = g.add_conv("features.6", x, conv_params(384, 3, 1, 1, 1, true));
  x = g.add_activation("features.7", x, ActivationKind::kRelu);
  x = g.add_conv("features.8", x, conv_params(256, 3, 1, 1, 1, true));
  x = g.add_activation("features.9", x, ActivationKind::kRelu);
  x = g.add_conv("features.10", x, conv_params(256, 3, 1, 1, 1, true));
  x = g.add_activation("features.11", x, ActivationKind::kRelu);
  x = g.add_pool("features.12", x, pool_params(PoolKind::kMax, 3, 2));
  x = g.add_global_pool("avgpool", x, 6, 6);
  x = g.add_flatten("flatten", x);
  x = g.add_dropout("classifier.0", x);
  x = g.add_linear("classifier.1", x, 4096, true);
  x = g.add_activation("classifier.2", x, ActivationKind::kRelu);
  x = g.add_dropout("classifier.3", x);
  x = g.add_linear("classifier.4", x, 4096, true);
  x = g.add_activation("classifier.5", x, ActivationKind::kRelu);
  x = g.add_linear("classifier.6", x, kImageNetClasses, true);
  g.add_loss("loss", x);
  return g;
}

/// BERT-base encoder (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 30522, 512
/// positions, 2 token types) with the sequence-classification head (pooler on [CLS], 2 classes).
Graph bert_base(const ZooOptions& o) {
  constexpr std::uint64_t kHidden = 768, kHeads = 12, kHeadDim = 64, kFfn = 3072, kLayers = 12;
  constexpr std::uint64_t kVocab = 30522, kPositions = 512, kTypes = 2, kClasses = 2;
  const std::uint64_t seq = o.seq.value_or(128);
  if (seq > kPositions) {
    throw InputError("", 0, "seq", "bert-base has " + std::to_string(kPositions) + " positions, got a sequence of " +
                                       std::to_string(seq));
  }
  const std::uint64_t n = o.batch;
  Graph g("bert-base", n);
  std::size_t x = g.add_input("input_ids", Shape{n, seq});
  // Word, position and token-type tables, looked up and summed.
  x = g.add_embedding("embeddings", x, kVocab + kPositions + kTypes, kHidden, 3);
  x = g.add_layer_norm("embeddings.LayerNorm", x);
  x = g.add_dropout("embeddings.dropout", x);
  for (std::uint64_t l = 0; l < kLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    const std::size_t in = x;
    const std::size_t q = g.add_linear(p + "attention.self.query", in, kHidden, true);
    const std::size_t k = g.add_linear(p + "attention.self.key", in, kHidden, true);
    const std::size_t v = g.add_linear(p + "attention.self.value", in, kHidden, true);
    // Split heads: N x S x 768 -> N x 12 x S x 64 (and K transposed to N x 12 x 64 x S).
    const std::size_t qh = g.add_view(p + "attention.self.query_heads", q, Shape{n, kHeads, seq, kHeadDim});
    const std::size_t kt = g.add_view(p + "attention.self.key_heads_t", k, Shape{n, kHeads, kHeadDim, seq});
    const std::size_t vh = g.add_view(p + "attention.self.value_heads", v, Shape{n, kHeads, seq, kHeadDim});
    std::size_t s = g.add_matmul(p + "attention.self.scores", qh, kt);
    s = g.add_softmax(p + "attention.self.softmax", s, 3);
    s = g.add_dropout(p + "attention.self.dropout", s);
    std::size_t c = g.add_matmul(p + "attention.self.context", s, vh);
    c = g.add_view(p + "attention.self.merge_heads", c, Shape{n, seq, kHidden});
    c = g.add_linear(p + "attention.output.dense", c, kHidden, true);
    c = g.add_dropout(p + "attention.output.dropout", c);
    c = g.add_eltwise(p + "attention.output.add", EltwiseKind::kAdd, {c, in});
    const std::size_t a = g.add_layer_norm(p + "attention.output.LayerNorm", c);
    std::size_t f = g.add_linear(p + "intermediate.dense", a, kFfn, true);
    f = g.add_activation(p + "intermediate.gelu", f, ActivationKind::kGelu);
    f = g.add_linear(p + "output.dense", f, kHidden, true);
    f = g.add_dropout(p + "output.dropout", f);
    f = g.add_eltwise(p + "output.add", EltwiseKind::kAdd, {f, a});
    x = g.add_layer_norm(p + "output.LayerNorm", f);
  }
  x = g.add_slice("pooler.cls", x, Shape{n, kHidden});
  x = g.add_linear("pooler.dense", x, kHidden, true);
  x = g.add_activation("pooler.tanh", x, ActivationKind::kTanh);
  x = g.add_dropout("dropout", x);
  x = g.add_linear("classifier", x, kClasses, true);
  g.add_loss("loss", x);
  return g;
}

/// Two-layer LSTM language model (Zaremba et al. 2014, PTB "medium": 650 units, 35 steps,
/// 10,000-word vocabulary) with the decoder applied at every step.
Graph lstm(const ZooOptions& o) {
  constexpr std::uint64_t kVocab = 10000;
  const std::uint64_t hidden = o.hidden.value_or(650);
  const std::uint64_t seq = o.seq.value_or(35);
  const std::uint64_t width = o.input_size.value_or(hidden);
  Graph g("lstm", o.batch);
  std::size_t x = g.add_input("input_ids", Shape{o.batch, seq});
  x = g.add_embedding("encoder", x, kVocab, width, 1);
  x = g.add_dropout("drop0", x);
  x = g.add_lstm("lstm0", x, hidden);
  x = g.add_dropout("drop1", x);
  x = g.add_lstm("lstm1", x, hidden);
  x = g.add_dropout("drop2", x);
  x = g.add_linear("decoder", x, kVocab, true);
  g.add_loss("loss", x);
  return g;
}

/// Fashion-MNIST MLP: 784-256-10 with ReLU.
Graph fmnist_mlp(const ZooOptions& o) {
  const std::uint64_t side = o.input_size.value_or(28);
  Graph g("fmnist-mlp", o.batch);
  std::size_t x = g.add_input("input", Shape{o.batch, 1, side, side});
  x = g.add_flatten("flatten", x);
  x = g.add_linear("fc1", x, 256, true);
  x = g.add_activation("relu1", x, ActivationKind::kRelu);
  x = g.add_linear("fc2", x, 10, true);
  g.add_loss("loss", x);
  return g;
}

/// Fashion-MNIST CNN: conv3x3(32, pad 1)-relu-maxpool2-conv3x3(64, pad 1)-relu-maxpool2-fc128-relu-fc10,
/// 28x28 -> 14x14 -> 7x7, fc input 64*7*7 = 3136 (the training emulator trains the same network).
Graph fmnist_cnn(const ZooOptions& o) {
  const std::uint64_t side = o.input_size.value_or(28);
  Graph g("fmnist-cnn", o.batch);
  std::size_t x = g.add_input("input", Shape{o.batch, 1, side, side});
  x = g.add_conv("conv1", x, conv_params(32, 3, 1, 1, 1, true));
  x = g.add_activation("relu1", x, ActivationKind::kRelu);
  x = g.add_pool("pool1", x, pool_params(PoolKind::kMax, 2, 2));
  x = g.add_conv("conv2", x, conv_params(64, 3, 1, 1, 1, true));
  x = g.add_activation("relu2", x, ActivationKind::kRelu);
  x = g.add_pool("pool2", x, pool_params(PoolKind::kMax, 2, 2));
  x = g.add_flatten("flatten", x);
  x = g.add_linear("fc1", x, 128, true);
  x = g.add_activation("relu3", x, ActivationKind::kRelu);
  x = g.add_linear("fc2", x, 10, true);
  g.add_loss("loss", x);
  return g;
}

/// Fashion-MNIST ResNet with batch norm: stem conv3x3(16)-BN-ReLU, three stages of one basic block
/// each (16, 32 and 64 channels; 28x28, 14x14, 7x7; stride 2 and a conv1x1-BN projection shortcut
/// where the shape changes), global average pooling, fc 64-10. Convolutions without bias (BN
/// follows). The training emulator trains the same network.
Graph fmnist_resnet(const ZooOptions& o) {
  const std::uint64_t side = o.input_size.value_or(28);
  Graph g("fmnist-resnet", o.batch);
  std::size_t x = g.add_input("input", Shape{o.batch, 1, side, side});
  x = conv_bn_act(g, "", "conv1", "bn1", "relu", x, conv_params(16, 3, 1, 1), false);
  std::uint64_t in_planes = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const std::uint64_t planes = 16ULL << stage;
    const std::uint64_t stride = stage > 0 ? 2 : 1;
    const std::string p = "layer" + std::to_string(stage + 1) + ".0.";
    std::size_t y = conv_bn_act(g, p, "conv1", "bn1", "relu1", x, conv_params(planes, 3, stride, 1), false);
    y = conv_bn_act(g, p, "conv2", "bn2", "", y, conv_params(planes, 3, 1, 1), false);
    std::size_t shortcut = x;
    if (stride != 1 || in_planes != planes) {
      shortcut = conv_bn_act(g, p, "downsample.0", "downsample.1", "", x, conv_params(planes, 1, stride, 0), false);
    }
    x = g.add_eltwise(p + "add", EltwiseKind::kAdd, {y, shortcut});
    x = g.add_activation(p + "relu", x, ActivationKind::kRelu);
    in_planes = planes;
  }
  x = g.add_global_pool("avgpool", x);
  x = g.add_flatten("flatten", x);
  x = g.add_linear("fc", x, 10, true);
  g.add_loss("loss", x);
  return g;
}

struct ZooEntry {
  std::string name;
  std::string summary;
  bool takes_input_size, takes_seq, takes_hidden;
  std::function<Graph(const ZooOptions&)> build;
};

const std::vector<ZooEntry>& entries() {
  static const std::vector<ZooEntry> table = {
      {"resnet18", "ResNet-18 (torchvision), input-size 224", true, false, false,
       [](const ZooOptions& o) { return resnet("resnet18", false, {2, 2, 2, 2}, o); }},
      {"resnet50", "ResNet-50 v1.5 (torchvision), input-size 224", true, false, false,
       [](const ZooOptions& o) { return resnet("resnet50", true, {3, 4, 6, 3}, o); }},
      {"mobilenet_v2", "MobileNetV2 1.0 (torchvision), input-size 224", true, false, false, mobilenet_v2},
      {"vgg16", "VGG-16 without batch norm (torchvision), input-size 224", true, false, false, vgg16},
      {"alexnet", "AlexNet (torchvision), input-size 224", true, false, false, alexnet},
      {"bert-base", "BERT-base encoder + classification head, seq 128", false, true, false, bert_base},
      {"lstm", "2-layer LSTM language model, hidden 650, seq 35, input-size = hidden, vocabulary 10000", true, true,
       true, lstm},
      {"fmnist-mlp", "Fashion-MNIST MLP 784-256-10, input-size 28", true, false, false, fmnist_mlp},
      {"fmnist-cnn", "Fashion-MNIST CNN conv32-conv64-fc128-fc10 (3x3, pad 1), input-size 28", true, false, false,
       fmnist_cnn},
      {"fmnist-resnet", "Fashion-MNIST ResNet: stem 16, basic blocks 16-32-64 with batch norm, avgpool, fc10, input-size 28",
       true, false, false, fmnist_resnet},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& zoo_model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& e : entries()) out.push_back(e.name);
    return out;
  }();
  return names;
}

std::string zoo_model_summary() {
  std::string out;
  for (const auto& e : entries()) {
    std::string name = e.name;
    name.resize(14, ' ');
    out += "  " + name + e.summary + "\n";
  }
  return out;
}

Graph build_zoo_model(const std::string& name, const ZooOptions& options) {
  for (const auto& e : entries()) {
    if (e.name != name) continue;
    const auto reject = [&](const char* field, const char* what) {
      throw InputError("", 0, field, name + " takes no " + what);
    };
    if (options.input_size && !e.takes_input_size) reject("input_size", "input size (use seq)");
    if (options.seq && !e.takes_seq) reject("seq", "sequence length");
    if (options.hidden && !e.takes_hidden) reject("hidden", "hidden size");
    for (const auto& [value, field] : {std::pair{options.input_size, "input_size"}, std::pair{options.seq, "seq"},
                                       std::pair{options.hidden, "hidden"}}) {
      if (value && *value == 0) throw InputError("", 0, field, "expected a value >= 1, got 0");
    }
    try {
      return e.build(options);
    } catch (const InputError& err) {
      if (err.field() == "seq" || err.field() == "batch") throw;
      // A layer's shape failed: the input is too small (or so large that sizes overflow).
      throw InputError("", 0, options.input_size ? "input_size" : "model",
                       name + ": " + (err.field().empty() ? "" : err.field() + ": ") + err.message());
    }
  }
  std::string all;
  for (const auto& n : zoo_model_names()) all += (all.empty() ? "" : ", ") + n;
  const std::string suggestion = closest_match(name, zoo_model_names());
  throw InputError("", 0, "model",
                   "unknown model '" + name + "'" + (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") +
                       "; expected one of " + all);
}

}  // namespace nibble::models
