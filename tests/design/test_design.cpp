// Design files: every shipped design parses; each class of error names the
// file, line, key path and reason; an override (--set) goes through the same checks; the
// resolved design serializes every field; SCALE-Sim configs become designs.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "sim/common/error.hpp"
#include "sim/design/design.hpp"
#include "sim/design/pe_support.hpp"
#include "sim/design/scalesim_config.hpp"
#include "sim/design/trace_names.hpp"
#include "models/zoo/zoo.hpp"
#include "workloads/expand.hpp"
#include "workloads/trace.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::design {
namespace {

const std::string kSource = NIBBLE_SOURCE_DIR;

constexpr auto message_of = test::input_error_of;

// A small valid design; line numbers matter to the error tests below.
const char* const kTiny =
    "name: tiny\n"                                       // 1
    "clock_mhz: 500\n"                                   // 2
    "cores: 1\n"                                         // 3
    "array:\n"                                           // 4
    "  rows: 4\n"                                        // 5
    "  cols: 4\n"                                        // 6
    "  dataflow: ws\n"                                   // 7
    "  pe_kind: int4-fp4\n"                              // 8
    "scratchpads:\n"                                     // 9
    "  input: {capacity_bytes: 1024, word_bits: 64, banks: 1, ports: 1, double_buffer: true}\n"   // 10
    "  weight: {capacity_bytes: 1024, word_bits: 64, banks: 1, ports: 1, double_buffer: true}\n"  // 11
    "  output: {capacity_bytes: 1024, word_bits: 64, banks: 1, ports: 1, double_buffer: true}\n"  // 12
    "dram:\n"                                            // 13
    "  bandwidth_bytes_per_cycle: 16\n"                  // 14
    "  latency_cycles: 50\n"                             // 15
    "  burst_bytes: 64\n"                                // 16
    "vector:\n"                                          // 17
    "  lanes: 4\n"                                       // 18
    "  cycles_per_element: {quantize: 1, activation: 1, activation-grad: 1, pool: 1, pool-grad: 1, norm: 2,\n"
    "                       norm-grad: 4, eltwise: 1, softmax: 4, loss: 4, optimizer: 3}\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(DesignFile, ShippedDesignsParse) {
  for (const char* file : {"int4-train.yaml", "int4-single-array.yaml", "fp16-baseline.yaml", "test-4x4.yaml", "test-8x4.yaml", "test-2unit.yaml", "rapid-like.yaml",
                           "mxfp4-train.yaml", "nvfp4-train.yaml"}) {
    SCOPED_TRACE(file);
    const Design d = load_design(kSource + "/hw/designs/" + file);
    EXPECT_FALSE(d.name.empty());
  }
  const Design d = load_design(kSource + "/hw/designs/int4-single-array.yaml");
  EXPECT_EQ(d.array.rows, 128u);
  EXPECT_EQ(d.array.cols, 128u);
  EXPECT_EQ(d.array.pe_kind, PeKind::kInt4Fp4);
  EXPECT_EQ(d.cores, 1u);
  EXPECT_EQ(d.tech, "45nm");
  // The emulator reads the accumulators and the FP4 bias from here.
  EXPECT_EQ(d.accumulator(numerics::PeMode::kFp4xInt4), numerics::Format::kFp16Chunked);
  EXPECT_EQ(d.pe_arith(numerics::PeMode::kFp4xInt4).acc, numerics::Format::kFp16);
  EXPECT_EQ(d.pe_arith(numerics::PeMode::kInt4xFp4).fp4_bias, 7);
  EXPECT_EQ(d.array.chunk, 128u);
}

TEST(DesignFile, DefaultsAndTypedValues) {
  const Design d = parse_design(kTiny, "tiny.yaml");
  EXPECT_EQ(d.name, "tiny");
  EXPECT_DOUBLE_EQ(d.clock_mhz, 500.0);
  EXPECT_EQ(d.timing, TimingConvention::kNibble);  // default
  EXPECT_EQ(d.tech, "45nm");                        // default
  EXPECT_EQ(d.array.fp4_bias, 7);                   // default
  EXPECT_EQ(d.array.acc_int4, numerics::Format::kInt32);
  EXPECT_EQ(d.array.unsupported, UnsupportedOps::kError);
  EXPECT_FALSE(d.dram.ideal);
  EXPECT_EQ(d.input.tile_capacity(), 512u);  // double buffered: half of 1024
  EXPECT_EQ(d.vector.cycles_for(workloads::VectorKind::kNormGrad), 4u);
  EXPECT_DOUBLE_EQ(d.seconds(500), 1e-6);  // 500 cycles at 500 MHz
}

TEST(DesignFile, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "  cols: 4\n", "  colz: 4\n"), "d.yaml"); }),
            "d.yaml:6: array.colz: unknown key (did you mean 'cols'?)");
  EXPECT_EQ(message_of([] { parse_design(std::string(kTiny) + "clock_mhzz: 3\n", "d.yaml"); }),
            "d.yaml:21: clock_mhzz: unknown key (did you mean 'clock_mhz'?)");
}

TEST(DesignFile, MissingKeyNamesThePath) {
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "  latency_cycles: 50\n", ""), "d.yaml"); }),
            "d.yaml:13: dram.latency_cycles: missing key");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "cores: 1\n", ""), "d.yaml"); }),
            "d.yaml: cores: missing key");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "softmax: 4, ", ""), "d.yaml"); }),
            "d.yaml:19: vector.cycles_per_element.softmax: missing key");
}

