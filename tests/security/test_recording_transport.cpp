// The recording transport itself: it sees every frame on both ends, changes none, and labels
// frames by the op the program marked. The security tests below rely on all three.
#include "tests/security/security_harness.h"

#include <map>
#include <tuple>

using namespace marill;
using namespace marill::sectest;

namespace {

u64 payload_bytes_sent(const FrameLog& log, Role party) {
  u64 n = 0;
  for (const auto& f : log.frames(party, FrameDirection::sent)) n += f.header.payload_bytes;
  return n;
}

}  // namespace

TEST_CASE("the recording transport sees each frame once at the sender and once at the receiver", "[security][recording]") {
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    const RingTensor a = seeded_fixed({64}, -4, 4, 1), b = seeded_fixed({64}, -4, 4, 2);
    RingTensor product;
    Recorded rec = run_recorded(s, [&](Backend& be, FrameLog&) {
      Shared x = be.input(Role::client, own(be, Role::client, a));
      Shared y = be.input(Role::server, own(be, Role::server, b));
      RingTensor v = be.reveal(be.mul(x, y), Role::client);
      if (be.role() == Role::client) product = v;
    });
    CHECK(product.values() == mul_elem(a, b).values());  // recording changed nothing
    const auto all = rec.log->frames();
    REQUIRE(!all.empty());
    using Key = std::tuple<int, int, u64, int>;  // from, to, seq, phase
    std::map<Key, std::vector<std::uint8_t>> sent_payloads;
    size_t received_count = 0;
    for (const auto& f : all) {
      REQUIRE(f.well_formed);
      REQUIRE(f.peer.has_value());
      CHECK(f.header.payload_bytes == f.payload.size());
      const Role from = f.direction == FrameDirection::sent ? f.party : *f.peer;
      const Role to = f.direction == FrameDirection::sent ? *f.peer : f.party;
      CHECK(f.header.from == static_cast<std::uint8_t>(from));
      CHECK(f.header.to == static_cast<std::uint8_t>(to));
      if (f.direction == FrameDirection::sent) sent_payloads[Key{f.header.from, f.header.to, f.header.seq, f.header.phase}] = f.payload;
    }
    for (const auto& f : all) {
      if (f.direction != FrameDirection::received) continue;
      ++received_count;
      auto it = sent_payloads.find(Key{f.header.from, f.header.to, f.header.seq, f.header.phase});
      REQUIRE(it != sent_payloads.end());
      CHECK(it->second == f.payload);
    }
    CHECK(received_count == sent_payloads.size());  // every frame sent was received, none invented
    for (Role r : roles_of(s)) {
      INFO(role_name(r));
      const auto& ledger = rec.result.party(r).ledger;
      CHECK(payload_bytes_sent(*rec.log, r) == ledger.total(Phase::online).bytes_sent + ledger.total(Phase::offline).bytes_sent);
    }
  }
}

TEST_CASE("frames carry the label their party marked last", "[security][recording]") {
  const RingTensor a = seeded_fixed({8}, -1, 1, 3);
  Recorded rec = run_recorded(Setting::two_pc_dealer, [&](Backend& be, FrameLog& log) {
    log.mark(be.role(), "first");
    be.input(Role::client, own(be, Role::client, a));
    log.mark(be.role(), "second");
    be.input(Role::client, own(be, Role::client, a));
    be.input(Role::client, own(be, Role::client, a));
  });
  const FrameLog& log = *rec.log;
  CHECK(log.frames(Role::client, FrameDirection::sent, Role::server, std::string("first")).size() == 1);
  CHECK(log.frames(Role::client, FrameDirection::sent, Role::server, std::string("second")).size() == 2);
  CHECK(log.frames(Role::server, FrameDirection::received, Role::client, std::string("second")).size() == 2);
  CHECK(log.frames(Role::client, FrameDirection::sent, Role::server, std::string("third")).empty());
  // Before the first mark: the key set-up from the dealer, with an empty label.
  CHECK(log.frames(Role::dealer, FrameDirection::sent, std::nullopt, std::string()).size() == 2);
}
