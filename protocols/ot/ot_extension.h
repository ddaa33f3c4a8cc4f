// OT extension: Ishai, Kilian, Nissim, Petrank, "Extending Oblivious Transfers Efficiently"
// (CRYPTO 2003), semi-honest, with the optimisations of Asharov, Lindell, Schneider, Zohner,
// "More Efficient Oblivious Transfer and Extensions for Faster Secure Computation" (CCS 2013):
// the κ = 128 base OTs carry PRG seeds (so they are done once and the extension runs forever from
// them), the receiver sends one column u_j = G(k0_j) ⊕ G(k1_j) ⊕ r per base OT, random OT needs no
// message from the sender, and correlated OT sends one ℓ-bit correction per OT.
//
// Roles: the extension's *sender* is the base OTs' receiver with a random choice string s (its Δ);
// the extension's *receiver* is the base OTs' sender. For n OTs the receiver builds 128 columns of
// n̄ = 8·⌈n/8⌉ bits (t_j = G(k0_j), u_j = t_j ⊕ G(k1_j) ⊕ r), the sender gets q_j = G(k_{s_j}) ⊕ s_j·u_j,
// and after a bit-matrix transpose the rows satisfy q_i = t_i ⊕ r_i·s. Hashing the rows with the
// TCCR hash of Guo–Katz–Wang–Yu (tccr_hash.h) gives random OTs m0_i = H(q_i), m1_i = H(q_i ⊕ s),
// m_{r_i} = H(t_i), with the OT's session-wide index as the tweak.
//
// Security: semi-honest, κ = 128 computational (base OTs over ristretto255, AES-128, the TCCR hash);
// no statistical parameter enters semi-honest IKNP (ALSZ's consistency check, which needs the
// statistical parameter 40, is for malicious receivers and is not run here).
//
// Bytes, exact, for a call with n OTs (n̄ = 8·⌈n/8⌉):
//   set-up (once, offline):  base OTs, 32 bytes receiver → sender, 128·32 = 4096 bytes sender → receiver
//   random OT:               receiver → sender 16·n̄ (the u columns); sender → receiver 0
//   correlated OT (ℓ_i bits) receiver → sender 16·n̄; sender → receiver ⌈Σ ℓ_i / 8⌉
//   chosen OT (ℓ bits)       receiver → sender 16·n̄; sender → receiver ⌈2·n·ℓ / 8⌉
//   1-of-N (N = 2^k, ℓ bits) k·n random OTs, then sender → receiver ⌈n·N·ℓ / 8⌉
// Every call is one message each way at most (random OT: one message), in the ledger's current
// phase; the set-up is charged to Phase::offline.
//
// SoftSpokenOT (Roy, "SoftSpokenOT: Quieter OT Extension from Small-Field Silent VOLE in the
// Minicrypt Model", CRYPTO 2022), semi-honest, with k in 2..10 (k = 1 is IKNP above): the 128
// columns are cut into ⌈128/k⌉ chunks of k (the last one smaller when k does not divide 128). For
// each chunk the receiver holds 2^k leaf seeds of a GGM tree and the sender all but the leaf at its
// secret Δ_c ∈ F_2^k (a (2^k−1)-of-2^k OT made of k base OTs: the receiver sends each level's two
// sums under the base OTs' keys). Per call
// each leaf x gives r_x = G(seed_x) (n̄ bits); the receiver's small-field VOLE is u = ⊕_x r_x,
// v_i = ⊕_{x_i = 1} r_x, the sender's is w_i = ⊕_{(x⊕Δ_c)_i = 1} r_x = v_i ⊕ Δ_c,i·u (it lacks r_{Δ_c},
// whose coefficient is 0). The receiver sends d_c = u ⊕ r per chunk, the sender sets
// q_i = w_i ⊕ Δ_c,i·d_c = v_i ⊕ Δ_c,i·r: IKNP's column correlation with Δ = (Δ_c)_c, so transposing,
// hashing and everything after are shared. Cost: ⌈128/k⌉ bits per OT from the receiver instead of
// 128, for about 2^k/k times IKNP's PRG work (k = 10: 13 bits, ~100 AES blocks per OT). Set-up: also 128·2·16 = 4096 bytes receiver → sender
// (level sums), one more message. Security (semi-honest): d_c is masked by u, which depends on the
// leaf the sender lacks; the GGM tree hides r_{Δ_c} under the PRG. Roy's consistency check (for
// malicious receivers) is not run.
//   per call: receiver → sender ⌈128/k⌉·n̄/8 bytes; the rest as for IKNP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocols/ot/block.h"
#include "protocols/ot/base_ot.h"
#include "protocols/ring/prg.h"

