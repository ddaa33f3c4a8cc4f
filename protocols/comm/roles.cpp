#include "protocols/comm/roles.h"

#include <stdexcept>

namespace marill {

const char* role_name(Role r) {
  switch (r) {
    case Role::client: return "client";
    case Role::server: return "server";
    case Role::helper: return "helper";
    case Role::dealer: return "dealer";
  }
  return "?";
}

const char* setting_name(Setting s) {
  switch (s) {
    case Setting::cleartext: return "cleartext";
    case Setting::two_pc: return "2pc";
    case Setting::three_pc: return "3pc";
    case Setting::two_pc_dealer: return "2pc-dealer";
  }
  return "?";
}

const char* phase_name(Phase p) { return p == Phase::offline ? "offline" : "online"; }

Role parse_role(const std::string& name) {
  for (Role r : {Role::client, Role::server, Role::helper, Role::dealer})
    if (name == role_name(r)) return r;
  throw std::invalid_argument("unknown role '" + name + "' (expected client, server, helper or dealer)");
}

Setting parse_setting(const std::string& name) {
  for (Setting s : {Setting::cleartext, Setting::two_pc, Setting::three_pc, Setting::two_pc_dealer})
    if (name == setting_name(s)) return s;
  throw std::invalid_argument("unknown setting '" + name + "' (expected cleartext, 2pc, 3pc or 2pc-dealer)");
}

std::vector<Role> roles_of(Setting s) {
  switch (s) {
    case Setting::cleartext: return {};
    case Setting::two_pc: return {Role::client, Role::server};
    case Setting::three_pc: return {Role::client, Role::server, Role::helper};
    case Setting::two_pc_dealer: return {Role::client, Role::server, Role::dealer};
  }
  return {};
}

}  // namespace marill
