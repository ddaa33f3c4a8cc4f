// The dealer of 2pc-dealer: it runs the *same program* as the online parties (as in EzPC/SIGMA),
// with shape-only values, and at each gate deals that gate's material (the gates' deal_* functions,
// protocols/fss/) to its output: the live stream to the parties, or key files. It never receives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "protocols/mpc/backend.h"
#include "protocols/mpc/correlation_source.h"

namespace marill {

class DealerBackend final : public Backend {
 public:
  DealerBackend(Ledger& ledger, std::unique_ptr<DealerDealing> dealing, const BackendOptions& opt, Comm* comm = nullptr);

  Setting setting() const override { return Setting::two_pc_dealer; }
  Role role() const override { return Role::dealer; }
  bool phantom() const override { return true; }  // the dealer never holds values
  bool real_run() const override;
  Ledger& ledger() override { return ledger_; }
  Comm* comm() override { return comm_; }
  void finish() override { dealing_->finish(); }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override;
  RingTensor reveal_all(const Shared& x) override;
  Shared mul(const Shared& a, const Shared& b) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  std::vector<Shared> mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared ltz(const Shared& x, int bits = 64, int low = 0) override;
  Shared ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) override;
  Shared negative_part(const Shared& x, int bits, int low = 0) override;
  Shared trunc_square(const Shared& x, int bits) override;
  Shared sum_squares(const Shared& v) override { return sum_squares_by_square(*this, v); }
  Shared mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths) override;
  Shared prepare_weight(const Shared& w) override;
  Shared append_rows(const Shared& cache, const Shared& rows) override;
  Shared matmul_cache(const Shared& x, Shared& cache, bool transposed) override;
  Shared matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed) override;
  Shared matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset& nonzero) override;
  Shared square(const Shared& a) override;
  Shared spline(const Shared& x, const SplineTable& t) override;

 protected:
  void add_public_inplace(Shared&, const RingTensor&) override {}

 private:
  // matmul_cache's material, A zero outside `nonzero` (if given) as the parties deal it.
  Shared matmul_cache_left(const Shared& x, const Shared& cache, bool transposed, const std::vector<i64>* nonzero);
  Ledger& ledger_;
  std::unique_ptr<DealerDealing> dealing_;
  Comm* comm_;
};

// A dealer run of its own (no online party needed): runs `program` on the dealer's backend and
// writes DIR/client.keys and DIR/server.keys (key_file.h). opt.phantom must be false.
struct DealReport {
  Ledger ledger;  // offline bytes per op path: what a live dealer would send (key set-up aside)
  std::uint64_t run_id = 0;
  std::uint64_t file_bytes[2] = {0, 0};  // client's and server's key file sizes
  double cpu_s = 0;
};
DealReport deal_key_files(const BackendOptions& opt, const std::string& dir, const std::function<void(Backend&)>& program);

}  // namespace marill
