// The non-linear gates of the 2pc setting, from oblivious transfer alone (no dealer): client and
// server hold additive shares in Z_2^64 or XOR shares of bits, and every gate runs over one
// OtExtension (protocols/ot/) between them. The constructions follow CrypTFlow2 (Rathee et al.,
// "CrypTFlow2: Practical 2-Party Secure Inference", CCS 2020) and Cheetah (Huang et al., USENIX
// Security 2022):
//
//   greater_than  millionaires' protocol: the inputs cut into 4-bit digits; per digit one 1-of-16 OT
//                 gives XOR shares of [a_j > b_j] and [a_j = b_j]; a tree of AND gates combines
//                 them (gt = gt_hi ⊕ eq_hi·gt_lo, eq = eq_hi·eq_lo), one level per round.
//   and_pairs     AND of XOR-shared bits with Beaver bit triples made from random OTs, one in each
//                 direction per triple; the two ANDs of a tree node share their left operand
//                 (eq_hi), so one pair of random OTs makes both triples (a·b and a·b').
//   ltz           [x < 0] of a shared x on `bits` bits: msb(x) = msb(x0) ⊕ msb(x1) ⊕ carry, the
//                 carry of the low bits-1 bits a millionaires' comparison, then b2a (`drop`:
//                 the carry judged on bits [drop, bits-1), Backend::ltz's `low`). Against T
//                 public offsets (a spline's knots) the server's side is one value, so each leaf
//                 OT carries all T comparisons (ltz_many).
//   b2a           XOR-shared bit to arithmetic 0/1: c0 + c1 − 2·c0·c1, the product by one COT.
//   mux           (c0 ⊕ c1)·v for shared v: one COT in each direction (CrypTFlow2's multiplexer).
//   trunc         x / 2^d for |x| < 2^62: with the offset 2^62 the value is known non-negative, so
//                 the wrap of x0 + x1 is msb(x0) ∨ msb(x1) (Cheetah's known-MSB truncation), one COT
//                 of d bits; the result is floor(x / 2^d) or one more.
//
// BitShares sent, both directions together, per element, over SoftSpokenOT with chunks of k bits
// (R = 128/k bits of OT-extension columns per OT; k = 8: R = 16), n̄ padding aside:
//   and (pair / single)  2R + 6 / 2R + 4
//   greater_than, ℓ bits q = ⌈ℓ/4⌉ digits: 4qR + 32q (leaves) + (q−1)(2R) + online AND bits
//   ltz (64 bits)        greater_than(63) + b2a: R + 64
//   mux                  2R + 128
//   trunc                R + d
// Exact byte counts are pinned by tests/core/test_ot_gates.cpp; phantom runs send the same bytes from
// counts alone (no buffer that grows with the data).
// Security: semi-honest, as the OT layer (κ = 128); every message is an OT-extension column, a
// correction under a fresh OT pad, or a bit/ring value masked by a fresh triple or share.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "protocols/comm/comm.h"
#include "protocols/ot/ot_extension.h"
#include "protocols/ring/prg.h"
#include "protocols/ring/ring.h"

namespace marill {

using BitShares = std::vector<std::uint8_t>;  // one XOR share bit (0/1) per byte

constexpr int kMillionaireDigitBits = 4;
constexpr std::size_t kThresholdsPerOt = 32;  // comparisons one leaf OT serves (2 bits each in a 64-bit message)

class OtGates {
 public:
  // `comm` is this party's channel, `peer` the other compute party; softspoken_k as OtExtension.
  OtGates(Comm& comm, Role peer, int softspoken_k = 8);
  // Base OTs of both directions (offline). Every gate calls it on first use; both parties meet the
  // same gates in the same order, so the set-up happens at the same point on both sides.
  void set_up();
  bool is_client() const { return client_; }
  bool phantom() const { return phantom_; }
  OtExtension& extension() { return ext_; }

  // z = x ∧ y and z2 = x ∧ y2 (y2 may be empty: then only z), element-wise on XOR shares.
  std::pair<BitShares, BitShares> and_pairs(const BitShares& x, const BitShares& y, const BitShares& y2);
  // XOR shares of [a > b], where the client's values are a and the server's b (all < 2^bits,
  // 1 <= bits <= 64): each party passes its own.
  BitShares greater_than(const std::vector<u64>& mine, int bits);
  // Arithmetic 0/1 shares of the XOR-shared bits c, shaped `shape` (phantom runs: c may be empty).
  RingTensor b2a(const BitShares& c, const Shape& shape);
  // Shares of c·v, c XOR-shared bits (one per element of v; phantom runs: c may be empty).
  RingTensor mux(const BitShares& c, const RingTensor& v);
  // Arithmetic 0/1 shares of [x < 0], x read on its low `bits` bits (3..64).
  RingTensor ltz(const RingTensor& x, int bits, int drop = 0);
  // Arithmetic 0/1 shares of [x − K_t < 0] for T public offsets K_t, shaped (T, n) for x of n
  // elements. The server's side is the same for every t, so one 1-of-16 OT per element and digit
  // carries all T comparisons' leaves (up to kThresholdsPerOt per OT): a spline's knots cost one
  // leaf OT, not T.
  RingTensor ltz_many(const RingTensor& x, const std::vector<u64>& offsets, int bits);
  // Shares of floor(x / 2^d) or one more, for |x| < 2^62 and 1 <= d <= 62.
  RingTensor trunc(const RingTensor& x, int d);

 private:
  struct TriplePairs {
    BitShares a, b, c, b2, c2;
  };
  // Triple pairs from n random OTs in each direction; when `leaves` is given (millionaires'), the
  // 1-of-16 OTs of the leaves travel in the same round trip.
  TriplePairs triple_pairs(std::size_t n, const std::vector<u64>* leaf_messages, const std::vector<std::uint8_t>* leaf_choices,
                           std::vector<u64>* leaf_out, int leaf_bits);
  BitShares compare_against(const std::vector<u64>& mine, std::size_t n, std::size_t T, int bits);
  std::pair<BitShares, BitShares> and_with(const BitShares& x, const BitShares& y, const BitShares& y2, const TriplePairs& t, std::size_t offset);
  BitShares exchange_bits(const BitShares& mine);  // send my bits, receive the peer's as many
  BitShares random_bits(std::size_t n);
  // Phantom runs: the same messages from counts, no data-sized buffer.
  void phantom_exchange(u64 bits);
  void phantom_triples(std::int64_t n, std::int64_t leaves, int leaf_bits);
  void count_comparison(std::size_t comparisons, int digits) const;
  void phantom_greater_than(std::int64_t n, std::int64_t T, int bits);
  void phantom_cot(std::int64_t n, const std::vector<std::uint8_t>& widths, bool as_sender);

  Comm& comm_;
  Role peer_;
  bool client_;
  bool phantom_;
  OtExtension ext_;
  Prg prg_;
};

// Exact bytes each party sends for one call on n elements (the same both ways unless said).
struct OtGateBytes {
  std::uint64_t client = 0, server = 0;
  std::uint64_t total() const { return client + server; }
};
OtGateBytes greater_than_bytes(std::int64_t n, int bits, int softspoken_k);
OtGateBytes ltz_bytes(std::int64_t n, int bits, int softspoken_k);
OtGateBytes ltz_many_bytes(std::int64_t n, std::int64_t offsets, int bits, int softspoken_k);
OtGateBytes trunc_bytes(std::int64_t n, int d, int softspoken_k);
OtGateBytes mux_bytes(std::int64_t n, int softspoken_k);
OtGateBytes b2a_bytes(std::int64_t n, int softspoken_k);

}  // namespace marill
