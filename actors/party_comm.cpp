#include "actors/party_comm.h"

#include <algorithm>

#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/work_meter.h"

namespace marill {

PartyComm::PartyComm(Role me, std::vector<Role> peers, Transport& transport, NetworkModel net, bool phantom,
                     std::chrono::milliseconds recv_timeout, bool charge_cpu, std::shared_ptr<const ComputeModel> compute_model)
    : me_(me), peers_(std::move(peers)), transport_(transport), net_(std::move(net)), phantom_(phantom),
      charge_compute_(charge_cpu),
      recv_timeout_(recv_timeout), last_cpu_(party_cpu_seconds()),
      model_(compute_model ? std::move(compute_model) : builtin_compute_model()), last_work_(thread_work()) {
  for (auto& per_to : links_)
    for (auto& l : per_to) l = LinkQueue(net_.link);
  // A real party's parallel sections are charged at the model's speedups (every party of a process
  // runs with the same model).
  if (!phantom_) apply_parallel_speedups(*model_);
  ledger_.start(last_cpu_);
  ledger_.sync_clock = [this] { charge_compute(); };
}

bool PartyComm::is_peer(Role r) const { return std::find(peers_.begin(), peers_.end(), r) != peers_.end(); }

std::string PartyComm::where() const { return std::string(role_name(me_)); }

void PartyComm::charge_compute() {
  const double now = party_cpu_seconds();
  const WorkCounts work = thread_work();
  // Phantom runs compute nothing: the model's time for the same counted work stands in for the CPU.
  const double spent = phantom_ ? model_->seconds(work - last_work_) : now - last_cpu_;
  if (charge_compute_) ledger_.clock[static_cast<int>(ledger_.phase)].sim_time += spent;
  last_cpu_ = now;
  last_work_ = work;
}

void PartyComm::send_bytes(Role to, const std::uint8_t* data, u64 n) {
  if (!is_peer(to)) throw ProtocolError(where() + ": send to " + role_name(to) + ", not a peer in this session");
  if (data == nullptr && n > 0 && !phantom_)
    throw std::logic_error(where() + ": real-mode send without data (a phantom tensor leaked into a real run)");
  count_work(WorkKind::msg, u64{1});
  count_work(WorkKind::msg_byte, n);
  charge_compute();
  const Phase ph = ledger_.phase;
  auto& clock = ledger_.clock[static_cast<int>(ph)];
  FrameHeader h;
  h.from = static_cast<std::uint8_t>(me_);
  h.to = static_cast<std::uint8_t>(to);
  h.phase = static_cast<std::uint8_t>(ph);
  h.phantom = data == nullptr ? 1 : 0;
  h.seq = send_seq_[role_index(to)]++;
  h.payload_bytes = n;
  h.hops = clock.hops;
  h.arrival = links_[role_index(to)][static_cast<int>(ph)].transmit(clock.sim_time, n);
  auto bytes = encode_frame(h, data, data ? n : 0);
  ledger_.record_send(ph, n, frame_header_bytes());
  transport_.send(to, std::move(bytes));
}

void PartyComm::broadcast_abort(Role failed, ErrorClass cls) {
  FrameHeader h;
  h.kind = FrameHeader::abort;
  h.from = static_cast<std::uint8_t>(me_);
  h.payload_bytes = 2;
  const std::uint8_t payload[2] = {static_cast<std::uint8_t>(failed), static_cast<std::uint8_t>(cls)};
  for (Role p : peers_) {
    h.to = static_cast<std::uint8_t>(p);
    try {
      transport_.send_best_effort(p, encode_frame(h, payload, 2));
    } catch (...) {
      // best effort: the peer may already be gone
    }
  }
}

Frame PartyComm::next_from(Role from) {
  auto& q = inbox_[role_index(from)];
  const auto deadline = std::chrono::steady_clock::now() + recv_timeout_;
  while (q.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw TimeoutError(where() + ": timed out after " + std::to_string(recv_timeout_.count()) + " ms waiting for " +
                          role_name(from));
    auto in = transport_.receive(left);
    if (!in) continue;
    if (!in->sender) throw ProtocolError(where() + ": message from an actor that is not a peer in this session");
    Frame f = decode_frame(std::move(in->bytes));
    const Role claimed = static_cast<Role>(f.header.from);
    if (f.header.from >= kMaxRoles || claimed != *in->sender)
      throw ProtocolError(where() + ": frame claims sender " + std::to_string(f.header.from) + " but came from " +
                          role_name(*in->sender));
    if (f.header.kind == FrameHeader::abort) {
      const auto cls = f.payload.size() == 2 ? static_cast<ErrorClass>(f.payload[1]) : ErrorClass::none;
      if (f.payload.size() != 2 || f.payload[0] >= kMaxRoles || f.payload[1] >= kErrorClassCount || cls == ErrorClass::none ||
          cls == ErrorClass::peer_aborted)
        throw ProtocolError(where() + ": malformed abort frame from " + role_name(claimed));
      throw PeerAborted(where(), claimed, static_cast<Role>(f.payload[0]), cls);
    }
    if (f.header.to != static_cast<std::uint8_t>(me_))
      throw ProtocolError(where() + ": frame from " + role_name(claimed) + " addressed to another party");
    if (f.header.seq != recv_seq_[role_index(claimed)]++)
      throw ProtocolError(where() + ": out-of-order frame from " + role_name(claimed));
    inbox_[role_index(claimed)].push_back(std::move(f));
  }
  Frame f = std::move(q.front());
  q.pop_front();
  return f;
}

std::vector<std::uint8_t> PartyComm::recv_bytes(Role from, u64 n) {
  if (!is_peer(from)) throw ProtocolError(where() + ": receive from " + role_name(from) + ", not a peer in this session");
  count_work(WorkKind::msg, u64{1});
  count_work(WorkKind::msg_byte, n);
  charge_compute();
  Frame f = next_from(from);
  if (f.header.payload_bytes != n)
    throw ProtocolError(where() + ": " + role_name(from) + " sent " + std::to_string(f.header.payload_bytes) +
                        " bytes where the protocol expects " + std::to_string(n));
  if (static_cast<bool>(f.header.phantom) && !phantom_)
    throw ProtocolError(where() + ": phantom message from " + role_name(from) + " in a real run");
  auto& clock = ledger_.clock[f.header.phase ? 1 : 0];
  clock.sim_time = std::max(clock.sim_time, f.header.arrival);
  clock.hops = std::max<u64>(clock.hops, f.header.hops + 1);
  return std::move(f.payload);
}

void PartyComm::finish() {
  charge_compute();
  ledger_.finish(last_cpu_);
}

}  // namespace marill
