#include "remote/jobs.h"

#include <cstring>

#include "protocols/comm/comm.h"

namespace marill {

namespace {

constexpr std::uint32_t kJobMagic = 0x424a4d31;    // "1MJB"
constexpr std::uint32_t kReplyMagic = 0x50524d31;  // "1MRP"
constexpr std::uint32_t kMaxArgs = 4096;

class Writer {
 public:
  template <class T>
  void num(T v) {
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, arm64)
    out.insert(out.end(), b, b + sizeof(T));
  }
  void bytes(const void* p, std::size_t n) {
    num<std::uint64_t>(n);
    out.insert(out.end(), static_cast<const std::uint8_t*>(p), static_cast<const std::uint8_t*>(p) + n);
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
  std::vector<std::uint8_t> out;
};

class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n, const char* what) : p_(p), n_(n), what_(what) {}
  template <class T>
  T num() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T), n_ -= sizeof(T);
    return v;
  }
  // A length, checked against what is left before anything is allocated.
  std::size_t length(std::size_t unit) {
    const std::uint64_t len = num<std::uint64_t>();
    if (len > n_ / unit) fail("a length of " + std::to_string(len) + " beyond the message's end");
    return static_cast<std::size_t>(len);
  }
  std::string text() {
    const std::size_t len = length(1);
    std::string s(reinterpret_cast<const char*>(p_), len);
    p_ += len, n_ -= len;
    return s;
  }
  std::vector<std::uint8_t> blob() {
    const std::size_t len = length(1);
    std::vector<std::uint8_t> v(p_, p_ + len);
    p_ += len, n_ -= len;
    return v;
  }
  void end() {
    if (n_ != 0) fail(std::to_string(n_) + " bytes after the end");
  }
  [[noreturn]] void fail(const std::string& why) { throw ProtocolError(std::string("malformed ") + what_ + ": " + why); }

 private:
  void need(std::size_t k) {
    if (n_ < k) fail("cut short");
  }
  const std::uint8_t* p_;
  std::size_t n_;
  const char* what_;
};

}  // namespace

const char* job_kind_name(JobKind k) {
  switch (k) {
    case JobKind::sweep_point: return "sweep point";
    case JobKind::generation: return "generation";
    case JobKind::ship_keys: return "key shipping";
  }
  return "?";
}

std::vector<std::uint8_t> encode_job(const PartyJob& job) {
  Writer w;
  w.num(kJobMagic);
  w.num(job.id);
  w.num(static_cast<std::uint8_t>(job.kind));
  w.num(job.timeout_ms);
  w.text(job.calibration_json);
  w.num<std::uint64_t>(job.args.size());
  for (const std::string& a : job.args) w.text(a);
  return std::move(w.out);
}

PartyJob decode_job(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size, "job");
  if (r.num<std::uint32_t>() != kJobMagic) r.fail("not a marill job (wrong magic or version)");
  PartyJob job;
  job.id = r.num<std::uint64_t>();
  const auto kind = r.num<std::uint8_t>();
  if (kind < static_cast<std::uint8_t>(JobKind::sweep_point) || kind > static_cast<std::uint8_t>(JobKind::ship_keys))
    r.fail("unknown job kind " + std::to_string(kind));
  job.kind = static_cast<JobKind>(kind);
  job.timeout_ms = r.num<std::uint32_t>();
  if (job.timeout_ms == 0) r.fail("a timeout of 0 ms");
  job.calibration_json = r.text();
  const std::size_t n = r.length(sizeof(std::uint64_t));  // each argument takes at least its length
  if (n > kMaxArgs) r.fail(std::to_string(n) + " arguments (at most " + std::to_string(kMaxArgs) + ")");
  for (std::size_t i = 0; i < n; ++i) job.args.push_back(r.text());
  r.end();
  return job;
}

std::vector<std::uint8_t> encode_reply(const JobReply& reply) {
  Writer w;
  w.num(kReplyMagic);
  w.num(reply.id);
  w.num<std::uint8_t>(reply.has_report ? 1 : 0);
  w.text(reply.error);
  w.bytes(reply.report.data(), reply.report.size());
  w.text(reply.output_sha256);
  w.num<std::uint64_t>(reply.tokens.size());
  for (std::int32_t t : reply.tokens) w.num(t);
  w.num(reply.wall_s);
  return std::move(w.out);
}

JobReply decode_reply(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size, "job reply");
  if (r.num<std::uint32_t>() != kReplyMagic) r.fail("not a marill job reply (wrong magic or version)");
  JobReply reply;
  reply.id = r.num<std::uint64_t>();
  const auto has = r.num<std::uint8_t>();
  if (has > 1) r.fail("a flag of " + std::to_string(has));
  reply.has_report = has == 1;
  reply.error = r.text();
  reply.report = r.blob();
  if (reply.has_report == reply.report.empty()) r.fail(reply.has_report ? "a report flagged but empty" : "a report not flagged");
  reply.output_sha256 = r.text();
  const std::size_t n = r.length(sizeof(std::int32_t));
  reply.tokens.reserve(n);
  for (std::size_t i = 0; i < n; ++i) reply.tokens.push_back(r.num<std::int32_t>());
  reply.wall_s = r.num<double>();
  if (!(reply.wall_s >= 0)) r.fail("a negative or NaN wall time");
  r.end();
  return reply;
}

}  // namespace marill
