// The simulated network: link model, queueing, virtual clocks and rounds.
#include "tests/core/harness.h"

#include "protocols/comm/comm.h"
#include "sim/network.h"

using namespace marill;

TEST_CASE("k dependent ping-pongs over wan take k*(2*20ms + 2*s/bw) and 2k rounds", "[sim]") {
  const int k = 5;
  const u64 s = 250000;  // bytes per message
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  cfg.network = network_preset("wan");
  cfg.charge_compute = false;  // network only: compute would add its measured CPU time
  std::vector<std::uint8_t> payload(s, 7);
  SessionResult res = run_session(cfg, [&](Backend& be) {
    Comm* c = be.comm();
    if (be.role() == Role::dealer) return;
    for (int i = 0; i < k; ++i) {
      if (be.role() == Role::client) {
        c->send_bytes(Role::server, payload.data(), s);
        c->recv_bytes(Role::server, s);
      } else {
        c->recv_bytes(Role::client, s);
        c->send_bytes(Role::client, payload.data(), s);
      }
    }
  });
  const double expect = k * (2 * 0.020 + 2 * static_cast<double>(s) * 8 / 400e6);
  const auto& client = res.party(Role::client).ledger.total(Phase::online);
  CHECK(client.sim_s == Approx(expect).epsilon(1e-9));
  CHECK(client.rounds == static_cast<u64>(2 * k));
  CHECK(res.online_rounds() == static_cast<u64>(2 * k));
  CHECK(client.bytes_sent == static_cast<u64>(k) * s);
}

TEST_CASE("messages queue behind earlier ones on the same link", "[sim]") {
  LinkQueue q(LinkModel{8e6, 0.01});  // 1 MB/s, 10 ms
  CHECK(q.transmit(0.0, 1000000) == Approx(1.01));
  CHECK(q.transmit(0.0, 1000000) == Approx(2.01));  // waited for the first to leave the link
  CHECK(q.transmit(5.0, 0) == Approx(5.01));
}

TEST_CASE("network presets and custom links", "[sim]") {
  CHECK(network_preset("lan").link.bandwidth_bps == 16e9);
  CHECK(network_preset("lan").link.latency_s == 1e-4);
  CHECK(network_preset("wan").link.bandwidth_bps == 400e6);
  CHECK(network_preset("wan").link.latency_s == 0.020);
  auto c = network_preset("custom:bw=1Gbit,lat=5ms");
  CHECK(c.link.bandwidth_bps == 1e9);
  CHECK(c.link.latency_s == Approx(0.005));
  CHECK_THROWS_WITH(network_preset("moon"), Catch::Contains("unknown network 'moon'"));
  CHECK_THROWS_WITH(network_preset("custom:bw=1e9"), Catch::Contains("needs both"));
  CHECK_THROWS_WITH(network_preset("custom:bw=1e9,lat=1,jitter=2"), Catch::Contains("unknown key 'jitter'"));
}
