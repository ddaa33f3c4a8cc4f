// The decoders of peer bytes outside any socket: the ZeroMQ transport's chunks (net/chunking.h) and
// the frame header's ranges (actors/frame.h). fuzz/frame_fuzzer.cpp fuzzes the same functions.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "actors/frame.h"
#include "net/chunking.h"
#include "protocols/comm/comm.h"

using namespace marill;
using Bytes = std::vector<std::uint8_t>;

namespace {

std::vector<Bytes> chunks_of(const Bytes& message, std::size_t chunk_bytes) {
  std::vector<Bytes> out;
  std::size_t off = 0;
  do {
    Bytes c(chunk_wire_bytes(message.size(), off, chunk_bytes));
    off += write_chunk(message.data(), message.size(), off, chunk_bytes, c.data());
    out.push_back(std::move(c));
  } while (off < message.size());
  return out;
}

Bytes first_chunk(std::uint64_t length, std::size_t carried, std::uint8_t flags) {
  Bytes c{flags};
  for (int i = 0; i < 8; ++i) c.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  c.resize(c.size() + carried, 7);
  return c;
}

}  // namespace

TEST_CASE("chunks: messages of any size reassemble to themselves, completed by their last chunk", "[net]") {
  for (std::size_t chunk_bytes : {9, 16, 100}) {
    for (std::size_t size : {0, 1, 7, 8, 9, 91, 92, 93, 500}) {
      Bytes message(size);
      for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<std::uint8_t>(i * 31 + size);
      const auto chunks = chunks_of(message, chunk_bytes);
      ChunkReassembler r(1 << 20, 64);
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        CHECK(chunks[i].size() <= chunk_bytes + 1);
        auto out = r.add(chunks[i].data(), chunks[i].size(), "server");
        REQUIRE(out.has_value() == (i + 1 == chunks.size()));
        if (out) CHECK(*out == message);
      }
    }
  }
}

TEST_CASE("chunks: malformed sequences are clear errors naming the sender", "[net]") {
  ChunkReassembler r(1000, 64);
  CHECK_THROWS_WITH(r.add(nullptr, 0, "helper"), "zmq transport: empty chunk from helper");
  const Bytes bad_flags{0x80, 1};
  CHECK_THROWS_WITH(r.add(bad_flags.data(), bad_flags.size(), "helper"), "zmq transport: malformed chunk from helper");
  const Bytes orphan{kChunkLast, 1, 2};
  CHECK_THROWS_WITH(r.add(orphan.data(), orphan.size(), "helper"), "zmq transport: helper sent a chunk of no message");
  const Bytes short_length{kChunkFirst, 1, 2, 3};
  CHECK_THROWS_WITH(r.add(short_length.data(), short_length.size(), "helper"), "zmq transport: malformed chunk from helper");
  const Bytes over = first_chunk(1001, 0, kChunkFirst);
  CHECK_THROWS_WITH(r.add(over.data(), over.size(), "helper"), "zmq transport: a message from helper of 1001 bytes exceeds 1000 bytes");
  const Bytes longer = first_chunk(3, 4, kChunkFirst | kChunkLast);
  CHECK_THROWS_WITH(r.add(longer.data(), longer.size(), "helper"), "zmq transport: helper sent more than its message's length");
  ChunkReassembler shorter(1000, 64);
  const Bytes cut = first_chunk(10, 4, kChunkFirst | kChunkLast);
  CHECK_THROWS_WITH(shorter.add(cut.data(), cut.size(), "helper"), "zmq transport: helper ended a message short of its length");
  ChunkReassembler nested(1000, 64);
  const Bytes open = first_chunk(10, 4, kChunkFirst);
  CHECK_FALSE(nested.add(open.data(), open.size(), "helper"));
  CHECK_THROWS_WITH(nested.add(open.data(), open.size(), "helper"), "zmq transport: helper began a message inside another");
}

TEST_CASE("chunks: an announced length allocates no more than the reserve ahead of the bytes received", "[net]") {
  // A peer announces 16 GiB (the limit) and sends a little: the buffer follows what arrived. The
  // fuzz target checks the same with -malloc_limit_mb on every input.
  const std::uint64_t limit = std::uint64_t{1} << 34;
  const std::size_t ahead = 4096;
  ChunkReassembler r(limit, ahead);
  const Bytes announce = first_chunk(limit, 4, kChunkFirst);
  CHECK_FALSE(r.add(announce.data(), announce.size(), "server"));
  CHECK(r.reserved_bytes() <= ahead);
  const Bytes more(1 + 1000, 0);  // flags 0: a middle chunk
  std::size_t received = 4;
  for (int i = 0; i < 20; ++i) {
    CHECK_FALSE(r.add(more.data(), more.size(), "server"));
    received += 1000;
  }
  CHECK(r.reserved_bytes() <= 2 * received + ahead);
  // A message up to the reserve is allocated once, at its first chunk.
  ChunkReassembler small(limit, ahead);
  const Bytes head = first_chunk(3000, 10, kChunkFirst);
  CHECK_FALSE(small.add(head.data(), head.size(), "server"));
  CHECK(small.reserved_bytes() == 3000);
}

TEST_CASE("frames: kind, phase, phantom flag and arrival out of range are malformed", "[errors]") {
  auto encoded = [](FrameHeader h) { return encode_frame(h, nullptr, 0); };
  FrameHeader ok;
  CHECK_NOTHROW(decode_frame(encoded(ok)));
  FrameHeader h = ok;
  h.kind = 2;
  CHECK_THROWS_WITH(decode_frame(encoded(h)), "malformed frame header: kind 2, phase 1, phantom flag 0");
  h = ok;
  h.phase = 2;
  CHECK_THROWS_WITH(decode_frame(encoded(h)), "malformed frame header: kind 0, phase 2, phantom flag 0");
  h = ok;
  h.phantom = 5;
  CHECK_THROWS_WITH(decode_frame(encoded(h)), "malformed frame header: kind 0, phase 1, phantom flag 5");
  for (double bad : {-1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    h = ok;
    h.arrival = bad;
    CHECK_THROWS_WITH(decode_frame(encoded(h)), Catch::Contains("arrival time is not a finite non-negative number"));
  }
}
