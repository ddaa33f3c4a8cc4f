// Distributed point function (DPF), batched, with full-domain evaluation: the small lookup-table gate.
//
// DPF (Boyle, Gilboa, Ishai, "Function Secret Sharing: Improvements and Extensions", CCS 2016,
// Fig. 1, the tree construction): the dealer splits f(y) = beta * [y == alpha] (alpha an unsigned
// n-bit point, beta W ring words in Z_2^64) into two keys; party b expands its key over the whole
// domain [0, 2^n) and gets y_b(y) with y_0(y) + y_1(y) = f(y) at every point. Each tree level
// costs one 16 B seed correction word and two control-bit correction words; one final correction
// word of W words turns the leaf seeds into the payload. A key is O(n) bytes, a full-domain
// evaluation 2^(n+1) - 2 AES blocks (plus 2^n ceil(W/2) leaf blocks for W >= 2), so this is for
// small domains (n <= kDpfMaxBits; in practice 6..8 bits, evaluated on ~10^5 elements online).
//
// Keys for a batch of `count` elements are one flat byte buffer (what goes over the network),
// element after element; each element's key is dpf_key_bytes(n, W) bytes:
//   root seed 16 | n x s_CW 16 | t_CW bits, 2 per level (L, R), ceil(2n/8) bytes | CW^(n+1) 8W
//   = 16 + 16 n + ceil(n/4) + 8 W bytes   (n = 6, W = 3: 138; n = 8, W = 1: 154; n = 12, W = 3: 235).
// Both parties' keys differ only in the root seed; correction words are shared.
//
// The PRG is the DCF's fixed-key AES in MMO mode (protocols/fss/mmo.h): child side s of seed x is
// H(x ^ s) (s = 0 left, 1 right) with its control bit in the low bit; seeds keep their low bit
// cleared. Leaf words: W = 1 takes the leaf seed's high half, W >= 2 hashes ceil(W/2) blocks
// H(x ^ 8), H(x ^ 9) (word j from block j/2, low half for even j, high half for odd j).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "protocols/ring/prg.h"
#include "protocols/ring/ring.h"

namespace marill {

constexpr int kDpfMaxBits = 12;
constexpr int kDpfMaxWidth = 3;

// One party's DPF keys for `count` elements, serialized flat (count * dpf_key_bytes(n_bits, width)).
struct DpfKeys {
  int n_bits = 0;
  int width = 1;  // payload words
  i64 count = 0;
  std::vector<std::uint8_t> bytes;
};

// Exact serialized bytes per element per party: 16 + 16 n + ceil(n/4) + 8 W.
// Throws std::invalid_argument unless 1 <= n_bits <= kDpfMaxBits and 1 <= width <= kDpfMaxWidth.
std::size_t dpf_key_bytes(int n_bits, int width);

// Dealer: keys of f_e(y) = beta_e * [y == alpha_e] for count elements; alpha[e] < 2^n_bits (else
// std::invalid_argument), beta element-major (beta[e * width + j]). Returns {party 0 keys, party 1
// keys}; they differ only in the root seeds.
std::pair<DpfKeys, DpfKeys> dpf_gen(int n_bits, const u64* alpha, const u64* beta, i64 count, Prg& prg, int width);

// Party `party` (0 or 1), keys [first, first + count) of the set, evaluated at every point y in
// [0, 2^n): out[((e - first) * 2^n + y) * width + j] is this party's additive share (mod 2^64) of
// beta_e,j [y == alpha_e]. Throws std::invalid_argument on a malformed key buffer (size !=
// keys.count * dpf_key_bytes), a bad party, or a range outside [0, keys.count).
void dpf_eval_all_range(int party, const DpfKeys& keys, i64 first, i64 count, u64* out);

// The work (protocols/ring/work_meter.h) dpf_eval_all_range counts for `count` keys, in
// dcf_eval_level units (one unit = 2 AES blocks, a width-1 DCF level): phantom runs, which have no
// keys, count through this.
void dpf_eval_all_work(int n_bits, i64 count, int width);

}  // namespace marill
