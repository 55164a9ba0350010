// The ROWS x COLS weight-stationary tile of nibble (docs/rtl.md). It obeys the
// contract of docs/timing.md, "Weight-stationary tile", cycle for cycle:
//
//   preload  R weight rows enter the top of the column shift chains, bottom
//            row first, one row per accepted beat of the weight port;
//   stream   input vector m (accepted in cycle S+m) reaches PE (r, c) in
//            cycle S+m+r+c; its psum_in[c] enters column c in cycle S+m+c;
//   drain    column c's result leaves the bottom in cycle S+m+R+c and is
//            de-skewed so that output vector m is presented in S+m+R+C-1;
//   done     fold_done pulses in D = S+T+R+C-1.
//
// The tile's own control decides when a port is ready, from its state alone
// (never from a valid input), implementing the overlap rules:
//   w_ready: a preload is under way, or the shadow registers are free: the fold
//            they held has started streaming (S_{f-1}) and its weights were
//            copied out of the last PE (cycle >= S_{f-1} + R + C - 1);
//   a_ready: a fold is streaming, or a complete fold waits in the shadow registers.
// Valid inputs must be low while rst_n is low (as on AXI).
//
// DOT_N > 1 makes every PE a dot-product PE (docs/timing.md, "Dot-product
// PEs"): PE row p covers reduction rows pN..pN+N-1, a weight beat carries the
// N weights of every PE of one PE row (the chains are N wide) and an input
// vector R*N codes; the cycles are those of the R x C tile above.
module nibble_ws_tile
  import nibble_pe_pkg::*;
