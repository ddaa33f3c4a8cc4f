// Example 2: a fixed-point product x*y in two settings, and what it costs: bytes, rounds,
// simulated time over a WAN, per party and per phase (the dealer's traffic is offline).
#include <cstdio>
#include <vector>

#include "actors/session.h"

using namespace marill;

int main() {
  for (Setting setting : {Setting::three_pc, Setting::two_pc_dealer}) {
    SessionConfig cfg;
    cfg.setting = setting;
    cfg.network = network_preset("wan");  // 400 Mbit/s, 20 ms one way
    RingTensor x = cfg.fxp.encode(std::vector<double>(1000, 1.25), {1000});
    RingTensor y = cfg.fxp.encode(std::vector<double>(1000, -3.0), {1000});
    SessionResult res = run_session(cfg, [&](Backend& be) {
      auto own = [&](Role r, const RingTensor& t) { return be.role() == r ? t : RingTensor::phantom(t.shape()); };
      Shared a = be.input(Role::client, own(Role::client, x));  // client's input
      Shared b = be.input(Role::server, own(Role::server, y));  // server's input
      Shared p = be.mul_trunc(a, b);                            // mul, then truncation by 2^-16
      RingTensor v = be.reveal(p, Role::client);
      if (be.role() == Role::client) std::printf("[%s] 1.25 * -3.0 = %.4f\n", setting_name(setting), be.fxp().decode(v)[0]);
    });
    for (const auto& party : res.parties)
      for (Phase ph : {Phase::offline, Phase::online})
        for (const auto& [op, c] : party.ledger.by_op(ph))
          if (c.bytes_sent)
            std::printf("  %-7s %-8s %-7s sent %7llu B\n", role_name(party.role), phase_name(ph), op.c_str(),
                        static_cast<unsigned long long>(c.bytes_sent));
    std::printf("  online: %llu rounds, %.1f ms simulated\n", static_cast<unsigned long long>(res.online_rounds()),
                res.online_time_s() * 1e3);
  }
  return 0;
}
