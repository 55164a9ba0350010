// One processing element of the weight-stationary tile (docs/rtl.md, "PE").
//
// Two weight registers: `shadow`, one stage of its column's vertical preload
// chain, and `active`, the operand of the multipliers/shifters. In the cycle the
// first vector of a fold reaches this PE it uses the shadow weights and copies
// them into `active` (docs/timing.md rule 2), so the next fold's weights can be
// preloaded while this fold streams.
//
// Each cycle the PE takes DOT_N activations and their tag from the left and the
// partial sum from above, adds the exact sum of its DOT_N products to the
// partial sum in the accumulator format the tag names (one rounding or
// saturation: numerics::pe_dot; DOT_N = 1 is pe_mac), and registers both: the
// activations move one PE right and the partial sum one PE down per cycle.
// Lane j (bits 4j+3:4j) of a_i and of the weights is reduction row j of this PE.
module nibble_pe
  import nibble_pe_pkg::*;
#(
  parameter int FP4_BIAS = 7,  // FP4 exponent bias: a code [s|e] is +-4^(e - FP4_BIAS), e = 0 is zero
  parameter int DOT_N    = 1   // products summed per accumulate (1 = a MAC PE), 1..DOT_MAX
) (
  input  logic        clk,
  input  logic        rst_n,     // synchronous, active low: clears the tag's valid bit
  // preload chain
  input  logic        shift_i,   // the column's chain shifts this cycle
  input  logic [4*DOT_N-1:0] w_i,  // shadow weights of the PE above (or the tile's weight port)
  output logic [4*DOT_N-1:0] w_o,  // this PE's shadow weights, to the PE below
  // activation, moving right
  input  tag_t        tag_i,
  input  logic [4*DOT_N-1:0] a_i,
  output tag_t        tag_o,
  output logic [4*DOT_N-1:0] a_o,
  // partial sum, moving down
  input  logic [31:0] psum_i,
  output logic [31:0] psum_o
);
  // Position of a product's LSB in the FP16 adder's frame (LSB 2^-FX_FRAC):
  // INT4 x FP4 products have LSB 4^(1-bias) = 2^(2 - 2 bias), INT4 x INT4 ones 1.
  localparam logic [4:0] FP4_SHIFT = 5'(FX_FRAC + 2 - 2 * FP4_BIAS);
  localparam logic [4:0] INT_SHIFT = 5'(FX_FRAC);

  generate
    if (FP4_BIAS < 0 || FP4_BIAS > 15) begin : g_bad_bias
      $error("nibble_pe: FP4_BIAS must lie in 0..15, the range of nibble's FP4 format");
    end
    if (DOT_N < 1 || DOT_N > DOT_MAX) begin : g_bad_dot
      $error("nibble_pe: DOT_N must lie in 1..64 (numerics::kMaxDotProduct)");
    end
  endgenerate

  logic [4*DOT_N-1:0] shadow_q;
  logic [4*DOT_N-1:0] active_q;
  tag_t               tag_q;
  logic [4*DOT_N-1:0] a_q;
  logic [31:0]        psum_q;

  // The first vector of a fold uses the freshly preloaded weights in the same cycle they are copied.
  logic [4*DOT_N-1:0] weight;
  assign weight = tag_i.first ? shadow_q : active_q;

  // The adder tree: the DOT_N products (leaves, zero-padded to a power of two)
  // summed pairwise. A node of level l sums 2^l products of |p| < 2^16, so
  // 17 + l signed bits hold it exactly (docs/rtl.md, "Dot-product PE"); the
  // root, level LEVELS, is the exact sum. Operand isolation: on a bubble the
  // leaves are zero and the tree does not toggle (and Verilator skips it).
  localparam int LEVELS = $clog2(DOT_N);
  localparam int LEAVES = 1 << LEVELS;
  for (genvar l = 0; l <= LEVELS; l++) begin : g_lvl
    logic signed [16+l:0] s [LEAVES >> l];
  end
  for (genvar i = 0; i < LEAVES; i++) begin : g_leaf
    if (i < DOT_N) begin : g_product
      assign g_lvl[0].s[i] = tag_i.valid ? product(tag_i.mode, tag_i.a_uns, a_i[4*i +: 4], weight[4*i +: 4])
                                         : '0;
    end else begin : g_pad
      assign g_lvl[0].s[i] = '0;
    end
  end
  for (genvar l = 1; l <= LEVELS; l++) begin : g_add
    for (genvar i = 0; i < (LEAVES >> l); i++) begin : g_node
      // Both children sign-extended by one bit: the sum cannot overflow.
      assign g_lvl[l].s[i] = {g_lvl[l-1].s[2*i][15+l], g_lvl[l-1].s[2*i]}
                           + {g_lvl[l-1].s[2*i+1][15+l], g_lvl[l-1].s[2*i+1]};
    end
  end
  logic signed [TERM_W-1:0] term;  // the exact sum, sign-extended to the accumulators' input width
  assign term = TERM_W'(g_lvl[LEVELS].s[0]);

  logic [31:0] mac;
  always_comb begin
    mac = psum_i;
    if (!tag_i.valid) begin
      // bubble: psum_q keeps its value
    end else if (tag_i.acc_fp16) begin
      // FP16 words occupy the low 16 bits of the 32-bit accumulator word, upper bits zero.
      mac = {16'd0, add_fp16(psum_i[15:0], term,
                             (tag_i.mode == MODE_INT4_INT4) ? INT_SHIFT : FP4_SHIFT)};
    end else begin
      mac = add_int32_sat(psum_i, term);
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      tag_q.valid <= 1'b0;
    end else begin
      tag_q <= tag_i;
    end
    if (shift_i) shadow_q <= w_i;
    if (tag_i.valid) begin
      if (tag_i.first) active_q <= shadow_q;
      a_q    <= a_i;
      psum_q <= mac;
    end
  end

  assign w_o    = shadow_q;
  assign tag_o  = tag_q;
  assign a_o    = a_q;
  assign psum_o = psum_q;
endmodule
