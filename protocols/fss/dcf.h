// Distributed comparison function (DCF), batched, and the LTZ / MSB gate built on it.
//
// DCF (Boyle et al., "FSS for Mixed-Mode and Fixed-Point Secure Computation", EUROCRYPT 2021,
// Fig. 1): the dealer splits f(x) = beta * [x < alpha] (x, alpha unsigned n-bit, beta in Z_2^64)
// into two keys; party b evaluates its key on a public x and gets y_b with y_0 + y_1 = f(x).
// This is the comparison primitive of LLAMA and SIGMA in the 2PC-with-dealer setting.
//
// A payload of width W carries W ring words (beta_0 .. beta_{W-1}) through one tree: the seeds and
// control bits are shared by the words, each level adds 8 B per word (LLAMA's spline keys carry
// vectors the same way).
//
// Keys for a batch of `count` elements are one flat byte buffer (what goes over the network),
// element after element; each element's key is dcf_key_bytes(n, W) bytes:
//   root seed 16 | n x (s_CW 16, V_CW 8W) | CW^(n+1) 8W | t_CW bits, 2 per level, ceil(2n/8) bytes
//   = 16 + 8W + (16 + 8W) n + ceil(n/4) bytes
// With value words of 1 byte: 1W where 8W stands; at width 1 the tree then ends e = min(4, n) levels
// early: root seed 16 | (n - e) x (s_CW 16, V_CW 1) | leaf correction 2^e bytes | t_CW bits of the
// n - e levels.   (W = 1: n = 64: 1576, n = 63: 1552, n = 32: 800).
// Both parties' keys differ only in the root seed; correction words are shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "protocols/ring/prg.h"
#include "protocols/ring/ring.h"