TEST(DesignFile, WrongTypesAndRanges) {
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "rows: 4", "rows: four"), "d.yaml"); }),
            "d.yaml:5: array.rows: expected a whole number in [1, 65536], got 'four'");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "rows: 4", "rows: 0"), "d.yaml"); }),
            "d.yaml:5: array.rows: expected a whole number in [1, 65536], got 0");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "rows: 4", "rows: -4"), "d.yaml"); }),
            "d.yaml:5: array.rows: expected a whole number in [1, 65536], got '-4'");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "clock_mhz: 500", "clock_mhz: 0"), "d.yaml"); }),
            "d.yaml:2: clock_mhz: expected a number in [0.001, 1e+06], got 0");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "bandwidth_bytes_per_cycle: 16", "bandwidth_bytes_per_cycle: 0"),
                                         "d.yaml"); }),
            "d.yaml:14: dram.bandwidth_bytes_per_cycle: expected a whole number in [1, 4294967296], got 0");
  // vector.stream_gemm_output (default false).
  EXPECT_FALSE(parse_design(kTiny, "d.yaml").vector.stream_gemm_output);
  EXPECT_TRUE(parse_design(kTiny, "d.yaml", {"vector.stream_gemm_output=true"}).vector.stream_gemm_output);
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"vector.stream_gemm_output=yes"}); }),
            "{setting:override}: vector.stream_gemm_output: expected true or false, got 'yes'");
  // vector.tensor_scale (default current).
  EXPECT_EQ(parse_design(kTiny, "d.yaml").vector.tensor_scale, TensorScaleTiming::kCurrent);
  EXPECT_EQ(parse_design(kTiny, "d.yaml", {"vector.tensor_scale=delayed"}).vector.tensor_scale,
            TensorScaleTiming::kDelayed);
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"vector.tensor_scale=delay"}); }),
            "{setting:override}: vector.tensor_scale: expected one of current, delayed, got 'delay' (did you mean 'delayed'?)");
  // dram.channels (default 1): a whole number of channels sharing the bandwidth evenly.
  EXPECT_EQ(parse_design(kTiny, "d.yaml").dram.channels, 1u);
  EXPECT_EQ(parse_design(replace(kTiny, "  burst_bytes: 64\n", "  burst_bytes: 64\n  channels: 4\n"), "d.yaml")
                .dram.channels,
            4u);
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "  burst_bytes: 64\n", "  burst_bytes: 64\n  channels: 0\n"),
                                         "d.yaml"); }),
            "d.yaml:17: dram.channels: expected a whole number in [1, 1024], got 0");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "  burst_bytes: 64\n", "  burst_bytes: 64\n  channels: 3\n"),
                                         "d.yaml"); }),
            "d.yaml:17: dram.channels: bandwidth_bytes_per_cycle (16) must split evenly between 3 channels");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"dram.channels=32"}); }),
            "{setting:override}: dram.channels: bandwidth_bytes_per_cycle (16) must split evenly between 32 channels");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "dataflow: ws", "dataflow: wss"), "d.yaml"); }),
            "d.yaml:7: array.dataflow: expected one of ws, os, is, got 'wss' (did you mean 'ws'?)");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "double_buffer: true}\n  weight", "double_buffer: yes}\n  weight"),
                                         "d.yaml"); }),
            "d.yaml:10: scratchpads.input.double_buffer: expected true or false, got 'yes'");
  EXPECT_EQ(message_of([] { parse_design(replace(kTiny, "  rows: 4\n", "  rows: [4, 4]\n"), "d.yaml"); }),
            "d.yaml:5: array.rows: expected a single value, not a list or mapping");
}

TEST(DesignFile, ScratchpadTooSmallForOneTile) {
  // ws on 4 x 4 int4-fp4: one stationary tile is 4 x 4 x 4 bits = 8 bytes per half, 16 in all.
  EXPECT_EQ(message_of([] {
              parse_design(replace(kTiny, "weight: {capacity_bytes: 1024", "weight: {capacity_bytes: 15"), "d.yaml");
            }),
            "d.yaml:11: scratchpads.weight.capacity_bytes: too small for one tile: one 4 x 4 stationary tile of 4-bit "
            "operands needs 8 bytes per half (double_buffer: true), capacity gives 7");
  // Output: one row of 4 int32 partial sums = 16 bytes.
  EXPECT_EQ(message_of([] {
              parse_design(replace(kTiny, "output: {capacity_bytes: 1024, word_bits: 64, banks: 1, ports: 1, double_buffer: true",
                                   "output: {capacity_bytes: 15, word_bits: 64, banks: 1, ports: 1, double_buffer: false"),
                           "d.yaml");
            }),
            "d.yaml:12: scratchpads.output.capacity_bytes: too small for one tile: one row of 4 partial sums of 32 bits "
            "needs 16 bytes, capacity gives 15");
}

// The energy model costs scratchpad traffic per byte and per bank: a word is
// whole bytes and every bank holds at least one (docs/design-file.md).
TEST(DesignFile, ScratchpadWordsAreWholeBytesAndFitABank) {
  EXPECT_EQ(message_of([] {
              parse_design(replace(kTiny, "input: {capacity_bytes: 1024, word_bits: 64", "input: {capacity_bytes: 1024, word_bits: 12"),
                           "d.yaml");
            }),
            "d.yaml:10: scratchpads.input.word_bits: expected a whole number of bytes per access (8..65536 bits), got 12");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"scratchpads.weight.word_bits=131072"}); }),
            "{setting:override}: scratchpads.weight.word_bits: expected a whole number of bytes per access (8..65536 bits), got "
            "131072");
  // 1024 bytes in 256 banks: 4 bytes each, less than one 8-byte word; 128 banks hold exactly one.
  EXPECT_EQ(message_of([] {
              parse_design(replace(kTiny, "word_bits: 64, banks: 1, ports: 1, double_buffer: true}\ndram",
                                   "word_bits: 64, banks: 256, ports: 1, double_buffer: true}\ndram"),
                           "d.yaml");
            }),
            "d.yaml:12: scratchpads.output.banks: each of the 256 banks would hold less than one 64-bit word of the "
            "1024-byte scratchpad");
  EXPECT_NO_THROW(parse_design(kTiny, "d.yaml", {"scratchpads.output.banks=128"}));
  // A design built in code gets the file's bound on vector lanes too.
  Design wide = parse_design(kTiny, "d.yaml");
  wide.vector.lanes = (1u << 20) + 1;
  const std::string lanes = message_of([&] { validate_design(wide); });
  EXPECT_NE(lanes.find("vector.lanes: expected a whole number in [1, 1048576], got 1048577"), std::string::npos) << lanes;
}

