#include "remote/coordinator.h"

#include <algorithm>
#include <stdexcept>

#include "actors/party_error.h"

namespace marill {

Coordinator::Coordinator(const HostsFile& hosts, const CurveKeyPair& coordinator_keys, CoordinatorOptions opt) : opt_(opt) {
  std::vector<ControlPeer> peers;
  for (const HostEntry& h : hosts.parties) peers.push_back({h.role, hosts.control_of(h.role), h.public_key});
  control_ = std::make_unique<ControlClient>(coordinator_keys, std::move(peers), kMaxControlMessageBytes);
}

Coordinator::Outcome Coordinator::run(const std::vector<Role>& roles, PartyJob job) {
  job.id = next_id_++;
  job.timeout_ms = static_cast<std::uint32_t>(std::min<long long>(opt_.timeout.count(), UINT32_MAX));
  const std::vector<std::uint8_t> bytes = encode_job(job);
  Outcome out;
  out.replies.resize(roles.size());
  std::vector<bool> pending(roles.size(), false);
  auto fail = [&](size_t i, const std::string& why) {
    out.replies[i].id = job.id;
    out.replies[i].error = why;
    pending[i] = false;
    if (out.unreachable.empty()) out.unreachable = why;
    control_->reset(roles[i]);  // a job queued for a server that is gone must not reach its successor
  };
  // Every server connected first: a point with a party missing is not started at all (the others
  // would only wait a timeout for it).
  const auto connect_by = std::chrono::steady_clock::now() + opt_.timeout;
  for (size_t i = 0; i < roles.size(); ++i) {
    try {
      control_->await_connection(roles[i], connect_by, opt_.timeout);
    } catch (const std::exception& e) {
      fail(i, e.what());
    }
  }
  if (!out.unreachable.empty()) return out;
  for (size_t i = 0; i < roles.size(); ++i) {
    pending[i] = true;
    try {
      control_->send(roles[i], bytes, opt_.timeout);
    } catch (const std::exception& e) {
      fail(i, e.what());
    }
  }
  const auto started = std::chrono::steady_clock::now(), deadline = started + opt_.max_point;
  auto next_progress = started + opt_.progress_every;
  while (std::count(pending.begin(), pending.end(), true) > 0) {
    if (opt_.progress && std::chrono::steady_clock::now() >= next_progress) {
      std::vector<Role> running;
      for (size_t i = 0; i < roles.size(); ++i)
        if (pending[i]) running.push_back(roles[i]);
      opt_.progress(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), running);
      next_progress += opt_.progress_every;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      for (size_t i = 0; i < roles.size(); ++i)
        if (pending[i])
          fail(i, std::string("the party server of ") + role_name(roles[i]) + " did not answer within " +
                      std::to_string(opt_.max_point.count()) + " ms");
      break;
    }
    auto msg = control_->receive(std::chrono::milliseconds(200));
    if (msg) {
      const auto at = std::find(roles.begin(), roles.end(), msg->first);
      JobReply reply;
      try {
        reply = decode_reply(msg->second.data(), msg->second.size());
      } catch (const ProtocolError& e) {
        if (at != roles.end() && pending[static_cast<size_t>(at - roles.begin())])
          fail(static_cast<size_t>(at - roles.begin()), std::string("the party server of ") + role_name(msg->first) + " answered garbage: " + e.what());
        continue;
      }
      if (reply.id != job.id || at == roles.end()) continue;  // a late answer to a job given up earlier
      const size_t i = static_cast<size_t>(at - roles.begin());
      if (!pending[i]) continue;
      out.replies[i] = std::move(reply);
      pending[i] = false;
      continue;
    }
    for (size_t i = 0; i < roles.size(); ++i)
      if (pending[i] && control_->lost(roles[i]))
        fail(i, std::string("the party server of ") + role_name(roles[i]) + " at " + control_->peer(roles[i]).endpoint +
                    " went away before it answered (its process ended or the network failed)");
  }
  return out;
}

SessionResult Coordinator::session(Setting setting, const std::vector<Role>& roles, const Outcome& out) {
  std::vector<PartyReport> reports;
  for (size_t i = 0; i < roles.size(); ++i) {
    const JobReply& r = out.replies[i];
    PartyReport rep;
    if (r.has_report) {
      rep = report_from_binary(r.report);
      if (rep.role != roles[i]) throw ProtocolError(std::string("the party server of ") + role_name(roles[i]) + " sent the report of " + role_name(rep.role));
    } else {
      rep.role = roles[i];
      rep.error = r.error.empty() ? "no report" : r.error;
      rep.error_class = ErrorClass::internal;
    }
    reports.push_back(std::move(rep));
  }
  if (!out.unreachable.empty()) throw SessionError(out.unreachable, std::move(reports));
  return session_of_reports(setting, std::move(reports));
}

}  // namespace marill
