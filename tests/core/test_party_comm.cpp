// The party communicator against a scripted transport: what arrives from the network is untrusted.
#include <catch2/catch.hpp>

#include <deque>

#include "actors/frame.h"
#include "actors/party_comm.h"

using namespace marill;

namespace {

class ScriptedTransport final : public Transport {
 public:
  std::deque<Incoming> inbox;
  std::vector<std::pair<Role, std::vector<std::uint8_t>>> sent;
  void send(Role to, std::vector<std::uint8_t> bytes) override { sent.emplace_back(to, std::move(bytes)); }
  std::optional<Incoming> receive(std::chrono::milliseconds) override {
    if (inbox.empty()) return std::nullopt;
    Incoming in = std::move(inbox.front());
    inbox.pop_front();
    return in;
  }
  void push(Role actual_sender, FrameHeader h, std::size_t payload) {
    std::vector<std::uint8_t> p(payload, 0x5a);
    inbox.push_back(Incoming{encode_frame(h, p.data(), p.size()), actual_sender});
  }
};

FrameHeader header(Role from, Role to, u64 bytes, u64 seq = 0) {
  FrameHeader h;
  h.from = static_cast<std::uint8_t>(from);
  h.to = static_cast<std::uint8_t>(to);
  h.payload_bytes = bytes;
  h.seq = seq;
  return h;
}

PartyComm make(ScriptedTransport& t) {
  return PartyComm(Role::client, {Role::server, Role::helper}, t, network_preset("lan"), false,
                   std::chrono::milliseconds(50));
}

}  // namespace

TEST_CASE("a frame whose claimed sender differs from the real one is rejected", "[comm][errors]") {
  ScriptedTransport t;
  t.push(Role::helper, header(Role::server, Role::client, 8), 8);  // helper pretends to be the server
  PartyComm c = make(t);
  CHECK_THROWS_WITH(c.recv_bytes(Role::server, 8), Catch::Contains("claims sender 1 but came from helper"));
}

TEST_CASE("a message from outside the session is rejected", "[comm][errors]") {
  ScriptedTransport t;
  t.inbox.push_back(Incoming{encode_frame(header(Role::server, Role::client, 0), nullptr, 0), std::nullopt});
  PartyComm c = make(t);
  CHECK_THROWS_WITH(c.recv_bytes(Role::server, 0), Catch::Contains("not a peer in this session"));
  CHECK_THROWS_WITH(c.recv_bytes(Role::dealer, 0), Catch::Contains("dealer, not a peer"));
}

TEST_CASE("frames are delivered per peer, in order, and sizes are checked", "[comm]") {
  ScriptedTransport t;
  t.push(Role::helper, header(Role::helper, Role::client, 16), 16);
  t.push(Role::server, header(Role::server, Role::client, 8), 8);
  t.push(Role::server, header(Role::server, Role::client, 8, 5), 8);  // a gap in the sequence
  PartyComm c = make(t);
  CHECK(c.recv_bytes(Role::server, 8).size() == 8);   // the helper's frame waits in its queue
  CHECK(c.recv_bytes(Role::helper, 16).size() == 16);
  CHECK_THROWS_WITH(c.recv_bytes(Role::server, 8), Catch::Contains("out-of-order frame from server"));
}

TEST_CASE("an empty line times out with the peer named", "[comm][errors]") {
  ScriptedTransport t;
  PartyComm c = make(t);
  CHECK_THROWS_WITH(c.recv_bytes(Role::helper, 8), Catch::Contains("waiting for helper"));
}

TEST_CASE("sending stamps sender, sequence, hops and virtual arrival", "[comm][sim]") {
  ScriptedTransport t;
  PartyComm c = make(t);
  std::vector<std::uint8_t> p(2000, 1);
  c.send_bytes(Role::server, p.data(), p.size());
  c.send_bytes(Role::server, p.data(), p.size());
  REQUIRE(t.sent.size() == 2);
  Frame f = decode_frame(std::move(t.sent[1].second));
  CHECK(f.header.from == static_cast<std::uint8_t>(Role::client));
  CHECK(f.header.seq == 1);
  // second message queues behind the first: 2 * 2000 B at 16 Gbit/s + 0.1 ms (+ CPU time charged)
  CHECK(f.header.arrival >= 2 * 2000 * 8 / 16e9 + 1e-4);
  CHECK(c.ledger().total(Phase::online).bytes_sent == 4000);
  CHECK(c.ledger().total(Phase::online).framing_bytes == 2 * frame_header_bytes());
}