namespace marill {

constexpr int kKappa = 128;               // computational security parameter: base OTs, row width
constexpr int kStatisticalSecurity = 40;  // stated for the record; see the header comment

// Exact byte counts of one extension call of n OTs (see the header comment).
constexpr std::uint64_t iknp_padded(std::int64_t n) { return static_cast<std::uint64_t>((n + 7) / 8 * 8); }
// softspoken_k: 1 = IKNP, 2..10 = SoftSpokenOT with chunks of k bits (⌈128/k⌉ chunks, the last
// smaller when k does not divide 128), one n̄-bit column each.
constexpr int kMaxSoftSpokenK = 10;
constexpr std::uint64_t softspoken_chunks(int softspoken_k) {
  return (128 + static_cast<std::uint64_t>(softspoken_k) - 1) / static_cast<std::uint64_t>(softspoken_k);
}
constexpr std::uint64_t iknp_receiver_bytes(std::int64_t n, int softspoken_k = 1) { return softspoken_chunks(softspoken_k) * iknp_padded(n) / 8; }
constexpr std::uint64_t iknp_setup_sender_bytes() { return base_ot_receiver_bytes(kKappa); }
constexpr std::uint64_t iknp_setup_receiver_bytes(int softspoken_k = 1) {
  return base_ot_sender_bytes(kKappa) + (softspoken_k > 1 ? std::uint64_t{kKappa} * 2 * 16 : 0);
}
// Refuses a k outside 1..kMaxSoftSpokenK (std::invalid_argument).
int require_softspoken_k(int k);
constexpr std::uint64_t packed_bytes(std::uint64_t bits) { return (bits + 7) / 8; }

struct RandomOtPairs {
  std::vector<Block> m0, m1;
};

// A correlated-OT call whose receiver has sent its columns and waits for the corrections: lets a
// party that is receiver in one direction and sender in the other send both messages first.
struct PendingCot {
  std::int64_t n = 0;
  std::vector<std::uint8_t> widths;
  std::vector<std::uint8_t> choices;
  std::vector<u64> hashed;  // low 64 bits of H(t_i)
};

class OtExtSender {
 public:
  explicit OtExtSender(int softspoken_k = 1) : k_(require_softspoken_k(softspoken_k)) {}
  // Base OTs with the peer (who calls OtExtReceiver::setup), charged to Phase::offline. In two
  // steps for a party that sets up both directions at once (OtExtension::setup).
  void setup_start(Comm& comm, Role peer);
  void setup_finish(Comm& comm);
  void setup(Comm& comm, Role peer) {
    setup_start(comm, peer);
    setup_finish(comm);
  }
  bool ready() const { return ready_; }
  int softspoken_k() const { return k_; }

  // n random OTs: (m0_i, m1_i). Phantom: empty vectors.
  RandomOtPairs random_ot(Comm& comm, std::int64_t n);
  // Correlated OT over Z_2^ℓ: returns x_i, the receiver gets x_i + r_i·Δ_i mod 2^ℓ_i. The width of
  // OT i is widths[i % widths.size()] (1..64 bits); widths.size() divides n.
  std::vector<u64> correlated_ot(Comm& comm, const std::vector<u64>& deltas, const std::vector<std::uint8_t>& widths);
  // Chosen-message OT of ℓ-bit strings (m0_i, m1_i < 2^ℓ, ℓ in 1..64).
  void chosen_ot(Comm& comm, const std::vector<u64>& m0, const std::vector<u64>& m1, int bits);
  // Phantom runs: the messages of correlated_ot / one_of_n_ot for n OTs, sizes only (no data-sized
  // buffer is built).
  void phantom_correlated_ot(Comm& comm, std::int64_t n, const std::vector<std::uint8_t>& widths);
  void phantom_one_of_n_ot(Comm& comm, std::int64_t n, int k, int bits);
  // 1-out-of-N OT, N = 2^k, k in 1..8: messages[i·N + x] is the x-th ℓ-bit message of OT i. Built
  // from k random OTs per OT (Naor and Pinkas, "Oblivious Transfer and Polynomial Evaluation",
  // STOC 1999: 1-out-of-N from log N 1-out-of-2 OTs): pad_x = ⊕_j H(K_j^{x_j}, (i, j, x)), so the receiver, who knows K_j^{c_j} only,
  // can strip the pad of x = c alone.
  void one_of_n_ot(Comm& comm, const std::vector<u64>& messages, int k, int bits);

