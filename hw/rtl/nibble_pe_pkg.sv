// Arithmetic of one processing element of nibble's 4-bit training tile: the
// operation tag that travels with every input vector, the product of two
// 4-bit codes (INT4 x INT4 multiply, or INT4 x FP4 shift) and the two
// accumulators (saturating int32, FP16 rounded once to nearest-even).
//
// The bit-exact reference is nibble::numerics::pe_mac (sim/numerics/pe.hpp);
// `nibble cosim` checks these functions against it through the whole tile.
// docs/rtl.md describes the datapath.
package nibble_pe_pkg;

  // Datapath of one operation. The encoding equals nibble::numerics::PeMode
  // so the co-simulation drives the enum's value unchanged.
  localparam logic [1:0] MODE_INT4_INT4 = 2'd0;  // forward: A INT4 x B INT4, multiply
  localparam logic [1:0] MODE_FP4_INT4  = 2'd1;  // input gradient: A FP4 x B INT4, shift B
  localparam logic [1:0] MODE_INT4_FP4  = 2'd2;  // weight gradient: A INT4 x B FP4, shift A

  // The tag an input vector carries through the array, so that PEs working on
  // different folds in the same cycle each use their own fold's mode.
  typedef struct packed {
    logic       valid;     // this lane holds a vector (a bubble otherwise)
    logic       first;     // first vector of a fold: copy shadow -> active weight
    logic       last;      // last vector of a fold: marks the fold's last output
    logic [1:0] mode;      // MODE_*
    logic       acc_fp16;  // 1: FP16 accumulator, 0: saturating int32
    logic       a_uns;     // the streamed INT4 operand of MODE_INT4_INT4 / MODE_INT4_FP4 is
                           // UINT4 (0..15, post-ReLU activations; PeArith::a_unsigned)
  } tag_t;

  // Fixed-point frame of the FP16 adder: one LSB is 2^-28, so every FP16 value
  // (smallest 2^-24) and every product (smallest LSB 4^(1-15) = 2^-28, FP4
  // bias 15) is an exact integer in it and the sum is exact before rounding.
  localparam int FX_FRAC = 28;
  // Largest number of products a dot-product PE sums (nibble_pe's DOT_N;
  // numerics::kMaxDotProduct).
  localparam int DOT_MAX = 64;
  // Width of the term the accumulators add: the exact sum of up to DOT_MAX
  // products. |product| <= 15 * 2^12 = 61440 < 2^16 (UINT4 15 at the largest
  // shift), so |sum| <= 64 * 61440 < 2^22: 23 signed bits (docs/rtl.md,
  // "Dot-product PE"). A one-product PE sign-extends its 17-bit product.
  localparam int TERM_W = 23;
  // |acc| < 2^16 * 2^28 = 2^44 and |term| * 2^30 < 2^52 (the largest shift,
  // FP4 bias 0), so |sum| < 2^53: 54 signed bits hold it, inside one 64-bit
  // word (fast in Verilator).
  localparam int SUM_W = 54;

  // Product of the streamed code a and the stationary code b, as a signed
  // 17-bit integer. a_uns reads the streamed INT4 operand (MODE_INT4_INT4 and
  // MODE_INT4_FP4) as UINT4 0..15; the INT4 weight of MODE_FP4_INT4 is always
  // signed. INT4 x INT4: a*b (-120..105 with UINT4 a). INT4 x FP4 [s|e]: zero
  // when e == 0, else +-(x << 2(e-1)), i.e. LSB 4^(1-bias); only a shifter and
  // a conditional negation, no multiplier. Mode 3 is unused and gives 0.
  function automatic logic signed [16:0] product(input logic [1:0] mode, input logic a_uns,
                                                  input logic [3:0] a, input logic [3:0] b);
    logic [3:0] x;                // the INT4 operand of a shift
    logic       x_sign;           // its sign-extension bit (0 for UINT4)
    logic [3:0] f;                // the FP4 operand of a shift
    logic signed [16:0] shifted;  // x << 2(e-1), sign-extended
    logic signed [8:0] a9;
    logic signed [8:0] b9;
    logic signed [8:0] ab;
    if (mode == MODE_INT4_INT4) begin
      a9 = {{5{a[3] & !a_uns}}, a};
      b9 = {{5{b[3]}}, b};
      ab = a9 * b9;  // -120..105 (64 at most for signed a) fits 9 signed bits
      return {{8{ab[8]}}, ab};
    end
    if (mode == MODE_FP4_INT4) begin
      x = b;
      x_sign = b[3];
      f = a;
    end else if (mode == MODE_INT4_FP4) begin
      x = a;
      x_sign = a[3] & !a_uns;
      f = b;
    end else begin
      return '0;
    end
    if (f[2:0] == 3'd0) return '0;
    shifted = {{13{x_sign}}, x} <<< {f[2:0] - 3'd1, 1'b0};
    // -(-8 << 12) = 2^15 and +-(15 << 12) = +-61440 still fit 17 signed bits.
    return f[3] ? -shifted : shifted;
  endfunction

  // acc + p in int32, saturating at [-2^31, 2^31 - 1].
  function automatic logic [31:0] add_int32_sat(input logic [31:0] acc, input logic signed [TERM_W-1:0] p);
    logic [32:0] sum;
    sum = {acc[31], acc} + {{(33 - TERM_W){p[TERM_W-1]}}, p};
    if (sum[32] != sum[31]) return sum[32] ? 32'h8000_0000 : 32'h7FFF_FFFF;
    return sum[31:0];
  endfunction

  // acc + p * 2^(p_shift - FX_FRAC) in FP16: the exact sum rounded once to
  // nearest-even. NaN acc -> 0x7E00; +-inf acc stays (p is finite); an exact
  // zero sum is +0; a magnitude that rounds to 2^16 or more is +-inf.
  // p_shift is FX_FRAC for INT4 x INT4 (LSB 1) and FX_FRAC + 2 - 2*bias for
  // INT4 x FP4 (LSB 4^(1-bias)); it lies in 0..30 for the FP4 biases 0..15.
  // |p| <= 64 * 61440 < 2^22 (a sum of up to DOT_MAX products).
  function automatic logic [15:0] add_fp16(input logic [15:0] acc, input logic signed [TERM_W-1:0] p,
                                           input logic [4:0] p_shift);
    logic [4:0] exp_a;
    logic [SUM_W-1:0] mag_a;          // |acc| in units of 2^-28, < 2^44
    logic [SUM_W-1:0] sum;            // two's complement
    logic [SUM_W-1:0] mag;            // |sum|
    logic [63:0] norm;                // mag shifted left until bit 63 is its leading one
    logic [5:0] lead;                 // index of mag's leading one
    logic [15:0] kept;                // {exponent - 1, 1.mantissa} or {0, subnormal mantissa}
    logic guard;                      // the first bit below the kept ones
    logic sticky;                     // any bit below the guard bit
    logic [15:0] rounded;             // {exponent, mantissa} after rounding, >= 0x7C00 is inf
    exp_a = acc[14:10];
    if (exp_a == 5'h1F) return (acc[9:0] != 10'd0) ? 16'h7E00 : acc;
    // Subnormal acc: m * 2^-24; normal: (1024 + m) * 2^(e-25); in units of 2^-28
    // both are ({e != 0, m} << max(e - 1, 0)) << 4.
    mag_a = (exp_a == 5'd0) ? {{(SUM_W - 14){1'b0}}, acc[9:0], 4'd0}
                            : {{(SUM_W - 15){1'b0}}, 1'b1, acc[9:0], 4'd0} << (exp_a - 5'd1);
    sum = acc[15] ? -mag_a : mag_a;
    sum = sum + ({{(SUM_W - TERM_W){p[TERM_W-1]}}, p} << p_shift);
    if (sum == '0) return 16'h0000;
    mag = sum[SUM_W-1] ? -sum : sum;
    if (mag < SUM_W'(1 << 14)) begin
      // Below 2^-14 the result is subnormal: quantum 2^-24 = 16 units.
      kept   = {6'd0, mag[13:4]};
      guard  = mag[3];
      sticky = |mag[2:0];
    end else begin
      // Leading-one detection by a 6-stage normalizing shifter (binary search).
      norm = {{(64 - SUM_W){1'b0}}, mag};
      lead = 6'd63;
      if (norm[63:32] == 32'd0) begin norm = norm << 32; lead = lead - 6'd32; end
      if (norm[63:48] == 16'd0) begin norm = norm << 16; lead = lead - 6'd16; end
      if (norm[63:56] == 8'd0)  begin norm = norm << 8;  lead = lead - 6'd8;  end
      if (norm[63:60] == 4'd0)  begin norm = norm << 4;  lead = lead - 6'd4;  end
      if (norm[63:62] == 2'd0)  begin norm = norm << 2;  lead = lead - 6'd2;  end
      if (norm[63] == 1'b0)     begin norm = norm << 1;  lead = lead - 6'd1;  end
      // A value in [2^(lead-28), 2^(lead-27)) has biased exponent lead - 28 + 15 >= 1;
      // the hidden bit (norm[63]) adds the 1 that exponent - 1 leaves out.
      kept   = {lead - 6'd14, 10'd0} + {5'd0, 1'b1, norm[62:53]};
      guard  = norm[52];
      sticky = |norm[51:0];
    end
    // Nearest-even; a carry out of the mantissa increments the exponent (also 0 -> 1).
    rounded = kept + {15'd0, guard & (sticky | kept[0])};
    if (rounded >= 16'h7C00) return {sum[SUM_W-1], 15'h7C00};
    return {sum[SUM_W-1], rounded[14:0]};
  endfunction

endpackage
