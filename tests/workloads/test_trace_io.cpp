// The trace text format: exact round trips, and the error for every kind of
// malformed line (docs/trace-format.md promises `file:line: field: message`).
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "models/zoo/zoo.hpp"
#include "sim/common/error.hpp"
#include "sim/common/files.hpp"
#include "workloads/expand.hpp"
#include "workloads/trace_io.hpp"
#include "tests/support/input_error.hpp"

namespace nibble::workloads {
namespace {

using test::error_of;

Trace zoo_trace(const std::string& model, std::uint64_t batch, const std::string& policy) {
  models::ZooOptions o;
  o.batch = batch;
  return expand_training_step(models::build_zoo_model(model, o), named_policy(policy));
}

const std::string kHeader =
    "nibble-trace 1\nmodel m\nbatch 2\npolicy int4-fp4\nops 1\n";
const std::string kConv =
    "conv c1 forward m=8 n=4 k=27 groups=1 a=int4 b=int4 acc=fp16 input=2x3x6x6 filters=4 kernel=3x3 "
    "stride=2x2 pad=0x0 dilation=1x1\n";

std::string read_error(const std::string& text) {
  return error_of([&] { read_trace(text, "t.trace"); });
}

// Version 1 traces (nibble before the transformer vector kinds) still read, and are written
// back as version 3; the kinds version 2 added are errors in a version-1 file.
TEST(TraceIo, Version1TracesStillRead) {
  const std::string v1 = kHeader + "vector ln forward op=norm elements=64 in=fp16 out=fp16\n";
  const Trace t = read_trace(v1, "old.trace");
  ASSERT_EQ(t.ops.size(), 1u);
  EXPECT_EQ(t.ops[0].vector, VectorKind::kNorm);
  EXPECT_EQ(write_trace(t).rfind("nibble-trace 3\nmodel m\n", 0), 0u);
  EXPECT_EQ(read_error(kHeader + "vector sm input_grad op=softmax-grad elements=64 in=fp16 out=fp16\n"),
            "t.trace:6: op: 'softmax-grad' needs trace version 2 (this file says 'nibble-trace 1')");
  std::string v2 = kHeader;
  v2.replace(0, 14, "nibble-trace 2");
  for (const char* kind : {"softmax-grad", "layer-norm", "layer-norm-grad", "gelu", "gelu-grad"}) {
    const std::string text = v2 + "vector x forward op=" + kind + " elements=64 in=fp16 out=fp16\n";
    const Trace back = read_trace(text, "new.trace");
    EXPECT_EQ(vector_kind_name(back.ops[0].vector), kind);
    const std::string written = write_trace(back);
    EXPECT_NE(written.find(std::string("\nvector x forward op=") + kind + " elements=64 in=fp16 out=fp16\n"),
              std::string::npos);
    EXPECT_TRUE(read_trace(written, "again.trace") == back);
  }
}

// Version 5 adds the `hadamard` vector op (NVFP4's transform of the weight-gradient GEMM's
// operands). A trace is written as the oldest version that holds it: 5 only with a hadamard
// op (a version-4 trace stays byte for byte, Version4NamesTensors); in a version-4 file the
// op is an error at its line.
TEST(TraceIo, Version5AddsTheHadamardOp) {
  const std::string ops = "vector fc weight_grad op=hadamard elements=64 in=bf16 out=bf16 reads=x writes=fc.X.H\n";
  const std::string header = "model m\nbatch 2\npolicy nvfp4\ninput x\nops 1\n";
  const Trace t = read_trace("nibble-trace 5\n" + header + ops, "t.trace");
  ASSERT_EQ(t.ops.size(), 1u);
  EXPECT_EQ(t.ops[0].vector, VectorKind::kHadamard);
  EXPECT_EQ(vector_kind_version(VectorKind::kHadamard), 5);
  EXPECT_EQ(write_trace(t), "nibble-trace 5\n" + header + "# kind layer phase fields (see docs/trace-format.md)\n" + ops);
  EXPECT_EQ(read_error("nibble-trace 4\n" + header + ops),
            "t.trace:7: op: 'hadamard' needs trace version 5 (this file says 'nibble-trace 4')");
  // A trace that names no tensors is version 3, which cannot hold the op: it is written as
  // version 5 with empty tensor lists, and reads back as the same trace (still ordered by position).
  Trace unnamed = t;
  unnamed.inputs.clear();
  unnamed.ops[0].reads.clear();
  unnamed.ops[0].writes.clear();
  const std::string empty_lists = write_trace(unnamed);
  EXPECT_EQ(empty_lists, "nibble-trace 5\nmodel m\nbatch 2\npolicy nvfp4\nops 1\n"
                         "# kind layer phase fields (see docs/trace-format.md)\n"
                         "vector fc weight_grad op=hadamard elements=64 in=bf16 out=bf16 reads= writes=\n");
  const Trace back = read_trace(empty_lists, "again.trace");
  EXPECT_FALSE(back.names_tensors());
  EXPECT_TRUE(back == unnamed);
  EXPECT_EQ(write_trace(back), empty_lists);
}

// Version 3 adds a GEMM's storage format (`out=`, after `acc=`). A version-1 or -2 GEMM
// line has none: C is stored as accumulated, so it is written back with out= its acc.
TEST(TraceIo, StorageFormatIsExplicitFromVersion3) {
  const std::string v2 =
      "nibble-trace 2\nmodel m\nbatch 2\npolicy fp16\nops 1\n"
      "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32\n";
  const Trace old = read_trace(v2, "old.trace");
  EXPECT_FALSE(old.ops[0].store_format.has_value());
  EXPECT_EQ(old.ops[0].stored_format(), Format::kFp32);
  const std::string written = write_trace(old);
  EXPECT_NE(written.find("\ngemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32 out=fp32\n"), std::string::npos);
  EXPECT_TRUE(read_trace(written, "again.trace") == old);

  const std::string v3 = "nibble-trace 3\nmodel m\nbatch 2\npolicy fp16\nops 1\n";
  const Trace t = read_trace(v3 + "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32 out=fp16\n", "t.trace");
  EXPECT_EQ(t.ops[0].stored_format(), Format::kFp16);
  EXPECT_EQ(t.ops[0].acc_format, Format::kFp32);
  // The conv geometry follows out=.
  const Trace c = read_trace(v3 + "conv c1 forward m=8 n=4 k=27 groups=1 a=int4 b=int4 acc=fp16 out=fp16 input=2x3x6x6 "
                                  "filters=4 kernel=3x3 stride=2x2 pad=0x0 dilation=1x1\n", "t.trace");
  EXPECT_EQ(c.ops[0].conv->k, 4u);
  EXPECT_FALSE(c.ops[0].store_format.has_value());
  EXPECT_EQ(read_error(v3 + "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32\n"),
            "t.trace:6: out: missing field 'out=' (fields are in a fixed order)");
  EXPECT_EQ(read_error(v3 + "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32 out=fp16-chunked\n"),
            "t.trace:6: out: expected a storage format (int4, uint4, fp4, fp4-r2, fp8-e4m3, fp8-e5m2, fp16, fp32, mxfp4, "
            "nvfp4, mxfp8-e4m3, mxfp8-e5m2, bf16, or the accumulator's own), got the accumulator-only 'fp16-chunked'");
  // int32 sums may be stored as int32 (as before version 3), not rounded to another accumulator-only format.
  EXPECT_NO_THROW(read_trace(v3 + "gemm fc forward m=8 n=4 k=16 groups=1 a=int4 b=int4 acc=int32 out=int32\n", "t.trace"));
  const std::string v2_out = "nibble-trace 2\nmodel m\nbatch 2\npolicy fp16\nops 1\n"
                             "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32 out=fp16\n";
  EXPECT_EQ(read_error(v2_out), "t.trace:6: fields: unexpected extra field 'out=fp16' after the last field of a gemm op");
}

// The im2col key (version 3, optional, after dilation=): a conv op says how its GEMM gets
// its im2col operand. Without it (a version-2 file, or a version-3 file written before the
// key) the meaning is what it was: through DRAM.
TEST(TraceIo, Im2colKeyReadsAndRoundTrips) {
  const std::string v3 = "nibble-trace 3\nmodel m\nbatch 2\npolicy int4-fp4\nops 1\n";
  const std::string line = "conv c1 forward m=8 n=4 k=27 groups=1 a=int4 b=int4 acc=fp16 out=fp16 input=2x3x6x6 "
                           "filters=4 kernel=3x3 stride=2x2 pad=0x0 dilation=1x1";
  const Trace plain = read_trace(v3 + line + "\n", "t.trace");
  EXPECT_EQ(plain.ops[0].conv->im2col, Im2col::kDram);
  const Trace on_chip = read_trace(v3 + line + " im2col=on-chip\n", "t.trace");
  EXPECT_EQ(on_chip.ops[0].conv->im2col, Im2col::kOnChip);
  EXPECT_FALSE(on_chip == plain);
  // Written explicitly both ways, and read back equal.
  for (const Trace* t : {&plain, &on_chip}) {
    const std::string written = write_trace(*t);
    const std::string key = t == &plain ? " im2col=dram\n" : " im2col=on-chip\n";
    EXPECT_NE(written.find(line + key), std::string::npos) << written;
    EXPECT_TRUE(read_trace(written, "again.trace") == *t);
    EXPECT_EQ(write_trace(read_trace(written, "again.trace")), written);
  }
  // A version-2 conv line reads with the old meaning (dram); the key did not exist in version 2.
  std::string v2 = kHeader + kConv;
  v2.replace(0, 14, "nibble-trace 2");
  const Trace old = read_trace(v2, "old.trace");
  EXPECT_EQ(old.ops[0].conv->im2col, Im2col::kDram);
  std::string v2_key = kHeader + kConv;
  v2_key.replace(0, 14, "nibble-trace 2");
  v2_key.insert(v2_key.size() - 1, " im2col=on-chip");
  EXPECT_EQ(read_error(v2_key),
            "t.trace:6: fields: unexpected extra field 'im2col=on-chip' after the last field of a conv op");
  // A bad value names the file, line and key.
  EXPECT_EQ(read_error(v3 + line + " im2col=sram\n"), "t.trace:6: im2col: expected dram or on-chip, got 'sram'");
  EXPECT_EQ(read_error(v3 + line + " im2col=on-chip extra=1\n"),
            "t.trace:6: fields: unexpected extra field 'extra=1' after the last field of a conv op");
}

// Version 4 names every op's tensors (`reads=`, `writes=` after the last field) and the step's
// inputs (`input NAME` header lines); a read of a tensor that is neither an input nor written by
// an earlier op is an error at that op's line. A trace that names no tensors is written as version 3.
TEST(TraceIo, Version4NamesTensors) {
  const std::string v4 = "nibble-trace 4\nmodel m\nbatch 2\npolicy fp16\ninput x\ninput fc.W\nops 3\n";
  const std::string gemm = "gemm fc forward m=8 n=4 k=16 groups=1 a=fp16 b=fp16 acc=fp32 out=fp16";
  const std::string ops = gemm + " reads=x,fc.W writes=fc.y\n"
                          "vector relu forward op=activation elements=32 in=fp16 out=fp16 reads=fc.y writes=relu.y\n"
                          "vector fc update op=optimizer elements=64 in=fp32 out=fp32 reads=fc.W writes=fc.W\n";
  const Trace t = read_trace(v4 + ops, "t.trace");
  EXPECT_TRUE(t.names_tensors());
  EXPECT_EQ(t.inputs, (std::vector<std::string>{"x", "fc.W"}));
  EXPECT_EQ(t.ops[0].reads, (std::vector<std::string>{"x", "fc.W"}));
  EXPECT_EQ(t.ops[0].writes, std::vector<std::string>{"fc.y"});
  EXPECT_EQ(t.ops[2].writes, std::vector<std::string>{"fc.W"});  // in place
  // Canonical: written back byte for byte (after the legend line).
  const std::string written = write_trace(t);
  EXPECT_EQ(written, v4 + "# kind layer phase fields (see docs/trace-format.md)\n" + ops);
  EXPECT_TRUE(read_trace(written, "again.trace") == t);
  // Empty lists are allowed (an op that names nothing waits for nothing).
  const Trace empty = read_trace("nibble-trace 4\nmodel m\nbatch 2\npolicy fp16\nops 1\n" + gemm + " reads= writes=\n",
                                 "t.trace");
  EXPECT_FALSE(empty.names_tensors());
  EXPECT_EQ(write_trace(empty).rfind("nibble-trace 3\n", 0), 0u);

  // Errors name the file, the line and the key.
  EXPECT_EQ(read_error(v4 + gemm + " reads=x,fc.W writes=fc.y\n"
                            "vector relu forward op=activation elements=32 in=fp16 out=fp16 reads=fc.z writes=relu.y\n"
                            "vector fc update op=optimizer elements=64 in=fp32 out=fp32 reads=fc.W writes=fc.W\n"),
            "t.trace:9: reads: tensor 'fc.z' is read before any op writes it and is not a step input "
            "(declare one in the header: 'input fc.z')");
  // Reading what a later op writes is the same error.
  EXPECT_EQ(read_error("nibble-trace 4\nmodel m\nbatch 2\npolicy fp16\nops 2\n"
                       "vector a forward op=activation elements=32 in=fp16 out=fp16 reads=b.y writes=a.y\n"
                       "vector b forward op=activation elements=32 in=fp16 out=fp16 reads=a.y writes=b.y\n"),
            "t.trace:6: reads: tensor 'b.y' is read before any op writes it and is not a step input "
            "(declare one in the header: 'input b.y')");
  EXPECT_EQ(read_error(v4 + gemm + " writes=fc.y\n"), "t.trace:8: reads: expected 'reads=...' here, got 'writes=fc.y'");
  EXPECT_EQ(read_error(v4 + gemm + " reads=x\n"), "t.trace:8: writes: missing field 'writes=' (fields are in a fixed order)");
  EXPECT_EQ(read_error(v4 + gemm + " reads=x,,fc.W writes=fc.y\n"),
            "t.trace:8: reads: expected tensor names of 1 to 512 printable characters without spaces or commas, "
            "separated by commas, got ''");
  EXPECT_EQ(read_error(v4 + gemm + " reads=x,x writes=fc.y\n"), "t.trace:8: reads: tensor 'x' is named twice");
  EXPECT_EQ(read_error(v4 + gemm + " reads=x writes=fc.y extra=1\n"),
            "t.trace:8: fields: unexpected extra field 'extra=1' after the last field of a gemm op");
  EXPECT_EQ(read_error("nibble-trace 4\nmodel m\nbatch 2\npolicy fp16\ninput x\ninput x\nops 0\n"),
            "t.trace:6: input: tensor 'x' is declared twice");
  EXPECT_EQ(read_error("nibble-trace 4\nmodel m\nbatch 2\npolicy fp16\ninput x y\nops 0\n"),
            "t.trace:5: input: expected 'input TENSOR', one name");
  EXPECT_EQ(read_error("nibble-trace 3\nmodel m\nbatch 2\npolicy fp16\ninput x\nops 0\n"),
            "t.trace:5: input: step inputs need trace version 4 (this file says 'nibble-trace 3')");
  EXPECT_EQ(read_error("nibble-trace 3\nmodel m\nbatch 2\npolicy fp16\nops 1\n" + gemm + " reads=x writes=y\n"),
            "t.trace:6: fields: unexpected extra field 'reads=x' after the last field of a gemm op");
  // The writer refuses what the reader would.
  Trace bad = t;
  bad.inputs.pop_back();
  EXPECT_THROW(write_trace(bad), std::logic_error);
  bad = t;
  bad.ops[0].reads.push_back("has,comma");
  EXPECT_THROW(write_trace(bad), std::logic_error);
  EXPECT_NE(validate_op(bad.ops[0]), "");
}

// Every op of every zoo model's step, under every policy, names what it reads and writes, and
// reads only step inputs and tensors earlier ops wrote (write_trace checks both).
TEST(TraceIo, ExpandedStepsNameTheirTensors) {
  for (const char* model : {"resnet18", "mobilenet_v2", "bert-base", "lstm", "fmnist-mlp", "fmnist-cnn", "fmnist-resnet",
                            "fmnist-vit", "alexnet"}) {
    for (const char* policy : {"int4-fp4", "hfp8", "fp16", "fp32", "mxfp4", "nvfp4", "mxfp8", "bf16"}) {
      const Trace trace = zoo_trace(model, 2, policy);
      EXPECT_TRUE(trace.names_tensors()) << model << " " << policy;
      for (const auto& op : trace.ops) EXPECT_FALSE(op.writes.empty()) << model << " " << policy << " " << op.layer;
      EXPECT_NO_THROW(write_trace(trace)) << model << " " << policy;
    }
  }
}

TEST(TraceIo, RoundTripsByteForByte) {
  for (const char* model : {"resnet18", "mobilenet_v2", "bert-base", "lstm", "fmnist-cnn", "fmnist-resnet", "fmnist-vit"}) {
    for (const char* policy : {"int4-fp4", "hfp8", "fp16", "fp32", "mxfp4", "nvfp4", "mxfp8", "bf16"}) {
      Trace trace = zoo_trace(model, 2, policy);
      trace.skipped.push_back(SkippedNode{"odd/node", "Elu"});
      const std::string text = write_trace(trace);
      const Trace back = read_trace(text, "x.trace");
      EXPECT_TRUE(back == trace) << model << " " << policy;
      EXPECT_EQ(write_trace(back), text) << model << " " << policy;
    }
  }
}

TEST(TraceIo, ReadsTheDocumentedExample) {
  const Trace t = read_trace(kHeader + "# comment\n\n" + kConv, "t.trace");
  ASSERT_EQ(t.ops.size(), 1u);
  const TraceOp& op = t.ops[0];
  EXPECT_EQ(op.kind, OpKind::kConv);
  EXPECT_EQ(op.macs(), 8u * 4 * 27);
  ASSERT_TRUE(op.conv.has_value());
  EXPECT_EQ(op.conv->out_h(), 2u);  // (6 - 3) / 2 + 1
  EXPECT_EQ(op.conv->k, 4u);
  // CRLF line ends and tabs between fields read the same.
  std::string crlf = kHeader + kConv;
  for (std::size_t at = crlf.find('\n'); at != std::string::npos; at = crlf.find('\n', at + 2)) crlf.insert(at, "\r");
  EXPECT_TRUE(read_trace(crlf, "t.trace") == t);
}

TEST(TraceIo, HeaderErrors) {
  EXPECT_EQ(read_error(""), "t.trace: header: expected 'nibble-trace 5' on the first line (is this a nibble trace?)");
  EXPECT_EQ(read_error("nibble-trace 6\n"), "t.trace:1: version: this nibble reads trace versions 1 to 5, got 6");
  EXPECT_EQ(read_error("nibble-trace 0\n"), "t.trace:1: version: this nibble reads trace versions 1 to 5, got 0");
  EXPECT_EQ(read_error("nibble-trace one\n"), "t.trace:1: version: expected a whole number, got 'one'");
  EXPECT_EQ(read_error("nibble-trace 1\nbatch 2\n"), "t.trace:2: model: expected 'model VALUE' here");
  EXPECT_EQ(read_error("nibble-trace 1\nmodel m\nbatch 0\n"), "t.trace:3: batch: expected a whole number >= 1, got 0");
  EXPECT_EQ(read_error("nibble-trace 1\nmodel m\nbatch -2\n"),
            "t.trace:3: batch: expected a whole number >= 1, got '-2'");
  EXPECT_EQ(read_error("nibble-trace 1\nmodel m\nbatch 2\npolicy p\nops 2\n" + kConv),
            "t.trace:6: ops: the header says 2 ops, the file ends after 1");
  EXPECT_EQ(read_error(kHeader + kConv + kConv), "t.trace:7: ops: the header says 1 ops, found more (remove the extra lines or fix the count)");
}

TEST(TraceIo, OpErrorsNameLineAndField) {
  const auto op_error = [](const std::string& line) { return read_error(kHeader + line + "\n"); };
  EXPECT_EQ(op_error("matmul x forward"), "t.trace:6: kind: expected gemm, conv, group-conv or vector, got 'matmul'");
  EXPECT_EQ(op_error("gemm x backward m=1"),
            "t.trace:6: phase: expected forward, input_grad, weight_grad or update, got 'backward'");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=0 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: k: expected a whole number >= 1, got 0");
  EXPECT_EQ(op_error("gemm x forward m=1 n=-2 k=3 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: n: expected a whole number >= 1, got '-2'");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2x k=3 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: n: expected a whole number >= 1, got '2x'");
  EXPECT_EQ(op_error("gemm x forward m=99999999999999999999 n=2 k=3 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: m: the number 99999999999999999999 does not fit in 64 bits");
  // 2^32 * 2^32 * 2 overflows 64 bits.
  EXPECT_EQ(op_error("gemm x forward m=4294967296 n=4294967296 k=2 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: macs: groups*m*n*k overflows 64 bits");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3 groups=1 a=int5 b=int4 acc=fp16"),
            "t.trace:6: a: expected a format (int4, uint4, fp4, fp4-r2, fp8-e4m3, fp8-e5m2, fp16, fp32, int32, "
            "fp16-chunked, mxfp4, nvfp4, mxfp8-e4m3, mxfp8-e5m2, bf16), got 'int5'");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3 groups=1 a=int32 b=int4 acc=fp16"),
            "t.trace:6: a: expected an operand format (int4, uint4, fp4, fp4-r2, fp8-e4m3, fp8-e5m2, fp16, fp32, mxfp4, "
            "nvfp4, mxfp8-e4m3, mxfp8-e5m2, bf16), got the accumulator-only 'int32'");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3 groups=1 a=int4 b=int4 acc=fp8-e4m3"),
            "t.trace:6: acc: expected an accumulator format of 16 bits or more (fp16, fp32, int32, fp16-chunked), "
            "got 'fp8-e4m3'");
  // bf16 has 16 bits but is a block-table storage format, never an accumulator.
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3 groups=1 a=mxfp4 b=mxfp4 acc=bf16"),
            "t.trace:6: acc: expected an accumulator format of 16 bits or more (fp16, fp32, int32, fp16-chunked), "
            "got 'bf16'");
  EXPECT_EQ(op_error("gemm x forward n=1 m=2 k=3 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: m: expected 'm=...' here, got 'n=1'");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3"), "t.trace:6: groups: missing field 'groups=' (fields are in a fixed order)");
  EXPECT_EQ(op_error("gemm x update m=1 n=2 k=3 groups=1 a=int4 b=int4 acc=fp16"),
            "t.trace:6: phase: a GEMM op runs in forward, input_grad or weight_grad, not update");
  EXPECT_EQ(op_error("gemm x forward m=1 n=2 k=3 groups=1 a=int4 b=int4 acc=fp16 extra=1"),
            "t.trace:6: fields: unexpected extra field 'extra=1' after the last field of a gemm op");
  EXPECT_EQ(op_error("vector x forward op=swish elements=4 in=fp16 out=fp16"),
            "t.trace:6: op: expected a vector op (quantize, activation, activation-grad, pool, pool-grad, norm, "
            "norm-grad, eltwise, softmax, loss, optimizer, softmax-grad, layer-norm, layer-norm-grad, gelu, "
            "gelu-grad, hadamard), got 'swish'");
  EXPECT_EQ(op_error("vector x forward op=pool elements=0 in=fp16 out=fp16"),
            "t.trace:6: elements: expected a whole number >= 1, got 0");
}

// Found by fuzz_trace: a CR or other control byte inside a token was quoted raw,
// so the one-line error came out on several lines (or moved the terminal's cursor).
TEST(TraceIo, ControlCharactersInAFieldAreEscapedInTheMessage) {
  EXPECT_EQ(read_error("nibble-trace \r2\n"), "t.trace:1: version: expected a whole number, got '\\r2'");
  EXPECT_EQ(read_error(kHeader + "gemm fc for\x1bward m=1\n"),
            "t.trace:6: phase: expected forward, input_grad, weight_grad or update, got 'for\\x1bward'");
}

TEST(TraceIo, ConvGeometryMustMatchTheGemm) {
  const auto conv_error = [](const std::string& line) { return read_error(kHeader + line); };
  // Forward m = N*E*F = 2*2*2 = 8: m=9 is inconsistent.
  std::string bad = kConv;
  bad.replace(bad.find("m=8"), 3, "m=9");
  EXPECT_EQ(conv_error(bad), "t.trace:6: m: expected 8 for a forward conv of this geometry (m=N*E*F, n=K/g, "
                             "k=C/g*R*S, E=2, F=2), got 9");
  // The same numbers are wrong for an input_grad op, whose n is C/g*R*S = 27 and k is K/g = 4.
  bad = kConv;
  bad.replace(bad.find("forward"), 7, "input_grad");
  EXPECT_EQ(conv_error(bad), "t.trace:6: n: expected 27 for a input_grad conv of this geometry (m=N*E*F, "
                             "n=C/g*R*S, k=K/g, E=2, F=2), got 4");
  bad = kConv;
  bad.replace(bad.find("groups=1"), 8, "groups=2");
  EXPECT_EQ(conv_error(bad), "t.trace:6: groups: a conv op has groups=1 (grouped convolutions are group-conv ops), got 2");
  bad = kConv;
  bad.replace(bad.find("kernel=3x3"), 10, "kernel=7x7");
  EXPECT_EQ(conv_error(bad), "t.trace:6: kernel: the 7x7 window (with dilation) does not fit the padded 6x6 input");
  bad = kConv;
  bad.replace(bad.find("input=2x3x6x6"), 13, "input=2x3x6");
  EXPECT_EQ(conv_error(bad), "t.trace:6: input: expected 4 numbers joined by 'x', got '2x3x6'");
  bad = kConv;
  bad.replace(bad.find("pad=0x0"), 7, "pad=0x-1");
  EXPECT_EQ(conv_error(bad), "t.trace:6: pad: expected a whole number >= 0, got '-1'");
  // group-conv with groups=3 needs C=3 and K divisible by 3.
  EXPECT_EQ(conv_error("group-conv d forward m=8 n=1 k=9 groups=3 a=int4 b=int4 acc=fp16 input=2x3x6x6 filters=4 "
                       "kernel=3x3 stride=2x2 pad=0x0 dilation=1x1\n"),
            "t.trace:6: groups: groups=3 must divide the input channels (3) and the filters (4)");
  // A geometry whose element counts overflow: N*C*H*W = 2^64.
  EXPECT_EQ(conv_error("conv c forward m=1 n=1 k=1 groups=1 a=int4 b=int4 acc=fp16 input=65536x65536x65536x65536 "
                       "filters=1 kernel=1x1 stride=1x1 pad=0x0 dilation=1x1\n"),
            "t.trace:6: input: N*C*H*W overflows 64 bits");
}

// The bundled traces (docs/trace-format.md lists the commands that wrote them) still equal
// what this build writes, so tests elsewhere that read them read current traces.
TEST(TraceIo, BundledTracesAreCurrent) {
  struct Bundled { const char* file; const char* model; std::uint64_t batch; const char* policy; };
  const Bundled files[] = {
      {"fmnist-mlp_b32_int4-fp4.trace", "fmnist-mlp", 32, "int4-fp4"},
      {"fmnist-cnn_b32_int4-fp4.trace", "fmnist-cnn", 32, "int4-fp4"},
      {"resnet18_b8_int4-fp4.trace", "resnet18", 8, "int4-fp4"},
      {"resnet18_b8_fp16.trace", "resnet18", 8, "fp16"},
      {"bert-base_b2_s128_hfp8.trace", "bert-base", 2, "hfp8"},
  };
  for (const auto& b : files) {
    const std::string path = std::string(NIBBLE_SOURCE_DIR) + "/workloads/traces/" + b.file;
    const std::string text = read_file(path);
    // Version 4's tensor names more than double a transformer's trace (bert-base: 110 KB -> 250 KB).
    EXPECT_LT(text.size(), 300u * 1024) << b.file;
    EXPECT_EQ(write_trace(zoo_trace(b.model, b.batch, b.policy)), text) << b.file;
    EXPECT_TRUE(read_trace(text, path) == zoo_trace(b.model, b.batch, b.policy)) << b.file;
  }
}

// Random byte edits of a real trace either read cleanly or give an InputError, never
// anything else (a crash, a hang, another exception type); what reads cleanly is a
// trace the writer accepts and that reads back equal, so the reader never admits a
// value the format cannot hold. Both outcomes occur (the edits reach both paths), for
// the trace as written (version 4, its tensors named) and without names (version 3).
// Most of a version-4 line is names, and an edited name is almost always a tensor read
// before it is written: one edit per round there, three without names.
TEST(TraceIo, MutatedTracesAreReadOrRejected) {
  Trace unnamed = zoo_trace("fmnist-cnn", 2, "int4-fp4");
  const std::string named_text = write_trace(unnamed);
  unnamed.inputs.clear();
  for (auto& op : unnamed.ops) op.reads.clear(), op.writes.clear();
  const std::pair<std::string, int> cases[] = {{named_text, 1}, {write_trace(unnamed), 3}};
  for (const auto& [text, edits] : cases) {
    std::mt19937_64 rng(12345);
    const std::string alphabet = "0123456789x=- #\n\tabcz";
    int accepted = 0, rejected = 0;
    for (int round = 0; round < 2000; ++round) {
      std::string mutated = text;
      for (int edit = 0; edit < edits; ++edit) {
        const std::size_t at = rng() % mutated.size();
        mutated[at] = alphabet[rng() % alphabet.size()];
      }
      Trace read;
      try {
        read = read_trace(mutated, "m.trace");
      } catch (const InputError&) {
        ++rejected;
        continue;
      }
      ++accepted;
      EXPECT_EQ(read_trace(write_trace(read), "again.trace"), read) << "round " << round;
    }
    EXPECT_GT(accepted, 0) << edits;
    EXPECT_GT(rejected, 0) << edits;
  }
}

TEST(TraceIo, WriterRejectsWhatTheReaderWould) {
  Trace t;
  t.model = "m";
  t.policy = "p";
  TraceOp op;
  op.layer = "has space";
  op.m = op.n = op.k = 1;
  t.ops.push_back(op);
  EXPECT_THROW(write_trace(t), std::logic_error);
  t.ops[0].layer = "ok";
  t.ops[0].elements = 5;  // a GEMM op with a vector field set would not survive a round trip
  EXPECT_THROW(write_trace(t), std::logic_error);
  t.ops[0].elements = 0;
  EXPECT_NO_THROW(write_trace(t));
  EXPECT_EQ(validate_op(t.ops[0]), "");
}

}  // namespace
}  // namespace nibble::workloads
