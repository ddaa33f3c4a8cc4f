// The 2pc setting: client and server alone, no helper and no dealer. Additive shares in Z_2^64 as in
// 2pc-dealer, but every gate makes its own correlated randomness online: oblivious transfer for the
// non-linear gates and element-wise products (protocols/nonlinear/ot_gates.h, Gilboa products from
// protocols/ot/ot_triples.h), lattice-based homomorphic encryption for matrix products
// (protocols/he/he_matmul.h), as Cheetah and SecretFlow-SPU's 2PC. Private weights never leave
// their owner, the server: x·W runs under HE with W in the clear at the server.
//
// Costs per element (bytes both parties together; R = ⌈128/k⌉ bits of OT-extension columns per OT
// over SoftSpokenOT with chunks of k bits, CorrelationOptions::ot_softspoken_k, 8 by default: 16 bits;
// rounds are round trips):
//   input          owner 8 B, 1 flight
//   mul            2 Gilboa products: 2 × 64 COTs (columns 64R) + 2 × 2080 correction bits, 1 round trip
//   square         1 Gilboa product (x0·x1 once, doubled)
//   mul by a bit   an ltz output times a value: the bit's XOR shares are its shares' LSBs, so the
//                  product is CrypTFlow2's mux: 2 COTs, 2R + 128 bits, 1 round trip (also select)
//   trunc          1 COT of d bits: R + d bits, 1 round trip (ot_gates.h)
//   ltz(64)        millionaires' on 63 bits + b2a (ot_gates.h: ltz_bytes), 6 round trips
//   matmul         shared × shared: two HE products of the cross terms (he_matmul.h), 1 round trip;
//                  where m·k·n Gilboa products send fewer bytes (row sums of squares, tiny products)
//                  those instead, summed locally
//   mmul_sv        shared x × the server's W: one HE product, 1 round trip (a long inner dimension in
//                  parts whose noise fits, the parts' shares summed)
// Set-up, once per session, on first use and in the offline phase: base OTs of both directions,
// the client's HE public and Galois keys.
#pragma once

#include <memory>

#include "protocols/he/he_matmul.h"
#include "protocols/mpc/backend.h"
#include "protocols/nonlinear/ot_gates.h"
#include "protocols/ring/prg.h"

namespace marill {

class TwoPcBackend final : public Backend {
 public:
  TwoPcBackend(Comm& comm, const BackendOptions& opt);
  ~TwoPcBackend() override;

  Setting setting() const override { return Setting::two_pc; }
  Role role() const override;
  bool phantom() const override { return phantom_; }
  Ledger& ledger() override;
  Comm* comm() override { return &comm_; }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override;
  RingTensor reveal_all(const Shared& x) override;
  Shared mul(const Shared& a, const Shared& b) override;
  Shared square(const Shared& a) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared ltz(const Shared& x, int bits = 64, int low = 0) override;
  Shared select(const Shared& bit, const Shared& a, const Shared& b) override;
  Shared ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) override;
  PrivateWeight setup_private_weight(const Private& w) override;
  Shared mmul_sv(const Shared& x, const PrivateWeight& w) override;
  std::vector<Shared> mmul_sv_many(const std::vector<std::pair<Shared, const PrivateWeight*>>& products) override;

  // The OT extension's chunk size (CorrelationOptions::ot_softspoken_k).
  int softspoken_k() const { return softspoken_k_; }
  // Bytes (both parties) of a shared (m,k) x (k,n) product by HE, and of `products` element-wise
  // products by Gilboa's OT method: matmul takes the cheaper.
  static u64 he_shared_bytes(i64 m, i64 k, i64 n);
  static u64 ot_shared_bytes(i64 products, int softspoken_k);
  // Private weights are fixed point with |w| < 2^kWeightIntegerBits (a public bound the HE noise
  // analysis uses; the server refuses a weight beyond it).
  static constexpr int kWeightIntegerBits = 8;
  HeMatmulOptions he_options() const;
  // Parts the inner dimension of an (m,k)·(k,n) HE product is cut into so its noise fits.
  int he_k_splits(i64 m, i64 k, i64 n) const;

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override;

 private:
  OtGates& gates();  // sets up the base OTs on first use
  HeMatmul& he();    // sends / receives the HE keys on first use
  Shared bit_times(const Shared& bit, const Shared& v);  // mux on the bit's LSB shares

  Comm& comm_;
  bool is_client_;
  Role other_;
  bool phantom_;
  int softspoken_k_;
  Prg prg_own_;
  OtGates gates_;
  std::unique_ptr<HeMatmul> he_;
};

}  // namespace marill