#(
  parameter int ROWS     = 8,  // R: PE rows = length of the reduction slice k0..k0+R-1
  parameter int COLS     = 8,  // C: PE columns = output columns n0..n0+C-1
  parameter int FP4_BIAS = 7,  // FP4 exponent bias of the INT4 x FP4 datapaths
  parameter int DOT_N    = 1   // N: products per PE and accumulate (1 = MAC PEs), 1..64
) (
  input  logic               clk,
  input  logic               rst_n,       // synchronous, active low
  // Weight port: one PE row of the stationary tile per beat, bottom row (R-1) first.
  input  logic               w_valid,
  output logic               w_ready,
  input  logic [COLS*DOT_N*4-1:0] w_row,  // lane c*N+j (bits 4(cN+j)+3:4(cN+j)) = B[k0+pN+j][n0+c]
  // Input port: one streamed vector per beat, with the partial sums of its output row.
  input  logic               a_valid,
  output logic               a_ready,
  input  logic [ROWS*DOT_N*4-1:0] a_vec,  // lane k (bits 4k+3:4k) = A[m][k0+k], k = pN+j
  input  logic [COLS*32-1:0] a_psum,      // lane c (bits 32c+31:32c) = psum_in[m][c]
  input  logic [1:0]         a_mode,      // nibble_pe_pkg::MODE_*, the same for a whole fold
  input  logic               a_acc_fp16,  // accumulator of this fold: 1 FP16, 0 int32
  input  logic               a_unsigned,  // a_vec holds UINT4 codes 0..15 (MODE_INT4_INT4, MODE_INT4_FP4)
  input  logic               a_last,      // this is the fold's last vector (T is not fixed)
  // Output port, no back-pressure (a systolic array cannot stall).
  output logic               o_valid,
  output logic               o_last,      // output vector T-1 of its fold
  output logic [COLS*32-1:0] o_psum,      // lane c = C[m][n0+c]
  output logic               fold_done    // one-cycle pulse in D_f
);
  generate
    if (ROWS < 1 || COLS < 1) begin : g_bad_size
      $error("nibble_ws_tile: ROWS and COLS must be at least 1");
    end
  endgenerate

  // ---------------------------------------------------------------- control
  localparam int RW = $clog2(ROWS + 1);      // preload row counter, 0..ROWS-1
  localparam int CW = $clog2(ROWS + COLS);   // copy wait counter, 0..ROWS+COLS-2

  logic [RW-1:0] rows_q;         // rows of the preload under way (0: none under way)
  logic          shadow_full_q;  // the shadow registers hold a whole fold that has not started streaming
  logic          streaming_q;    // a fold's first vector was accepted and its last was not yet
  logic [CW-1:0] copy_wait_q;    // cycles until the streaming fold's last PE has copied its weight

  assign w_ready = (rows_q != '0) || (!shadow_full_q && copy_wait_q == '0);
  assign a_ready = streaming_q || shadow_full_q;

  logic w_fire;
  logic a_fire;
  logic a_first;
  assign w_fire  = w_valid && w_ready;
  assign a_fire  = a_valid && a_ready;
  assign a_first = !streaming_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      rows_q        <= '0;
      shadow_full_q <= 1'b0;
      streaming_q   <= 1'b0;
      copy_wait_q   <= '0;
    end else begin
      if (w_fire) begin
        if (rows_q == RW'(ROWS - 1)) begin
          rows_q        <= '0;
          shadow_full_q <= 1'b1;  // cannot meet the clear below: a first vector needs shadow_full_q
        end else begin
          rows_q <= rows_q + 1'b1;
        end
      end
      if (a_fire) begin
        streaming_q <= !a_last;
        if (a_first) shadow_full_q <= 1'b0;
      end
      // PE (r, c) copies its shadow weight in cycle S + r + c; the last one, (R-1, C-1),
      // in S + R + C - 2, so the chain may shift again from S + R + C - 1 on.
      if (a_fire && a_first) begin
        copy_wait_q <= CW'(ROWS + COLS - 2);
      end else if (copy_wait_q != '0) begin
        copy_wait_q <= copy_wait_q - 1'b1;
      end
    end
  end

  // ------------------------------------------------------ wires of the array
  tag_t in_tag;
  assign in_tag = '{valid: a_fire, first: a_first, last: a_last, mode: a_mode, acc_fp16: a_acc_fp16,
                   a_uns: a_unsigned};

  // What enters each row from the left and each column at the top. Every
  // element is its own variable (no shared arrays): Verilator orders logic per
  // variable, and a shared array would make every PE depend combinationally on
  // the input port, re-evaluating the whole array whenever an input changes.
  localparam int LW = 4 * DOT_N;  // bits of one PE's activations or weights

  for (genvar r = 0; r < ROWS; r++) begin : g_left
    tag_t          tag;
    logic [LW-1:0] a;
  end
  for (genvar c = 0; c < COLS; c++) begin : g_top
    logic [31:0] psum;
  end

  // ------------------------------------------------------------- input skew
  // PE row r's N codes of the input vector reach column 0 r cycles after it was accepted.
  for (genvar r = 0; r < ROWS; r++) begin : g_skew_a
    if (r == 0) begin : g_direct
      assign g_left[0].tag = in_tag;
      assign g_left[0].a   = a_vec[LW-1:0];
    end else begin : g_delay
      tag_t          tag_q [r];
      logic [LW-1:0] a_q   [r];
      always_ff @(posedge clk) begin
        if (!rst_n) begin
          for (int i = 0; i < r; i++) tag_q[i].valid <= 1'b0;
        end else begin
          tag_q[0] <= in_tag;
          for (int i = 1; i < r; i++) tag_q[i] <= tag_q[i-1];
        end
        a_q[0] <= a_vec[LW*r +: LW];
        for (int i = 1; i < r; i++) a_q[i] <= a_q[i-1];
      end
      assign g_left[r].tag = tag_q[r-1];
      assign g_left[r].a   = a_q[r-1];
    end
  end

  // Column c's partial-sum input enters the top c cycles after its vector was accepted.
  for (genvar c = 0; c < COLS; c++) begin : g_skew_psum
    if (c == 0) begin : g_direct
      assign g_top[0].psum = a_psum[31:0];
    end else begin : g_delay
      logic [31:0] psum_q [c];
      always_ff @(posedge clk) begin
        psum_q[0] <= a_psum[32*c +: 32];
        for (int i = 1; i < c; i++) psum_q[i] <= psum_q[i-1];
      end
      assign g_top[c].psum = psum_q[c-1];
    end
  end

  // ------------------------------------------------------------ the PE array
  // PE (r, c) takes the activation from PE (r, c-1) (or row r's skew line) and
  // the partial sum and shadow weight from PE (r-1, c) (or column c's top).
  // Waiver: what leaves the rightmost column (tag_o except the bottom row's
  // valid and last bits, which time the output port; a_o) and the bottom of
  // the preload chains (w_o of row R-1) leaves the array unused, as in any
  // systolic array; every PE keeps the same ports.
  for (genvar r = 0; r < ROWS; r++) begin : g_row
    for (genvar c = 0; c < COLS; c++) begin : g_col
      /* verilator lint_off UNUSEDSIGNAL */
      tag_t          tag_o;
      logic [LW-1:0] a_o;
      logic [LW-1:0] w_o;
      /* verilator lint_on UNUSEDSIGNAL */
      logic [31:0]   psum_o;
      tag_t          tag_i;
      logic [LW-1:0] a_i;
      logic [LW-1:0] w_i;
      logic [31:0]   psum_i;
      if (c == 0) begin : g_from_skew
        assign tag_i = g_left[r].tag;
        assign a_i   = g_left[r].a;
      end else begin : g_from_left
        assign tag_i = g_row[r].g_col[c-1].tag_o;
        assign a_i   = g_row[r].g_col[c-1].a_o;
      end
      if (r == 0) begin : g_from_top
        assign psum_i = g_top[c].psum;
        assign w_i    = w_row[LW*c +: LW];
      end else begin : g_from_above
        assign psum_i = g_row[r-1].g_col[c].psum_o;
        assign w_i    = g_row[r-1].g_col[c].w_o;
      end
      nibble_pe #(.FP4_BIAS(FP4_BIAS), .DOT_N(DOT_N)) u_pe (
        .clk    (clk),
        .rst_n  (rst_n),
        .shift_i(w_fire),
        .w_i    (w_i),
        .w_o    (w_o),
        .tag_i  (tag_i),
        .a_i    (a_i),
        .tag_o  (tag_o),
        .a_o    (a_o),
        .psum_i (psum_i),
        .psum_o (psum_o)
      );
    end
  end

  // ---------------------------------------------------------- output de-skew
  // Column c leaves the bottom in S+m+R+c; C-1-c more registers align all
  // columns on S+m+R+C-1, when column C-1 (no extra register) leaves.
  for (genvar c = 0; c < COLS; c++) begin : g_deskew
    if (c == COLS - 1) begin : g_direct
      assign o_psum[32*c +: 32] = g_row[ROWS-1].g_col[c].psum_o;
    end else begin : g_delay
      localparam int D = COLS - 1 - c;
      logic [31:0] psum_q [D];
      always_ff @(posedge clk) begin
        psum_q[0] <= g_row[ROWS-1].g_col[c].psum_o;
        for (int i = 1; i < D; i++) psum_q[i] <= psum_q[i-1];
      end
      assign o_psum[32*c +: 32] = psum_q[D-1];
    end
  end

  // The bottom-right PE's tag belongs to the psum it just registered: it times the port.
  assign o_valid = g_row[ROWS-1].g_col[COLS-1].tag_o.valid;
  assign o_last  = g_row[ROWS-1].g_col[COLS-1].tag_o.last;

  logic fold_done_q;
  always_ff @(posedge clk) begin
    if (!rst_n) fold_done_q <= 1'b0;
    else        fold_done_q <= o_valid && o_last;
  end
  assign fold_done = fold_done_q;
endmodule
