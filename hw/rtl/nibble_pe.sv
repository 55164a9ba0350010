// One processing element of the weight-stationary tile (docs/rtl.md, "PE").
//
// Two weight registers: `shadow`, one stage of its column's vertical preload
// chain, and `active`, the operand of the multiplier/shifter. In the cycle the
// first vector of a fold reaches this PE it uses the shadow weight and copies
// it into `active` (docs/timing.md rule 2), so the next fold's weights can be
// preloaded while this fold streams.
//
// Each cycle the PE takes the activation and its tag from the left and the
// partial sum from above, adds its product to the partial sum in the
// accumulator format the tag names, and registers both: the activation moves
// one PE right and the partial sum one PE down per cycle.
module nibble_pe
  import nibble_pe_pkg::*;
#(
  parameter int FP4_BIAS = 7  // FP4 exponent bias: a code [s|e] is +-4^(e - FP4_BIAS), e = 0 is zero
) (
  input  logic        clk,
  input  logic        rst_n,     // synchronous, active low: clears the tag's valid bit
  // preload chain
  input  logic        shift_i,   // the column's chain shifts this cycle
  input  logic [3:0]  w_i,       // shadow weight of the PE above (or the tile's weight port)
  output logic [3:0]  w_o,       // this PE's shadow weight, to the PE below
  // activation, moving right
  input  tag_t        tag_i,
  input  logic [3:0]  a_i,
  output tag_t        tag_o,
  output logic [3:0]  a_o,
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
  endgenerate

  logic [3:0]  shadow_q;
  logic [3:0]  active_q;
  tag_t        tag_q;
  logic [3:0]  a_q;
  logic [31:0] psum_q;

  // The first vector of a fold uses the freshly preloaded weight in the same cycle it is copied.
  logic [3:0] weight;
  assign weight = tag_i.first ? shadow_q : active_q;

  logic signed [16:0] prod;
  logic [31:0] mac;
  // Operand isolation: on a bubble the datapath does not toggle (and Verilator skips it).
  always_comb begin
    prod = '0;
    mac = psum_i;
    if (!tag_i.valid) begin
      // bubble: psum_q keeps its value
    end else if (tag_i.acc_fp16) begin
      prod = product(tag_i.mode, tag_i.a_uns, a_i, weight);
      // FP16 words occupy the low 16 bits of the 32-bit accumulator word, upper bits zero.
      mac = {16'd0, add_fp16(psum_i[15:0], prod,
                             (tag_i.mode == MODE_INT4_INT4) ? INT_SHIFT : FP4_SHIFT)};
    end else begin
      prod = product(tag_i.mode, tag_i.a_uns, a_i, weight);
      mac = add_int32_sat(psum_i, prod);
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
