// The layers that run GEMMs on the array: fully connected and convolution.
//
// Each owns its three GEMMs' arithmetic (LayerArith, from the precision
// policy and the design): operands are quantized (models/train/quant.hpp),
// multiplied and accumulated as the PEs do (models/train/gemm.hpp), and the
// per-tensor scales applied afterwards in FP32. Block-scaled operands (MX,
// NVFP4: block_quant.hpp) are re-quantized for each GEMM along its own
// reduction k below (the weights along i for the forward, along o for the
// input gradient; 16 x 16 NVFP4 weight blocks are the same blocks either
// way) and, where block_gemm_length() admits the pair, summed as the block
// dot-product PE does: exactly within each block, one FP32 rounding per
// block, blocks in k order; NVFP4's per-tensor scales multiply the finished
// sums with the other per-tensor scales. Orientation of each GEMM and
// its reduction order k (what an FP16 accumulator sums, in this order):
//
//   Linear (x: N x I, W: O x I)
//     forward       Y[n][o]   = sum_i  x[n][i] W[o][i]          k = i
//     input grad    dX[n][i]  = sum_o  dY[n][o] W[o][i]         k = o
//     weight grad   dW[o][i]  = sum_n  dY[n][o] x[n][i]         k = n
//   Conv2d (x: N x C x H x W, W: K x C x R x S, output N x K x P x Q)
//     forward       Y[n][k][p][q]  = sum_(c,r,s) W[k][c][r][s] x[n][c][p*st+r-pad][q*st+s-pad]
//     input grad    dCol[n][p][q][c][r][s] = sum_k W[k][c][r][s] dY[n][k][p][q]          k = k
//                   then col2im: dX[n][c][p*st+r-pad][q*st+s-pad] += dCol[...], each dX element
//                   summing its (r, s) contributions in row-major order from +0, rounded in the
//                   accumulator's format (the trace expansion's GEMM + scatter-add, workloads/expand.cpp)
//     weight grad   dW[k][c][r][s] = sum_(n,p,q) dY[n][k][p][q] x[n][c][p*st+r-pad][q*st+s-pad]
//   with tuples ordered lexicographically (row-major).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "models/train/block_quant.hpp"
#include "models/train/gemm.hpp"
#include "models/train/layers.hpp"
#include "models/train/quant.hpp"

namespace nibble::train {

/// Operand formats of one GEMM and its accumulator (the fields of a trace op).
struct GemmFormats {
  numerics::Format a = numerics::Format::kFp32;    ///< streamed operand
  numerics::Format b = numerics::Format::kFp32;    ///< stationary operand
  numerics::Format acc = numerics::Format::kFp32;  ///< accumulator
  std::size_t dot = 1;  ///< products the PE sums exactly before one accumulate (the unit's array.dot_product)
  bool operator==(const GemmFormats& o) const { return a == o.a && b == o.b && acc == o.acc && dot == o.dot; }
};

/// The arithmetic of one GEMM layer, in the PE modes' operand order
/// (sim/numerics/pe.hpp): forward A = activations, B = weights; input
/// gradient A = output gradient, B = weights; weight gradient A = activations,
/// B = output gradient.
struct LayerArith {
  GemmFormats forward;      ///< Y = W . X
  GemmFormats input_grad;   ///< dX = W^T . dY
  GemmFormats weight_grad;  ///< dW = dY . X^T
  bool tpr = false;         ///< FP4 gradients: odd phase for input_grad, even for weight_grad (else even for both)
  bool gradscale = false;   ///< FP4 gradients: adaptive per-layer scale (else fixed at 1)
  ArithParams params;       ///< FP4 bias, chunk size, rounding
  BlockArith block;         ///< block-scaled operands (MX, NVFP4, BF16), on top of the formats above

  /// Plain FP32 everywhere (the fp32 policy).
  static LayerArith fp32();
};

/// The accumulator of a GEMM with formats `f` (A and B units as in `f`).
Accumulator accumulator_of(const GemmFormats& f, const ArithParams& params);

/// Common part of Linear and Conv2d: parameters, quantization, GEMM dispatch.
class GemmLayer : public Layer {
 public:
  /// `weights` elements, `bias_size` biases (0: none), fan-in for initialization.
  GemmLayer(std::string name, const LayerArith& arith, std::size_t weights, std::size_t bias_size,
            std::size_t fan_in);
  std::vector<Param*> params() override;
  /// PyTorch's default initialization (weights and biases uniform in
  /// +-1/sqrt(fan_in)), PACT clip kInitialAlpha, fresh GradScale state.
  void init(Rng& rng) override;
  const LayerArith& arith() const { return m_arith; }
  /// The FP4 gradient scale of the last step (1 when unused).
  float grad_scale() const { return m_grads.scale(); }
  /// False when the last backward() saw inf or NaN in dL/dy (the step should be skipped).
  bool gradients_finite() const { return m_finite; }
  /// The PACT clip level (0 when the forward activations are not INT4/UINT4).
  float pact_alpha() const { return m_alpha.value.empty() ? 0.0f : m_alpha.value[0]; }
  /// PACT clip level before the first training batch has set it (evaluation
  /// of an untrained network).
  static constexpr float kInitialAlpha = 6.0f;
  /// Lowest PACT clip level the optimizer may leave (keeps alpha positive:
  /// pact_quantize needs alpha > 0). Our choice: 1/64, far below any clip
  /// level seen in training (docs/training.md).
  static constexpr float kAlphaFloor = 1.0f / 64.0f;

