// The two-party engine: client and server compute on additive shares in Z_2^64; every gate's
// input-independent material comes from a correlation source (correlation_source.h). In the
// 2pc-dealer setting the source is the dealer (its live stream, or key files a dealer run wrote);
// the same online protocol will run over OT/HE-generated material in 2pc.
//
// Costs per element (online bytes sent by each of client/server, rounds; dealer bytes offline):
//   input        owner 8 B, 1 round; offline 0
//   mul          16 B, 1 round (Beaver: open x-a, y-b); offline 8 B (one party's c)
//   square       8 B, 1 round (square pair (a, a^2): open x-a only); offline 8 B
//   matmul m,k,n (m*k + k*n) * 8 B, 1 round; offline m*n*8 B. With a prepared weight (set-up:
//                k*n*8 B once) only m*k*8 B per party online.
//   matmul_cache as matmul with the rows appended since the last product in place of the whole
//                cache (append_rows: each row opened once): a decode step's scores/context open
//                q and P plus the new row, not the S cached rows.
//   trunc        8 B, 1 round, exact up to one unit (floor or floor+1) for |x| < 2^62 (mask with dealt MSB);
//                offline 16 B; trunc_square (its square too): 8 B, 1 round; offline 32 B
//   ltz          8 B, 1 round (open x + r, evaluate a DCF on 63 bits: Boyle et al. 2021, as
//                LLAMA/SIGMA); offline 2 * ltz_key_bytes(64) = 3120 B (bits = 40: 1952 B)
//   negative_part  8 B and 1 bit, 2 rounds (a one-byte-word comparison, then a select on one opened
//                bit: protocols/fss/ltz_gate.h); offline 2 ltz_key_bytes(bits, 1, 1) + 16 B
//   ltz with low   the keys compare x^ >> low: offline 2 ltz_key_bytes(bits - low) (Backend::ltz)
//   ltz_knots    8 B, 1 round and 2 ltz_key_bytes(bits) per element for any number of knots
//   spline       8 B and ceil(log2 pieces) bits in 2 rounds, plus its final truncation (8 B, 1 round),
//                whatever the number of pieces (protocols/fss/spline_gate.h). Offline 2 spline_key_bytes(t)
//                + 2 * 8 B. Online CPU grows with the pieces (one DCF evaluation per knot, a DPF's leaves).
#pragma once

#include <memory>

#include "protocols/mpc/backend.h"
#include "protocols/mpc/correlation_source.h"
#include "protocols/ring/prg.h"

namespace marill {

class TwoPartyBackend final : public Backend {
 public:
  TwoPartyBackend(Comm& comm, std::unique_ptr<PartyDealing> source, const BackendOptions& opt);

  Setting setting() const override { return Setting::two_pc_dealer; }
  Role role() const override;
  bool phantom() const override { return phantom_; }
  Ledger& ledger() override;
  Comm* comm() override { return &comm_; }
  void finish() override { source_->finish(); }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override;
  RingTensor reveal_all(const Shared& x) override;
  Shared mul(const Shared& a, const Shared& b) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared trunc_square(const Shared& x, int bits) override;  // one opening (trunc_gate.h)
  Shared sum_squares(const Shared& v) override { return sum_squares_by_square(*this, v); }
  Shared ltz(const Shared& x, int bits = 64, int low = 0) override;
  // [x < K_i] for every knot from one comparison key per element (evaluated at x^ - K_i, as the
  // spline gate does) and one opening of x: 8 B and ltz_key_bytes(bits) per element, not per knot.
  Shared ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) override;
  Shared prepare_weight(const Shared& w) override;
  Shared append_rows(const Shared& cache, const Shared& rows) override;
  Shared matmul_cache(const Shared& x, Shared& cache, bool transposed) override;
  Shared matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed) override;
  Shared matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset& nonzero) override;
  Shared square(const Shared& a) override;
  Shared spline(const Shared& x, const SplineTable& t) override;
  // One opening for all products.
  std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) override;
  std::vector<Shared> mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights) override;
  Shared negative_part(const Shared& x, int bits, int low = 0) override;
  Shared mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths) override;

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override;

 private:
  RingTensor exchange(const RingTensor& mine);  // send to the other party, receive theirs
  // The same for values of `bits` < 64 bits, packed (packed_words.h); phantom: the sizes only.
  RingTensor exchange_low_bits(const RingTensor& mine, int bits);
  // matmul_cache; x's entries outside `nonzero` (if given) are zero (the caller's promise) and not opened.
  Shared matmul_cache_left(const Shared& x, Shared& cache, bool transposed, const OutputSubset* nonzero);
  RingTensor open_masked(const RingTensor& share, const RingTensor& r);  // x + r, opened to both
  // c = x + r + 2^62 opened for a truncation (trunc_mask.h): the client adds the offset.
  RingTensor open_truncation_input(const Shared& x, const RingTensor& r);
  int party() const { return is_client_ ? 0 : 1; }

  Comm& comm_;
  std::unique_ptr<PartyDealing> source_;
  bool is_client_;
  Role other_;
  bool phantom_;
  Prg prg_own_;  // private: input masks
};

}  // namespace marill
