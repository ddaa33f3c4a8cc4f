#include "actors/report.h"

#include <cereal/archives/binary.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>

#include <sstream>

namespace marill {

template <class Archive>
void serialize(Archive& ar, OpCost& c) {
  ar(cereal::make_nvp("bytes_sent", c.bytes_sent), cereal::make_nvp("framing_bytes", c.framing_bytes),
     cereal::make_nvp("messages", c.messages), cereal::make_nvp("rounds", c.rounds), cereal::make_nvp("calls", c.calls),
     cereal::make_nvp("secure_macs", c.secure_macs), cereal::make_nvp("hops_begin", c.hops_begin),
     cereal::make_nvp("hops_end", c.hops_end), cereal::make_nvp("cpu_s", c.cpu_s), cereal::make_nvp("sim_s", c.sim_s));
}

template <class Archive>
void serialize(Archive& ar, LedgerReport& l) {
  ar(cereal::make_nvp("totals", l.totals), cereal::make_nvp("ops", l.ops));
}

template <class Archive>
void serialize(Archive& ar, PartyReport& r) {
  std::uint8_t role = static_cast<std::uint8_t>(r.role), cls = static_cast<std::uint8_t>(r.error_class);
  ar(cereal::make_nvp("role", role), cereal::make_nvp("ran", r.ran), cereal::make_nvp("ledger", r.ledger),
     cereal::make_nvp("work", r.work.n), cereal::make_nvp("error_class", cls), cereal::make_nvp("error", r.error));
  if (role >= kMaxRoles || cls >= kErrorClassCount) throw ProtocolError("report: role or error class out of range");
  r.role = static_cast<Role>(role);
  r.error_class = static_cast<ErrorClass>(cls);
}

LedgerReport LedgerReport::of(const Ledger& l) {
  LedgerReport r;
  for (Phase p : {Phase::offline, Phase::online}) {
    r.totals[static_cast<size_t>(p)] = l.total(p);
    r.ops[static_cast<size_t>(p)] = l.by_op(p);
  }
  return r;
}

std::vector<std::uint8_t> report_to_binary(const PartyReport& r) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::BinaryOutputArchive ar(os);
    PartyReport copy = r;
    ar(copy);
  }
  const std::string s = os.str();
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

PartyReport report_from_binary(const std::vector<std::uint8_t>& bytes) {
  PartyReport r;
  try {
    std::istringstream is(std::string(bytes.begin(), bytes.end()), std::ios::binary);
    cereal::BinaryInputArchive ar(is);
    ar(r);
  } catch (const ProtocolError&) {
    throw;
  } catch (const std::exception& e) {
    throw ProtocolError(std::string("malformed party report: ") + e.what());
  }
  return r;
}

std::string report_to_json(const PartyReport& r) {
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os);
    PartyReport copy = r;
    ar(cereal::make_nvp("report", copy));
  }
  return os.str();
}

PartyReport report_from_json(const std::string& json) {
  PartyReport r;
  try {
    std::istringstream is(json);
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("report", r));
  } catch (const ProtocolError&) {
    throw;
  } catch (const std::exception& e) {
    throw ProtocolError(std::string("malformed party report: ") + e.what());
  }
  return r;
}

}  // namespace marill
