// 3pc: replicated secret sharing among client (P0), server (P1) and helper (P2), honest majority,
// semi-honest (ABY3 family). x = x0 + x1 + x2; P_i holds (x_i, x_{i+1}). Each adjacent pair shares
// an AES-CTR PRG key agreed at set-up, which yields zero-sharings and common masks for free.
//
// Costs per output element (bytes sent by each party, rounds):
//   input        owner 8 B, 1 round          reveal(to)  one party 8 B, 1 round; reveal_all 8 B each
//   mul, matmul  8 B per party, 1 round (matmul: per output element)
//   trunc        by d: (16 + (3d + 1)/8) / 3 B per party (7.4 B at d = 16), 3 rounds: exact up to
//                one unit (floor or floor+1) for |x| < 2^62; a dealt mask with known MSB
//                (protocols/fss/trunc_mask.h; no probabilistic wrap) built from pair-PRG words so
//                only d-bit corrections are dealt, the dealer role rotated over three parts of the
//                elements (backend_3pc_trunc.cpp)
//   mul_trunc,   fused: the 3-of-3 product is truncated directly, (24 + (3d + 1)/8) / 3 B per party
//   matmul_trunc (10.0 B at d = 16), 3 rounds (mul then trunc: 15.4 B, 4 rounds); mul_trunc_bits
//                at any d; matmul_cache_trunc_kept: per kept output only
//   ltz          the helper deals bit correlations for a comparison with nothing opened
//                (backend_3pc_compare.cpp): the helper knows one addend of x (its two components),
//                client and server the other (their common component); the helper deals the
//                monomials of its addend's chunks (TinyTable-style, chunks of two and three bits),
//                client and server compare them with their addend locally and combine the chunks
//                with Beaver ANDs in a log-depth tree, turn the bit arithmetic with a dealt bit and
//                re-share it; the three roles rotate over thirds of the elements (over calls under
//                192 elements):
//                k = 64: 20 B per party, 10 rounds (the tree two levels deeper than it need be,
//                for 6 bits fewer; ABY3's MSB extraction alone quotes 36 B and 8 rounds, before its
//                bit injection); k = bits - low in general (Backend::ltz: only the high bits asked
//                for), k = 22: 11.75 B, 6 rounds
//   negative_part [x < 0] x on the comparison's dealt bit: the helper deals beta (x0 + x2)'s share,
//                one word more at the helper of each third (8/3 B per party), ltz's rounds (ltz
//                then mul: a word more each and a round)
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
  Shared ltz(const Shared& x, int bits = 64, int low = 0) override;
  // [x < 0] x with the comparison's dealt bit: the product costs the comparison's helper one word
  // more and no re-sharing of its own (ltz + mul: two words and a round more).
  Shared negative_part(const Shared& x, int bits, int low = 0) override;
  Shared mul_trunc(const Shared& a, const Shared& b) override { return mul_trunc_bits(a, b, frac_bits()); }
  Shared mul_trunc_bits(const Shared& a, const Shared& b, int bits) override;  // fused
  Shared matmul_trunc(const Shared& a, const Shared& b) override { return matmul_trunc_bits(a, b, frac_bits()); }
  Shared matmul_cache_trunc_kept(const Shared& x, Shared& cache, bool transposed, const OutputSubset& kept) override;  // fused
  Shared mmul_sv_trunc(const Shared& x, const PrivateWeight& w, int bits) override;  // fused
  Shared mul_rows_trunc(const Shared& x, const Shared& y, const RowLengths& lengths, int bits) override;  // fused
  std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) override;  // one reshare

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override;

 private:
  RingTensor zero_share(const Shape& shape);  // 3-of-3 additive sharing of zero
  Shared reshare(RingTensor z);               // 3-of-3 additive -> replicated, 1 round
  // [x < 0] (backend_3pc_compare.cpp), or [x < 0] x when times_x; roles rotate over thirds.
  Shared compare(const Shared& x, int bits, int low, bool times_x);
  Shared matmul_trunc_bits(const Shared& a, const Shared& b, int bits);  // fused, booked as matmul_trunc
  // Replicated shares of v >> d (backend_3pc_trunc.cpp) with the dealer role rotated over three
  // parts of the elements, v = z_A + z_B (+ z_H): in a part where this party is the pair's first
  // (A) its z is `first`, the second (B) `second`, the dealer (H) `*dealer`, or nothing when null
  // (the dealer holds no part of v). 3 rounds.
  Shared trunc_parts(const RingTensor& first, const RingTensor& second, const RingTensor* dealer, int d);
  void send_bits(Role to, const Bits& b);
  Bits recv_bits(Role from, i64 n, int planes);
  // Values' low d bits, packed element-major without padding (protocols/ot/block.h's BitWriter).
  void send_low_bits(Role to, const RingTensor& t, int d);
  RingTensor recv_low_bits(Role from, const Shape& shape, int d);

  Comm& comm_;
  int me_;
  Role next_, prev_;
  bool phantom_;
  Prg prg_next_;  // key shared with P_{i+1}
  Prg prg_prev_;  // key shared with P_{i-1}
  Prg prg_own_;   // private
  u64 small_compares_ = 0;  // comparisons under 192 elements rotate their dealer over these calls
};

}  // namespace marill
