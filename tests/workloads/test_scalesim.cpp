// SCALE-Sim v2 topology CSVs: SCALE-Sim's own file quirks, exact writing,
// the published data point's row, and import into a training step.
#include <gtest/gtest.h>

#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "workloads/expand.hpp"
#include "workloads/scalesim.hpp"
#include "workloads/stats.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::workloads {
namespace {

using test::error_of;

const std::string kSource = NIBBLE_SOURCE_DIR;

// SCALE-Sim's published run (docs/references.md): 7x7 input, 3x3 filter, 192 channels, 384 filters, stride 1 (21,479 cycles on
// a 32x32 OS array). SCALE-Sim maps it to M = E*F = 5*5 = 25, N = 384, K = 3*3*192 = 1728.
TEST(ScaleSim, PublishedDataPointRow) {
  const ScaleSimTopology t = read_scalesim_topology(kSource + "/workloads/scalesim/published_point.csv");
  ASSERT_EQ(t.format, ScaleSimFormat::kConv);
  ASSERT_EQ(t.layers.size(), 1u);
  const ScaleSimLayer& l = t.layers[0];
  EXPECT_EQ(l.line, 2);
  EXPECT_EQ(l.ofmap_h(), 5u);
  EXPECT_EQ(l.ofmap_w(), 5u);
  const models::GemmShape g = scalesim_gemm(l, t.format);
  EXPECT_EQ(g.m, 25u);
  EXPECT_EQ(g.n, 384u);
  EXPECT_EQ(g.k, 1728u);
}

// Rows as they appear in SCALE-Sim's repository (topologies/conv_nets/alexnet.csv,
// mobilnet_paper.csv, Resnet_test.csv, GEMM_mnk/gnmt.csv): padded spaces, '#dw' comments,
// missing trailing commas, tabs, blank lines.
TEST(ScaleSim, ReadsSCALESimsOwnFiles) {
  const ScaleSimTopology conv = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "\n"
      "Conv1     ,224         ,224        ,11           ,11          ,3       ,96        ,4      ,\n"
      "Conv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw\n"
      "Conv11,28,28,1,1,256,256,1\n"
      "\tConv14_dw_0,14,14,3,3,1,1,1,\n"
      "Conv5_DP, 16, 16, 3, 3, 32, 1, 2,\n"
      "Rect, 10, 12, 3, 5, 2, 4, 1, 2,\n",
      "net.csv");
  ASSERT_EQ(conv.layers.size(), 6u);
  EXPECT_EQ(conv.layers[0].name, "Conv1");
  EXPECT_EQ(conv.layers[0].line, 3);
  EXPECT_EQ(conv.layers[0].ofmap_h(), 55u);  // SCALE-Sim rounds up: ceil((224 - 11 + 4) / 4) = 55
  EXPECT_EQ(conv.layers[1].stride_w, 1u);
  EXPECT_EQ(conv.layers[3].name, "Conv14_dw_0");
  EXPECT_TRUE(conv.layers[4].depthwise);  // "DP" in the name, as SCALE-Sim decides
  // Depthwise: 32 GEMMs (one per channel) of M = E*F = 8*8 (ceil((16 - 3 + 2) / 2) = 8), N = 1, K = 9.
  const models::GemmShape dw = scalesim_gemm(conv.layers[4], conv.format);
  EXPECT_EQ((std::vector<std::uint64_t>{dw.groups, dw.m, dw.n, dw.k}), (std::vector<std::uint64_t>{32, 64, 1, 9}));
  EXPECT_EQ(conv.layers[5].stride_h, 1u);
  EXPECT_EQ(conv.layers[5].stride_w, 2u);
  EXPECT_EQ(conv.layers[5].ofmap_w(), 5u);  // ceil((12 - 5 + 2) / 2)

  const ScaleSimTopology gemm = parse_scalesim_topology("Layer,M,N,K\n1,2048,4096,32\nfc, 3, 4, 5,\n", "g.csv");
  ASSERT_EQ(gemm.format, ScaleSimFormat::kGemm);
  EXPECT_EQ(gemm.layers[1].m, 3u);
  EXPECT_EQ(gemm.layers[1].k, 5u);
}

TEST(ScaleSim, WritesExactlyAndRoundTrips) {
  ScaleSimTopology t;
  t.format = ScaleSimFormat::kGemm;
  ScaleSimLayer l;
  l.name = "q,proj";
  l.m = 128;
  l.n = 768;
  l.k = 64;
  t.layers.push_back(l);
  EXPECT_EQ(write_scalesim_topology(t), "Layer Name, M, N, K,\nq_proj, 128, 768, 64,\n");
  const std::string file = read_file(kSource + "/workloads/scalesim/published_point.csv");
  EXPECT_EQ(write_scalesim_topology(parse_scalesim_topology(file, "p.csv")), file);
  const std::string bert = read_file(kSource + "/workloads/scalesim/bert_layer_gemm.csv");
  EXPECT_EQ(write_scalesim_topology(parse_scalesim_topology(bert, "b.csv")), bert);
}

