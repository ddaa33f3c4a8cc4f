// libFuzzer target: the decoders of bytes that come from a peer, the frame (actors/frame.h), the
// ZeroMQ transport's chunk reassembly (net/chunking.h), and the control channel's jobs and replies
// (remote/jobs.h) with the party report a reply carries (actors/report.h). Input format:
// fuzz/fuzz_input.h.
//
// Beyond "no crash, no sanitizer report": only ProtocolError may be thrown (anything else escapes
// and libFuzzer reports it), an accepted frame, job or reply re-encodes to the same bytes, a reassembled message
// re-chunks and reassembles to itself, and no allocation follows an announced length rather than
// the bytes received (scripts/fuzz.sh runs with -malloc_limit_mb far below the 16 GiB limit).
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <vector>

#include "actors/frame.h"
#include "fuzz_input.h"
#include "actors/report.h"
#include "net/chunking.h"
#include "remote/jobs.h"
#include "protocols/comm/comm.h"

namespace {

using marill::ProtocolError;
using Bytes = std::vector<std::uint8_t>;

// The transport's limit (net/zmq_transport.h: ZmqOptions::max_message_bytes); reserve-ahead small, as
// the transport's is small against that limit.
constexpr std::uint64_t kMaxMessageBytes = std::uint64_t{1} << 34;
constexpr std::size_t kReserveAhead = 4096;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "frame_fuzzer: property violated: %s\n", what);
  std::abort();
}

void decode_and_check(Bytes bytes) {
  const Bytes original = bytes;
  marill::Frame f;
  try {
    f = marill::decode_frame(std::move(bytes));
  } catch (const ProtocolError&) {
    return;  // rejected: what a malformed frame must get
  }
  const auto& h = f.header;
  require(f.payload.size() == (h.phantom ? 0 : h.payload_bytes), "payload size differs from the header's declaration");
  require(marill::encode_frame(h, f.payload.data(), f.payload.size()) == original, "an accepted frame does not re-encode to its bytes");
}

void rechunk_and_check(const Bytes& message, std::size_t chunk_bytes) {
  marill::ChunkReassembler again(kMaxMessageBytes, kReserveAhead);
  std::size_t off = 0;
  std::optional<Bytes> out;
  do {
    Bytes chunk(marill::chunk_wire_bytes(message.size(), off, chunk_bytes));
    off += marill::write_chunk(message.data(), message.size(), off, chunk_bytes, chunk.data());
    require(!out, "a message completed before its last chunk");
    out = again.add(chunk.data(), chunk.size(), "peer");
  } while (off < message.size());
  require(out && *out == message, "a re-chunked message does not reassemble to itself");
}

void feed_chunks(const std::uint8_t* data, std::size_t size) {
  marill::ChunkReassembler reassembly(kMaxMessageBytes, kReserveAhead);
  std::size_t at = 0;
  while (at < size) {
    const std::size_t n = std::min<std::size_t>(data[at], size - at - 1);
    const std::uint8_t* chunk = data + at + 1;
    at += 1 + n;
    try {
      if (auto message = reassembly.add(chunk, n, "peer")) {
        rechunk_and_check(*message, marill::fuzz::kSeedChunkBytes);
        decode_and_check(std::move(*message));
      }
    } catch (const ProtocolError&) {
      reassembly = marill::ChunkReassembler(kMaxMessageBytes, kReserveAhead);  // the run ends; a new one starts clean
    }
  }
}

void decode_job_and_check(const std::uint8_t* data, std::size_t size) {
  marill::PartyJob job;
  try {
    job = marill::decode_job(data, size);
  } catch (const ProtocolError&) {
    return;
  }
  require(marill::encode_job(job) == Bytes(data, data + size), "an accepted job does not re-encode to its bytes");
}

void decode_reply_and_check(const std::uint8_t* data, std::size_t size) {
  marill::JobReply reply;
  try {
    reply = marill::decode_reply(data, size);
  } catch (const ProtocolError&) {
    return;
  }
  require(marill::encode_reply(reply) == Bytes(data, data + size), "an accepted reply does not re-encode to its bytes");
  if (!reply.has_report) return;
  try {
    (void)marill::report_from_binary(reply.report);
  } catch (const ProtocolError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  switch (data[0] & 3) {
    case marill::fuzz::kWholeFrame: decode_and_check(Bytes(data + 1, data + size)); break;
    case marill::fuzz::kChunkStream: feed_chunks(data + 1, size - 1); break;
    case marill::fuzz::kJob: decode_job_and_check(data + 1, size - 1); break;
    default: decode_reply_and_check(data + 1, size - 1); break;
  }
  return 0;
}
