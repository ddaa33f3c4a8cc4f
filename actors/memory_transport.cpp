#include "actors/memory_transport.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "actors/party_comm.h"
#include "actors/party_error.h"

namespace marill {

namespace {

struct Mailbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Incoming> queue;
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(Role me, Role peer, std::shared_ptr<Mailbox> inbox, std::shared_ptr<Mailbox> outbox)
      : me_(me), peer_(peer), inbox_(std::move(inbox)), outbox_(std::move(outbox)) {}

  void send(Role to, std::vector<std::uint8_t> bytes) override {
    if (to != peer_) throw ProtocolError(std::string(role_name(me_)) + ": no link to " + role_name(to));
    {
      std::lock_guard<std::mutex> lock(outbox_->mu);
      outbox_->queue.push_back(Incoming{std::move(bytes), me_});
    }
    outbox_->cv.notify_one();
  }

  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(inbox_->mu);
    if (!inbox_->cv.wait_for(lock, timeout, [&] { return !inbox_->queue.empty(); })) return std::nullopt;
    Incoming in = std::move(inbox_->queue.front());
    inbox_->queue.pop_front();
    return in;
  }

 private:
  Role me_, peer_;
  std::shared_ptr<Mailbox> inbox_, outbox_;
};

}  // namespace

std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> memory_transport_pair(Role a_role, Role b_role) {
  auto to_a = std::make_shared<Mailbox>();
  auto to_b = std::make_shared<Mailbox>();
  return {std::make_unique<MemoryTransport>(a_role, b_role, to_a, to_b), std::make_unique<MemoryTransport>(b_role, a_role, to_b, to_a)};
}

CommPairResult run_comm_pair(Role a_role, const CommProgram& fa, Role b_role, const CommProgram& fb, const NetworkModel& network,
                             bool phantom, std::chrono::milliseconds recv_timeout) {
  auto transports = memory_transport_pair(a_role, b_role);
  CommPairResult out;
  std::exception_ptr err_a, err_b;
  auto side = [&](Role me, Role peer, Transport& t, const CommProgram& f, Ledger& ledger_out, std::exception_ptr& err) {
    PartyComm comm(me, {peer}, t, network, phantom, recv_timeout);
    try {
      f(comm);
    } catch (const std::exception& e) {
      err = std::current_exception();
      // An echo of the peer's abort is not this side's failure to report.
      if (!dynamic_cast<const PeerAborted*>(&e)) comm.broadcast_abort(me, classify_error(e));
    }
    comm.finish();
    ledger_out = comm.ledger();
    ledger_out.sync_clock = nullptr;  // it points into `comm`, which ends here
  };
  std::thread tb([&] { side(b_role, a_role, *transports.second, fb, out.b, err_b); });
  side(a_role, b_role, *transports.first, fa, out.a, err_a);
  tb.join();
  // The root cause first: a side that only heard its peer's abort reports second.
  auto echo = [](const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const PeerAborted&) {
      return true;
    } catch (...) {
      return false;
    }
  };
  if (err_a && (!err_b || !echo(err_a))) std::rethrow_exception(err_a);
  if (err_b) std::rethrow_exception(err_b);
  return out;
}

}  // namespace marill
