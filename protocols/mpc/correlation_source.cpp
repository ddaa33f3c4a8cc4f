#include "protocols/mpc/correlation_source.h"

#include <cstring>
#include <stdexcept>

#include "protocols/comm/ledger.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

Role party_role(int party) { return party == 0 ? Role::client : Role::server; }

i64 total_numel(const std::vector<Shape>& shapes) {
  i64 n = 0;
  for (const auto& s : shapes) n += shape_numel(s);
  return n;
}

// Splits one received block into the requested shapes.
std::vector<RingTensor> split_block(const RingTensor& block, const std::vector<Shape>& shapes) {
  std::vector<RingTensor> out;
  out.reserve(shapes.size());
  if (shapes.size() == 1) {
    out.push_back(block.reshaped(shapes[0]));
    return out;
  }
  i64 at = 0;
  for (const auto& s : shapes) {
    const i64 n = shape_numel(s);
    out.push_back(slice(block, 0, at, at + n).reshaped(s));  // phantom blocks too: the same work is counted
    at += n;
  }
  return out;
}

class DealerStreamInput final : public DealtInput {
 public:
  explicit DealerStreamInput(Comm& comm) : comm_(comm) {}
  RingTensor words(i64 count) override { return comm_.recv(Role::dealer, Shape{count}); }
  Bytes keys(u64 n) override { return comm_.recv_bytes(Role::dealer, n); }

 private:
  Comm& comm_;
};

class DealerStreamOutput final : public DealtOutput {
 public:
  explicit DealerStreamOutput(Comm& comm) : comm_(comm) {}
  void words(int party, const RingTensor& t) override { comm_.send(party_role(party), t); }
  void keys(int party, const Bytes* b, u64 n) override { comm_.send_bytes(party_role(party), b ? b->data() : nullptr, n); }

 private:
  Comm& comm_;
};

class KeyFileInput final : public DealtInput {
 public:
  KeyFileInput(const std::string& dir, int party) : reader_(key_file_path(dir, party)) {
    if (reader_.header().party != party)
      throw KeyFileError("key file '" + key_file_path(dir, party) + "' was written for the " + role_name(party_role(reader_.header().party)));
  }
  const KeyFileHeader& header() const { return reader_.header(); }
  RingTensor words(i64 count) override { return reader_.words(count); }
  Bytes keys(u64 n) override { return reader_.keys(n); }
  void finish() override { reader_.finish(); }

 private:
  KeyFileReader reader_;
};

class KeyFileOutput final : public DealtOutput {
 public:
  KeyFileOutput(const std::string& dir, std::uint64_t run_id, const DealerDealing::Keys& keys, Ledger& ledger)
      : client_(key_file_path(dir, 0), KeyFileHeader{0, keys.client, run_id}),
        server_(key_file_path(dir, 1), KeyFileHeader{1, keys.server, run_id}),
        ledger_(ledger) {}
  void words(int party, const RingTensor& t) override {
    file(party).words(t);
    ledger_.record_send(Phase::offline, static_cast<u64>(t.numel()) * 8, 0);
  }
  void keys(int party, const Bytes* b, u64 n) override {
    if (!b) throw std::logic_error("key files hold real material only");
    file(party).keys(*b);
    ledger_.record_send(Phase::offline, n, 0);
  }
  void finish() override {
    client_.close();
    server_.close();
  }

 private:
  KeyFileWriter& file(int party) { return party == 0 ? client_ : server_; }
  KeyFileWriter client_, server_;
  Ledger& ledger_;
};

// Counts the messages a dealer stream would deliver (work_meter.h), so a phantom party is charged
// the same receive work with or without a phantom dealer.
class SizeOnlyInput final : public DealtInput {
 public:
  RingTensor words(i64 count) override {
    count_received(static_cast<u64>(count) * 8);
    return RingTensor::phantom(Shape{count});
  }
  Bytes keys(u64 n) override {
    count_received(n);
    return {};
  }

 private:
  static void count_received(u64 bytes) {
    count_work(WorkKind::msg, u64{1});
    count_work(WorkKind::msg_byte, bytes);
  }
};

}  // namespace

void require_compute_party(Role r, const char* what) {
  if (r != Role::client && r != Role::server)
    throw std::invalid_argument(std::string("2pc-dealer: ") + what + " " + role_name(r) + " (only client and server hold shares)");
}

const char* correlation_source_name(CorrelationSourceKind k) {
  switch (k) {
    case CorrelationSourceKind::dealer_stream: return "dealer-stream";
    case CorrelationSourceKind::key_files: return "key-files";
    case CorrelationSourceKind::size_only: return "size-only";
  }
  return "?";
}

CorrelationSourceKind parse_correlation_source(const std::string& name) {
  for (auto k : {CorrelationSourceKind::dealer_stream, CorrelationSourceKind::key_files, CorrelationSourceKind::size_only})
    if (name == correlation_source_name(k)) return k;
  throw std::invalid_argument("unknown correlation source '" + name + "' (dealer-stream, key-files, size-only)");
}

// ---- party side