TEST(ScaleSim, ErrorsNameLineAndColumn) {
  const std::string header = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
  EXPECT_EQ(error_of([] { parse_scalesim_topology("name, a, b\nx, 1, 2\n", "t.csv"); }),
            "t.csv:1: header: expected SCALE-Sim's conv header 'Layer name, IFMAP Height, IFMAP Width, Filter Height, "
            "Filter Width, Channels, Num Filter, Strides,' or GEMM header 'Layer Name, M, N, K,'");
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "c1, 7, 7, 3, 3, 0, 4, 1,\n", "t.csv"); }),
            "t.csv:2: Channels: expected a whole number >= 1, got '0'");
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "c1, 7, 7, 3, 3, 8, -4, 1,\n", "t.csv"); }),
            "t.csv:2: Num Filter: expected a whole number >= 1, got '-4'");
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "c1, 7, 7, 3, 3, 8,\n", "t.csv"); }),
            "t.csv:2: row: expected 8 fields (name, H, W, R, S, C, K, stride) or 9 (two strides), got 6");
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "c1, 2, 7, 3, 3, 8, 4, 1,\n", "t.csv"); }),
            "t.csv:2: Filter Height: the filter (3) is taller than the IFMAP (2); SCALE-Sim has no padding column, so "
            "give the padded IFMAP size");
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header, "t.csv"); }),
            "t.csv:1: row: expected at least one layer after the header");
  EXPECT_EQ(error_of([&] {
              parse_scalesim_topology("Layer Name, M, N, K,\nbig, 4294967296, 4294967296, 2,\n", "t.csv");
            }),
            "t.csv:2: row: the layer's MAC count overflows 64 bits");
}

// Found by fuzz_scalesim_topology: the header was checked by its second column only,
// so a 9-column header ending in "Padding" (or SCALE-Sim 3's "Sparsity") was read
// as the two-stride form, the padding silently becoming the horizontal stride.
TEST(ScaleSim, EveryHeaderColumnIsChecked) {
  const std::string eight = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, ";
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(eight + "Strides, Padding,\nc1, 7, 7, 3, 3, 8, 4, 1, 1,\n", "t.csv"); }),
            "t.csv:1: header: column 8 is 'Strides', expected 'Stride Height' (the 9-column conv form is 'Layer name, "
            "IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Stride Height, Stride "
            "Width')");
  EXPECT_EQ(error_of([&] {
              parse_scalesim_topology(eight + "Stride Height, Sparsity,\nc1, 7, 7, 3, 3, 8, 4, 1, 1,\n", "t.csv");
            }),
            "t.csv:1: header: column 9 is 'Sparsity', expected 'Stride Width' (the 9-column conv form is 'Layer name, "
            "IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Stride Height, Stride "
            "Width')");
  // Spellings seen in SCALE-Sim files and scripts stay accepted: case, plural, "Stride H/W".
  const ScaleSimTopology t = parse_scalesim_topology(
      "layer name, ifmap height, ifmap width, filter height, filter width, channels, Num Filters, Stride H, "
      "Stride W,\nc1, 7, 9, 3, 3, 8, 4, 1, 2,\n",
      "t.csv");
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].stride_w, 2u);
}

// Found by fuzz_scalesim_topology: a depthwise ("DP") row of 10^12 channels is a valid
// topology (10^12 MACs), but the GEMM-form export writes a row per group: it looped
// 3 x 10^12 times, filling memory. The export now stops at kMaxScaleSimExportRows.
TEST(ScaleSim, ExportRowsAreBounded) {
  const ScaleSimTopology t = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "conv_DP, 3, 3, 3, 3, 1000000000000, 1, 1,\n",
      "dp.csv");
  const Trace trace = expand_training_step(scalesim_graph(t, 1, "dp"), named_policy("int4-fp4"));
  EXPECT_EQ(error_of([&] { scalesim_from_trace(trace, ScaleSimFormat::kGemm); }),
            "conv_DP: the export would have more than 1000000 rows (one per group of each GEMM op; this op adds "
            "1000000000000); SCALE-Sim runs one layer per row");
  // The conv form writes a depthwise layer as one "DP" row.
  EXPECT_EQ(scalesim_from_trace(trace, ScaleSimFormat::kConv).layers.size(), 1u);
}

