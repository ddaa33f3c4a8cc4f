#include "actors/session.h"

#include <caf/all.hpp>

#include <algorithm>
#include <memory>
#include <mutex>

#include "actors/caf_transport.h"
#include "actors/messages.h"
#include "actors/party_comm.h"
#include "actors/recording_transport.h"
#include "protocols/mpc/backend_cleartext.h"

namespace marill {

namespace {

// One actor system per process, deliberately never destroyed: CAF 0.17's actor_system destructor
// crashes when it runs among the exit handlers after CAF's own singletons are gone.
caf::actor_system& actor_system() {
  static caf::actor_system* sys = new caf::actor_system(*new caf::actor_system_config);
  return *sys;
}

struct SharedOutcomes {
  std::mutex mu;
  std::array<PartyOutcome, kMaxRoles> by_role;
};

// The party actor: waits for the session's start, runs the program on its backend, reports.
void party_actor(caf::blocking_actor* self, Role me, SessionConfig cfg, Program program,
                 std::shared_ptr<SharedOutcomes> out, caf::actor coordinator) {
  PartyOutcome result;
  result.role = me;
  std::vector<Role> peers;
  BackendOptions opt{cfg.fxp, cfg.phantom, cfg.policy, cfg.correlations};
  for (Role r : session_roles(cfg.setting, opt))
    if (r != me) peers.push_back(r);
  CafTransport transport(self);
  std::optional<RecordingTransport> recording;  // wraps the transport when a test asks for the frames
  if (cfg.record_frames) recording.emplace(transport, me, cfg.record_frames);
  Transport& wire = recording ? static_cast<Transport&>(*recording) : transport;
  std::unique_ptr<PartyComm> comm;
  try {
    transport.await_start(cfg.recv_timeout);
    comm = std::make_unique<PartyComm>(me, peers, wire, cfg.network, cfg.phantom, cfg.recv_timeout,
                                       cfg.charge_compute);
    auto backend = make_backend(cfg.setting, me, comm.get(), opt);
    program(*backend);
    backend->finish();
    comm->finish();
    result.ran = true;
  } catch (const std::exception& e) {
    result.error = e.what();
    if (comm) {
      comm->broadcast_abort(std::string(role_name(me)) + ": " + e.what());
      comm->finish();
    }
  }
  if (comm) result.ledger = comm->ledger();
  {
    std::lock_guard<std::mutex> lock(out->mu);
    out->by_role[static_cast<size_t>(role_index(me))] = std::move(result);
  }
  self->send(coordinator, done_msg{static_cast<std::uint8_t>(me)});
}

bool is_echo(const std::string& err) { return err.find("aborted:") != std::string::npos; }

}  // namespace

const PartyOutcome& SessionResult::party(Role r) const {
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

SessionResult run_session(const SessionConfig& cfg, const Program& program) {
  SessionResult res;
  res.setting = cfg.setting;
  if (cfg.setting == Setting::cleartext) {
    CleartextBackend be(cfg.fxp, cfg.policy);
    be.ledger().start(0);
    PartyOutcome o;
    o.role = Role::client;
    try {
      program(be);
    } catch (const std::exception& e) {
      throw SessionError(std::string("cleartext: ") + e.what());
    }
    o.ran = true;
    o.ledger = be.ledger();
    res.parties.push_back(std::move(o));
    return res;
  }
  auto roles = session_roles(cfg.setting, BackendOptions{cfg.fxp, cfg.phantom, cfg.policy, cfg.correlations});
  auto shared = std::make_shared<SharedOutcomes>();
  caf::scoped_actor coordinator{actor_system()};
  start_msg start;
  start.parties.resize(kMaxRoles);
  for (Role r : roles)
    start.parties[static_cast<size_t>(role_index(r))] =
        actor_system().spawn<caf::detached>(party_actor, r, cfg, program, shared, caf::actor{coordinator});
  for (Role r : roles) coordinator->send(start.parties[static_cast<size_t>(role_index(r))], start);
  size_t done = 0;
  bool timed_out = false;
  while (done < roles.size() && !timed_out) {
    coordinator->receive([&](done_msg&) { ++done; }, caf::after(cfg.session_timeout) >> [&] { timed_out = true; });
  }
  if (timed_out) {
    for (Role r : roles) caf::anon_send_exit(start.parties[static_cast<size_t>(role_index(r))], caf::exit_reason::kill);
    throw SessionError("session timed out after " + std::to_string(cfg.session_timeout.count()) + " ms");
  }
  std::string root, echo;
  for (Role r : roles) {
    PartyOutcome& o = shared->by_role[static_cast<size_t>(role_index(r))];
    if (!o.error.empty()) {
      std::string msg = std::string(role_name(r)) + ": " + o.error;
      if (!is_echo(o.error) && root.empty()) root = msg;
      if (echo.empty()) echo = msg;
    }
    res.parties.push_back(o);
  }
  if (!root.empty() || !echo.empty()) throw SessionError(root.empty() ? echo : root);
  return res;
}

}  // namespace marill
