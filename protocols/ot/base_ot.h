// Base oblivious transfer: Chou and Orlandi, "The Simplest Protocol for Oblivious Transfer"
// (LATINCRYPT 2015), over the prime-order group ristretto255 (RFC 9496) with libsodium.
//
//   sender:   a ← Z_ℓ, A = a·G                          → A           (32 bytes, once)
//   receiver: b_j ← Z_ℓ, B_j = b_j·G + c_j·A            → B_1..B_n    (32 bytes each)
//   sender:   k0_j = H(j, A, B_j, a·B_j), k1_j = H(j, A, B_j, a·(B_j − A))
//   receiver: k_{c_j} = H(j, A, B_j, b_j·A)
// with H = BLAKE2b-128 under the domain "marill/ot/co15/v1". One message each way, so n base OTs
// cost one round trip: 32 bytes sender → receiver and 32·n bytes receiver → sender.
//
// Security: semi-honest (the MARILL paper's setting), under CDH in the random-oracle model; the
// receiver's choice is perfectly hidden (B_j is uniform whatever c_j). Known caveats: the original
// paper's UC proof against a malicious sender is flawed (Genç, Iovino, Rial, "The simplest protocol
// for oblivious transfer revisited", 2017; Hauck and Loss 2017) and the protocol is not UC-secure
// as claimed; hashing the transcript (A, B_j) into the keys, as done here, is the fix those works
// suggest for the random-oracle programming. Ristretto removes the cofactor issues of Curve25519
// in the original. Points from the peer are checked: a non-canonical or invalid encoding, or the
// identity, is a ProtocolError.
//
// The random OTs produced here are 128-bit keys (κ = 128); OT extension stretches them.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "protocols/ot/block.h"

namespace marill {

constexpr int kRistrettoBytes = 32;

// Makes sure libsodium is initialised (thread-safe, idempotent); throws if it cannot be.
void require_sodium();

// The sender's half, in two steps so that a party that is sender in one direction and receiver in
// the other sends both its messages before it waits (one round trip for both directions).
class BaseOtSender {
 public:
  // Sends A (the ledger's current phase).
  void start(Comm& comm, Role peer);
  // Receives B_1..B_n and returns the n key pairs (k0_j, k1_j). Phantom: empty.
  std::vector<std::array<Block, 2>> finish(Comm& comm, Role peer, int n);

 private:
  std::array<std::uint8_t, 32> a_{};  // secret scalar
  std::array<std::uint8_t, 32> A_{};  // a·G
  bool started_ = false;
};

// The receiver's whole part: receives A, sends B_j, returns k_{c_j}. Phantom: empty.
std::vector<Block> base_ot_receive(Comm& comm, Role peer, const std::vector<std::uint8_t>& choices);

// Both halves at once (tests, benchmarks): n OTs from this party as sender.
std::vector<std::array<Block, 2>> base_ot_send(Comm& comm, Role peer, int n);

// Exact bytes of n base OTs: sender → receiver, receiver → sender.
constexpr std::uint64_t base_ot_sender_bytes(int) { return kRistrettoBytes; }
constexpr std::uint64_t base_ot_receiver_bytes(int n) { return static_cast<std::uint64_t>(kRistrettoBytes) * static_cast<std::uint64_t>(n); }

}  // namespace marill
