#include "models/train/block_quant.hpp"

#include <algorithm>

#include "sim/numerics/block_dot.hpp"
#include "sim/numerics/counter_rng.hpp"

namespace nibble::train {

namespace {

using numerics::BlockRounding;

const numerics::BlockFormat* fmt(const char* name) { return numerics::find_block_format(name); }

/// Every operand of every GEMM in `format` with rounding `rounding`, 1-D blocks.
BlockArith uniform(const char* format) {
  const OperandQuant q{fmt(format), false, BlockRounding::kNearestEven, false};
  return BlockArith{{q, q}, {q, q}, {q, q}};
}

/// MXFP8 as usually trained: e4m3 forward operands, e5m2 gradients.
BlockArith mxfp8() {
  const OperandQuant fwd{fmt("mxfp8-e4m3"), false, BlockRounding::kNearestEven, false};
  const OperandQuant grad{fmt("mxfp8-e5m2"), false, BlockRounding::kNearestEven, false};
  return BlockArith{{fwd, fwd}, {grad, fwd}, {fwd, grad}};
}

/// NVIDIA's NVFP4 recipe (arXiv 2509.25149): 16 x 16 weight blocks, 1 x 16
/// activation and gradient blocks, stochastic rounding on gradients, random
/// Hadamard transforms on both weight-gradient operands.
BlockArith nvfp4() {
  const numerics::BlockFormat* f = fmt("nvfp4");
  const OperandQuant act{f, false, BlockRounding::kNearestEven, false};
  const OperandQuant weight{f, true, BlockRounding::kNearestEven, false};
  const OperandQuant grad{f, false, BlockRounding::kStochastic, false};
  OperandQuant act_rht = act;
  act_rht.hadamard = true;
  OperandQuant grad_rht = grad;
  grad_rht.hadamard = true;
  return BlockArith{{act, weight}, {grad, weight}, {act_rht, grad_rht}};
}

struct NamedBlockPolicy {
  const char* name;
  const char* description;
};

const std::vector<NamedBlockPolicy>& descriptions() {
  static const std::vector<NamedBlockPolicy> table{
      {"mxfp4", "every GEMM operand (forward, input and weight gradient) MXFP4, blocks of 32\n"
                "                         along the reduction, FP32 accumulation; first and last layers BF16"},
      {"nvfp4", "NVFP4 (NVIDIA's recipe): 16x16 weight blocks, 1x16 activation and gradient\n"
                "                         blocks, stochastic rounding on gradients, 16-point random Hadamard on\n"
                "                         the weight-gradient GEMM's inputs, FP32 accumulation; last layer and\n"
                "                         attention matmuls BF16"},
      {"mxfp8", "MXFP8: e4m3 activations and weights, e5m2 gradients, FP32 accumulation;\n"
                "                         first and last layers BF16"},
      {"bf16", "every GEMM operand BF16, FP32 accumulation"},
  };
  return table;
}

}  // namespace

bool BlockArith::active() const {
  for (const GemmBlockQuant* g : {&forward, &input_grad, &weight_grad}) {
    if (g->a.format != nullptr || g->b.format != nullptr) return true;
  }
  return false;
}

const std::vector<std::string>& block_policy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& d : descriptions()) out.emplace_back(d.name);
    return out;
  }();
  return names;
}

std::optional<BlockPolicy> named_block_policy(const std::string& name) {
  const BlockArith bf16 = uniform("bf16");
  if (name == "mxfp4") return BlockPolicy{name, bf16, uniform("mxfp4"), bf16, {}, "", std::nullopt};
  if (name == "nvfp4") return BlockPolicy{name, nvfp4(), nvfp4(), bf16, {}, "", bf16};
  if (name == "mxfp8") return BlockPolicy{name, bf16, mxfp8(), bf16, {}, "", std::nullopt};
  if (name == "bf16") return BlockPolicy{name, bf16, bf16, bf16, {}, "", std::nullopt};
  return std::nullopt;
}

std::string block_policy_summary() {
  std::string out;
  for (const auto& d : descriptions()) {
    std::string name = d.name;
    name.resize(23, ' ');
    out += "  " + name + d.description + "\n";
  }
  return out;
}

