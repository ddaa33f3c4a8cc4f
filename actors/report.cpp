#include "actors/report.h"

#include <cereal/archives/binary.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>

#include <cstring>
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

namespace {

// Cereal resizes a string to its announced length before reading its bytes: every length is checked
// against the bytes that are left first, so a report from another process cannot make this one
// allocate more than it sent. The layout is cereal's binary one of PartyReport (serialize above).
void check_report_lengths(const std::vector<std::uint8_t>& b) {
  constexpr std::size_t kOpCost = 8 * sizeof(u64) + 2 * sizeof(double);
  static_assert(sizeof(OpCost) == kOpCost, "OpCost changed: update the report's length check");
  std::size_t at = 0;
  auto skip = [&](std::uint64_t n) {
    if (n > b.size() - at) throw ProtocolError("malformed party report: cut short, or a length beyond its end");
    at += static_cast<std::size_t>(n);
  };
  auto length = [&] {
    skip(sizeof(std::uint64_t));
    std::uint64_t v;
    std::memcpy(&v, b.data() + at - sizeof v, sizeof v);
    return v;
  };
  skip(2);            // role, ran
  skip(2 * kOpCost);  // totals
  for (int phase = 0; phase < 2; ++phase) {
    const std::uint64_t n = length();
    if (n > (b.size() - at) / (sizeof(std::uint64_t) + kOpCost)) throw ProtocolError("malformed party report: more ops than bytes");
    for (std::uint64_t i = 0; i < n; ++i) skip(length()), skip(kOpCost);
  }
  skip(sizeof(WorkCounts::n));
  skip(1);  // error class
  skip(length());
}

}  // namespace

PartyReport report_from_binary(const std::vector<std::uint8_t>& bytes) {
  check_report_lengths(bytes);
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
