#include "protocols/comm/ledger.h"

#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/work_meter.h"

namespace marill {

OpCost& OpCost::operator+=(const OpCost& o) {
  if (calls == 0) hops_begin = o.hops_begin;
  if (o.calls) hops_end = o.hops_end;
  bytes_sent += o.bytes_sent;
  framing_bytes += o.framing_bytes;
  messages += o.messages;
  rounds += o.rounds;
  calls += o.calls;
  secure_macs += o.secure_macs;
  cpu_s += o.cpu_s;
  sim_s += o.sim_s;
  return *this;
}

void Ledger::record_send(Phase p, u64 payload, u64 framing) {
  int i = static_cast<int>(p);
  totals_[i].bytes_sent += payload;
  totals_[i].framing_bytes += framing;
  totals_[i].messages += 1;
  for (auto& f : stack_) {
    f.sent[i].bytes_sent += payload;
    f.sent[i].framing_bytes += framing;
    f.sent[i].messages += 1;
  }
}

void Ledger::record_macs(u64 n) {
  int i = static_cast<int>(phase);
  totals_[i].secure_macs += n;
  for (auto& f : stack_) f.sent[i].secure_macs += n;
}

void Ledger::push_op(const std::string& kind, double cpu_now) {
  if (sync_clock) sync_clock();
  count_work(WorkKind::op_call, u64{1});
  Frame f;
  f.path = stack_.empty() ? kind : stack_.back().path + "/" + kind;
  f.cpu0 = cpu_now;
  for (int p = 0; p < 2; ++p) {
    f.sim0[p] = clock[p].sim_time;
    f.hops0[p] = clock[p].hops;
  }
  stack_.push_back(std::move(f));
}

void Ledger::pop_op(double cpu_now) {
  if (stack_.empty()) return;
  if (sync_clock) sync_clock();
  Frame f = std::move(stack_.back());
  stack_.pop_back();
  for (int p = 0; p < 2; ++p) {
    OpCost c = f.sent[p];
    c.rounds = clock[p].hops - f.hops0[p];
    c.sim_s = clock[p].sim_time - f.sim0[p];
    // CPU belongs to the party's own phase only (a party computes in one phase).
    c.cpu_s = (static_cast<int>(phase) == p) ? cpu_now - f.cpu0 : 0.0;
    c.calls = 1;
    c.hops_begin = f.hops0[p];
    c.hops_end = clock[p].hops;
    bool touched = c.bytes_sent || c.rounds || c.cpu_s > 0 || static_cast<int>(phase) == p;
    if (touched) ops_[p][f.path] += c;
  }
}

void Ledger::finish(double cpu_now) {
  sync_clock = nullptr;  // the communicator may not outlive the ledger's copies
  for (int p = 0; p < 2; ++p) {
    totals_[p].rounds = clock[p].hops;
    totals_[p].sim_s = clock[p].sim_time;
    totals_[p].cpu_s = (static_cast<int>(phase) == p && cpu_start_ >= 0) ? cpu_now - cpu_start_ : 0.0;
  }
}

OpScope::OpScope(Ledger& l, const std::string& kind) : ledger_(l) { ledger_.push_op(kind, party_cpu_seconds()); }
OpScope::~OpScope() { ledger_.pop_op(party_cpu_seconds()); }

}  // namespace marill