TEST(DesignFile, AccumulatorsAndChunksAreChecked) {
  // An FP32 multiplier cannot accumulate in FP16 (sim/numerics says which pairs exist).
  const std::string fp32 = replace(kTiny, "pe_kind: int4-fp4", "pe_kind: fp32\n  accumulators: {float: fp16}");
  EXPECT_EQ(message_of([&] { parse_design(fp32, "d.yaml"); }).rfind("d.yaml:9: array.accumulators.float: the fp32 PE "
                                                                      "cannot accumulate fp16",
                                                                      0),
            0u);
  const std::string chunked = replace(kTiny, "pe_kind: int4-fp4", "pe_kind: int4-fp4\n  accumulators: {fp4: fp16-chunked}");
  EXPECT_EQ(message_of([&] { parse_design(chunked, "d.yaml"); }),
            "d.yaml:4: array.chunk: expected a chunk length >= 1: an fp16-chunked accumulator sums that many products "
            "in FP16");
  EXPECT_EQ(message_of([&] { parse_design(replace(chunked, "pe_kind: int4-fp4", "pe_kind: int4-fp4\n  chunk: 6"),
                                          "d.yaml"); }),
            "d.yaml:9: array.chunk: expected a multiple of array.rows (4) so that chunks end where folds end in ws, "
            "got 6");
  EXPECT_NO_THROW(parse_design(replace(chunked, "pe_kind: int4-fp4", "pe_kind: int4-fp4\n  chunk: 8"), "d.yaml"));
}

TEST(DesignFile, MapperAndDataflowsAreChecked) {
  // Defaults: the fixed mapper, the one dataflow.
  const Design plain = parse_design(kTiny, "d.yaml");
  EXPECT_EQ(plain.mapper, MapperKind::kFixed);
  EXPECT_TRUE(plain.array.dataflows.empty());
  EXPECT_EQ(plain.array.allowed_dataflows(), std::vector<Dataflow>{Dataflow::kWs});
  // A list: `dataflow` first, then the list in file order.
  const std::string listed = replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows: [is, os, ws]\n");
  const Design d = parse_design("mapper: search\n" + listed, "d.yaml");
  EXPECT_EQ(d.mapper, MapperKind::kSearch);
  EXPECT_EQ(d.array.allowed_dataflows(), (std::vector<Dataflow>{Dataflow::kWs, Dataflow::kIs, Dataflow::kOs}));
  const auto json = nlohmann::json::parse(design_to_json(d));
  EXPECT_EQ(json.at("mapper"), "search");
  EXPECT_EQ(json.at("array").at("dataflows"), nlohmann::json::parse(R"(["ws", "is", "os"])"));
  // --set array.dataflow pins the unit's dataflow: the list no longer applies.
  EXPECT_EQ(parse_design(listed, "d.yaml", {"array.dataflow=os"}).array.allowed_dataflows(),
            std::vector<Dataflow>{Dataflow::kOs});
  // A list given on the command line.
  EXPECT_EQ(parse_design(kTiny, "d.yaml", {"array.dataflows=[ws,is]"}).array.allowed_dataflows(),
            (std::vector<Dataflow>{Dataflow::kWs, Dataflow::kIs}));
  // Errors name the entry's line (a block list: the entry's own line).
  EXPECT_EQ(message_of([&] { parse_design(replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows:\n    - ws\n    - rs\n"),
                                          "d.yaml"); }),
            "d.yaml:10: array.dataflows: expected one of ws, os, is, got 'rs'");
  EXPECT_EQ(message_of([&] { parse_design(replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows: [ws, ws]\n"),
                                          "d.yaml"); }),
            "d.yaml:8: array.dataflows: lists 'ws' twice");
  EXPECT_EQ(message_of([&] { parse_design(replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows: [os, is]\n"),
                                          "d.yaml"); }),
            "d.yaml:8: array.dataflows: expected a list that includes array.dataflow (ws), the fixed mapper's choice");
  EXPECT_EQ(message_of([&] { parse_design(replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows: {ws: 1}\n"),
                                          "d.yaml"); }),
            "d.yaml:8: array.dataflows: expected a list of dataflows such as [ws, os, is]");
  // Every listed dataflow obeys the unit's rules: dot-product PEs run ws only.
  EXPECT_EQ(message_of([&] { parse_design(replace(kTiny, "dataflow: ws\n", "dataflow: ws\n  dataflows: [ws, os]\n  dot_product: 4\n"),
                                          "d.yaml"); }),
            "d.yaml:8: array.dataflows: 'os' cannot run on this unit: array.dot_product: dot-product PEs (4) need "
            "array.dataflow: ws, got os");
  EXPECT_EQ(message_of([&] { parse_design("mapper: best\n" + std::string(kTiny), "d.yaml"); }),
            "d.yaml:1: mapper: expected one of fixed, search, got 'best'");
}

