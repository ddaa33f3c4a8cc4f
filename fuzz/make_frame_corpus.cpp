// Writes fuzz/corpus/frame/: valid frames and chunk streams as the parties produce them (through the
// real encoders), and the edge cases the decoders must reject. Usage: make_frame_corpus DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "actors/frame.h"
#include "fuzz_input.h"
#include "actors/report.h"
#include "net/chunking.h"
#include "remote/jobs.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using namespace marill;

Bytes frame(FrameHeader h, std::size_t payload) {
  Bytes p(payload);
  for (std::size_t i = 0; i < payload; ++i) p[i] = static_cast<std::uint8_t>(i * 37 + 11);
  h.payload_bytes = h.phantom ? h.payload_bytes : payload;
  return encode_frame(h, p.data(), p.size());
}

FrameHeader data_header() {
  FrameHeader h;
  h.from = 1, h.to = 0, h.phase = 1, h.seq = 3, h.hops = 5, h.arrival = 0.0125;
  return h;
}

// A message as the transport cuts it, in the fuzzer's chunk-record format.
Bytes chunk_records(const Bytes& message, std::size_t chunk_bytes) {
  Bytes out{fuzz::kChunkStream};
  std::size_t off = 0;
  do {
    Bytes chunk(chunk_wire_bytes(message.size(), off, chunk_bytes));
    off += write_chunk(message.data(), message.size(), off, chunk_bytes, chunk.data());
    out.push_back(static_cast<std::uint8_t>(chunk.size()));
    out.insert(out.end(), chunk.begin(), chunk.end());
  } while (off < message.size());
  return out;
}

Bytes whole(Bytes f) {
  f.insert(f.begin(), fuzz::kWholeFrame);
  return f;
}

// A first chunk announcing `length` bytes, carrying `carried` of them.
Bytes announce(std::uint64_t length, std::size_t carried, std::uint8_t flags) {
  Bytes chunk{flags};
  for (int i = 0; i < 8; ++i) chunk.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  chunk.resize(chunk.size() + carried, 0x5a);
  Bytes out{fuzz::kChunkStream, static_cast<std::uint8_t>(chunk.size())};
  out.insert(out.end(), chunk.begin(), chunk.end());
  return out;
}

Bytes tagged(std::uint8_t tag, Bytes b) {
  b.insert(b.begin(), tag);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_frame_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::pair<std::string, Bytes>> seeds;
  const Bytes small = frame(data_header(), 16), empty = frame(data_header(), 0), large = frame(data_header(), 200);
  FrameHeader phantom = data_header();
  phantom.phantom = 1, phantom.payload_bytes = std::uint64_t{1} << 40;
  FrameHeader abort_h;
  abort_h.kind = FrameHeader::abort, abort_h.from = 2, abort_h.to = 0, abort_h.payload_bytes = 2;
  const std::uint8_t abort_payload[2] = {2, 1};
  const Bytes abort_frame = encode_frame(abort_h, abort_payload, 2);

  seeds.push_back({"valid-data-16", whole(small)});
  seeds.push_back({"valid-data-empty", whole(empty)});
  seeds.push_back({"valid-phantom", whole(frame(phantom, 0))});
  seeds.push_back({"valid-abort", whole(abort_frame)});
  Bytes cut = small;
  cut.resize(frame_header_bytes() - 1);
  seeds.push_back({"edge-short-header", whole(cut)});
  Bytes bad_magic = small;
  bad_magic[0] ^= 0xff;
  seeds.push_back({"edge-bad-magic", whole(bad_magic)});
  Bytes truncated = small;
  truncated.pop_back();
  seeds.push_back({"edge-truncated-payload", whole(truncated)});
  FrameHeader huge = data_header();
  huge.payload_bytes = ~std::uint64_t{0};
  seeds.push_back({"edge-huge-declared", whole(encode_frame(huge, nullptr, 0))});
  FrameHeader odd = data_header();
  odd.kind = 7, odd.phase = 9, odd.phantom = 2;
  seeds.push_back({"edge-out-of-range-fields", whole(encode_frame(odd, nullptr, 0))});

  seeds.push_back({"chunks-valid-data-16", chunk_records(small, fuzz::kSeedChunkBytes)});
  seeds.push_back({"chunks-valid-data-200", chunk_records(large, fuzz::kSeedChunkBytes)});
  Bytes two = chunk_records(abort_frame, fuzz::kSeedChunkBytes), next = chunk_records(small, fuzz::kSeedChunkBytes);
  two.insert(two.end(), next.begin() + 1, next.end());
  seeds.push_back({"chunks-two-messages", two});
  seeds.push_back({"chunks-announce-limit", announce(std::uint64_t{1} << 34, 4, kChunkFirst)});
  seeds.push_back({"chunks-announce-over-limit", announce((std::uint64_t{1} << 34) + 1, 0, kChunkFirst | kChunkLast)});
  seeds.push_back({"chunks-announce-max", announce(~std::uint64_t{0}, 1, kChunkFirst)});
  seeds.push_back({"chunks-short-of-length", announce(100, 10, kChunkFirst | kChunkLast)});
  seeds.push_back({"chunks-no-message", Bytes{fuzz::kChunkStream, 3, kChunkLast, 1, 2}});
  seeds.push_back({"chunks-bad-flags", Bytes{fuzz::kChunkStream, 2, 0x80, 0}});

  PartyJob job;
  job.id = 7, job.kind = JobKind::sweep_point, job.timeout_ms = 30000;
  job.args = {"/data/s.yaml", "/data", "name: s\nmodel: {preset: gpt2}\n", "3"};
  seeds.push_back({"job-sweep-point", tagged(fuzz::kJob, encode_job(job))});
  job.kind = JobKind::generation, job.calibration_json = "{\"version\": 1}";
  job.args = {"--package", "/m/p", "--prompt-ids", "1,2,3", "--settings", "3pc"};
  seeds.push_back({"job-generation", tagged(fuzz::kJob, encode_job(job))});
  Bytes job_bytes = encode_job(job);
  job_bytes.resize(job_bytes.size() / 2);
  seeds.push_back({"job-cut", tagged(fuzz::kJob, job_bytes)});
  PartyReport report;
  report.role = Role::server, report.ran = true;
  report.ledger.ops[1]["forward/attention"].bytes_sent = 4096;
  report.ledger.ops[1]["forward/mlp"].rounds = 12;
  JobReply reply;
  reply.id = 7, reply.has_report = true, reply.report = report_to_binary(report), reply.wall_s = 0.25;
  reply.output_sha256 = std::string(64, 'a');
  reply.tokens = {264, 1769, 3};
  seeds.push_back({"reply-report", tagged(fuzz::kJobReply, encode_reply(reply))});
  JobReply refused;
  refused.id = 8, refused.error = "the job could not be run";
  seeds.push_back({"reply-refused", tagged(fuzz::kJobReply, encode_reply(refused))});

  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "make_frame_corpus: cannot write %s/%s\n", dir.c_str(), name.c_str());
      return 1;
    }
  }
  std::printf("make_frame_corpus: %zu seeds in %s\n", seeds.size(), dir.c_str());
  return 0;
}
