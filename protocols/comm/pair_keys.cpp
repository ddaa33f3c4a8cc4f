#include "protocols/comm/pair_keys.h"

#include <algorithm>

namespace marill {

namespace {
struct PhaseGuard {
  Ledger& l;
  Phase old;
  PhaseGuard(Ledger& ledger, Phase p) : l(ledger), old(ledger.phase) { l.phase = p; }
  ~PhaseGuard() { l.phase = old; }
};
}  // namespace

void send_key(Comm& comm, Role to, const Key128& key) {
  PhaseGuard g(comm.ledger(), Phase::offline);
  OpScope op(comm.ledger(), "setup");
  comm.send_bytes(to, key.data(), key.size());
}

Key128 send_fresh_key(Comm& comm, Role to) {
  Key128 k = random_key_from_os();
  send_key(comm, to, k);
  return k;
}

Key128 recv_key(Comm& comm, Role from) {
  OpScope op(comm.ledger(), "setup");
  auto bytes = comm.recv_bytes(from, 16);
  if (bytes.size() != 16) throw ProtocolError(std::string("key set-up: no key material from ") + role_name(from));
  Key128 k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

}  // namespace marill