 private:
  std::vector<Block> extend(Comm& comm, std::int64_t n);  // rows q_i (phantom: empty)
  int k_;
  Role peer_ = Role::client;
  std::vector<std::uint8_t> base_choices_;
  Block delta_;                   // Δ: IKNP's s, or SoftSpoken's (Δ_c)_c, bit c·k + i = bit i of Δ_c
  std::vector<Prg> column_prgs_;  // IKNP: G(k_{s_j}); SoftSpoken: the leaves, chunk-major (Δ_c's unused)
  std::vector<std::size_t> delta_chunks_;  // SoftSpoken: Δ_c per chunk
  std::vector<Block> base_keys_;           // SoftSpoken: the base OTs' keys until the level sums come
  u64 next_index_ = 0;            // tweak of the next OT, in step with the receiver
  bool ready_ = false;
};

class OtExtReceiver {
 public:
  explicit OtExtReceiver(int softspoken_k = 1) : k_(require_softspoken_k(softspoken_k)) {}
  int softspoken_k() const { return k_; }
  // The receiver's half of setup; the base OTs' sender sends first, so a party that is receiver in
  // one direction and sender in the other can start this, run its sender's setup, then finish.
  void setup_start(Comm& comm, Role peer);
  void setup_finish(Comm& comm);
  void setup(Comm& comm, Role peer) {
    setup_start(comm, peer);
    setup_finish(comm);
  }
  bool ready() const { return ready_; }

  // choices: 0/1 per OT; returns m_{c_i}. Phantom: empty.
  std::vector<Block> random_ot(Comm& comm, const std::vector<std::uint8_t>& choices);
  std::vector<u64> correlated_ot(Comm& comm, const std::vector<std::uint8_t>& choices, const std::vector<std::uint8_t>& widths);
  PendingCot correlated_ot_start(Comm& comm, const std::vector<std::uint8_t>& choices, const std::vector<std::uint8_t>& widths);
  std::vector<u64> correlated_ot_finish(Comm& comm, PendingCot&& pending);
  std::vector<u64> chosen_ot(Comm& comm, const std::vector<std::uint8_t>& choices, int bits);
  // choices[i] < N = 2^k; returns the ℓ-bit message choices[i] of OT i.
  std::vector<u64> one_of_n_ot(Comm& comm, const std::vector<std::uint8_t>& choices, int k, int bits);
  // Phantom runs: the messages of random_ot / correlated_ot_start / one_of_n_ot for n OTs, sizes only.
  void phantom_random_ot(Comm& comm, std::int64_t n);
  PendingCot phantom_correlated_ot_start(Comm& comm, std::int64_t n, const std::vector<std::uint8_t>& widths);
  void phantom_one_of_n_ot(Comm& comm, std::int64_t n, int k, int bits);

 private:
  std::vector<Block> extend(Comm& comm, const std::vector<std::uint8_t>& choices);  // rows t_i
  int k_;
  Role peer_ = Role::client;
  BaseOtSender base_;
  std::vector<Prg> prg0_, prg1_;  // IKNP: G(k0_j), G(k1_j); SoftSpoken: prg0_ holds the leaves
  u64 next_index_ = 0;
  bool ready_ = false;
};

// Both directions between this party and its peer: OTs where this party sends and OTs where it
// receives. setup() runs the base OTs of both directions in one round trip (offline; SoftSpoken:
// one more message each way).
class OtExtension {
 public:
  explicit OtExtension(int softspoken_k = 1) : sender_(softspoken_k), receiver_(softspoken_k) {}
  void setup(Comm& comm, Role peer);
  bool ready() const { return sender_.ready() && receiver_.ready(); }
  Role peer() const { return peer_; }
  OtExtSender& sender() { return sender_; }
  OtExtReceiver& receiver() { return receiver_; }

 private:
  Role peer_ = Role::client;
  OtExtSender sender_;
  OtExtReceiver receiver_;
};

// Exact bytes of a correlated OT whose widths repeat `widths` n / widths.size() times.
std::uint64_t cot_correction_bytes(std::int64_t n, const std::vector<std::uint8_t>& widths);

}  // namespace marill
