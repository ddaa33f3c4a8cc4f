#include <catch2/catch.hpp>

#include "actors/memory_transport.h"
#include "actors/party_error.h"

using namespace marill;

TEST_CASE("run_comm_pair: messages both ways, bytes on each ledger, clocks advance") {
  const auto res = run_comm_pair(
      Role::client,
      [](Comm& c) {
        RingTensor x({3}, {1, 2, 3});
        c.send(Role::server, x);
        RingTensor y = c.recv(Role::server, Shape{2});
        CHECK(y[0] == 10);
        CHECK(y[1] == 20);
      },
      Role::server,
      [](Comm& c) {
        RingTensor x = c.recv(Role::client, Shape{3});
        CHECK(x[2] == 3);
        c.send(Role::client, RingTensor({2}, {10, 20}));
      },
      network_preset("wan"));
  CHECK(res.a.total(Phase::online).bytes_sent == 24);
  CHECK(res.b.total(Phase::online).bytes_sent == 16);
  // two one-way hops on the WAN: at least two latencies
  CHECK(res.a.clock[static_cast<int>(Phase::online)].sim_time >= 2 * network_preset("wan").link.latency_s);
}

TEST_CASE("run_comm_pair: a failing side is reported, its peer stops without waiting for the timeout") {
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(run_comm_pair(
                        Role::client, [](Comm&) { throw ProtocolError("client gave up"); }, Role::server,
                        [](Comm& c) { (void)c.recv(Role::client, Shape{1}); }, network_preset("lan"), false, std::chrono::milliseconds(20000)),
                    Catch::Contains("client gave up"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("run_comm_pair: a wrong-size message is a protocol error") {
  CHECK_THROWS_AS(run_comm_pair(
                      Role::client, [](Comm& c) { c.send(Role::server, RingTensor({2}, {1, 2})); }, Role::server,
                      [](Comm& c) { (void)c.recv(Role::client, Shape{3}); }),
                  ProtocolError);
}
