// CAF message types exchanged by the party actors and their session coordinator (in-process).
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <vector>

namespace marill {

struct wire_msg {  // one serialized frame (actors/frame.h)
  std::vector<std::uint8_t> bytes;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_msg& x) {
  return f(caf::meta::type_name("marill_wire"), x.bytes);
}

struct start_msg {  // the session's party actors, indexed by role
  std::vector<caf::actor> parties;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, start_msg& x) {
  return f(caf::meta::type_name("marill_start"), x.parties);
}

struct report_msg {  // a party finished: its report (actors/report.h), Cereal binary
  std::uint8_t role = 0;
  std::vector<std::uint8_t> bytes;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, report_msg& x) {
  return f(caf::meta::type_name("marill_report"), x.role, x.bytes);
}

}  // namespace marill
