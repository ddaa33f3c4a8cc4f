#include <stdexcept>

#include "protocols/comm/pair_keys.h"
#include "protocols/mpc/backend.h"
#include "protocols/mpc/backend_2pc.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/mpc/backend_cleartext.h"
#include "protocols/mpc/dealer_backend.h"
#include "protocols/mpc/two_party.h"

namespace marill {

namespace {

std::unique_ptr<Backend> two_pc_dealer_backend(Role role, Comm& comm, const BackendOptions& opt) {
  const CorrelationOptions& c = opt.correlations;
  if (role == Role::dealer) {
    if (c.source != CorrelationSourceKind::dealer_stream)
      throw std::invalid_argument(std::string("2pc-dealer: with the ") + correlation_source_name(c.source) +
                                  " source no dealer joins the online run (key files come from a dealer run of their own)");
    DealerDealing::Keys keys = dealer_keys(c.dealer_seed);
    send_key(comm, Role::client, keys.client);
    send_key(comm, Role::server, keys.server);
    auto dealing = std::make_unique<DealerDealing>(keys, opt.phantom, dealer_stream_output(comm));
    return std::make_unique<DealerBackend>(comm.ledger(), std::move(dealing), opt, &comm);
  }
  const int party = role == Role::client ? 0 : 1;
  std::unique_ptr<PartyDealing> source;
  switch (c.source) {
    case CorrelationSourceKind::dealer_stream:
      source = std::make_unique<PartyDealing>(party, recv_key(comm, Role::dealer), opt.phantom, dealer_stream_input(comm));
      break;
    case CorrelationSourceKind::key_files: {
      if (opt.phantom) throw std::invalid_argument("2pc-dealer: key files hold real material; a phantom run uses the size-only source");
      Key128 key{};
      auto in = key_file_input(c.key_dir, party, &key);
      source = std::make_unique<PartyDealing>(party, key, false, std::move(in));
      break;
    }
    case CorrelationSourceKind::size_only:
      if (!opt.phantom) throw std::invalid_argument("2pc-dealer: the size-only correlation source serves phantom runs only");
      source = std::make_unique<PartyDealing>(party, Key128{}, true, size_only_input());
      break;
  }
  return std::make_unique<TwoPartyBackend>(comm, std::move(source), opt);
}

}  // namespace

std::unique_ptr<Backend> make_backend(Setting setting, Role role, Comm* comm, const BackendOptions& opt) {
  if (setting == Setting::cleartext) return std::make_unique<CleartextBackend>(opt.fxp, opt.policy);
  if (!comm) throw std::invalid_argument(std::string(setting_name(setting)) + " backend needs a communicator");
  switch (setting) {
    case Setting::three_pc:
      return std::make_unique<ThreePcBackend>(*comm, opt);
    case Setting::two_pc_dealer:
      return two_pc_dealer_backend(role, *comm, opt);
    case Setting::two_pc:
      return std::make_unique<TwoPcBackend>(*comm, opt);
    default:
      break;
  }
  throw std::invalid_argument("no backend for setting " + std::string(setting_name(setting)));
}

std::vector<Role> session_roles(Setting setting, const BackendOptions& opt) {
  std::vector<Role> roles = roles_of(setting);
  if (setting == Setting::two_pc_dealer && opt.correlations.source != CorrelationSourceKind::dealer_stream)
    return {Role::client, Role::server};
  return roles;
}

}  // namespace marill