namespace {

/// Bits a block scale's significand adds to a product's width: none for
/// E8M0 (a bare power of two), 4 for UE4M3 (significand 1.xxx or 0.xxx, an
/// integer below 2^4 times its LSB).
int scale_significand_bits(numerics::ScaleKind kind) {
  return kind == numerics::ScaleKind::kUe4m3 ? numerics::kUe4m3Spec.man_bits + 1 : 0;
}

}  // namespace

std::size_t block_gemm_length(const GemmBlockQuant& g) {
  const numerics::BlockFormat* fa = g.a.format;
  const numerics::BlockFormat* fb = g.b.format;
  if (fa == nullptr || fb == nullptr || fa->scale == numerics::ScaleKind::kNone ||
      fb->scale == numerics::ScaleKind::kNone || fa->block != fb->block) {
    return 0;
  }
  // Magnitude bits of an in-block partial sum in units of its LSB: the
  // products' sum (block_dot_sum_bits less its sign bit) times the two scale
  // significands. FP32 holds it exactly when it is at most 24 (gemm.cpp).
  const int bits = numerics::block_dot_sum_bits(*fa->element, *fb->element, fa->block) - 1 +
                   scale_significand_bits(fa->scale) + scale_significand_bits(fb->scale);
  return bits <= 24 ? fa->block : 0;
}

void hadamard16(float* v, std::size_t stride, std::uint32_t signs) {
  float t[16];
  for (std::size_t k = 0; k < 16; ++k) t[k] = ((signs >> k) & 1u) != 0 ? -v[k * stride] : v[k * stride];
  // Sylvester's H16 by four butterfly stages (the fast Walsh-Hadamard transform).
  for (std::size_t h = 1; h < 16; h *= 2) {
    for (std::size_t i = 0; i < 16; i += 2 * h) {
      for (std::size_t j = i; j < i + h; ++j) {
        const float a = t[j];
        const float b = t[j + h];
        t[j] = a + b;
        t[j + h] = a - b;
      }
    }
  }
  for (std::size_t k = 0; k < 16; ++k) v[k * stride] = t[k] * 0.25f;  // H16 / 4 is orthonormal
}

const float* quantize_gemm_operand(const OperandQuant& q, const float* x, std::size_t rows, std::size_t cols,
                                   bool reduce_along_cols, std::uint64_t seed, std::uint64_t hadamard_seed,
                                   std::vector<float>& scratch, float* scale, ThreadPool* pool) {
  if (q.format == nullptr) return x;
  scratch.resize(rows * cols);
  const float* source = x;
  if (q.hadamard) {
    std::copy(x, x + rows * cols, scratch.begin());
    const numerics::CounterRng rng(hadamard_seed);
    const std::size_t length = reduce_along_cols ? cols : rows;
    for (std::size_t g = 0; g + 16 <= length; g += 16) {
      const auto signs = static_cast<std::uint32_t>(rng.uniform24(g / 16));
      if (reduce_along_cols) {
        for (std::size_t i = 0; i < rows; ++i) hadamard16(scratch.data() + i * cols + g, 1, signs);
      } else {
        for (std::size_t j = 0; j < cols; ++j) hadamard16(scratch.data() + g * cols + j, cols, signs);
      }
    }
    source = scratch.data();  // quantized in place: each block is read before it is written
  }
  numerics::BlockShape shape{16, 16};
  if (!q.two_d) shape = reduce_along_cols ? numerics::BlockShape{1, q.format->block} : numerics::BlockShape{q.format->block, 1};
  const float tensor_scale = numerics::block_tensor_scale(*q.format, source, rows, cols, cols);
  const std::size_t bands = (rows + shape.rows - 1) / shape.rows;
  const std::size_t tasks = pool != nullptr ? std::min<std::size_t>(bands, 4 * pool->threads()) : 1;
  auto run = [&](std::size_t t) {
    numerics::block_quantize_units_bands(*q.format, source, rows, cols, cols, shape, q.rounding, seed, tensor_scale,
                                         bands * t / tasks, bands * (t + 1) / tasks, scratch.data());
  };
  if (pool != nullptr && tasks > 1) {
    pool->parallel_for(tasks, run);
  } else {
    run(0);
  }
  *scale *= tensor_scale;
  return scratch.data();
}

}  // namespace nibble::train
