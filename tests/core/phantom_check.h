// Phantom equals real: a program run on phantom tensors (shapes only) must send exactly what the
// real run sends, so phantom benchmarks at scale report true costs. One check used by every test
// that runs a program both ways.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "tests/core/harness.h"

namespace marill::test {

// Every difference between two runs' ledgers, one line each ("server offline mul/trunc: bytes 80 vs
// 88"): per party, per phase, the totals and each op path's bytes, framing, messages, rounds and
// calls. Empty when the costs are equal.
inline std::vector<std::string> cost_differences(const SessionResult& a, const SessionResult& b) {
  std::vector<std::string> out;
  auto compare = [&out](const std::string& where, const OpCost& x, const OpCost& y) {
    auto field = [&](const char* name, u64 u, u64 v) {
      if (u == v) return;
      std::ostringstream s;
      s << where << ": " << name << " " << u << " vs " << v;
      out.push_back(s.str());
    };
    field("bytes", x.bytes_sent, y.bytes_sent);
    field("framing bytes", x.framing_bytes, y.framing_bytes);
    field("messages", x.messages, y.messages);
    field("rounds", x.rounds, y.rounds);
    field("calls", x.calls, y.calls);
  };
  if (a.parties.size() != b.parties.size()) {
    out.push_back("party count " + std::to_string(a.parties.size()) + " vs " + std::to_string(b.parties.size()));
    return out;
  }
  for (size_t i = 0; i < a.parties.size(); ++i) {
    const std::string party = role_name(a.parties[i].role);
    for (Phase p : {Phase::offline, Phase::online}) {
      const std::string where = party + (p == Phase::offline ? " offline" : " online");
      compare(where + " total", a.parties[i].ledger.total(p), b.parties[i].ledger.total(p));
      const auto& ma = a.parties[i].ledger.by_op(p);
      const auto& mb = b.parties[i].ledger.by_op(p);
      for (const auto& [path, cost] : ma) {
        auto it = mb.find(path);
        if (it == mb.end()) out.push_back(where + " " + path + ": only in the first run");
        else compare(where + " " + path, cost, it->second);
      }
      for (const auto& [path, cost] : mb)
        if (!ma.count(path)) out.push_back(where + " " + path + ": only in the second run");
    }
  }
  return out;
}

// `run(phantom)` runs one program in one setting, real (false) or phantom (true), and returns its
// ledgers; requires the two runs' costs equal. The program must take its inputs as
// RingTensor::phantom when be.phantom() (run_binary and phantom_equals_real below do).
inline void require_phantom_equals_real(const std::function<SessionResult(bool phantom)>& run) {
  const SessionResult real = run(false), phantom = run(true);
  const std::vector<std::string> diffs = cost_differences(real, phantom);
  std::ostringstream all;
  for (const auto& d : diffs) all << "\n  " << d;
  INFO(setting_name(real.setting) << ": real vs phantom differ in" << all.str());
  REQUIRE(diffs.empty());
}

// The same for a program built per session config (cfg.phantom is set for each run).
inline void require_phantom_equals_real(SessionConfig cfg, const Program& program) {
  require_phantom_equals_real([&](bool phantom) {
    cfg.phantom = phantom;
    return run_session(cfg, program);
  });
}

// The same for run_binary's shape of program: a (client) and b (server) shared, op applied, revealed.
inline void require_phantom_equals_real(Setting s, const RingTensor& a, const RingTensor& b, const BinaryOp& op) {
  require_phantom_equals_real([&](bool phantom) {
    SessionResult res;
    run_binary(s, a, b, op, &res, phantom);
    return res;
  });
}

}  // namespace marill::test
