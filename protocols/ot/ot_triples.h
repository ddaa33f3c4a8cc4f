// Products and Beaver triples over Z_2^64 from correlated OT: Gilboa, "Two Party RSA Key
// Generation" (CRYPTO 1999), as used for triples by Demmler, Schneider, Zohner, "ABY" (NDSS 2015)
// and CrypTFlow2/Cheetah.
//
// a·b with a held by the OT sender and b by the receiver: for each bit j of b, one correlated OT
// with choice b_j and correlation a mod 2^(64−j) gives x_j to the sender and x_j + b_j·a to the
// receiver; 2^j times the difference is 2^j·b_j·a mod 2^64, so the sender's −Σ 2^j·x_j and the
// receiver's Σ 2^j·y_j are additive shares of a·b. OT j needs only 64 − j bits (the top j bits
// vanish under 2^j): 2080 correction bits per product instead of 4096.
//
// A triple needs the two cross products a0·b1 and a1·b0 (one in each OT direction).
// Bytes, exact, per product, from each side (n products, n̄ = 8·⌈64n/8⌉ = 64n):
//   receiver → sender: 16·64·n = 1024·n  (IKNP columns)
//   sender → receiver: ⌈2080·n / 8⌉ = 260·n
// so one triple costs 2·(1024 + 260) = 2568 bytes, 1284 each way, in Phase::offline (SoftSpokenOT
// with chunks of k bits: the columns are 1024/k bytes, e.g. 516 bytes each way for k = 4). The products
// are done in batches of kTripleBatch elements, each batch two messages each way in one round
// trip (both directions' columns first, then both corrections).
#pragma once

#include <cstdint>

#include "protocols/ot/ot_extension.h"
#include "protocols/ring/ring.h"

namespace marill {

// One party's additive shares of n triples: c0 + c1 = (a0 + a1)·(b0 + b1) mod 2^64.
struct BeaverTriples {
  RingTensor a, b, c;  // shape {n}; phantom tensors in phantom runs
};

constexpr std::int64_t kTripleBatch = 8192;
constexpr std::uint64_t kGilboaColumnBytes = 1024;  // per product, receiver → sender (IKNP; SoftSpoken: / k)
constexpr std::uint64_t kGilboaCorrectionBytes = 260;  // per product, sender → receiver

// Exact bytes each party sends for n triples (the same both ways), over an extension with
// SoftSpoken chunk size k (1 = IKNP).
constexpr std::uint64_t ot_triple_bytes_each_way(std::int64_t n, int softspoken_k = 1) {
  return static_cast<std::uint64_t>(n) * (kGilboaColumnBytes / static_cast<std::uint64_t>(softspoken_k) + kGilboaCorrectionBytes);
}

// Shares of a∘b (element-wise) where this party, the OT sender, holds a: returns its share.
RingTensor gilboa_product_send(Comm& comm, OtExtSender& ot, const RingTensor& a);
// ... and where this party, the OT receiver, holds b.
RingTensor gilboa_product_receive(Comm& comm, OtExtReceiver& ot, const RingTensor& b);

// Shares of a_me∘b_peer + a_peer∘b_me (element-wise; a and b this party's operands, same shape),
// both parties calling it: one Gilboa product in each direction, one round trip. Phantom operands
// (or a phantom run) send the same bytes and return a phantom.
RingTensor gilboa_cross_products(Comm& comm, OtExtension& ext, const RingTensor& a, const RingTensor& b);

// n Beaver triples between this party and ext.peer(), both calling it (offline phase). The
// extension must be set up (OtExtension::setup). `batch` bounds the memory (both parties must
// pass the same); each batch is one round trip.
BeaverTriples ot_beaver_triples(Comm& comm, OtExtension& ext, std::int64_t n, std::int64_t batch = kTripleBatch);

}  // namespace marill
