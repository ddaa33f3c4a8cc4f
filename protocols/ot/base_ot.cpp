#include "protocols/ot/base_ot.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace marill {

namespace {

constexpr char kDomain[] = "marill/ot/co15/v1";
using Point = std::array<std::uint8_t, 32>;

// k = BLAKE2b-128(domain ‖ j ‖ A ‖ B ‖ P): the index and the transcript bind each key to its OT.
Block derive_key(std::uint64_t j, const Point& A, const std::uint8_t* B, const Point& P) {
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, 16);
  crypto_generichash_blake2b_update(&st, reinterpret_cast<const unsigned char*>(kDomain), sizeof kDomain - 1);
  unsigned char idx[8];
  for (int i = 0; i < 8; ++i) idx[i] = static_cast<unsigned char>(j >> (8 * i));
  crypto_generichash_blake2b_update(&st, idx, 8);
  crypto_generichash_blake2b_update(&st, A.data(), 32);
  crypto_generichash_blake2b_update(&st, B, 32);
  crypto_generichash_blake2b_update(&st, P.data(), 32);
  unsigned char out[16];
  crypto_generichash_blake2b_final(&st, out, 16);
  Block k;
  std::memcpy(&k, out, 16);
  return k;
}

void require_peer_point(const std::uint8_t* p, const char* what) {
  static const Point identity{};
  if (crypto_core_ristretto255_is_valid_point(p) != 1)
    throw ProtocolError(std::string("base OT: ") + what + " is not a valid ristretto255 encoding");
  if (std::memcmp(p, identity.data(), 32) == 0) throw ProtocolError(std::string("base OT: ") + what + " is the identity point");
}

}  // namespace

void require_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

void BaseOtSender::start(Comm& comm, Role peer) {
  OpScope op(comm.ledger(), "base_ot");
  started_ = true;
  if (comm.phantom()) {
    comm.send_bytes(peer, nullptr, kRistrettoBytes);
    return;
  }
  require_sodium();
  crypto_core_ristretto255_scalar_random(a_.data());
  if (crypto_scalarmult_ristretto255_base(A_.data(), a_.data()) != 0) throw std::runtime_error("base OT: a·G failed");
  comm.send_bytes(peer, A_.data(), kRistrettoBytes);
}

std::vector<std::array<Block, 2>> BaseOtSender::finish(Comm& comm, Role peer, int n) {
  if (!started_) throw std::logic_error("BaseOtSender::finish before start");
  if (n <= 0) throw std::invalid_argument("base OT: the number of OTs must be positive, not " + std::to_string(n));
  started_ = false;
  OpScope op(comm.ledger(), "base_ot");
  const auto msg = comm.recv_bytes(peer, base_ot_receiver_bytes(n));
  if (comm.phantom()) return {};
  Point aA;  // a·A, so that a·(B − A) = a·B − a·A costs an addition, not a second multiplication
  if (crypto_scalarmult_ristretto255(aA.data(), a_.data(), A_.data()) != 0) throw std::runtime_error("base OT: a·A failed");
  std::vector<std::array<Block, 2>> keys(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) {
    const std::uint8_t* B = msg.data() + static_cast<std::size_t>(j) * 32;
    require_peer_point(B, "the receiver's point B");
    Point aB, aB_minus_aA;
    if (crypto_scalarmult_ristretto255(aB.data(), a_.data(), B) != 0) throw ProtocolError("base OT: a·B is the identity");
    crypto_core_ristretto255_sub(aB_minus_aA.data(), aB.data(), aA.data());
    keys[static_cast<std::size_t>(j)] = {derive_key(static_cast<std::uint64_t>(j), A_, B, aB),
                                         derive_key(static_cast<std::uint64_t>(j), A_, B, aB_minus_aA)};
  }
  sodium_memzero(a_.data(), a_.size());
  return keys;
}

std::vector<Block> base_ot_receive(Comm& comm, Role peer, const std::vector<std::uint8_t>& choices) {
  require_bits(choices, "base OT");
  if (choices.empty()) throw std::invalid_argument("base OT: no choices");
  OpScope op(comm.ledger(), "base_ot");
  const int n = static_cast<int>(choices.size());
  const auto a_msg = comm.recv_bytes(peer, kRistrettoBytes);
  if (comm.phantom()) {
    comm.send_bytes(peer, nullptr, base_ot_receiver_bytes(n));
    return {};
  }
  require_sodium();
  require_peer_point(a_msg.data(), "the sender's point A");
  Point A;
  std::memcpy(A.data(), a_msg.data(), 32);
  std::vector<std::uint8_t> B_all(base_ot_receiver_bytes(n));
  std::vector<Point> shared(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) {
    std::uint8_t b[32];
    crypto_core_ristretto255_scalar_random(b);
    Point bG, bG_plus_A;
    if (crypto_scalarmult_ristretto255_base(bG.data(), b) != 0) throw std::runtime_error("base OT: b·G failed");
    crypto_core_ristretto255_add(bG_plus_A.data(), bG.data(), A.data());
    // B = c ? b·G + A : b·G, selected without a branch on the choice bit.
    const std::uint8_t mask = static_cast<std::uint8_t>(-static_cast<int>(choices[static_cast<std::size_t>(j)]));
    std::uint8_t* B = B_all.data() + static_cast<std::size_t>(j) * 32;
    for (int i = 0; i < 32; ++i) B[i] = static_cast<std::uint8_t>((bG[i] & ~mask) | (bG_plus_A[i] & mask));
    if (crypto_scalarmult_ristretto255(shared[static_cast<std::size_t>(j)].data(), b, A.data()) != 0)
      throw ProtocolError("base OT: b·A is the identity");
    sodium_memzero(b, sizeof b);
  }
  comm.send_bytes(peer, B_all.data(), B_all.size());
  std::vector<Block> keys(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j)
    keys[static_cast<std::size_t>(j)] =
        derive_key(static_cast<std::uint64_t>(j), A, B_all.data() + static_cast<std::size_t>(j) * 32, shared[static_cast<std::size_t>(j)]);
  return keys;
}

std::vector<std::array<Block, 2>> base_ot_send(Comm& comm, Role peer, int n) {
  BaseOtSender s;
  s.start(comm, peer);
  return s.finish(comm, peer, n);
}

}  // namespace marill