TEST(DesignFile, DotProductIsChecked) {
  EXPECT_EQ(parse_design(kTiny, "d.yaml").array.dot_product, 1u);  // default: the MAC PE
  const std::string dot = replace(kTiny, "pe_kind: int4-fp4", "pe_kind: int4-fp4\n  dot_product: 4");
  const Design d = parse_design(dot, "d.yaml");
  EXPECT_EQ(d.array.dot_product, 4u);
  EXPECT_EQ(nlohmann::json::parse(design_to_json(d)).at("array").at("dot_product"), 4);
  EXPECT_EQ(message_of([&] { parse_design(replace(dot, "dot_product: 4", "dot_product: 65"), "d.yaml"); }),
            "d.yaml:9: array.dot_product: expected a whole number in [1, 64], got 65");
  EXPECT_EQ(message_of([&] { parse_design(replace(dot, "dot_product: 4", "dot_product: 0"), "d.yaml"); }),
            "d.yaml:9: array.dot_product: expected a whole number in [1, 64], got 0");
  EXPECT_EQ(message_of([&] { parse_design(replace(dot, "dataflow: ws", "dataflow: os"), "d.yaml"); }),
            "d.yaml:9: array.dot_product: dot-product PEs (4) need array.dataflow: ws, got os");
  EXPECT_EQ(message_of([&] { parse_design(dot, "d.yaml", {"array.dataflow=is"}); }),
            "d.yaml:9: array.dot_product: dot-product PEs (4) need array.dataflow: ws, got is");
  // Chunks end on folds of rows x N = 16 reduction elements: 8 is a multiple of rows but not of 16.
  const std::string chunked = replace(dot, "dot_product: 4", "dot_product: 4\n  accumulators: {fp4: fp16-chunked}\n  chunk: 8");
  EXPECT_EQ(message_of([&] { parse_design(chunked, "d.yaml"); }),
            "d.yaml:11: array.chunk: expected a multiple of array.rows x array.dot_product (16) so that chunks end "
            "where folds end, on dot-product boundaries, got 8");
  EXPECT_NO_THROW(parse_design(replace(chunked, "chunk: 8", "chunk: 32"), "d.yaml"));
  // The weight scratchpad holds R x N x C = 4 x 4 x 4 4-bit weights: 32 bytes per half.
  EXPECT_EQ(message_of([&] { parse_design(dot, "d.yaml", {"scratchpads.weight.capacity_bytes=62"}); }),
            "{setting:override}: scratchpads.weight.capacity_bytes: too small for one tile: one 4 x 4 x 4 stationary tile of "
            "4-bit operands needs 32 bytes per half (double_buffer: true), capacity gives 31");
}

TEST(DesignFile, SetOverridesWithTheSameChecks) {
  const Design d = parse_design(kTiny, "d.yaml", {"array.rows=8", "dram.ideal=true", "array.dataflow=os"});
  EXPECT_EQ(d.array.rows, 8u);
  EXPECT_TRUE(d.dram.ideal);
  EXPECT_EQ(d.array.dataflow, Dataflow::kOs);
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"array.rows=0"}); }),
            "{setting:override}: array.rows: expected a whole number in [1, 65536], got 0");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"array.rowz=8"}); }),
            "{setting:override}: array.rowz: unknown key (did you mean 'rows'?)");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"array.rows"}); }),
            "{setting:override}: array.rows: expected KEY=VALUE with a key path such as array.rows=8");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"name.first=x"}); }),
            "{setting:override}: name: is a single value, not a mapping with key 'first'");
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"array=3"}); }),
            "{setting:override}: array: is a mapping; set one of its keys, e.g. array.KEY=VALUE");
  // A tile check failing because of a --set value points at the command line.
  EXPECT_EQ(message_of([] { parse_design(kTiny, "d.yaml", {"scratchpads.weight.capacity_bytes=8"}); })
                .rfind("{setting:override}: scratchpads.weight.capacity_bytes: too small for one tile", 0),
            0u);
}

TEST(DesignFile, JsonCarriesEveryField) {
  const Design d = parse_design(kTiny, "d.yaml", {"array.fp4_bias=5"});
  const auto j = nlohmann::json::parse(design_to_json(d));
  EXPECT_EQ(j.at("name"), "tiny");
  EXPECT_EQ(j.at("array").at("fp4_bias"), 5);
  EXPECT_EQ(j.at("array").at("accumulators").at("fp4"), "fp16");
  EXPECT_EQ(j.at("scratchpads").at("output").at("capacity_bytes"), 1024);
  EXPECT_EQ(j.at("dram").at("burst_bytes"), 64);
  EXPECT_EQ(j.at("vector").at("cycles_per_element").at("activation-grad"), 1);
  // A kind without a key of its own is written only when the design gives it a value.
  EXPECT_FALSE(j.at("vector").at("cycles_per_element").contains("hadamard"));
  const auto given =
      nlohmann::json::parse(design_to_json(parse_design(kTiny, "d.yaml", {"vector.cycles_per_element.hadamard=2"})));
  EXPECT_EQ(given.at("vector").at("cycles_per_element").at("hadamard"), 2);
  EXPECT_NE(message_of([] { parse_design(kTiny, "d.yaml", {"vector.cycles_per_element.hadamard=0"}); })
                .find("vector.cycles_per_element.hadamard: expected a whole number in [1, 1048576], got 0"),
            std::string::npos);
  EXPECT_EQ(j.at("timing"), "nibble");
  EXPECT_EQ(j.at("tech"), "45nm");
  // Same design, same bytes.
  EXPECT_EQ(design_to_json(d), design_to_json(parse_design(kTiny, "d.yaml", {"array.fp4_bias=5"})));
}

