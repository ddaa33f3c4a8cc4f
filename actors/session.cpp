#include "actors/session.h"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>

#include "actors/caf_transport.h"
#include "actors/messages.h"
#include "actors/party_comm.h"
#include "actors/recording_transport.h"
#include "protocols/mpc/backend_cleartext.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// One actor system per process, deliberately never destroyed: CAF 0.17's actor_system destructor
// crashes when it runs among the exit handlers after CAF's own singletons are gone.
caf::actor_system& actor_system() {
  static caf::actor_system* sys = new caf::actor_system(*new caf::actor_system_config);
  return *sys;
}

// The party actor: waits for the session's start, runs its party, sends its report as a message.
void party_actor(caf::blocking_actor* self, Role me, SessionConfig cfg, PartyProgram program_of, caf::actor coordinator) {
  CafTransport transport(self);
  std::optional<RecordingTransport> recording;  // wraps the transport when a test asks for the frames
  if (cfg.record_frames) recording.emplace(transport, me, cfg.record_frames);
  Transport& wire = recording ? static_cast<Transport&>(*recording) : transport;
  PartyReport report;
  report.role = me;
  try {
    transport.await_start(cfg.recv_timeout);
    report = run_party(cfg, me, wire, program_of);
  } catch (const std::exception& e) {  // no start: the party never ran, and has no peers to tell
    report.error = e.what();
    report.error_class = classify_error(e);
  }
  self->send(coordinator, report_msg{static_cast<std::uint8_t>(me), report_to_binary(report)});
}

}  // namespace

BackendOptions backend_options(const SessionConfig& cfg) { return BackendOptions{cfg.fxp, cfg.phantom, cfg.policy, cfg.correlations}; }

const PartyReport& SessionResult::party(Role r) const {
  for (const auto& p : parties)
    if (p.role == r) return p;
  throw std::invalid_argument(std::string("no party ") + role_name(r) + " in a " + setting_name(setting) + " session");
}

u64 SessionResult::online_rounds() const {
  u64 r = 0;
  for (const auto& p : parties) r = std::max(r, p.ledger.total(Phase::online).rounds);
  return r;
}

u64 SessionResult::op_rounds(const std::string& path) const {
  u64 begin = 0, end = 0;
  for (const auto& p : parties) {
    const auto& ops = p.ledger.by_op(Phase::online);
    auto it = ops.find(path);
    if (it == ops.end()) continue;
    begin = std::max(begin, it->second.hops_begin);
    end = std::max(end, it->second.hops_end);
  }
  return end - begin;
}

double SessionResult::online_time_s() const {
  double t = 0;
  for (const auto& p : parties) t = std::max(t, p.ledger.total(Phase::online).sim_s);
  return t;
}

PartyReport run_party(const SessionConfig& cfg, Role me, Transport& transport, const PartyProgram& program_of) {
  PartyReport report;
  report.role = me;
  const WorkCounts work0 = thread_work();
  const BackendOptions opt = backend_options(cfg);
  std::vector<Role> peers;
  for (Role r : session_roles(cfg.setting, opt))
    if (r != me) peers.push_back(r);
  std::unique_ptr<PartyComm> comm;
  try {
    comm = std::make_unique<PartyComm>(me, peers, transport, cfg.network, cfg.phantom, cfg.recv_timeout, cfg.charge_compute,
                                       cfg.compute_model);
    auto backend = make_backend(cfg.setting, me, comm.get(), opt);
    const Program program = program_of(me);
    program(*backend);
    backend->finish();
    comm->finish();
    report.ran = true;
  } catch (const std::exception& e) {
    report.error = e.what();  // stays with this party (its report, its log)
    report.error_class = classify_error(e);
    if (comm) {
      // An echo passes the root cause's role and class on; a party's own failure names itself.
      const auto* echo = dynamic_cast<const PeerAborted*>(&e);
      comm->broadcast_abort(echo ? echo->failed : me, echo ? echo->failed_class : report.error_class);
      comm->finish();
    }
  }
  if (comm) report.ledger = LedgerReport::of(comm->ledger());
  report.work = thread_work() - work0;
  return report;
}

SessionResult run_session(const SessionConfig& cfg, const Program& program) {
  return run_parties(cfg, [program](Role) { return program; });  // by value: party actors may outlive a timed-out session
}

SessionResult run_parties(const SessionConfig& cfg, const PartyProgram& program_of) {
  SessionResult res;
  res.setting = cfg.setting;
  if (cfg.setting == Setting::cleartext) {  // one party holds every input: no actors, no network
    CleartextBackend be(cfg.fxp, cfg.policy);
    be.ledger().start(0);
    PartyReport o;
    o.role = Role::client;
    try {
      program_of(Role::client)(be);
    } catch (const std::exception& e) {
      throw SessionError(std::string("cleartext: ") + e.what());
    }
    o.ran = true;
    o.ledger = LedgerReport::of(be.ledger());
    res.parties.push_back(std::move(o));
    return res;
  }
  auto roles = session_roles(cfg.setting, backend_options(cfg));
  caf::scoped_actor coordinator{actor_system()};
  start_msg start;
  start.parties.resize(kMaxRoles);
  for (Role r : roles)
    start.parties[static_cast<size_t>(role_index(r))] =
        actor_system().spawn<caf::detached>(party_actor, r, cfg, program_of, caf::actor{coordinator});
  for (Role r : roles) coordinator->send(start.parties[static_cast<size_t>(role_index(r))], start);
  std::array<std::optional<PartyReport>, kMaxRoles> by_role;
  size_t done = 0;
  bool timed_out = false;
  while (done < roles.size() && !timed_out) {
    coordinator->receive(
        [&](report_msg& m) {
          PartyReport rep;
          try {
            rep = report_from_binary(m.bytes);
          } catch (const std::exception& e) {
            rep.error = e.what();
            rep.error_class = ErrorClass::internal;
          }
          if (m.role >= kMaxRoles || by_role[m.role]) return;  // not a party of this session: ignored
          rep.role = static_cast<Role>(m.role);
          by_role[m.role] = std::move(rep);
          ++done;
        },
        caf::after(cfg.session_timeout) >> [&] { timed_out = true; });
  }
  if (timed_out) {
    for (Role r : roles) caf::anon_send_exit(start.parties[static_cast<size_t>(role_index(r))], caf::exit_reason::kill);
    throw SessionError("session timed out after " + std::to_string(cfg.session_timeout.count()) + " ms");
  }
  std::vector<PartyReport> reports;
  for (Role r : roles) reports.push_back(std::move(*by_role[static_cast<size_t>(role_index(r))]));
  return session_of_reports(cfg.setting, std::move(reports));
}

SessionResult session_of_reports(Setting setting, std::vector<PartyReport> reports) {
  SessionResult res;
  res.setting = setting;
  std::string root, echo;
  for (PartyReport& o : reports) {
    if (o.error_class != ErrorClass::none) {
      std::string msg = std::string(role_name(o.role)) + ": " + o.error;
      if (o.error_class != ErrorClass::peer_aborted && root.empty()) root = msg;
      if (echo.empty()) echo = msg;
    }
    res.parties.push_back(std::move(o));
  }
  if (!root.empty() || !echo.empty()) throw SessionError(root.empty() ? echo : root, std::move(res.parties));
  return res;
}

const PartyReport* SessionError::party(Role r) const {
  for (const auto& p : parties)
    if (p.role == r) return &p;
  return nullptr;
}

}  // namespace marill
