// Zoo networks: forward MAC counts at the reference sizes against the
// published counts, shapes, and the errors a user can cause.
#include <gtest/gtest.h>

#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::models {
namespace {

using test::error_of;

std::uint64_t macs(const std::string& name, ZooOptions options = {}) {
  return forward_macs(build_zoo_model(name, options));
}

const Layer& layer(const Graph& g, const std::string& name) {
  const std::size_t i = g.find(name);
  if (i == g.size()) throw std::logic_error("no layer " + name);
  return g.layer(i);
}

// Conv + fully-connected MACs at 224x224, batch 1: the counts published for the
// torchvision models (ResNet-50 4,089,184,256 and VGG-16 15,470,264,320 are the
// commonly quoted figures; the others are the ones ptflops/thop report).
TEST(Zoo, ForwardMacsEqualTheStandardCounts) {
  EXPECT_EQ(macs("resnet50"), 4089184256u);
  EXPECT_EQ(macs("vgg16"), 15470264320u);
  EXPECT_EQ(macs("resnet18"), 1814073344u);
  EXPECT_EQ(macs("mobilenet_v2"), 300774272u);
  EXPECT_EQ(macs("alexnet"), 714188480u);
}

// ResNet-18 by hand (E x F x K x C x R x S per conv):
//   conv1 7x7/2: 112*112*64*3*49                         = 118,013,952
//   layer1: 4 x 56*56*64*64*9 = 4 x 115,605,504           = 462,422,016
//   layer2..4 each: first 3x3/2 (57,802,752) + 3 x 115,605,504 + 1x1/2 downsample (6,422,528)
//                                                          = 411,041,792, x3 = 1,233,125,376
//   fc 512*1000                                           = 512,000
//   total                                                 = 1,814,073,344
TEST(Zoo, ResNet18LayerByLayer) {
  const Graph g = build_zoo_model("resnet18", {});
  EXPECT_EQ(forward_macs(layer(g, "conv1")), 118013952u);
  EXPECT_EQ(forward_macs(layer(g, "layer1.0.conv1")), 115605504u);
  EXPECT_EQ(forward_macs(layer(g, "layer2.0.conv1")), 57802752u);
  EXPECT_EQ(forward_macs(layer(g, "layer2.0.downsample.0")), 6422528u);
  EXPECT_EQ(forward_macs(layer(g, "fc")), 512000u);
  EXPECT_EQ(layer(g, "layer4.1.relu").shape, (Shape{1, 512, 7, 7}));
}

// fmnist-cnn by hand, per sample:
//   conv1 3x3 pad 1, 1->32 on 28x28:  28*28*32*1*9   =   225,792
//   conv2 3x3 pad 1, 32->64 on 14x14: 14*14*64*32*9  = 3,612,672
//   fc1 3136->128                                    =   401,408
//   fc2 128->10                                      =     1,280
//   total                                            = 4,241,152
// fmnist-mlp: 784*256 + 256*10 = 200,704 + 2,560 = 203,264.
TEST(Zoo, FashionMnistNetworks) {
  const Graph cnn = build_zoo_model("fmnist-cnn", {});
  EXPECT_EQ(forward_macs(cnn), 4241152u);
  EXPECT_EQ(forward_macs(layer(cnn, "conv1")), 225792u);
  EXPECT_EQ(forward_macs(layer(cnn, "conv2")), 3612672u);
  EXPECT_EQ(layer(cnn, "pool1").shape, (Shape{1, 32, 14, 14}));
  EXPECT_EQ(layer(cnn, "flatten").shape, (Shape{1, 3136}));
  EXPECT_EQ(macs("fmnist-mlp"), 203264u);
}

// fmnist-resnet by hand, per sample (E*F x K x C*R*S per conv):
//   conv1 3x3, 1->16 on 28x28:                     784*16*9    =   112,896
//   layer1.0: two 3x3 16->16 on 28x28:         2 x 784*16*144  = 3,612,672
//   layer2.0: 3x3/2 16->32 (14x14) 196*32*144 = 903,168; 3x3 32->32 196*32*288 = 1,806,336;
//             1x1/2 shortcut 196*32*16 = 100,352               = 2,809,856
//   layer3.0: 3x3/2 32->64 (7x7) 49*64*288 = 903,168; 3x3 64->64 49*64*576 = 1,806,336;
//             1x1/2 shortcut 49*64*32 = 100,352                = 2,809,856
//   fc 64->10                                                  =       640
//   total                                                      = 9,345,920
TEST(Zoo, FashionMnistResNet) {
  const Graph g = build_zoo_model("fmnist-resnet", {});
  EXPECT_EQ(forward_macs(g), 9345920u);
  EXPECT_EQ(forward_macs(layer(g, "conv1")), 112896u);
  EXPECT_EQ(forward_macs(layer(g, "layer2.0.conv1")), 903168u);
  EXPECT_EQ(forward_macs(layer(g, "layer3.0.downsample.0")), 100352u);
  EXPECT_EQ(g.find("layer1.0.downsample.0"), g.size());  // identity shortcut: same shape
  EXPECT_EQ(layer(g, "layer2.0.relu").shape, (Shape{1, 32, 14, 14}));
  EXPECT_EQ(layer(g, "layer3.0.relu").shape, (Shape{1, 64, 7, 7}));
  EXPECT_FALSE(layer(g, "conv1").bias);
  EXPECT_EQ(layer(g, "bn1").type, LayerType::kBatchNorm);
  ZooOptions b32;
  b32.batch = 32;
  EXPECT_EQ(macs("fmnist-resnet", b32), 32u * 9345920u);
}

// fmnist-vit by hand, per sample (s = 49 tokens, d = 64, d_ff = 128, 4 heads of 16):
//   patch embedding 49*16*64                                   =    50,176
//   per block, the standard count 4*s*d^2 + 2*s^2*d + 2*s*d*d_ff:
//     Q, K, V, proj 4*49*64*64 = 802,816; QK^T and AV 2 x 4 heads x 49*49*16 = 307,328;
//     FC1, FC2 2*49*64*128 = 802,816                          = 1,912,960
//   4 blocks                                                   = 7,651,840
//   head 64*10                                                 =       640
//   total                                                      = 7,702,656
TEST(Zoo, FashionMnistVisionTransformer) {
  const Graph g = build_zoo_model("fmnist-vit", {});
  EXPECT_EQ(forward_macs(g), 7702656u);
  EXPECT_EQ(forward_macs(layer(g, "patch_embed")), 50176u);
  const Layer& scores = layer(g, "blocks.0.attn.scores");  // a GEMM per head: groups = N x heads
  EXPECT_EQ(scores.type, LayerType::kMatMul);
  EXPECT_EQ(scores.gemm.groups, 4u);
  EXPECT_EQ(scores.gemm.m, 49u);
  EXPECT_EQ(scores.gemm.n, 49u);
  EXPECT_EQ(scores.gemm.k, 16u);
  EXPECT_EQ(forward_macs(layer(g, "blocks.3.attn.context")), 153664u);
  EXPECT_EQ(layer(g, "blocks.0.norm1").type, LayerType::kLayerNorm);
  EXPECT_EQ(layer(g, "blocks.0.mlp.gelu").activation, ActivationKind::kGelu);
  EXPECT_EQ(layer(g, "pos_embed").params, 49u * 64u);
  EXPECT_EQ(layer(g, "flatten").shape, (Shape{1, 64}));
  ZooOptions b8;
  b8.batch = 8;
  const Graph g8 = build_zoo_model("fmnist-vit", b8);
  EXPECT_EQ(forward_macs(g8), 8u * 7702656u);
  EXPECT_EQ(layer(g8, "blocks.0.attn.scores").gemm.groups, 32u);
  ZooOptions side;
  side.input_size = 32;
  EXPECT_EQ(error_of([&] { build_zoo_model("fmnist-vit", side); }), "input_size: fmnist-vit takes no input size");
}

// BERT-base, seq 128, per sequence:
//   per layer: q, k, v, output 4 x 128*768*768 = 301,989,888; scores and context
//   2 x 12 heads x 128*128*64 = 25,165,824; FFN 2 x 128*768*3072 = 603,979,776
//   -> 931,135,488, x12 = 11,173,625,856; pooler 768*768 = 589,824; classifier 768*2 = 1,536
//   total 11,174,217,216.
// LSTM (hidden 650, seq 35, input 650, vocabulary 10000), per sequence:
//   2 layers x 35 steps x 4*650*(650+650) = 236,600,000; decoder 35*650*10000 = 227,500,000
//   total 464,100,000.
TEST(Zoo, SequenceModels) {
  EXPECT_EQ(macs("bert-base"), 11174217216u);
  ZooOptions seq64;
  seq64.seq = 64;
  // 12 x (4*64*768*768 + 2*12*64*64*64 + 2*64*768*3072) + 589,824 + 1,536
  //  = 12 x (150,994,944 + 6,291,456 + 301,989,888) + 591,360 = 5,511,906,816
  EXPECT_EQ(macs("bert-base", seq64), 5511906816u);
  EXPECT_EQ(macs("lstm"), 464100000u);
  ZooOptions small;
  small.hidden = 100;
  small.seq = 10;
  small.input_size = 50;
  // layer0 10*4*100*(50+100) = 600,000; layer1 10*4*100*200 = 800,000; decoder 10*100*10000 = 10,000,000
  EXPECT_EQ(macs("lstm", small), 11400000u);
}

TEST(Zoo, BatchAndInputSizeScaleTheCounts) {
  ZooOptions o;
  o.batch = 8;
  EXPECT_EQ(macs("resnet50", o), 8ull * 4089184256ull);
  o.batch = 1;
  o.input_size = 32;
  // 32x32: conv1 16*16*64*147 = 2,408,448; every later map is (32/224)^2 = 1/49 of the 224 case
  // until the global pool, and the fc is unchanged: (1,814,073,344 - 512,000) / 49 + 512,000.
  EXPECT_EQ(macs("resnet18", o), (1814073344u - 512000u) / 49u + 512000u);
}

TEST(Zoo, DepthwiseConvolutionsOfMobileNetV2) {
  ZooOptions o;
  o.batch = 2;
  const Graph g = build_zoo_model("mobilenet_v2", o);
  const Layer& dw = layer(g, "features.1.conv.0.0");  // 3x3 depthwise, 32 channels, 112x112
  EXPECT_EQ(dw.conv.groups, 32u);
  EXPECT_EQ(dw.gemm.groups, 32u);
  EXPECT_EQ(dw.gemm.m, 2u * 112 * 112);
  EXPECT_EQ(dw.gemm.n, 1u);
  EXPECT_EQ(dw.gemm.k, 9u);
  const Layer& dw2 = layer(g, "features.2.conv.1.0");  // 96 channels, stride 2: 112 -> 56
  EXPECT_EQ(dw2.shape, (Shape{2, 96, 56, 56}));
}

TEST(Zoo, ErrorsNameTheFieldAndSuggest) {
  EXPECT_EQ(error_of([] { build_zoo_model("resnet81", {}); }),
            "model: unknown model 'resnet81' (did you mean 'resnet18'?); expected one of resnet18, resnet50, "
            "mobilenet_v2, vgg16, alexnet, bert-base, lstm, fmnist-mlp, fmnist-cnn, fmnist-resnet, fmnist-vit");
  ZooOptions tiny;
  tiny.input_size = 4;  // padded 8 < the 11x11 window of features.0
  EXPECT_EQ(error_of([&] { build_zoo_model("alexnet", tiny); }).rfind("input_size: alexnet: features.0: ", 0), 0u);
  ZooOptions seq;
  seq.seq = 12;
  EXPECT_EQ(error_of([&] { build_zoo_model("resnet18", seq); }), "seq: resnet18 takes no sequence length");
  seq.seq = 513;
  EXPECT_EQ(error_of([&] { build_zoo_model("bert-base", seq); }),
            "seq: bert-base has 512 positions, got a sequence of 513");
  ZooOptions zero;
  zero.batch = 0;
  EXPECT_EQ(error_of([&] { build_zoo_model("fmnist-mlp", zero); }), "batch: expected a batch size >= 1, got 0");
}

}  // namespace
}  // namespace nibble::models
