// How net/zmq_transport.cpp cuts a message into chunks and puts it back together, as pure functions
// over bytes (no sockets), so the decoding of what a peer sends can be fuzzed (fuzz/frame_fuzzer.cpp)
// and tested on its own.
//
// A chunk is a flags byte (first / last chunk of a message), then, in a message's first chunk only,
// the message's length (8 bytes, little endian), then up to `chunk_bytes` bytes of the message in all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace marill {

constexpr std::uint8_t kChunkFirst = 0x01, kChunkLast = 0x02;
constexpr std::size_t kChunkLengthBytes = 8;

// The wire size of the chunk that starts at `offset` of a message of `size` bytes.
std::size_t chunk_wire_bytes(std::size_t size, std::size_t offset, std::size_t chunk_bytes);
// Writes that chunk (chunk_wire_bytes of it) to `out`; returns how many message bytes it carries.
std::size_t write_chunk(const std::uint8_t* message, std::size_t size, std::size_t offset, std::size_t chunk_bytes, std::uint8_t* out);

// One sender's chunks back into messages. A length above `max_message_bytes` is refused before
// anything is allocated for it; the buffer then grows with the bytes that arrive, at most
// `reserve_ahead` bytes ahead of them, so a peer that announces a huge message and sends little
// costs little memory.
class ChunkReassembler {
 public:
  ChunkReassembler(std::uint64_t max_message_bytes, std::size_t reserve_ahead);
  // Adds one chunk from `from` (named in errors); the whole message when this chunk ends it.
  // Throws ProtocolError on a malformed chunk; the reassembler is then unusable for this run.
  std::optional<std::vector<std::uint8_t>> add(const std::uint8_t* chunk, std::size_t n, const std::string& from);
  std::size_t reserved_bytes() const { return bytes_.capacity(); }  // the buffer of the message in progress

 private:
  std::uint64_t max_message_bytes_;
  std::size_t reserve_ahead_;
  bool started_ = false;
  std::uint64_t length_ = 0;  // announced by the first chunk
  std::vector<std::uint8_t> bytes_;
};

}  // namespace marill
