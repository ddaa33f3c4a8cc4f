// Pairwise PRG keys (3pc) and the dealer's keys (2pc-dealer) differ between parties and between
// sessions. Outputs stay correct when they do not (a 3pc party holding both its neighbours' keys,
// or a client holding the server's dealer key, still computes the right result) while the masks
// one party draws become known to another; only the keys on the wire show it.
#include "tests/security/security_harness.h"

#include <set>

using namespace marill;
using namespace marill::sectest;

namespace {

struct KeyOnWire {
  Role from, to;
  std::vector<std::uint8_t> key;
};

// The set-up keys of a session that runs no op: every offline frame is one 16-byte key.
std::vector<KeyOnWire> setup_keys(Setting s) {
  Recorded rec = run_recorded(s, [](Backend&, FrameLog&) {});
  std::vector<KeyOnWire> keys;
  for (Role r : roles_of(s))
    for (const auto& f : rec.log->frames(r, FrameDirection::sent)) {
      REQUIRE(f.header.phase == static_cast<std::uint8_t>(Phase::offline));
      REQUIRE(f.payload.size() == 16);
      keys.push_back(KeyOnWire{r, *f.peer, f.payload});
    }
  return keys;
}

std::string link(const KeyOnWire& k) { return std::string(role_name(k.from)) + "->" + role_name(k.to); }

// Every key differs from every other and from all-zero bytes.
void check_distinct(const std::vector<KeyOnWire>& keys) {
  const std::vector<std::uint8_t> zero(16, 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    INFO("key " << link(keys[i]));
    const bool all_zero = keys[i].key == zero;  // compared as bools: keys are never printed
    CHECK_FALSE(all_zero);
    for (size_t j = i + 1; j < keys.size(); ++j) {
      INFO("against key " << link(keys[j]));
      const bool same_key = keys[i].key == keys[j].key;
      CHECK_FALSE(same_key);
    }
  }
}

}  // namespace

TEST_CASE("3pc pair keys differ between the three pairs and between sessions", "[security][keys]") {
  std::vector<KeyOnWire> first = setup_keys(Setting::three_pc);
  // One key per adjacent pair, sent by P_i to P_{i+1}: client->server, server->helper, helper->client.
  REQUIRE(first.size() == 3);
  std::set<std::pair<Role, Role>> links;
  for (const auto& k : first) links.insert({k.from, k.to});
  CHECK(links == std::set<std::pair<Role, Role>>{{Role::client, Role::server}, {Role::server, Role::helper}, {Role::helper, Role::client}});
  check_distinct(first);
  std::vector<KeyOnWire> both = setup_keys(Setting::three_pc);
  both.insert(both.end(), first.begin(), first.end());
  check_distinct(both);  // a second session draws fresh keys
}

TEST_CASE("the dealer's keys for client and server differ, and differ between sessions", "[security][keys]") {
  std::vector<KeyOnWire> first = setup_keys(Setting::two_pc_dealer);
  REQUIRE(first.size() == 2);  // the dealer keys one PRG with each online party; nobody else sends a key
  for (const auto& k : first) CHECK(k.from == Role::dealer);
  CHECK(first[0].to != first[1].to);
  check_distinct(first);
  std::vector<KeyOnWire> both = setup_keys(Setting::two_pc_dealer);
  both.insert(both.end(), first.begin(), first.end());
  check_distinct(both);
}