TEST(PeSupport, NativePromotedAndMultiPass) {
  Design d = parse_design(kTiny, "d.yaml");
  workloads::TraceOp op;
  op.layer = "fc";
  op.m = op.n = op.k = 4;
  op.a_format = numerics::Format::kFp4;
  op.b_format = numerics::Format::kInt4;
  Execution e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kNative);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kFp4xInt4);
  EXPECT_EQ(e.acc, numerics::Format::kFp16);  // the design's fp4 accumulator default
  op.a_format = op.b_format = numerics::Format::kFp16;
  EXPECT_EQ(message_of([&] { plan_execution(d, op); }),
            "d.yaml: array.pe_kind: op 'fc' (forward, fp16 x fp16) needs fp16 multiplies, which the int4-fp4 PE "
            "cannot execute; set array.unsupported: multi-pass to run it in slices, or use a precision policy that "
            "matches the design");
  d.array.unsupported = UnsupportedOps::kMultiPass;
  e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kMultiPass);
  // FP16 significand with sign: 12 bits = 3 slices of 4 bits per operand -> 3 x 3 passes.
  EXPECT_EQ(e.passes, 9u);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kInt4xInt4);
  op.a_format = op.b_format = numerics::Format::kFp8E4M3;  // 1 + 1 + 3 = 5 bits -> 2 slices each
  EXPECT_EQ(plan_execution(d, op).passes, 4u);
  // An FP16 PE runs INT4 ops in one pass (exact conversion).
  d.array.pe_kind = PeKind::kFp16;
  op.a_format = numerics::Format::kUint4;
  op.b_format = numerics::Format::kInt4;
  e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kPromoted);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kFp16xFp16);
  EXPECT_EQ(e.passes, 1u);
}

// docs/design-file.md, "What a PE kind executes": block formats promote exactly into FP32
// only; elsewhere they run in slices of their elements' significands (e2m1: 3 bits, bf16: 9).
TEST(PeSupport, BlockFormatsPromoteToFp32OrRunInSlices) {
  Design d = parse_design(kTiny, "d.yaml", {"array.unsupported=multi-pass"});
  workloads::TraceOp op;
  op.layer = "fc";
  op.m = op.n = op.k = 32;
  op.a_format = op.b_format = numerics::Format::kMxfp4;
  Execution e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kMultiPass);
  EXPECT_EQ(e.passes, 1u);                  // ceil(3 / 4) x ceil(3 / 4)
  EXPECT_EQ(e.a_bits, 4);
  EXPECT_EQ(e.a_quarter_bits, 17);          // 4 bits + 8 bits per 32
  op.a_format = op.b_format = numerics::Format::kBf16;
  EXPECT_EQ(plan_execution(d, op).passes, 9u);  // ceil(9 / 4) = 3 per operand
  op.a_format = op.b_format = numerics::Format::kNvfp4;
  d.array.pe_kind = PeKind::kFp16;          // 12-bit slices; E8M0/UE4M3 x tensor scale ranges exceed FP16
  e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kMultiPass);
  EXPECT_EQ(e.passes, 1u);
  EXPECT_EQ(e.b_quarter_bits, 18);          // 4 bits + 8 bits per 16
  d.array.pe_kind = PeKind::kFp32;
  e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kPromoted);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kFp32xFp32);
}

// A forward GEMM 'fc' of 64 x 64 x 64 with both operands in `format`.
workloads::TraceOp fc64(numerics::Format format) {
  workloads::TraceOp op;
  op.layer = "fc";
  op.m = op.n = op.k = 64;
  op.a_format = op.b_format = format;
  return op;
}

TEST(PeSupport, Fp4BlockAndBf16KindsRunTheirFormatsNatively) {
  Design d = parse_design(kTiny, "d.yaml", {"array.pe_kind=fp4-block", "array.dot_product=32"});
  workloads::TraceOp op = fc64(numerics::Format::kMxfp4);
  Execution e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kNative);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kMxfp4);
  EXPECT_EQ(e.op_mode, numerics::PeMode::kMxfp4);
  EXPECT_EQ(e.block, 32u);
  EXPECT_EQ(e.acc, numerics::Format::kFp32);  // accumulators.float's default
  EXPECT_EQ(mac_counter_name(e.pe_mode), "mac_mxfp4");
  op.a_format = op.b_format = numerics::Format::kNvfp4;
  e = plan_execution(d, op);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kNvfp4);
  EXPECT_EQ(e.block, 16u);
  EXPECT_EQ(e.b_quarter_bits, 18);
  // Nothing else runs on it, not even in slices.
  op.a_format = op.b_format = numerics::Format::kBf16;
  EXPECT_EQ(message_of([&] { plan_execution(d, op); }),
            "d.yaml: array.pe_kind: op 'fc' (forward, bf16 x bf16) needs bf16 multiplies, which the fp4-block PE "
            "cannot execute; set array.unsupported: multi-pass to run it in slices, or use a precision policy that "
            "matches the design");
  EXPECT_EQ(message_of([&] {
              parse_design(kTiny, "d.yaml", {"array.pe_kind=fp4-block", "array.dot_product=32", "array.unsupported=multi-pass"});
            }),
            "{setting:override}: array.unsupported: fp4-block PEs have no multi-pass datapath: route other formats to another "
            "matrix unit (matrix_units) instead");
  EXPECT_EQ(message_of([&] { parse_design(kTiny, "d.yaml", {"array.pe_kind=fp4-block", "array.dot_product=16"}); }),
            "{setting:override}: array.dot_product: fp4-block PEs take whole MXFP4 blocks: expected a multiple of 32, got 16");
  EXPECT_EQ(message_of([&] {
              parse_design(kTiny, "d.yaml",
                           {"array.pe_kind=fp4-block", "array.dot_product=32", "array.accumulators.float=fp16-chunked",
                            "array.chunk=128"});
            }),
            "{setting:override}: array.accumulators.float: the fp4-block PE accumulates blocks in fp16 or fp32, got fp16-chunked");
  // bf16: BF16 natively, narrower formats promoted exactly, FP16 not at all.
  d = parse_design(kTiny, "d.yaml", {"array.pe_kind=bf16"});
  e = plan_execution(d, op);
  EXPECT_EQ(e.kind, ExecutionKind::kNative);
  EXPECT_EQ(e.pe_mode, numerics::PeMode::kBf16xBf16);
  EXPECT_EQ(mac_counter_name(e.pe_mode), "mac_bf16");
  op.a_format = op.b_format = numerics::Format::kFp8E4M3;
  EXPECT_EQ(plan_execution(d, op).kind, ExecutionKind::kPromoted);
  op.a_format = op.b_format = numerics::Format::kFp16;  // 11 significand bits do not fit BF16's 8
  EXPECT_THROW(plan_execution(d, op), InputError);
}

