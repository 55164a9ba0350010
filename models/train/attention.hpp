// The vision-transformer layers of the training emulator (fmnist-vit):
// patch extraction, the learned position embedding, the token-to-channel
// transpose before mean pooling, and multi-head self-attention.
//
// Token activations are kept as (N*T, D, 1, 1) tensors: every token is a row,
// so Linear, LayerNorm and Gelu apply to tokens unchanged, and a Linear's
// GEMM is the trace's (M = N*T).
//
// Multi-head self-attention (x: N*T x D, H heads of d = D/H):
//   Q = x Wq^T + bq, K = x Wk^T + bk, V = x Wv^T + bv        three Linear layers
//   per sample n and head h (group g = n*H + h; Q_g is T x d, columns h*d..h*d+d-1):
//     S_g = Q_g K_g^T                 forward        k = d     (the trace's `scores` matmul)
//     P_g = softmax(S_g / sqrt(d))    row-wise, max subtracted first (FP32 values, sums in double)
//     C_g = P_g V_g                   forward        k = T'    (the `context` matmul)
//   backward, with each matmul's arithmetic from its LayerArith:
//     dP_g = dC_g V_g^T               input grad     k = d
//     dV_g = P_g^T dC_g               weight grad    k = T     (query index)
//     dS_g = P_g (dP_g - rowsum(dP_g P_g)) / sqrt(d)    softmax backward, FP32 values, sums in double
//     dQ_g = dS_g K_g                 input grad     k = T'
//     dK_g = dS_g^T Q_g               weight grad    k = T     (query index)
// Operands are quantized per tensor (the whole batch) like every other GEMM
// operand (models/train/quant.hpp): Q, K, V and P as activations (P, being
// in [0, 1], with a fixed PACT clip of 1 when UINT4), dC and dS as gradients
// with their own GradScale state and TPR phases. Groups run in parallel; each
// writes its own rows, so results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "models/train/gemm_layer.hpp"
#include "models/train/layers.hpp"

namespace nibble::train {

/// (N, 1, H, W) images -> (N*T, p*p, 1, 1) tokens of p x p patches, T =
/// (H/p)(W/p), patches in row-major order, pixels row-major within a patch.
class Patchify : public Layer {
 public:
  Patchify(std::string name, std::size_t patch);
  std::string kind() const override { return "patchify"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_patch;  ///< p
};

/// y[n*T + t] = x[n*T + t] + pos[t]: a learned T x D position embedding added
/// to every sample's tokens (initialized N(0, 0.02^2), no weight decay, as
/// timm's ViT).
class PositionEmbedding : public Layer {
 public:
  PositionEmbedding(std::string name, std::size_t tokens, std::size_t width);
  std::string kind() const override { return "posembed"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
  std::vector<Param*> params() override { return {&m_pos}; }
  void init(Rng& rng) override;

 private:
  std::size_t m_tokens;  ///< T
  std::size_t m_width;   ///< D
  Param m_pos;           ///< T x D
};

/// (N*T, D, 1, 1) tokens -> (N, D, T, 1): each sample's tokens as the planes
/// of its D channels (the view before the mean over tokens).
class TokensToChannels : public Layer {
 public:
  TokensToChannels(std::string name, std::size_t tokens);
  std::string kind() const override { return "tokens-to-channels"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;

 private:
  std::size_t m_tokens;  ///< T
};

/// The graph layers one attention layer stands for, with their arithmetic.
struct AttentionSpec {
  std::size_t width = 0;      ///< D
  std::size_t heads = 0;      ///< H (D / H per head)
  std::size_t tokens = 0;     ///< T
  std::string q, k, v;        ///< graph names of the Q, K, V projections
  LayerArith q_arith, k_arith, v_arith;  ///< their GEMMs
  LayerArith scores;          ///< the QK^T matmul (forward A = Q, B = K^T)
  LayerArith context;         ///< the PV matmul (forward A = P, B = V)
  bool store_fp16 = false;    ///< Q, K, V, P kept in FP16 between the GEMMs (fp16 storage)
};

/// Multi-head self-attention without the output projection (the graph's
/// proj Linear follows it): x (N*T, D) -> context (N*T, D), heads merged.
class MultiHeadAttention : public Layer {
 public:
  MultiHeadAttention(std::string name, const AttentionSpec& spec);
  std::string kind() const override { return "attention"; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, const StepContext& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, const StepContext& ctx) override;
  std::vector<Param*> params() override;
  void init(Rng& rng) override;
  /// The Q, K and V projections (for reports and checks).
  std::vector<const GemmLayer*> projections() const { return {m_q.get(), m_k.get(), m_v.get()}; }
  /// False when the last backward() met inf or NaN in a gradient it quantized.
  bool gradients_finite() const;
  const AttentionSpec& spec() const { return m_spec; }
  /// FP4 gradient scales of the last step: [0] QK^T's dS, [1] PV's dC (1 when unused).
  float grad_scale(std::size_t matmul) const { return matmul == 0 ? m_s_grads.scale() : m_c_grads.scale(); }

 private:
  /// C_g = A_g B_g for every group g, from the callers' views (see the .cpp).
  struct Batched;
  void run(const Batched& b, const GemmFormats& f, const StepContext& ctx) const;

  AttentionSpec m_spec;          ///< shapes and arithmetic
  std::unique_ptr<Linear> m_q;   ///< query projection
  std::unique_ptr<Linear> m_k;   ///< key projection
  std::unique_ptr<Linear> m_v;   ///< value projection
  Tensor m_qy, m_ky, m_vy;       ///< Q, K, V of the last forward (N*T x D)
  std::vector<float> m_p;        ///< softmax probabilities, N*H x T x T
  QuantizedOperand m_qa, m_kb, m_pa, m_vb;  ///< forward operands as quantized
  std::vector<float> m_t;        ///< scratch: per-group transposed operands
  std::vector<float> m_dp;       ///< dP, then dS (N*H x T x T)
  Tensor m_dq, m_dk, m_dv;       ///< gradients of Q, K, V
  Tensor m_dxk, m_dxv;           ///< input gradients through K and V before the sum
  QuantizedOperand m_gi, m_gw, m_tmp;  ///< quantized gradients and re-quantized operands
  GradientQuantizer m_s_grads;   ///< GradScale of dS (the QK^T output gradient)
  GradientQuantizer m_c_grads;   ///< GradScale of dC (the PV output gradient)
  bool m_finite = true;          ///< last dC and dS were finite
  std::uint64_t m_seed = 0;      ///< stochastic-rounding stream
};

}  // namespace nibble::train
