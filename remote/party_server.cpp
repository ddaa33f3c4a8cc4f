#include "remote/party_server.h"

#include <stdexcept>

#include "actors/party_error.h"
#include "net/control_channel.h"
#include "net/start_barrier.h"
#include "net/zmq_transport.h"
#include "protocols/comm/comm.h"

namespace marill {

RemoteParty::Run RemoteParty::run(const std::vector<Role>& roles, std::chrono::milliseconds timeout,
                                  const std::function<PartyReport(Transport&)>& program) const {
  std::vector<ZmqPeerAddress> addresses;
  std::vector<Role> peers;
  for (Role r : roles) {
    addresses.push_back({r, hosts.at(r).endpoint, hosts.at(r).public_key});
    if (r != role) peers.push_back(r);
  }
  ZmqOptions opt;
  opt.send_timeout = timeout;
  opt.linger = timeout;
  opt.bind_endpoint = bind_endpoint;
  Run out;
  ZmqTransport transport(role, keys, addresses, opt);
  StartBarrier met(transport, role, peers);
  met.meet(timeout);
  const auto t0 = std::chrono::steady_clock::now();
  out.report = program(met);
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;  // closing the transport delivers this party's last frames (up to the timeout)
}

namespace {

// Costs and error classes only: the texts stay in this server's log (RemoteParty::trust_coordinator).
void withhold_private_text(JobReply& reply, const std::string& who) {
  reply.output_sha256.clear();
  reply.tokens.clear();
  const std::string where = " (the text is in the log of " + who + ")";
  if (reply.has_report) {
    PartyReport r = report_from_binary(reply.report);
    if (!r.error.empty()) r.error = std::string(error_class_name(r.error_class)) + " error" + where;
    reply.report = report_to_binary(r);
    if (!reply.error.empty()) reply.error = r.error;
  } else if (!reply.error.empty()) {
    reply.error = "the job could not be run" + where;
  }
}

}  // namespace

int serve_party(const RemoteParty& me, const std::map<JobKind, JobHandler>& handlers, const PartyServerOptions& opt, std::ostream& log) {
  const std::string who = std::string("marill party ") + role_name(me.role) + " (serving)";
  ControlServer control(me.keys, me.hosts.control_of(me.role), me.hosts.coordinator_entry().public_key, who, kMaxControlMessageBytes);
  log << who << ": taking jobs at " << me.hosts.control_of(me.role) << std::endl;
  int jobs = 0;
  auto last = std::chrono::steady_clock::now();
  while (opt.max_jobs == 0 || jobs < opt.max_jobs) {
    const auto slice = std::chrono::milliseconds(500);
    if (opt.stop && *opt.stop) {
      log << who << ": stopping (signal)" << std::endl;
      break;
    }
    auto request = control.receive(slice);
    if (!request) {
      if (opt.idle_timeout.count() > 0 && std::chrono::steady_clock::now() - last >= opt.idle_timeout) {
        log << who << ": no job for " << opt.idle_timeout.count() << " ms: stopping" << std::endl;
        break;
      }
      continue;
    }
    JobReply reply;
    std::string what = "a malformed job";
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const PartyJob job = decode_job(request->data(), request->size());
      reply.id = job.id;
      what = "job " + std::to_string(job.id) + " (" + job_kind_name(job.kind) + ")";
      auto h = handlers.find(job.kind);
      if (h == handlers.end()) throw std::invalid_argument(std::string("this party server runs no ") + job_kind_name(job.kind) + " jobs");
      reply = h->second(job, me);
      reply.id = job.id;
    } catch (const std::exception& e) {
      reply.has_report = false;
      reply.report.clear();
      reply.error = e.what();
    }
    ++jobs;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (reply.error.empty()) log << who << ": " << what << " ran in " << s << " s" << std::endl;
    else log << who << ": " << what << " failed after " << s << " s: " << reply.error << std::endl;
    if (!me.trust_coordinator) withhold_private_text(reply, who);
    if (!control.reply(encode_reply(reply))) log << who << ": " << what << ": the coordinator is gone; its reply is dropped" << std::endl;
    last = std::chrono::steady_clock::now();
  }
  return jobs;
}

}  // namespace marill