namespace marill {

constexpr int kDcfMaxWidth = 3;

// One party's DCF keys for `count` elements, serialized flat (count * dcf_key_bytes(n_bits, width)).
struct DcfKeys {
  int n_bits = 0;
  i64 count = 0;
  std::vector<std::uint8_t> bytes;
  int width = 1;  // payload words
  int value_bytes = 8;  // bytes a value word is stored in: 8, or 1 (outputs then correct mod 2^8 only)
};

// Exact serialized bytes per element per party (also for phantom cost accounting).
// Throws std::invalid_argument unless 1 <= n_bits <= 64 and 1 <= width <= kDcfMaxWidth.
// With value_bytes = 1 every value correction word is stored in one byte: 16 + W per level, for
// outputs wanted mod 2^8 only (a count of comparisons, as the spline gate's piece index); at width 1
// the tree also terminates early (as BGI 2016's DPFs): its last min(4, n) levels become one leaf of
// 16 one-byte outputs with a 16 B correction, so 16 + 17 (n - 4) + 16 + ceil((n - 4) / 4) bytes.
std::size_t dcf_key_bytes(int n_bits, int width = 1, int value_bytes = 8);

// Dealer: keys for count comparisons; alpha[i] < 2^n_bits (else std::invalid_argument), beta
// element-major (beta[i * width + j]). Returns {party 0 keys, party 1 keys}.
std::pair<DcfKeys, DcfKeys> dcf_gen(int n_bits, const u64* alpha, const u64* beta, i64 count,
                                    Prg& prg, int width = 1, int value_bytes = 8);

// Party `party` (0 or 1) on public points x[i] < 2^n_bits: out[j * count + i] is its additive share
// of beta_j[i] * [x[i] < alpha[i]] mod 2^64. Throws std::invalid_argument on a malformed key buffer
// (size != count * dcf_key_bytes) or an out-of-range x; nothing is read out of bounds.
void dcf_eval(int party, const DcfKeys& keys, const u64* x, u64* out);
// The same keys at `points` points per element: x holds `points` arrays of count values
// (point-major), out points x width arrays. Evaluated chunk by chunk so a chunk's keys stay in
// cache across the points (the spline gate evaluates one key at every knot).
void dcf_eval_points(int party, const DcfKeys& keys, const u64* x, int points, u64* out);
// The same keys at the points (base[e] - deltas[p]) mod 2^n_bits, out as dcf_eval_points. With
// every delta < 2^L the points share their top n-L tree levels with one of two paths (base or
// base - 2^L), which are walked once: 2 (n-L) + points L levels per element instead of points n.
void dcf_eval_shifts(int party, const DcfKeys& keys, const u64* base, const u64* deltas, int points, u64* out);
// The same for the keys [first, first + count) of the set, in place: base and out relative to the
// range (count elements per point and word).
void dcf_eval_shifts_range(int party, const DcfKeys& keys, i64 first, i64 count, const u64* base, const u64* deltas,
                           int points, u64* out);

// The work (protocols/ring/work_meter.h) the evaluations count: dcf_eval_points of `count` keys at
// `points` points, and dcf_eval_shifts of `count` keys at the given shifts, in width-1 levels (a
// level hashes 2 AES blocks at width 1 or 2, 3 at width 3). Phantom runs, which have no keys to
// walk, count through these.
void dcf_eval_work(int n_bits, i64 count, int points, int width = 1, int value_bytes = 8);
void dcf_eval_shifts_work(int n_bits, i64 count, const u64* deltas, int points, int width = 1, int value_bytes = 8);

// ---- LTZ / MSB of a masked, additively shared value ----
//
// x is additively shared in Z_2^64 and considered modulo 2^n (n = n_bits, 2..64; n = 64 is the
// full ring, n < 64 needs the promise |x| < 2^(n-1) so that bit n-1 of x mod 2^n is its sign).
// The dealer samples a mask r_in; online the parties open xhat = x + r_in (caller's job; for
// n < 64 only xhat mod 2^n needs to be opened) and ltz_eval yields additive shares in Z_2^64 of
// MSB_n(x) = [x < 0]. r_in and xhat may carry bits above n: they are reduced mod 2^n here.
struct LtzKeys {
  int n_bits = 0;
  i64 count = 0;
  DcfKeys dcf;                // on n-1 bits: alpha = r mod 2^(n-1), beta_j = (1 - 2 r_hi) p_j
  std::vector<u64> r_hi;      // this party's additive shares of r_hi p_j (bit n-1 of r_in), word-major
  int width = 1;              // payload words p_0 = 1, p_1 .. p_{width-1}
  int value_bytes = 8;        // as DcfKeys' (1: outputs correct mod 2^8; r_hi shares travel in 1 byte)
};

// Bytes per element per party: dcf_key_bytes(n_bits - 1, width, value_bytes) + value_bytes width.
std::size_t ltz_key_bytes(int n_bits, int width = 1, int value_bytes = 8);

// payload: the words p_1 .. p_{width-1} of every element, word-major ((width-1) x count); null
// for width 1.
std::pair<LtzKeys, LtzKeys> ltz_gen(int n_bits, const u64* r_in, i64 count, Prg& prg, int width = 1,
                                    const u64* payload = nullptr, int value_bytes = 8);
inline std::pair<LtzKeys, LtzKeys> ltz_gen(const u64* r_in, i64 count, Prg& prg) {
  return ltz_gen(64, r_in, count, prg);
}

// out[i] = this party's share of MSB_n(xhat[i] - r_in[i]) (width-1 keys). Throws
// std::invalid_argument on malformed keys.
void ltz_eval(int party, const LtzKeys& keys, const u64* xhat, u64* out);
// At `points` points per element (point-major arrays, as dcf_eval_points; width-1 keys).
void ltz_eval_points(int party, const LtzKeys& keys, const u64* xhat, int points, u64* out);
// At xhat = base[e] - deltas[p] (mod 2^64), point-major, sharing tree prefixes (dcf_eval_shifts;
// width-1 keys).
void ltz_eval_shifts(int party, const LtzKeys& keys, const u64* base, const u64* deltas, int points, u64* out);
// With payloads: out[(p * width + j) * count + e] = this party's share of MSB_n(point - r_in[e]) p_j[e],
// given its shares of p_1 .. p_{width-1} (word-major, as ltz_gen's payload; null for width 1).
void ltz_eval_payload_shifts(int party, const LtzKeys& keys, const u64* base, const u64* deltas, int points,
                             const u64* payload_shares, u64* out);
// The same for the keys [first, first + count): base, payload_shares and out relative to the range.
void ltz_eval_payload_shifts_range(int party, const LtzKeys& keys, i64 first, i64 count, const u64* base, const u64* deltas,
                                   int points, const u64* payload_shares, u64* out);
// The work ltz_eval_points / ltz_eval_shifts count (for phantom runs).
void ltz_eval_work(int n_bits, i64 count, int points, int width = 1, int value_bytes = 8);
void ltz_eval_shifts_work(int n_bits, i64 count, const u64* deltas, int points, int width = 1, int value_bytes = 8);

}  // namespace marill
