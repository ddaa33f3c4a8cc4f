// The function library (DESIGN.md layer 3): non-linear functions written only against the Backend
// interface, so each runs unchanged on every setting, real or phantom, and under the dealer's
// keygen backend. Data-oblivious: public shapes and parameters steer control flow, secret values
// never do.
//
// Conventions. Inputs and outputs are fixed point at the backend's precision (16 fractional bits by
// default) unless stated; internally functions keep more bits where precision needs them. Shapes
// are in (B, T, C) style comments; "last axis" reductions work on any leading shape. Every function
// opens an OpScope of its kind (exp, reciprocal, rsqrt, softmax, relu, quad, gelu, silu, norm,
// argmax) so the ledger splits costs by kind. A `bound` argument is a promise |x| <= bound about
// the secret inputs; it sizes comparisons (ltz bit width: smaller circuits in 3pc, smaller keys in
// 2pc-dealer) and values beyond it give wrong results.
//
// Each approximation names its method, source, parameters and its measured max abs error on the
// stated range; tests/core/test_functions.cpp checks a bound a little above it in every setting
// (cleartext, 3pc, 2pc-dealer). One ulp is 2^-16 = 1.5e-5: most results are within one ulp plus
// the approximation error. "Cost" lines give bytes per element and rounds, measured by the ledger
// (3pc: the largest party's bytes; 2pc-dealer: online bytes of client/server, then the dealer's
// offline bytes). Comparisons dominate offline: one ltz is ~1.4-1.6 KB of DCF keys in 2pc-dealer,
// ~1.0 KB for a negative part (ReLU, the max: one-byte value words and a select); a spline gate's keys (a
// comparison key with one-byte words for the piece index, a DPF table key with (1, r, r^2)) ~1 KB.
//
// Methods come from the backend's function policy (Backend::policy(), protocols/mpc/function_policy.h),
// never from the setting. Its default in 2pc-dealer makes exp, the GeLU/SiLU activations and the
// reciprocal/rsqrt mantissa step single spline gates (protocols/fss/spline.h, spline_gate.h: piecewise
// quadratics, 16 B and ceil(log2 pieces) bits in 3 rounds online whatever the number of pieces: the
// piece index by one comparison key, then a DPF table lookup of its coefficients times (1, r, r^2));
// elsewhere it picks the polynomial methods below (a spline there costs one
// comparison per knot). Every method runs in every setting. The price of a gate is CPU: one DCF
// evaluation per knot per element (a SiLU over 131k elements costs 1-2 s of CPU per party on this
// machine). `marill bench functions` prints every function's cost and error per setting (README).
#pragma once

#include "protocols/mpc/backend.h"

