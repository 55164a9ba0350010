#include "models/zoo/zoo.hpp"

#include <array>
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

/// One torchvision residual block named `p`...: a basic block (two 3x3 convs) or a bottleneck
/// (1x1, 3x3, 1x1 x4), the stride in the 3x3 conv, a 1x1 conv + BN projection shortcut when the
/// stride or the width changes, the add and the final ReLU.
std::size_t residual_block(Graph& g, const std::string& p, std::size_t x, std::uint64_t in_planes,
                           std::uint64_t planes, std::uint64_t stride, bool bottleneck) {
  const std::uint64_t out_planes = bottleneck ? planes * 4 : planes;
  std::size_t y = x;
  if (bottleneck) {
    y = conv_bn_act(g, p, "conv1", "bn1", "relu1", y, conv_params(planes, 1, 1, 0), false);
    y = conv_bn_act(g, p, "conv2", "bn2", "relu2", y, conv_params(planes, 3, stride, 1), false);
    y = conv_bn_act(g, p, "conv3", "bn3", "", y, conv_params(out_planes, 1, 1, 0), false);
  } else {
    y = conv_bn_act(g, p, "conv1", "bn1", "relu1", y, conv_params(planes, 3, stride, 1), false);
    y = conv_bn_act(g, p, "conv2", "bn2", "", y, conv_params(planes, 3, 1, 1), false);
  }
  std::size_t shortcut = x;
  if (stride != 1 || in_planes != out_planes) {
    shortcut = conv_bn_act(g, p, "downsample.0", "downsample.1", "", x, conv_params(out_planes, 1, stride, 0), false);
  }
  const std::size_t sum = g.add_eltwise(p + "add", EltwiseKind::kAdd, {y, shortcut});
  return g.add_activation(p + "relu", sum, ActivationKind::kRelu);
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
      x = residual_block(g, p, x, in_planes, planes, stride, bottleneck);
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

/// Multi-head self-attention over x (N x S x D): Q, K, V projections D -> D with bias (named
/// `p` + qkv[i]), split into heads (views: Q and V to N x H x S x Dh, K to N x H x Dh x S),
/// scores = Q K^T (one GEMM per sample and head), optionally scaled by 1/sqrt(Dh) (a constant
/// multiply), softmax over the keys, optional dropout, context = P V, heads merged back to
/// N x S x D. The output projection is the caller's.
std::size_t self_attention(Graph& g, const std::string& p, const std::array<const char*, 3>& qkv, std::size_t x,
                           std::uint64_t heads, std::uint64_t head_dim, bool scale, bool dropout) {
  const Shape& in = g.layer(x).shape;
  const std::uint64_t n = in[0], seq = in[1], width = in[2];
  const std::string q_name = qkv[0], k_name = qkv[1], v_name = qkv[2];
  const std::size_t q = g.add_linear(p + q_name, x, width, true);
  const std::size_t k = g.add_linear(p + k_name, x, width, true);
  const std::size_t v = g.add_linear(p + v_name, x, width, true);
  const std::size_t qh = g.add_view(p + q_name + "_heads", q, Shape{n, heads, seq, head_dim});
  const std::size_t kt = g.add_view(p + k_name + "_heads_t", k, Shape{n, heads, head_dim, seq});
  const std::size_t vh = g.add_view(p + v_name + "_heads", v, Shape{n, heads, seq, head_dim});
  std::size_t s = g.add_matmul(p + "scores", qh, kt);
  if (scale) s = g.add_eltwise(p + "scale", EltwiseKind::kMul, {s});
  s = g.add_softmax(p + "softmax", s, 3);
  if (dropout) s = g.add_dropout(p + "dropout", s);
  const std::size_t c = g.add_matmul(p + "context", s, vh);
  return g.add_view(p + "merge_heads", c, Shape{n, seq, width});
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
    const std::size_t c = self_attention(g, p + "attention.self.", {"query", "key", "value"}, in, kHeads, kHeadDim,
                                         /*scale=*/false, /*dropout=*/true);
    std::size_t o = g.add_linear(p + "attention.output.dense", c, kHidden, true);
    o = g.add_dropout(p + "attention.output.dropout", o);
    o = g.add_eltwise(p + "attention.output.add", EltwiseKind::kAdd, {o, in});
    const std::size_t a = g.add_layer_norm(p + "attention.output.LayerNorm", o);
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

/// Fashion-MNIST ResNet (the network the training emulator trains): conv3x3 1->16 + BN + ReLU,
/// then three stages of one basic block each, 16, 32 (stride 2, 14x14) and 64 channels (stride
/// 2, 7x7) with 1x1 + BN projection shortcuts where the shape changes, global average pool, fc
/// 64->10. Convolutions have no bias (batch norm follows each).
Graph fmnist_resnet(const ZooOptions& o) {
  const std::uint64_t side = o.input_size.value_or(28);
  Graph g("fmnist-resnet", o.batch);
  std::size_t x = g.add_input("input", Shape{o.batch, 1, side, side});
  x = conv_bn_act(g, "", "conv1", "bn1", "relu", x, conv_params(16, 3, 1, 1), false);
  std::uint64_t in_planes = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const std::uint64_t planes = 16ULL << stage;
    x = residual_block(g, "layer" + std::to_string(stage + 1) + ".0.", x, in_planes, planes, stage == 0 ? 1 : 2,
                       false);
    in_planes = planes;
  }
  x = g.add_global_pool("avgpool", x);
  x = g.add_flatten("flatten", x);
  x = g.add_linear("fc", x, 10, true);
  g.add_loss("loss", x);
  return g;
}

/// Fashion-MNIST vision transformer (the network the training emulator trains): 4x4 patches
/// (49 tokens of 16 pixels), a linear patch embedding 16->64 with bias, a learned positional
/// embedding of 49x64 added, 4 pre-LN encoder blocks of width 64 with 4 heads of 16
/// (x += proj(MHA(LN(x))), x += FC2(GELU(FC1(LN(x)))), FFN 128), a final LN, the mean over
/// tokens and a 64->10 head.
Graph fmnist_vit(const ZooOptions& o) {
  constexpr std::uint64_t kSide = 28, kPatch = 4, kWidth = 64, kHeads = 4, kHeadDim = 16, kFfn = 128, kBlocks = 4;
  constexpr std::uint64_t kTokens = (kSide / kPatch) * (kSide / kPatch);  // 49
  const std::uint64_t n = o.batch;
  Graph g("fmnist-vit", n);
  std::size_t x = g.add_input("input", Shape{n, 1, kSide, kSide});
  // N x 1 x 28 x 28 -> N x 7 x 4 x 7 x 4 -> N x 49 x 16: a re-indexing the patch embedding's
  // GEMM reads directly (as im2col does for a 4x4 stride-4 convolution), no data moved.
  x = g.add_view("patchify", x, Shape{n, kTokens, kPatch * kPatch});
  x = g.add_linear("patch_embed", x, kWidth, true);
  x = g.add_eltwise("pos_embed", EltwiseKind::kAdd, {x}, Shape{kTokens, kWidth});
  for (std::uint64_t b = 0; b < kBlocks; ++b) {
    const std::string p = "blocks." + std::to_string(b) + ".";
    std::size_t h = g.add_layer_norm(p + "norm1", x);
    std::size_t c = self_attention(g, p + "attn.", {"q", "k", "v"}, h, kHeads, kHeadDim, /*scale=*/true,
                                   /*dropout=*/false);
    c = g.add_linear(p + "attn.proj", c, kWidth, true);
    x = g.add_eltwise(p + "attn.add", EltwiseKind::kAdd, {x, c});
    h = g.add_layer_norm(p + "norm2", x);
    h = g.add_linear(p + "mlp.fc1", h, kFfn, true);
    h = g.add_activation(p + "mlp.gelu", h, ActivationKind::kGelu);
    h = g.add_linear(p + "mlp.fc2", h, kWidth, true);
    x = g.add_eltwise(p + "mlp.add", EltwiseKind::kAdd, {x, h});
  }
  x = g.add_layer_norm("norm", x);
  // Mean over the 49 tokens: N x 49 x 64 seen as N x 64 x 49 x 1 (a transposed view) and averaged.
  x = g.add_view("tokens_t", x, Shape{n, kWidth, kTokens, 1});
  x = g.add_global_pool("token_mean", x);
  x = g.add_flatten("flatten", x);
  x = g.add_linear("head", x, 10, true);
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
      {"fmnist-resnet", "Fashion-MNIST ResNet: conv16, 3 basic blocks 16/32/64 with BN, fc10, input-size 28", true,
       false, false, fmnist_resnet},
      {"fmnist-vit", "Fashion-MNIST ViT: 4x4 patches, width 64, 4 blocks of 4 heads, FFN 128, head 10", false, false,
       false, fmnist_vit},
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
    if (options.input_size && !e.takes_input_size) reject("input_size", e.takes_seq ? "input size (use seq)" : "input size");
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