PartyDealing::PartyDealing(int party, const Key128& prg_key, bool phantom, std::unique_ptr<DealtInput> in)
    : party_(party), phantom_(phantom), prg_(prg_key), in_(std::move(in)) {
  if (party != 0 && party != 1) throw std::invalid_argument("PartyDealing: party must be 0 (client) or 1 (server)");
}

RingTensor PartyDealing::mask(const Shape& shape) { return prg_.random(shape, phantom_); }

int DerivedBalance::receiver(i64 words) {
  const int to = words_[0] < words_[1] ? 0 : 1;
  words_[to] += static_cast<u64>(words);
  return to;
}

std::vector<RingTensor> PartyDealing::derived(const std::vector<Shape>& shapes, const std::function<std::vector<RingTensor>()>&) {
  const i64 n = total_numel(shapes);
  if (balance_.receiver(n) != party_) {
    std::vector<RingTensor> out;
    for (const auto& s : shapes) out.push_back(prg_.random(s, phantom_));
    return out;
  }
  return split_block(in_->words(n), shapes);
}

Bytes PartyDealing::keys(u64 bytes_each, const std::function<std::pair<Bytes, Bytes>()>&) {
  Bytes b = in_->keys(bytes_each);
  if (!phantom_ && b.size() != bytes_each)
    throw ProtocolError("2pc-dealer: " + std::to_string(b.size()) + " key bytes where " + std::to_string(bytes_each) + " were due");
  return b;
}

Prg& PartyDealing::dealer_prg() { throw std::logic_error("an online party has no dealer randomness"); }

// ---- dealer side

DealerDealing::DealerDealing(const Keys& keys, bool phantom, std::unique_ptr<DealtOutput> out)
    : phantom_(phantom), to_client_(keys.client), to_server_(keys.server), own_(keys.own), out_(std::move(out)) {}

RingTensor DealerDealing::mask(const Shape& shape) {
  RingTensor c = to_client_.random(shape, phantom_);
  return add(c, to_server_.random(shape, phantom_));
}

std::vector<RingTensor> DealerDealing::derived(const std::vector<Shape>& shapes, const std::function<std::vector<RingTensor>()>& values) {
  const i64 n = total_numel(shapes);
  const int to = balance_.receiver(n);
  Prg& other = to == 1 ? to_client_ : to_server_;  // the PRG of the party that draws its shares
  if (phantom_) {
    out_->words(to, RingTensor::phantom(Shape{n}));
    std::vector<RingTensor> out;
    for (const auto& s : shapes) out.push_back(RingTensor::phantom(s));
    return out;
  }
  std::vector<RingTensor> v = values();
  if (v.size() != shapes.size()) throw std::logic_error("dealing: derived values do not match their shapes");
  RingTensor block(Shape{n});
  i64 at = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].shape() != shapes[i]) throw std::logic_error("dealing: derived value of shape " + shape_str(v[i].shape()) + ", expected " + shape_str(shapes[i]));
    RingTensor drawn = other.random(shapes[i]);
    const u64* val = v[i].data();
    const u64* ds = drawn.data();
    u64* dst = block.data() + at;
    for (i64 e = 0; e < v[i].numel(); ++e) dst[e] = val[e] - ds[e];
    at += v[i].numel();
  }
  out_->words(to, block);
  return v;
}

Bytes DealerDealing::keys(u64 bytes_each, const std::function<std::pair<Bytes, Bytes>()>& generate) {
  if (phantom_) {
    out_->keys(0, nullptr, bytes_each);
    out_->keys(1, nullptr, bytes_each);
    return {};
  }
  auto k = generate();
  if (k.first.size() != bytes_each || k.second.size() != bytes_each) throw std::logic_error("dealing: generated keys of the wrong size");
  out_->keys(0, &k.first, bytes_each);
  out_->keys(1, &k.second, bytes_each);
  return {};
}

DealerDealing::Keys dealer_keys(const std::optional<std::uint64_t>& seed) {
  if (!seed) return DealerDealing::Keys{random_key_from_os(), random_key_from_os(), random_key_from_os()};
  Key128 k{};
  std::memcpy(k.data(), &*seed, sizeof(*seed));
  k[15] = 0xd1;  // domain separation from any other use of a small seed
  Prg expand(k);
  DealerDealing::Keys out;
  out.client = expand.next_key();
  out.server = expand.next_key();
  out.own = expand.next_key();
  return out;
}

// ---- factories

std::unique_ptr<DealtInput> dealer_stream_input(Comm& comm) { return std::make_unique<DealerStreamInput>(comm); }
std::unique_ptr<DealtOutput> dealer_stream_output(Comm& comm) { return std::make_unique<DealerStreamOutput>(comm); }
std::unique_ptr<DealtInput> key_file_input(const std::string& dir, int party, Key128* prg_key) {
  auto in = std::make_unique<KeyFileInput>(dir, party);
  *prg_key = in->header().prg_key;
  return in;
}
std::unique_ptr<DealtOutput> key_file_output(const std::string& dir, std::uint64_t run_id, const DealerDealing::Keys& keys, Ledger& ledger) {
  return std::make_unique<KeyFileOutput>(dir, run_id, keys, ledger);
}
std::unique_ptr<DealtInput> size_only_input() { return std::make_unique<SizeOnlyInput>(); }

}  // namespace marill
