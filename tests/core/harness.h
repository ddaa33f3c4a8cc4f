// Test helpers: run a small program in a setting and collect what the client sees.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <mutex>

#include "actors/session.h"
#include "protocols/ring/prg.h"

namespace marill::test {

inline RingTensor random_fixed(const Shape& shape, double lo, double hi, const FixedPoint& fxp) {
  Prg prg = Prg::from_os();
  RingTensor t(shape);
  for (i64 i = 0; i < t.numel(); ++i) {
    double u = static_cast<double>(prg.next_u64() >> 11) / 9007199254740992.0;  // [0,1)
    t[i] = fxp.encode(lo + (hi - lo) * u);
  }
  return t;
}

inline RingTensor random_ring(const Shape& shape) { return Prg::from_os().random(shape); }

// A test session: every wait bounded by 30 s.
inline SessionConfig test_session(Setting setting, bool phantom) {
  SessionConfig cfg;
  cfg.setting = setting;
  cfg.phantom = phantom;
  cfg.recv_timeout = std::chrono::milliseconds(30000);
  return cfg;
}

// Shares a (client) and b (server), applies op, reveals to all; returns the client's view.
// Works for every setting, cleartext included.
using BinaryOp = std::function<Shared(Backend&, const Shared&, const Shared&)>;
inline RingTensor run_binary(Setting setting, const RingTensor& a, const RingTensor& b, const BinaryOp& op,
                             SessionResult* out = nullptr, bool phantom = false) {
  const SessionConfig cfg = test_session(setting, phantom);
  RingTensor result;
  std::mutex mu;
  Program prog = [&](Backend& be) {
    auto mine = [&](Role r, const RingTensor& v) { return ((be.role() == r || be.setting() == Setting::cleartext) && !phantom) ? v : RingTensor::phantom(v.shape()); };
    Shared x = be.input(Role::client, mine(Role::client, a));
    Shared y = be.input(Role::server, mine(Role::server, b));
    Shared z = op(be, x, y);
    RingTensor v = be.reveal(z, Role::client);
    if (be.role() == Role::client) {
      std::lock_guard<std::mutex> lock(mu);
      result = v;
    }
  };
  SessionResult res = run_session(cfg, prog);
  if (out) *out = std::move(res);
  return result;
}

inline const std::vector<Setting>& secure_settings() {
  static const std::vector<Setting> s{Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc};
  return s;
}
// Cleartext, the reference every secure setting is held to, and the secure settings.
inline const std::vector<Setting>& all_settings() {
  static const std::vector<Setting> s{Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc};
  return s;
}

// Largest |a_i - b_i| read as signed ring values.
inline u64 max_ring_diff(const RingTensor& a, const RingTensor& b) {
  REQUIRE(a.shape() == b.shape());
  u64 m = 0;
  for (i64 i = 0; i < a.numel(); ++i) {
    i64 d = static_cast<i64>(a[i] - b[i]);
    u64 ad = d < 0 ? static_cast<u64>(-d) : static_cast<u64>(d);
    m = std::max(m, ad);
  }
  return m;
}

// The op's bytes sent by `r` in phase `ph` (0 if the op does not appear there).
inline u64 op_bytes(const SessionResult& res, Role r, const std::string& op, Phase ph = Phase::online) {
  const auto& m = res.party(r).ledger.by_op(ph);
  auto it = m.find(op);
  return it == m.end() ? 0 : it->second.bytes_sent;
}

inline u64 op_rounds(const SessionResult& res, const std::string& op) { return res.op_rounds(op); }

}  // namespace marill::test