TEST(PeSupport, EveryModeRunsOnOneDatapathWithOneCounter) {
  using numerics::PeMode;
  // Both INT4 x FP4 operand orders share the shifter: one datapath, one counter.
  EXPECT_EQ(datapath_of(PeMode::kFp4xInt4), Datapath::kInt4Fp4);
  EXPECT_EQ(datapath_of(PeMode::kInt4xFp4), Datapath::kInt4Fp4);
  EXPECT_EQ(mac_counter_name(PeMode::kFp4xInt4), "mac_int4_fp4");
  const std::vector<std::pair<PeMode, std::string>> one_each = {
      {PeMode::kInt4xInt4, "mac_int4_int4"}, {PeMode::kFp8xFp8, "mac_fp8"},     {PeMode::kFp16xFp16, "mac_fp16"},
      {PeMode::kFp32xFp32, "mac_fp32"},      {PeMode::kMxfp4, "mac_mxfp4"},     {PeMode::kNvfp4, "mac_nvfp4"},
      {PeMode::kBf16xBf16, "mac_bf16"}};
  for (const auto& [mode, counter] : one_each) EXPECT_EQ(mac_counter_name(mode), counter);
  // Declared in the counters' order: the energy model indexes its per-datapath arrays by it.
  EXPECT_EQ(static_cast<std::size_t>(Datapath::kBf16) + 1, kDatapaths);
  EXPECT_STREQ(datapath_name(Datapath::kInt4Int4), "int4_int4");
  EXPECT_STREQ(datapath_name(Datapath::kMxfp4), "mxfp4");
}

TEST(MatrixUnits, BlockFp4DesignsRouteEveryGemmNatively) {
  // hw/designs/mxfp4-train.yaml and nvfp4-train.yaml under their recipes:
  // every GEMM of a ResNet-18 and a BERT-base training step runs natively,
  // block-FP4 GEMMs on the fp4 unit, the BF16 layers on the bf16 unit.
  for (const char* recipe : {"mxfp4", "nvfp4"}) {
    const Design d = load_design(kSource + "/hw/designs/" + recipe + "-train.yaml");
    const workloads::Policy policy = workloads::named_policy(recipe);
    for (const char* model : {"resnet18", "bert-base"}) {
      SCOPED_TRACE(std::string(recipe) + " " + model);
      models::ZooOptions options;
      options.batch = 2;
      const workloads::Trace trace = workloads::expand_training_step(models::build_zoo_model(model, options), policy);
      std::size_t block_ops = 0;
      std::size_t bf16_ops = 0;
      for (const auto& op : trace.ops) {
        if (!op.is_gemm()) continue;
        const Execution e = plan_execution(d, op);
        EXPECT_EQ(e.kind, ExecutionKind::kNative) << op.layer;
        const bool block = numerics::pe_block_mode(e.pe_mode);
        EXPECT_EQ(e.unit, block ? 0u : 1u) << op.layer;
        (block ? block_ops : bf16_ops) += 1;
      }
      EXPECT_GT(block_ops, 0u);
      // mxfp4 keeps the first and last GEMM layers in BF16, nvfp4 the last
      // (3 GEMMs: forward, input and weight gradient) and the attention
      // matmuls. ResNet-18's first is conv1 (no input gradient: 2 GEMMs),
      // BERT-base's the first layer's query, key and value projections (3 x 3);
      // BERT-base has 12 layers of QK^T and PV: 12 x 2 x 3 = 72 GEMMs.
      const bool mx = std::string(recipe) == "mxfp4";
      const bool resnet = std::string(model) == "resnet18";
      EXPECT_EQ(bf16_ops, mx ? (resnet ? 5u : 12u) : (resnet ? 3u : 3u + 72u));
    }
  }
}

// kTiny with its array as two matrix units (lines 4..12 replace lines 4..8).
std::string two_units() {
  return replace(kTiny, "array:\n  rows: 4\n  cols: 4\n  dataflow: ws\n  pe_kind: int4-fp4\n",
                 "matrix_units:\n"          // 4
                 "  big:\n"                 // 5
                 "    rows: 4\n"            // 6
                 "    cols: 4\n"            // 7
                 "    dataflow: ws\n"       // 8
                 "    pe_kind: int4-fp4\n"  // 9
                 "  small:\n"               // 10
                 "    {rows: 2, cols: 2, dataflow: os, pe_kind: fp16}\n");  // 11
}

