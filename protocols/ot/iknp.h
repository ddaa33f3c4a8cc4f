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
#pragma once

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
constexpr std::uint64_t iknp_receiver_bytes(std::int64_t n) { return 16 * iknp_padded(n); }
constexpr std::uint64_t iknp_setup_sender_bytes() { return base_ot_receiver_bytes(kKappa); }
constexpr std::uint64_t iknp_setup_receiver_bytes() { return base_ot_sender_bytes(kKappa); }
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

class IknpSender {
 public:
  // Base OTs with the peer (who calls IknpReceiver::setup), charged to Phase::offline.
  void setup(Comm& comm, Role peer);
  bool ready() const { return ready_; }

  // n random OTs: (m0_i, m1_i). Phantom: empty vectors.
  RandomOtPairs random_ot(Comm& comm, std::int64_t n);
  // Correlated OT over Z_2^ℓ: returns x_i, the receiver gets x_i + r_i·Δ_i mod 2^ℓ_i. The width of
  // OT i is widths[i % widths.size()] (1..64 bits); widths.size() divides n.
  std::vector<u64> correlated_ot(Comm& comm, const std::vector<u64>& deltas, const std::vector<std::uint8_t>& widths);
  // Chosen-message OT of ℓ-bit strings (m0_i, m1_i < 2^ℓ, ℓ in 1..64).
  void chosen_ot(Comm& comm, const std::vector<u64>& m0, const std::vector<u64>& m1, int bits);
  // 1-out-of-N OT, N = 2^k, k in 1..8: messages[i·N + x] is the x-th ℓ-bit message of OT i. Built
  // from k random OTs per OT (Naor and Pinkas, "Oblivious Transfer and Polynomial Evaluation",
  // STOC 1999: 1-out-of-N from log N 1-out-of-2 OTs): pad_x = ⊕_j H(K_j^{x_j}, (i, j, x)), so the receiver, who knows K_j^{c_j} only,
  // can strip the pad of x = c alone.
  void one_of_n_ot(Comm& comm, const std::vector<u64>& messages, int k, int bits);

 private:
  std::vector<Block> extend(Comm& comm, std::int64_t n);  // rows q_i (phantom: empty)
  Role peer_ = Role::client;
  Block s_;
  std::vector<Prg> column_prgs_;  // G(k_{s_j})
  u64 next_index_ = 0;            // tweak of the next OT, in step with the receiver
  bool ready_ = false;
};

class IknpReceiver {
 public:
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

 private:
  std::vector<Block> extend(Comm& comm, const std::vector<std::uint8_t>& choices);  // rows t_i
  Role peer_ = Role::client;
  BaseOtSender base_;
  std::vector<Prg> prg0_, prg1_;  // G(k0_j), G(k1_j)
  u64 next_index_ = 0;
  bool ready_ = false;
};

// Both directions between this party and its peer: OTs where this party sends and OTs where it
// receives. setup() runs the base OTs of both directions in one round trip (offline).
class OtExtension {
 public:
  void setup(Comm& comm, Role peer);
  bool ready() const { return sender_.ready() && receiver_.ready(); }
  Role peer() const { return peer_; }
  IknpSender& sender() { return sender_; }
  IknpReceiver& receiver() { return receiver_; }

 private:
  Role peer_ = Role::client;
  IknpSender sender_;
  IknpReceiver receiver_;
};

// Exact bytes of a correlated OT whose widths repeat `widths` n / widths.size() times.
std::uint64_t cot_correction_bytes(std::int64_t n, const std::vector<std::uint8_t>& widths);

}  // namespace marill
