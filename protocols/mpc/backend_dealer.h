// 2pc-dealer: client and server compute on additive shares; the dealer supplies input-independent
// correlated randomness. The dealer runs the *same program* under KeygenBackend (as in EzPC/SIGMA):
// its values are shape-only, and each primitive it meets produces the material the online parties
// consume at that point. Its traffic is the offline phase; client<->server traffic is online.
//
// Share PRGs: the dealer keys one AES-CTR PRG with each party at set-up, so every mask a party can
// derive itself costs no offline bytes; the dealer sends only corrections and FSS keys.
//
// Costs per element (online bytes sent by each of client/server, rounds; offline dealer bytes):
//   input        owner 8 B, 1 round; offline 0
//   mul          16 B, 1 round (Beaver: open x-a, y-b); offline 8 B (server's c)
//   square       8 B, 1 round (square pair (a, a^2): open x-a only); offline 8 B
//   matmul m,k,n (m*k + k*n) * 8 B, 1 round; offline m*n*8 B. With a prepared weight (set-up:
//                k*n*8 B once) only m*k*8 B per party online.
//   trunc        8 B, 1 round, exact up to one unit (floor or floor+1) for |x| < 2^62 (mask with dealt MSB);
//                offline 16 B
//   ltz          8 B, 1 round (open x + r, evaluate a DCF on 63 bits: Boyle et al. 2021, as
//                LLAMA/SIGMA); offline 2 * ltz_key_bytes(64) = 3120 B (bits = 40: 1952 B)
//   spline       degree 2: 32 B, 3 rounds; degree 1: 24 B, 3 rounds, whatever the number of pieces m.
//                FSS spline gate: open x + r; ONE comparison key on r evaluated at x^ - K_i for
//                every knot gives shares of [x >= K_i] (the multiple-interval trick of Boyle et al.
//                2021), so the piece's coefficients c_j are local linear combinations; open
//                c_j + s_j (j >= 1) and form c_j x^j = c_j (x^ - r)^j from dealt shares of r^k and
//                s_j r^k; one trunc. Offline 2 ltz_key_bytes(cmp_bits) + (d + d(d+1)/2 + 2) * 8 B.
//                Online CPU grows with m (one DCF evaluation per knot per element).
#pragma once

#include "protocols/mpc/backend.h"
#include "protocols/ring/prg.h"

namespace marill {

class DealerOnlineBackend final : public Backend {
 public:
  DealerOnlineBackend(Comm& comm, const BackendOptions& opt);

  Setting setting() const override { return Setting::two_pc_dealer; }
  Role role() const override;
  bool phantom() const override { return phantom_; }
  Ledger& ledger() override;
  Comm* comm() override { return &comm_; }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override;
  RingTensor reveal_all(const Shared& x) override;
  Shared mul(const Shared& a, const Shared& b) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared ltz(const Shared& x, int bits = 64) override;
  Shared prepare_weight(const Shared& w) override;
  Shared square(const Shared& a) override;
  Shared spline(const Shared& x, const SplineTable& t) override;
  // One opening for all products (the dealer's side is the default loop: same material, same order).
  std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) override;

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override;

 private:
  RingTensor exchange(const RingTensor& mine);  // send to the other party, receive theirs
  RingTensor from_dealer(const Shape& shape);   // server: correction; client: its PRG draw

  Comm& comm_;
  bool is_client_;
  Role other_;
  bool phantom_;
  Prg prg_dealer_;  // shared with the dealer
  Prg prg_own_;     // private
};

// The dealer's backend: same program, shape-only values, emits the correlated randomness.
class KeygenBackend final : public Backend {
 public:
  KeygenBackend(Comm& comm, const BackendOptions& opt);

  Setting setting() const override { return Setting::two_pc_dealer; }
  Role role() const override { return Role::dealer; }
  bool phantom() const override { return true; }  // the dealer never holds values
  Ledger& ledger() override;
  Comm* comm() override { return &comm_; }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override;
  RingTensor reveal_all(const Shared& x) override;
  Shared mul(const Shared& a, const Shared& b) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared ltz(const Shared& x, int bits = 64) override;
  Shared prepare_weight(const Shared& w) override;
  Shared square(const Shared& a) override;
  Shared spline(const Shared& x, const SplineTable& t) override;

 protected:
  void add_public_inplace(Shared&, const RingTensor&) override {}

 private:
  Shared shape_only(const Shape& s) const { return Shared{RingTensor::phantom(s), {}}; }
  Comm& comm_;
  bool mode_phantom_;  // phantom run: no randomness, sizes only
  Prg prg_client_;
  Prg prg_server_;
  Prg prg_own_;
};

}  // namespace marill
