// Roles and settings (DESIGN.md vocabulary). The names here are the ones used in CLI, CSV and logs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace marill {

enum class Role : std::uint8_t { client = 0, server = 1, helper = 2, dealer = 3 };
constexpr int kMaxRoles = 4;

enum class Setting : std::uint8_t { cleartext, two_pc, three_pc, two_pc_dealer };

// Cost phases: offline = input-independent correlated randomness (the dealer's stream);
// online = everything that depends on inputs.
enum class Phase : std::uint8_t { offline = 0, online = 1 };

const char* role_name(Role r);
const char* setting_name(Setting s);
const char* phase_name(Phase p);
Role parse_role(const std::string& name);        // throws std::invalid_argument listing valid names
Setting parse_setting(const std::string& name);  // "cleartext" | "2pc" | "3pc" | "2pc-dealer"
std::vector<Role> roles_of(Setting s);           // the parties that run in a setting
inline int role_index(Role r) { return static_cast<int>(r); }

}  // namespace marill