TEST(MatrixUnits, ParsedInFileOrderWithTheArrayKeys) {
  const Design d = parse_design(two_units(), "d.yaml");
  ASSERT_EQ(d.unit_count(), 2u);
  EXPECT_EQ(d.unit(0).name, "big");
  EXPECT_EQ(d.unit(0).array.rows, 4u);
  EXPECT_EQ(d.unit(1).name, "small");
  EXPECT_EQ(d.unit(1).array.pe_kind, PeKind::kFp16);
  EXPECT_EQ(d.unit(1).array.dataflow, Dataflow::kOs);
  EXPECT_EQ(d.unit(1).array.acc_float, numerics::Format::kFp32);  // the array defaults
  EXPECT_EQ(d.pes_per_core(), 20u);
  EXPECT_EQ(d.unit_key(1), "matrix_units.small");
  EXPECT_EQ(units_text(d, true), "big: 4x4 int4-fp4 (ws) + small: 2x2 fp16 (os)");
  // A unit view is a one-array design: the one-array rules apply to it unchanged.
  const Design view = d.unit_view(1);
  EXPECT_EQ(view.unit_count(), 1u);
  EXPECT_EQ(view.array.rows, 2u);
  EXPECT_EQ(view.array_name, "small");
  // summary.json lists the units under matrix_units; a one-array design keeps `array`.
  const auto j = nlohmann::json::parse(design_to_json(d));
  EXPECT_FALSE(j.contains("array"));
  EXPECT_EQ(j["matrix_units"]["small"]["pe_kind"], "fp16");
  EXPECT_EQ(nlohmann::json::parse(design_to_json(parse_design(kTiny, "d.yaml")))["array"]["rows"], 4);
  // --set reaches a unit's key by its name, through the same checks.
  EXPECT_EQ(parse_design(two_units(), "d.yaml", {"matrix_units.small.rows=8"}).unit(1).array.rows, 8u);
  EXPECT_EQ(message_of([] { parse_design(two_units(), "d.yaml", {"matrix_units.small.rows=0"}); }),
            "{setting:override}: matrix_units.small.rows: expected a whole number in [1, 65536], got 0");
}

TEST(MatrixUnits, ErrorsNameTheUnitsKeyPath) {
  EXPECT_EQ(message_of([] { parse_design(replace(two_units(), "    rows: 4\n", "    rows: 0\n"), "d.yaml"); }),
            "d.yaml:6: matrix_units.big.rows: expected a whole number in [1, 65536], got 0");
  EXPECT_EQ(message_of([] { parse_design(replace(two_units(), "rows: 2, cols", "rows: 2, colz"), "d.yaml"); }),
            "d.yaml:11: matrix_units.small.colz: unknown key (did you mean 'cols'?)");
  EXPECT_EQ(message_of([] { parse_design(replace(two_units(), "dataflow: os", "dataflow: oss"), "d.yaml"); }),
            "d.yaml:11: matrix_units.small.dataflow: expected one of ws, os, is, got 'oss' (did you mean 'os'?)");
  // Cross-field rules of one unit name that unit's key; a key not in the file
  // points at the unit's line, as array.chunk points at `array:`.
  EXPECT_EQ(message_of([] {
              parse_design(replace(two_units(), "    pe_kind: int4-fp4\n",
                                   "    pe_kind: int4-fp4\n    accumulators: {fp4: fp16-chunked}\n"),
                           "d.yaml");
            }),
            "d.yaml:5: matrix_units.big.chunk: expected a chunk length >= 1: an fp16-chunked accumulator sums that "
            "many products in FP16");
  EXPECT_EQ(message_of([] { parse_design(std::string(two_units()) + "array: {rows: 1}\n", "d.yaml"); }),
            "d.yaml:4: matrix_units: give either array (one matrix unit) or matrix_units (several), not both");
  EXPECT_EQ(message_of([] { parse_design(replace(two_units(), "  small:\n", "  big:\n"), "d.yaml"); }),
            "d.yaml:10: matrix_units.big: appears twice; give each key once");
  EXPECT_EQ(message_of([] { parse_design(replace(two_units(), "  small:\n", "  vector:\n"), "d.yaml"); }),
            "d.yaml:10: matrix_units.vector: expected a unit name of letters, digits, '_' or '-' (not vector, dma, "
            "input, weight or output), got 'vector'");
  EXPECT_EQ(message_of([] {
              parse_design(replace(kTiny, "array:\n  rows: 4\n  cols: 4\n  dataflow: ws\n  pe_kind: int4-fp4\n",
                                   "matrix_units: {}\n"),
                           "d.yaml");
            }),
            "d.yaml:4: matrix_units: expected at least one matrix unit (name: {rows: ..., ...})");
}

TEST(MatrixUnits, RouteToTheFirstNativeUnitThenPromotedThenMultiPass) {
  Design d = parse_design(two_units(), "d.yaml");
  workloads::TraceOp op;
  op.layer = "conv1";
  op.m = op.n = op.k = 4;
  op.a_format = op.b_format = numerics::Format::kInt4;
  EXPECT_EQ(route_gemm(d, op), 0u);  // big: native INT4 (small would take it promoted)
  op.a_format = op.b_format = numerics::Format::kFp16;
  Execution e = plan_execution(d, op);
  EXPECT_EQ(e.unit, 1u);  // small: native FP16
  EXPECT_EQ(e.kind, ExecutionKind::kNative);
  EXPECT_EQ(e.acc, numerics::Format::kFp32);  // small's accumulators.float
  op.a_format = op.b_format = numerics::Format::kFp8E4M3;
  EXPECT_EQ(plan_execution(d, op).kind, ExecutionKind::kPromoted);  // on small: FP8 fits FP16
  op.a_format = op.b_format = numerics::Format::kFp32;
  EXPECT_EQ(message_of([&] { plan_execution(d, op); }),
            "d.yaml: matrix_units: op 'conv1' (forward, fp32 x fp32): no matrix unit executes these formats natively "
            "or in one pass (big (int4-fp4), small (fp16)); set unsupported: multi-pass on one of them to run it in "
            "slices, or use a precision policy that matches the design");
  d.more_units[0].array.unsupported = UnsupportedOps::kMultiPass;  // small slices FP32 (25 bits) in 12-bit passes
  e = plan_execution(d, op);
  EXPECT_EQ(e.unit, 1u);
  EXPECT_EQ(e.kind, ExecutionKind::kMultiPass);
  EXPECT_EQ(e.passes, 9u);  // ceil(25 / 12) = 3 per operand
}

