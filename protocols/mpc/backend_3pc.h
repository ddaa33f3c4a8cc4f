// 3pc: replicated secret sharing among client (P0), server (P1) and helper (P2), honest majority,
// semi-honest (ABY3 family). x = x0 + x1 + x2; P_i holds (x_i, x_{i+1}). Each adjacent pair shares
// an AES-CTR PRG key agreed at set-up, which yields zero-sharings and common masks for free.
//
// Costs per output element (bytes sent by each party, rounds):
//   input        owner 8 B, 1 round          reveal(to)  one party 8 B, 1 round; reveal_all 8 B each
//   mul, matmul  8 B per party, 1 round (matmul: per output element)
//   trunc        P0 16 B, P1 16 B, P2 16 B, 2 rounds: exact up to one unit (floor or floor+1) for
//                |x| < 2^62, helper-dealt mask with known MSB (protocols/fss/trunc_mask.h; no
//                probabilistic wrap)
//   mul_trunc,   fused: the 3-of-3 product is truncated directly: P0 16 B, P1 16 B, P2 32 B,
//   matmul_trunc 2 rounds (mul then trunc would take 24 B each and 3 rounds)
//   ltz          MSB by bit extraction: carry-save adder + log-depth carry tree on bit planes
//                (~236 bits, 8 rounds at K = 64; ABY3: 4K+32 bits, log K + 2 rounds), then
//                bit-to-arithmetic by two muls (16 B, 2 rounds): ~46 B, 10 rounds in total.
#pragma once

#include "protocols/mpc/backend.h"
#include "protocols/ring/bits.h"
#include "protocols/ring/prg.h"

namespace marill {

class ThreePcBackend final : public Backend {
 public:
  // Agrees the pair keys with both neighbours through comm (set-up traffic, offline phase).
  ThreePcBackend(Comm& comm, const BackendOptions& opt);

  Setting setting() const override { return Setting::three_pc; }
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
  Shared mul_trunc(const Shared& a, const Shared& b) override;     // fused: 2 rounds
  Shared matmul_trunc(const Shared& a, const Shared& b) override;  // fused: 2 rounds
  std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) override;  // one reshare

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override;

 private:
  struct BShare {  // binary replicated sharing: (b_i, b_{i+1})
    Bits a, b;
  };
  RingTensor zero_share(const Shape& shape);  // 3-of-3 additive sharing of zero
  Shared reshare(RingTensor z);               // 3-of-3 additive -> replicated, 1 round
  // z: this party's part of a sum z_P0 + z_P1 (+ z_P2 if helper_holds_part; otherwise the
  // helper's z is ignored). Returns replicated shares of (sum) >> d. 2 rounds.
  Shared trunc_additive(RingTensor z, int d, bool helper_holds_part);
  std::vector<BShare> and_many(const std::vector<BShare>& x, const std::vector<BShare>& y);
  BShare msb_binary(const Shared& x, int K);  // binary sharing of bit K-1 of x, one plane
  void send_bits(Role to, const Bits& b);
  Bits recv_bits(Role from, i64 n, int planes);

  Comm& comm_;
  int me_;
  Role next_, prev_;
  bool phantom_;
  Prg prg_next_;  // key shared with P_{i+1}
  Prg prg_prev_;  // key shared with P_{i-1}
  Prg prg_own_;   // private
};

}  // namespace marill