// Found by fuzz_scalesim_topology: a GEMM layer whose name contains "DP" was
// exported in the conv form under its own name, and SCALE-Sim's rule (any
// "DP" in a name is depthwise) read it back as a depthwise layer.
TEST(ScaleSim, ConvExportOfAGemmNamedDpIsNotDepthwise) {
  const ScaleSimTopology t = parse_scalesim_topology("Layer name, M, N, K,\nfc_DP_head, 8, 16, 32,\n", "g.csv");
  EXPECT_FALSE(t.layers[0].depthwise);  // the GEMM form has no depthwise rule
  const Trace trace = expand_training_step(scalesim_graph(t, 1, "g"), named_policy("int4-fp4"));
  const ScaleSimTopology conv = scalesim_from_trace(trace, ScaleSimFormat::kConv);
  ASSERT_EQ(conv.layers.size(), 1u);
  EXPECT_EQ(conv.layers[0].name, "fc_Dp_head");
  const ScaleSimTopology back = parse_scalesim_topology(write_scalesim_topology(conv), "back.csv");
  EXPECT_FALSE(back.layers[0].depthwise);
  EXPECT_EQ(back.layers[0].num_filter, 16u);
}

TEST(ScaleSim, NumbersBeyond64BitsAndControlCharactersAreNamed) {
  const std::string header = "Layer Name, M, N, K,\n";
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "g, 18446744073709551616, 1, 1,\n", "t.csv"); }),
            "t.csv:2: M: the number 18446744073709551616 does not fit in 64 bits");
  // A CR inside a field (found by fuzz_scalesim_topology) is quoted as \r, on one line.
  EXPECT_EQ(error_of([&] { parse_scalesim_topology(header + "g, 3\r1, 1, 1,\n", "t.csv"); }),
            "t.csv:2: M: expected a whole number >= 1, got '3\\r1'");
}

// SCALE-Sim runs batch 1 forward only; imported, the rows train at any batch. The fmnist-cnn
// rows (padding folded into the IFMAP, fc layers as GEMM-as-conv rows) give the zoo model's MACs:
// per sample 225,792 + 3,612,672 + 401,408 + 1,280 = 4,241,152; at batch 8, x8 = 33,929,216;
// the input gradient skips the first row: 8 x (4,241,152 - 225,792) = 32,122,880.
TEST(ScaleSim, ImportTrainsAtAnyBatch) {
  const ScaleSimTopology t = read_scalesim_topology(kSource + "/workloads/scalesim/fmnist_cnn_conv.csv");
  const Trace trace = expand_training_step(scalesim_graph(t, 8, "fmnist_cnn_conv"), named_policy("int4-fp4"));
  const TraceStats s = compute_stats(trace);
  EXPECT_EQ(s.forward_macs, 33929216u);
  EXPECT_EQ(s.input_grad_macs, 32122880u);
  EXPECT_EQ(s.weight_grad_macs, 33929216u);
  EXPECT_EQ(trace.batch, 8u);
  // A row whose windows do not tile the IFMAP: SCALE-Sim's E = ceil((224 - 11 + 4) / 4) = 55,
  // so its MACs are 55*55*96*3*11*11 = 105,415,200; the import pads by 2 to get the same E.
  const ScaleSimTopology alex = parse_scalesim_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "Conv1, 224, 224, 11, 11, 3, 96, 4,\n",
      "a.csv");
  EXPECT_EQ(models::forward_macs(scalesim_graph(alex, 1, "a")), 105415200u);
}

TEST(ScaleSim, ExportFromATrace) {
  models::ZooOptions o;
  const Trace cnn = expand_training_step(models::build_zoo_model("fmnist-cnn", o), named_policy("int4-fp4"));
  // The conv form of the batch-1 forward layers is the bundled example file.
  EXPECT_EQ(write_scalesim_topology(scalesim_from_trace(cnn, ScaleSimFormat::kConv)),
            read_file(kSource + "/workloads/scalesim/fmnist_cnn_conv.csv"));
  // The GEMM form holds every GEMM of every phase: 4 forward + 3 input-gradient + 4 weight-gradient.
  const ScaleSimTopology gemm = scalesim_from_trace(cnn, ScaleSimFormat::kGemm);
  ASSERT_EQ(gemm.layers.size(), 11u);
  EXPECT_EQ(gemm.layers[0].name, "conv1.forward");
  o.batch = 2;
  const Trace two = expand_training_step(models::build_zoo_model("fmnist-cnn", o), named_policy("int4-fp4"));
  EXPECT_EQ(error_of([&] { scalesim_from_trace(two, ScaleSimFormat::kConv); }),
            "conv1: SCALE-Sim's conv format has no batch (this trace has batch 2); export the GEMM format, or a "
            "batch-1 trace");
  // MobileNetV2's depthwise convs become "DP" rows, one per layer.
  const Trace mb = expand_training_step(models::build_zoo_model("mobilenet_v2", {}), named_policy("fp16"));
  const ScaleSimTopology rows = scalesim_from_trace(mb, ScaleSimFormat::kConv);
  EXPECT_EQ(rows.layers[1].name, "features.1.conv.0.0_DP");
  EXPECT_EQ(rows.layers[1].channels, 32u);
  EXPECT_EQ(rows.layers[1].num_filter, 1u);
  EXPECT_EQ(rows.layers[1].ifmap_h, 114u);  // 112 + 2 x pad 1
}

}  // namespace
}  // namespace nibble::workloads