 protected:
  /// Quantizes x (activations) and the weights for this step. The first
  /// training call sets the PACT clip to the batch's largest activation.
  void quantize_forward(const Tensor& x, const StepContext& ctx);
  /// Quantizes dL/dy for the two backward GEMMs (m_g_igrad, m_g_wgrad).
  void quantize_backward(const Tensor& dy, const StepContext& ctx, bool need_input_grad);
  /// Applies the activation quantizer's straight-through backward to dx and
  /// records dL/dalpha.
  void activation_ste(const Tensor& x, Tensor& dx);
  /// dL/dbias from dy, summed over samples and positions (`plane` per channel).
  void bias_grad(const Tensor& dy, std::size_t plane);
  /// Accumulator of a GEMM with formats `f`, A and B units as in `f`.
  Accumulator accumulator(const GemmFormats& f) const;
  /// The same for a GEMM whose operands `q` block-quantizes: block
  /// dot-product PEs (numerics::block_dot_run's arithmetic) when
  /// block_gemm_length(q) admits them, else accumulator(f).
  Accumulator accumulator(const GemmFormats& f, const GemmBlockQuant& q) const;
  /// Which operand of which GEMM a block-quantized matrix is (seeds its rounding).
  enum class Role : std::uint64_t { kForwardA, kForwardB, kInputGradA, kInputGradB, kWeightGradA, kWeightGradB };
  /// The GEMM operand x (rows x cols, reducing along its columns or rows) as
  /// m_arith.block quantizes it for `role`: x itself when that operand is not
  /// block-quantized, else `scratch`; `*scale` takes the tensor scale.
  const float* block_operand(Role role, const float* x, std::size_t rows, std::size_t cols, bool reduce_along_cols,
                             const StepContext& ctx, std::vector<float>& scratch, float* scale) const;

  LayerArith m_arith;                ///< formats of the three GEMMs
  Param m_weight;                    ///< weights, layout per subclass
  Param m_bias;                      ///< biases (empty when none)
  Param m_alpha;                     ///< PACT clip (one value; used when forward.a is int4/uint4)
  std::size_t m_fan_in;              ///< inputs per output, for initialization
  QuantizedOperand m_x;              ///< input activations of the last forward, quantized (also read by dW)
  QuantizedOperand m_w;              ///< weights of the last forward, quantized (also read by dX)
  QuantizedOperand m_g_igrad;        ///< output gradient for the input-gradient GEMM (TPR odd)
  QuantizedOperand m_g_wgrad;        ///< output gradient for the weight-gradient GEMM (TPR even)
  GradientQuantizer m_grads;         ///< GradScale state and gradient quantization
  bool m_finite = true;              ///< last dL/dy was finite
  std::uint64_t m_seed = 0;          ///< stream for stochastic rounding
  std::vector<float> m_block_a;      ///< block-quantized A operand of the running GEMM
  std::vector<float> m_block_b;      ///< block-quantized B operand of the running GEMM
  bool m_alpha_set = false;          ///< the PACT clip was initialized from a training batch
};

/// Fully connected: x (N, I, 1, 1) -> y (N, O, 1, 1), y = x W^T + b.
class Linear : public GemmLayer {
 public:
  Linear(std::string name, std::size_t in, std::size_t out, bool bias, const LayerArith& arith);
  std::string kind() const override { return "linear"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_in;              ///< I
  std::size_t m_out;             ///< O
  std::vector<float> m_wt;       ///< W^T units (I x O), forward B operand
  std::vector<float> m_gt;       ///< dY^T units (O x N), weight-gradient A operand
  std::vector<float> m_tmp;      ///< GEMM result before scaling
};

/// 2-D convolution, square kernel, stride and zero padding, no groups or dilation.
class Conv2d : public GemmLayer {
 public:
  Conv2d(std::string name, std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
         std::size_t stride, std::size_t pad, bool bias, const LayerArith& arith);
  std::string kind() const override { return "conv2d"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_cin;             ///< C
  std::size_t m_cout;            ///< K
  std::size_t m_kernel;          ///< R = S
  std::size_t m_stride;          ///< stride in both directions
  std::size_t m_pad;             ///< zero padding on every side
  std::vector<float> m_cols;     ///< im2col of x units: (C R S) x (N P Q)
  std::vector<float> m_result;   ///< GEMM result before scaling / reordering
  std::vector<float> m_grows;    ///< dY units (even phase) as (N P Q) x K
  std::vector<float> m_gk;       ///< dY units (input-gradient phase) as K x (N P Q)
  std::vector<float> m_wt;       ///< W^T units: (C R S) x K
};

}  // namespace nibble::train
