#include "remote/key_shipping.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "actors/party_error.h"
#include "protocols/mpc/key_file.h"
#include "remote/remote_sweep.h"
#include "runner/runner.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPieceBytes = std::size_t{4} << 20;
constexpr std::uint64_t kMaxKeyFileBytes = std::uint64_t{1} << 40;  // far above any point's (GBs)

std::vector<std::uint8_t> tagged_u64(char tag, std::uint64_t v) {
  std::vector<std::uint8_t> m(9);
  m[0] = static_cast<std::uint8_t>(tag);
  std::memcpy(m.data() + 1, &v, 8);
  return m;
}

std::uint64_t u64_of(const std::vector<std::uint8_t>& m, char tag, const std::string& what) {
  if (m.size() != 9 || m[0] != static_cast<std::uint8_t>(tag)) throw ProtocolError("key shipping: expected " + what + ", got another message");
  std::uint64_t v;
  std::memcpy(&v, m.data() + 1, 8);
  return v;
}

Incoming receive_from(Transport& t, Role from, std::chrono::milliseconds timeout, const std::string& what) {
  auto in = t.receive(timeout);
  if (!in) throw TimeoutError("key shipping: timed out after " + std::to_string(timeout.count()) + " ms waiting for " + role_name(from) + "'s " + what);
  if (in->sender != from) throw ProtocolError(std::string("key shipping: a message from ") + (in->sender ? role_name(*in->sender) : "a stranger") +
                                              " while waiting for " + role_name(from) + "'s " + what);
  return std::move(*in);
}

void ship_file(const std::string& path, Role to, Transport& t) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("key shipping: cannot read " + path);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  t.send(to, tagged_u64('H', size));
  std::vector<std::uint8_t> piece;
  for (std::uint64_t left = size; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, kPieceBytes));
    piece.assign(n + 1, 0);
    piece[0] = 'D';
    if (!in.read(reinterpret_cast<char*>(piece.data() + 1), static_cast<std::streamsize>(n))) throw std::runtime_error("key shipping: cannot read " + path);
    t.send(to, std::move(piece));
    left -= n;
  }
}

bool valid_key_set(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

std::string key_set_dir(const RemoteParty& me, const std::string& key_set) {
  if (!valid_key_set(key_set)) throw std::invalid_argument("key set '" + key_set + "': expected 1 to 64 of a-z, 0-9 and '-'");
  if (me.key_store.empty()) throw std::invalid_argument("this party server has no key store");
  return (fs::path(me.key_store) / key_set).string();
}

ShippedKeys deal_and_ship(const Point& p, const std::string& dir, Transport& t, std::chrono::milliseconds timeout) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  const DealReport dealt = deal_point(p, dir);
  ShippedKeys out;
  out.cpu_s = dealt.cpu_s;
  const Role to[2] = {Role::client, Role::server};
  for (int party = 0; party < 2; ++party) {
    ship_file(key_file_path(dir, party), to[party], t);
    out.bytes[party] = dealt.file_bytes[party];
  }
  bool acked[2] = {false, false};  // each acknowledges its whole file, in either order
  while (!acked[0] || !acked[1]) {
    auto in = t.receive(timeout);
    if (!in) throw TimeoutError("key shipping: timed out after " + std::to_string(timeout.count()) + " ms waiting for " +
                                role_name(acked[0] ? Role::server : Role::client) + "'s acknowledgement");
    const int party = in->sender == Role::client ? 0 : in->sender == Role::server ? 1 : -1;
    if (party < 0 || acked[party]) throw ProtocolError("key shipping: an unexpected message while waiting for the acknowledgements");
    const std::uint64_t got = u64_of(in->bytes, 'A', "an acknowledgement");
    if (got != out.bytes[party])
      throw ProtocolError(std::string("key shipping: ") + role_name(to[party]) + " wrote " + std::to_string(got) + " of " +
                          std::to_string(out.bytes[party]) + " bytes");
    acked[party] = true;
  }
  return out;
}

std::uint64_t receive_key_file(Role me, const std::string& dir, Transport& t, std::chrono::milliseconds timeout) {
  if (me != Role::client && me != Role::server) throw std::invalid_argument("key shipping: only the client and the server receive key files");
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  const std::string path = key_file_path(dir, me == Role::client ? 0 : 1);
  const std::uint64_t size = u64_of(receive_from(t, Role::dealer, timeout, "key file header").bytes, 'H', "the key file's header");
  if (size > kMaxKeyFileBytes) throw ProtocolError("key shipping: the dealer announced a key file of " + std::to_string(size) + " bytes");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("key shipping: cannot write " + path);
  std::uint64_t written = 0;
  try {
    while (written < size) {
      const Incoming piece = receive_from(t, Role::dealer, timeout, "key file");
      if (piece.bytes.empty() || piece.bytes[0] != 'D' || piece.bytes.size() - 1 > size - written)
        throw ProtocolError("key shipping: a piece of the key file that is not one or runs past its announced size");
      for (std::size_t at = 1; at < piece.bytes.size();) {
        const ssize_t n = ::write(fd, piece.bytes.data() + at, piece.bytes.size() - at);
        if (n <= 0) throw std::runtime_error("key shipping: cannot write " + path + ": " + std::strerror(errno));
        at += static_cast<std::size_t>(n);
      }
      written += piece.bytes.size() - 1;
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw std::runtime_error("key shipping: cannot write " + path);
  t.send(Role::dealer, tagged_u64('A', written));
  return written;
}

JobReply run_key_shipping_job(const PartyJob& job, const RemoteParty& me) {
  if (job.args.size() != 5) throw std::invalid_argument("key shipping job: expected 5 arguments (the point's four, the key set)");
  const Point p = sweep_job_block_point(job);
  if (p.setting != Setting::two_pc_dealer || p.mode != Mode::real)
    throw std::invalid_argument("key shipping job: only real 2pc-dealer points have key files");
  const std::string dir = key_set_dir(me, job.args[4]);
  // Points run one at a time: a key set still here belongs to a point that failed. Gone with it.
  for (const auto& old : fs::directory_iterator(me.key_store)) fs::remove_all(old.path());
  const auto timeout = std::chrono::milliseconds(job.timeout_ms);
  RemoteParty::Run run;
  try {
    run = me.run({Role::client, Role::server, Role::dealer}, timeout, [&](Transport& t) {
    PartyReport r;
    r.role = me.role;
    if (me.role == Role::dealer) {
      const ShippedKeys shipped = deal_and_ship(p, dir, t, timeout);
      fs::remove_all(dir);  // the dealer keeps no copy
      // The material the dealer sent, offline, for the point's scope (what a dealer stream reports).
      OpCost& c = r.ledger.ops[static_cast<size_t>(Phase::offline)]["forward"];
      c.bytes_sent = shipped.bytes[0] + shipped.bytes[1];
      c.cpu_s = shipped.cpu_s;
      r.ledger.totals[static_cast<size_t>(Phase::offline)] = c;
    } else {
      receive_key_file(me.role, dir, t, timeout);
    }
    r.ran = true;
    return r;
  });
  } catch (...) {
    fs::remove_all(dir);  // no half-shipped key set is left behind
    throw;
  }
  JobReply reply;
  reply.has_report = true;
  reply.report = report_to_binary(run.report);
  reply.wall_s = run.wall_s;
  return reply;
}

}  // namespace marill
