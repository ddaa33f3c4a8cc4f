#include <stdexcept>

#include "protocols/mpc/backend.h"
#include "protocols/mpc/backend_3pc.h"
#include "protocols/mpc/backend_cleartext.h"
#include "protocols/mpc/backend_dealer.h"

namespace marill {

std::unique_ptr<Backend> make_backend(Setting setting, Role role, Comm* comm, const BackendOptions& opt) {
  if (setting == Setting::cleartext) return std::make_unique<CleartextBackend>(opt.fxp, opt.policy);
  if (!comm) throw std::invalid_argument(std::string(setting_name(setting)) + " backend needs a communicator");
  switch (setting) {
    case Setting::three_pc:
      return std::make_unique<ThreePcBackend>(*comm, opt);
    case Setting::two_pc_dealer:
      if (role == Role::dealer) return std::make_unique<KeygenBackend>(*comm, opt);
      return std::make_unique<DealerOnlineBackend>(*comm, opt);
    case Setting::two_pc:
      throw std::invalid_argument("setting 2pc is not built yet (OT/HE-based 2PC is a later issue); use 3pc or 2pc-dealer");
    default:
      break;
  }
  throw std::invalid_argument("no backend for setting " + std::string(setting_name(setting)));
}

}  // namespace marill