namespace marill {

// ---------------------------------------------------------------------------------------------
// Elementary functions
// ---------------------------------------------------------------------------------------------

// exp(x) for x <= 0, 0 below -clip - 1/8 (exactly, or one output unit with the squaring method's
// truncations) and never 0 above -clip + 1/8. x (...) -> (...).
// Method: squaring as CrypTen's (1 + x/2^n)^(2^n) and PUMA, with a better kernel: e^x = (e^(x/16))^16,
// e^u by its degree-7 Taylor polynomial on u in [-1.25, 0] (u^2..u^4, then u^4 q_1(u)), then 4 squarings,
// all at 28 fractional bits (u = x/16 is exact), so fixed-point error stays far below the output
// ulp. One ltz on x + clip, judged to 1/8 (Backend::ltz's `low`: 13 bits fewer), zeroes clipped
// elements, as PUMA/Bumblebee clip: the kept mask multiplies the kernel's value in the product that
// truncates it, so the mask costs no product of its own.
// Parameters: clip in (0, 20] (default 20: e^-19.875 = 2.3e-9, so 2048 clipped keys change a softmax
// denominator >= 0.6 by < 2^-17). Approximation error <= 8.3e-10 on [-20.125, 0] (Taylor's error has one
// sign, so it is kept tiny: a softmax row sums 2047 of them). Measured max abs error on [-24, 0]: 1.53e-5
// (the output truncation). |x| <= bound.
// Cost: 3pc 125 B, 33 rounds.
// Policy exp=spline (2pc-dealer's default): at 16 output bits (as here), e^x by one spline gate on
// [-clip, 0] (72 pieces, error <= 2^-20; 0 below -clip, so clipping is free) truncated to the output.
// Measured max abs error on [-24, 0]: 1.55e-5. Cost: 17 B + 0.87 KB offline, 3 rounds (was 33 B,
// 5 rounds as the softmax's form; 272 B, 17 rounds with the squaring kernel). At the softmax's 28
// output bits a relative 6e-6 is needed (a row sums 2048 values), which e^x would reach with 148
// pieces, a DCF walk per piece per score: there e^x = (e^(x/4))^4, e^(x/4) by 88 pieces (relative
// error <= 1.5e-6), then two squarings at 28 bits, each on its truncation's opening
// (Backend::trunc_square): 33 B + 0.94 KB offline, 5 rounds.
// Policy exp=cubic (2pc's default): the same with cubic pieces (protocols/fss/spline.h: Horner's rule,
// a truncation per product), fewer knots to compare against. Measured max abs error on [-24, 0]:
// 1.6e-5. Cost in 2pc: 2.5 KB client + 1.7 KB server per element, 29 rounds (exp=spline: 7.3 KB).
Shared exp_neg(Backend& be, const Shared& x, double clip = 20.0, double bound = 1024.0);

// 1/x for x in [lo, hi] (0 < lo < hi), any shape.
// Method: range reduction by one batched comparison of x against mu * 2^j (mu in {1, 1.5}; all
// binades of [lo, hi]) -> one-hot segment; m = x 2^-(j+1) in [0.5, 1); piecewise-linear initial
// guess per half binade (|1 - m y0| <= 0.0204); Goldschmidt iteration y0 (1+e)(1+e^2), i.e. two
// Newton-Raphson steps in 3 multiplicative levels (error e^4 <= 1.8e-7); result y 2^-(j+1).
// (CrypTen instead uses y0 = 3 e^(0.5-x) + 0.003 and 10 NR steps; SIGMA uses a LUT initial guess.)
// Iteration at 24 fractional bits. Measured max error: within half of the tested bound (2 ulp +
// 4e-5 relative) on [1, 2048], [0.01, 100], [0.5, 3].
// Cost (one Backend::ltz_knots call against 2 log2(hi/lo) thresholds per element): [1, 2048]: 3pc
// 370 B, 23 rounds; 2pc-dealer 97 B + 2.3 KB offline, 8 rounds: there one comparison key and one
// opening per element serve every threshold (was 256 B + 32 KB, a key per threshold), and (policy
// reciprocal=spline) the initial guess and the iteration are one spline gate on m (1/m on [1/2, 1),
// relative error <= 1e-7; was 336 B, 11 rounds).
// Meant for one value per row (softmax, norms).
Shared reciprocal(Backend& be, const Shared& x, double lo, double hi);

// 1/sqrt(x) for x in [lo, hi] (0 < lo < hi), any shape.
// Method: as reciprocal, with base-4 binades (m = x 4^-(j+1) in [0.25, 1), result y 2^-(j+1)), four
// linear pieces per binade (mu in {1, 1.5, 2, 3}; |1 - m y0^2| <= 0.0154), then the series
// y0 (1 + e/2 + 3e^2/8), e = 1 - m y0^2 (error (5/16) e^3 <= 1.2e-6) in 4 multiplicative levels,
// at 24 fractional bits. Measured max error: within half of the tested bound (2 ulp + 4e-5
// relative) on [0.01, 100], [1e-4, 4096].
// Cost [0.01, 100]: 3pc 429 B, 26 rounds; 2pc-dealer 97 B + 2.1 KB offline, 8 rounds (a spline gate on
// m for m^-1/2 on [1/4, 1), relative error <= 3e-7, replaces the series; was 384 B, 13 rounds).
Shared rsqrt(Backend& be, const Shared& x, double lo, double hi);

// ---------------------------------------------------------------------------------------------
// Softmax over the last axis of scores (..., Tq, Tk)
// ---------------------------------------------------------------------------------------------

struct SoftmaxOptions {
  bool causal = false;
  // Decode offset: query i (of Tq) may attend keys j <= query_offset + i. Masked positions get
  // probability exactly 0 and cost nothing beyond the max (they are left out of exp and products).
  i64 query_offset = 0;
  double score_bound = 256;  // promise |score| <= score_bound
  double exp_clip = 20;      // exact softmax: exp(x - max) = 0 below -exp_clip
};

// Exact softmax. Method: a near-max m by a tournament over the last axis (ceil(log2 Tk) levels, each
// max(a, b) = a - min(a - b, 0) by one batched Backend::negative_part; causal rows compare only the
// scores they keep) whose comparisons may misjudge differences below 2^-j <= 1/(2 levels) (Backend::
// ltz's `low`; Tk = 2048: 16 of 27 bits): m is a score of the row less than 1/2 below its max, and
// softmax is shift-invariant, so x - (m + levels 2^-j) <= 0 goes to exp_neg (clip 20, values kept
// at 28 bits so 2048 sub-ulp terms still add up), row sum (>= e^-1/2), reciprocal on [0.5, Tk + 1]
// (one per row), one product per element (Backend::mul_rows: the row's inverse opened once per row).
// Measured max abs error of a probability: 1.53e-5 (one ulp), scores in [-20, 20], Tk = 12..2048,
// including adversarial rows (one winner over 2047 keys 7..14 below it; 2048 near-equal keys).
// Cost per score (1 x 2048): 3pc 151 B, 119 rounds; 2pc-dealer 57 B + 1.4 KB offline, 37 rounds.
// Causal prefill (64 x 64): 81 B / 30 B + 723 B (26 rounds), masked scores skip every step.
Shared softmax(Backend& be, const Shared& scores, const SoftmaxOptions& opt = {});

// 2ReLU softmax (SecureML [56] as used in MARILL 6.3; MPCFormer's softmax_2RELU):
//   p_j = ReLU(x_j) / (sum_k ReLU(x_k) + 2^-16),
// the 2^-16 (one ulp) keeps a row of non-positive scores at p = 0 instead of dividing by zero.
// Masked positions are left out of the sum. No max and no exp: one ltz + one mul per element, one
// reciprocal per row, one product per element. Measured max abs error 1.5e-5 (one ulp). Needs
// Tk score_bound < 2^28.
// Cost (4 x 1024): 3pc 30 B, 31 rounds; 2pc-dealer 24 B + 835 B offline, 11 rounds.
Shared softmax_2relu(Backend& be, const Shared& scores, const SoftmaxOptions& opt = {});

// 2Quad softmax (MPCFormer [45]): p_j = (x_j + 5)^2 / (sum_k (x_k + 5)^2 + 2^-16), masked positions
// left out. No comparison per score: one square (kept at 24 bits) per element, one reciprocal per
// row, one product. Measured max abs error 1.5e-5 (one ulp) while the row sum is >= 2^-8.
// Needs Tk (score_bound + 5)^2 < 2^28. Cost (4 x 1024): 3pc 24 B, 31 rounds; 2pc-dealer 40 B +
// 51 B offline, 12 rounds.
Shared softmax_2quad(Backend& be, const Shared& scores, const SoftmaxOptions& opt = {});

// The softmax the policy names (be.policy().softmax: exact, 2relu or 2quad), as above.
Shared softmax_by_policy(Backend& be, const Shared& scores, const SoftmaxOptions& opt = {});

// ---------------------------------------------------------------------------------------------
// Activations, element-wise on (...)
// ---------------------------------------------------------------------------------------------

// ReLU(x) = x - min(x, 0) (Backend::negative_part: an ltz and a product; 2pc-dealer's product is a
// select on the comparison's opening of x and one opened bit, protocols/fss/ltz_gate.h; 3pc's on the
// comparison's dealt bit, one word more at the comparison's helper). Exact.
// Cost: 3pc 16.6 B, 7 rounds; 2pc-dealer 8.1 B + 1.0 KB offline, 2 rounds.
Shared relu(Backend& be, const Shared& x, double bound = 32768.0);

// Quad (MPCFormer [45]'s GeLU replacement): 0.125 x^2 + 0.25 x + 0.5 = (x+1)^2/8 + 0.375: one mul,
// one truncation, no comparison. Error <= 1 ulp against that polynomial.
// Cost: 3pc 10 B, 3 rounds; 2pc-dealer 24 B + 24 B offline, 2 rounds.
Shared quad(Backend& be, const Shared& x);

// GeLU(x) = x Phi(x) (erf form). Method: GeLU(x) = ReLU(x) - h(|x|), h(a) = a (1 - Phi(a)) (the
// even part, as SIGMA's ReLU-minus-delta and BumbleBee's piecewise split use), h replaced by 0 for
// |x| >= 5 (h(5) = 1.4e-6) and by a degree-12 Remez minimax fit in t = (a - 2.5)/2 below (fit
// error 6.4e-6). The comparisons need not resolve the last bits (Backend::ltz's `low`): GeLU(x) =
// x - h(x) for every x, so a sign judged to 2^-10 only moves h's argument to -|x| (2^-10 below the
// fit); [|x| < 5] judged to 2^-6 against 5 - 2^-5: inside only below 5, h dropped at most from
// 5 - 3 2^-6 (h = 1.8e-6). Measured max abs error on [-8, 8]: 2.2e-5.
// Cost: 2 ltz (sign, then [|x| < 5]), 1 + 5 + 1 multiplications (t^2..t^4 at 19 fractional bits,
// then Horner's rule in t^4 over blocks q_i of four coefficients, t^4 (q_1 + t^4 q_2), the blocks
// untruncated (their coefficient bits the room each product leaves: 23 past the first);
// fn::poly_eval_blocked_raw; the last product, by [|x| < 5], truncates h): 3pc 91 B, 28 rounds.
// Policy gelu=spline (2pc-dealer's default): one spline gate: 0 below -5, x above 5, 43 quadratic
// pieces between (error <= 1.2e-5 per piece with the ring's rounding). Measured max abs error on
// [-8, 8]: 2.6e-5. Cost: 17 B + 1.0 KB offline, 3 rounds (bound 32768: comparisons on 24 bits).
// Policy gelu=cubic (2pc's default): the same function as a spline of 18 cubic pieces. Measured max
// abs error on [-8, 8]: 2.5e-5. Cost in 2pc: 1.9 KB client + 1.5 KB server, 21 rounds.
// Policy gelu=relu: relu(x) (an approximation, error up to 0.17).
Shared gelu(Backend& be, const Shared& x, double bound = 32768.0);

// SiLU(x) = x sigmoid(x). Method: SiLU(x) = ReLU(x) - h(|x|), h(a) = a sigmoid(-a), h replaced by 0
// for |x| >= 14 (h(14) = 1.2e-5) and by a degree-16 Remez minimax fit in t = (a - 7)/8 below (fit
// error 1.1e-5); comparisons judged as GeLU's (h(14 - 3 2^-6) = 1.2e-5). Measured max abs error on
// [-16, 16]: 2.6e-5.
// Cost: 2 ltz, 1 + 6 + 1 multiplications (t^2..t^4 at 22 fractional bits, then three Horner steps
// in u = T_4(t) = 8t^4 - 8t^2 + 1 over the fit's remainders by u, untruncated: in t^4 the fit's own
// coefficients, up to 22, would leave no room; fn::poly_eval_blocked_raw): 3pc 104 B, 31 rounds.
// Policy silu=spline (2pc-dealer's default): one spline gate: 0 below -14, x above 14, 57
// quadratic pieces between (error <= 1.2e-5 per piece). Measured max abs error on [-16, 16]:
// 2.4e-5. Cost: 17 B + 1.0 KB offline, 3 rounds (was 416 B, 13 rounds).
// Policy silu=cubic (2pc's default): the same function as a spline of 21 cubic pieces (half the
// quadratic's knots; each knot is a comparison in 2pc). Measured max abs error on [-16, 16]: 2.6e-5.
// Cost in 2pc: 2.0 KB client + 1.5 KB server, 21 rounds (silu=spline: 5.4 KB, 13 rounds).
// Policy silu=relu: relu(x) (an approximation, error up to 0.28).
Shared silu(Backend& be, const Shared& x, double bound = 32768.0);

// The MLP activation the policy names (be.policy().act): exact = `exact` (SiLU or GeLU, each by
// its own policy method), relu or quad (MARILL's approximations).
enum class Activation { silu, gelu };
Shared activation(Backend& be, const Shared& x, Activation exact, double bound = 32768.0);

// The spline tables silu() and gelu() evaluate with the spline method (fitted once, shared by all threads).
// degree 2: quadratic pieces (the policy's spline method, 2pc-dealer's FSS gate); 3: cubic (cubic).
const SplineTable& silu_spline_table(int frac_bits, double bound = 32768.0, int degree = 2);
const SplineTable& gelu_spline_table(int frac_bits, double bound = 32768.0, int degree = 2);

// ---------------------------------------------------------------------------------------------
// Normalization over the last axis of x (..., C)
// ---------------------------------------------------------------------------------------------

struct NormOptions {
  double eps = 1e-5;
  double var_max = 65536;  // promise: per-row variance (LayerNorm) or mean square (RMSNorm) <= var_max
  double mean_max = 256;   // promise (LayerNorm): |row mean| <= mean_max
};

// RMSNorm(x) = x / sqrt(mean(x^2) + eps) * gamma. Method: sum of squares (Backend::sum_squares: in
// 3pc one batched inner product, 8 B per row, not per element; in 2pc-dealer one square), rsqrt (above) on [eps C/2, (var_max+eps) C]
// once per row with sqrt(C) folded into its output scale, then two products per element (x r, then
// gamma, as a product of each column by its gain: 2pc-dealer opens each gain once, not once per
// row). Requires sum_k x_k^2 < 2^30 per row. gamma (C): Shared (a private layer's weight) or
// public. Measured max abs error 3.7e-5 (rows of 96 with variance 1e-2..1e2, gamma in [0.5, 1.5]).
// Cost (4 x 1024, Shared gamma): 3pc 24 B, 37 rounds; 2pc-dealer 42 B + 59 B offline, 14 rounds.
Shared rmsnorm(Backend& be, const Shared& x, const Shared& gamma, const NormOptions& opt = {});
Shared rmsnorm(Backend& be, const Shared& x, const RingTensor& gamma, const NormOptions& opt = {});
// Without the gain: x / sqrt(mean(x^2) + eps), for a gamma folded into the next (secret) linear
// layer's rows, which saves the per-element product (2pc-dealer: 8 B per element and a gain per
// column opened, 8 B more for its truncation, and 2 rounds: 18 B per element at 4 rows).
Shared rmsnorm(Backend& be, const Shared& x, const NormOptions& opt = {});

// LayerNorm(x) = (x - mean) / sqrt(var + eps) * gamma + beta; as RMSNorm on the centred rows. The
// output uses C x - sum x = C (x - mean) exactly, the 1/C going into rsqrt's output scale, so no
// rounded mean is amplified by 1/sigma. Requires |mean| <= mean_max. Measured max abs error 3.6e-5.
// Cost (4 x 1024, public gamma/beta): 3pc 21 B, 40 rounds; 2pc-dealer 32 B + 51 B offline, 14 rounds.
Shared layernorm(Backend& be, const Shared& x, const Shared& gamma, const Shared& beta, const NormOptions& opt = {});
Shared layernorm(Backend& be, const Shared& x, const RingTensor& gamma, const RingTensor& beta,
                 const NormOptions& opt = {});
// Without gain and bias: (x - mean) / sqrt(var + eps), for gamma and beta folded into the next
// (secret) linear layer, (x gamma + beta) W + b = x (diag(gamma) W) + (beta W + b), which saves the
// per-element product as rmsnorm's overload does.
Shared layernorm(Backend& be, const Shared& x, const NormOptions& opt = {});

// ---------------------------------------------------------------------------------------------
// Argmax over the last axis of x (..., V)
// ---------------------------------------------------------------------------------------------

// Tournament of comparisons: ceil(log2 V) levels, each one batched ltz + one batched select of
// (value, index). `index` is an *integer* sharing (ring value = token id, no fractional bits; reveal
// it to the client); `value` is the max at 16 bits. Exact: returns an index of a maximal element
// (the lower one on ties). Shapes (..., V) -> (..., 1).
// Cost (2 x 32000): 3pc 25 B, 114 rounds; 2pc-dealer 32 B + 1.4 KB offline, 30 rounds.
struct ArgmaxResult {
  Shared index;
  Shared value;
};
ArgmaxResult argmax(Backend& be, const Shared& x, double bound = 1024.0);

}  // namespace marill
