// The cleartext backend: the fixed-point reference. Same encodings and the same truncation
// (floor) as the secure backends, no parties, no communication. Used for accuracy work and as
// the oracle the secure backends are tested against.
#pragma once

#include "protocols/mpc/backend.h"

namespace marill {

class CleartextBackend final : public Backend {
 public:
  explicit CleartextBackend(FixedPoint fxp, const std::optional<FunctionPolicy>& policy = {})
      : Backend(fxp, policy ? *policy : default_policy(Setting::cleartext)) {}
  Setting setting() const override { return Setting::cleartext; }
  Role role() const override { return Role::client; }
  bool phantom() const override { return false; }
  Ledger& ledger() override { return ledger_; }

  Shared input(Role owner, const RingTensor& value) override;
  RingTensor reveal(const Shared& x, Role to) override { return x.s0; }
  RingTensor reveal_all(const Shared& x) override { return x.s0; }
  Shared mul(const Shared& a, const Shared& b) override;
  Shared matmul(const Shared& a, const Shared& b) override;
  Shared trunc(const Shared& x, int bits) override;
  Shared ltz(const Shared& x, int bits = 64, int low = 0) override;

 protected:
  void add_public_inplace(Shared& a, const RingTensor& c) override { add_inplace(a.s0, c); }

 private:
  Ledger ledger_;
};

}  // namespace marill