TEST(TraceNames, MatchWorkloads) {
  // sim/design keys its vector costs and counters by workloads' names: the
  // design file's cycles_per_element keys and layers.csv's vec_ops_ columns.
  EXPECT_EQ(workloads::all_vector_kinds().size(), workloads::kVectorKindCount);
  // 11 kinds have a cycles_per_element key; trace version 2's 5 transformer kinds and
  // version 5's hadamard reuse one.
  EXPECT_EQ(keyed_vector_kinds().size(), 11u);
  EXPECT_EQ(vector_counter_name(workloads::VectorKind::kLayerNormGrad), "vec_ops_layer_norm_grad");
  EXPECT_EQ(workloads::vector_kind_name(workloads::VectorKind::kActivationGrad), "activation-grad");
  EXPECT_EQ(vector_counter_name(workloads::VectorKind::kActivationGrad), "vec_ops_activation_grad");
  EXPECT_EQ(workloads::vector_kind_name(workloads::VectorKind::kOptimizer), "optimizer");
  EXPECT_EQ(workloads::phase_name(workloads::Phase::kWeightGrad), "weight_grad");
  // Each name reads back as its own kind, and no two kinds share a counter
  // column: a copied table row (two kinds under one name) fails here.
  std::set<std::string> counters;
  for (const auto kind : workloads::all_vector_kinds()) {
    EXPECT_EQ(workloads::parse_vector_kind(workloads::vector_kind_name(kind)), kind);
    counters.insert(vector_counter_name(kind));
  }
  EXPECT_EQ(counters.size(), workloads::kVectorKindCount);
  std::string phases;
  for (const auto phase : workloads::all_phases()) {
    EXPECT_EQ(workloads::parse_phase(workloads::phase_name(phase)), phase);
    phases += std::string(workloads::phase_name(phase)) + " ";
  }
  EXPECT_EQ(phases, "forward input_grad weight_grad update ");  // trace files spell phases so
}

TEST(ScaleSimConfig, PublishedConfigBecomesADesign) {
  const ScaleSimConfig cfg = load_scalesim_config(kSource + "/hw/designs/scalesim/scale.cfg");
  EXPECT_EQ(cfg.run_name, "scale_example_run_32x32_os");
  EXPECT_FALSE(cfg.user_bandwidth);
  EXPECT_EQ(cfg.design.array.rows, 32u);
  EXPECT_EQ(cfg.design.array.cols, 32u);
  EXPECT_EQ(cfg.design.array.dataflow, Dataflow::kOs);
  EXPECT_EQ(cfg.design.timing, TimingConvention::kScaleSim);
  EXPECT_TRUE(cfg.design.dram.ideal);
  EXPECT_EQ(cfg.design.input.capacity_bytes, 64u * 1024);
  const std::vector<std::string> ignored = {"architecture_presets.IfmapOffset", "architecture_presets.FilterOffset",
                                            "architecture_presets.OfmapOffset"};
  EXPECT_EQ(cfg.ignored, ignored);
}

TEST(ScaleSimConfig, ErrorsNameSectionAndKey) {
  const std::string good =
      "[general]\nrun_name = r\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 8\n"
      "FilterSramSzkB: 8\nOfmapSramSzkB: 8\nDataflow: ws\nBandwidth: 10\n[run_presets]\nInterfaceBandwidth: USER\n";
  const ScaleSimConfig cfg = parse_scalesim_config(good, "s.cfg");
  EXPECT_TRUE(cfg.user_bandwidth);
  EXPECT_EQ(cfg.design.dram.bandwidth_bytes_per_cycle, 10u);
  EXPECT_EQ(message_of([&] { parse_scalesim_config(replace(good, "ArrayWidth: 8\n", ""), "s.cfg"); }),
            "s.cfg: architecture_presets.ArrayWidth: missing key (SCALE-Sim requires it)");
  EXPECT_EQ(message_of([&] { parse_scalesim_config(replace(good, "Dataflow: ws", "Dataflow: xs"), "s.cfg"); }),
            "s.cfg:9: architecture_presets.Dataflow: expected os, ws or is, got 'xs'");
  EXPECT_EQ(message_of([&] { parse_scalesim_config(replace(good, "ArrayHeight: 8", "ArrayHeight: 0"), "s.cfg"); }),
            "s.cfg:4: architecture_presets.ArrayHeight: expected a whole number in [1, 65536], got '0'");
  EXPECT_EQ(message_of([&] { parse_scalesim_config(replace(good, "USER", "MAYBE"), "s.cfg"); }),
            "s.cfg:12: run_presets.InterfaceBandwidth: expected USER or CALC, got 'MAYBE'");
  EXPECT_EQ(message_of([&] { parse_scalesim_config(replace(good, "Bandwidth: 10", "Bandwidth: 0"), "s.cfg"); }),
            "s.cfg:10: architecture_presets.Bandwidth: expected words per cycle >= 1, got '0'");
  EXPECT_EQ(message_of([&] { parse_scalesim_config("junk\n" + good, "s.cfg"); }),
            "s.cfg:1: expected 'Key = value' or 'Key: value', got 'junk'");
}

}  // namespace
}  // namespace nibble::design
