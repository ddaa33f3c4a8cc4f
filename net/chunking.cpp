#include "net/chunking.h"

#include <algorithm>
#include <cstring>

#include "protocols/comm/comm.h"

namespace marill {

namespace {
std::size_t chunk_payload(std::size_t size, std::size_t offset, std::size_t chunk_bytes) {
  const std::size_t room = chunk_bytes - (offset == 0 ? kChunkLengthBytes : 0);
  return std::min(room, size - offset);
}
}  // namespace

std::size_t chunk_wire_bytes(std::size_t size, std::size_t offset, std::size_t chunk_bytes) {
  return 1 + (offset == 0 ? kChunkLengthBytes : 0) + chunk_payload(size, offset, chunk_bytes);
}

std::size_t write_chunk(const std::uint8_t* message, std::size_t size, std::size_t offset, std::size_t chunk_bytes, std::uint8_t* out) {
  const bool first = offset == 0;
  const std::size_t n = chunk_payload(size, offset, chunk_bytes);
  const std::size_t head = 1 + (first ? kChunkLengthBytes : 0);
  out[0] = static_cast<std::uint8_t>((first ? kChunkFirst : 0) | (offset + n == size ? kChunkLast : 0));
  for (std::size_t i = 0; first && i < kChunkLengthBytes; ++i) out[1 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(size) >> (8 * i));
  if (n) std::memcpy(out + head, message + offset, n);
  return n;
}

ChunkReassembler::ChunkReassembler(std::uint64_t max_message_bytes, std::size_t reserve_ahead)
    : max_message_bytes_(max_message_bytes), reserve_ahead_(reserve_ahead) {}

std::optional<std::vector<std::uint8_t>> ChunkReassembler::add(const std::uint8_t* in, std::size_t n, const std::string& from) {
  if (n == 0) throw ProtocolError("zmq transport: empty chunk from " + from);
  const std::uint8_t flags = in[0];
  std::size_t head = 1;
  if (flags & ~(kChunkFirst | kChunkLast)) throw ProtocolError("zmq transport: malformed chunk from " + from);
  if ((flags & kChunkFirst) != 0 && started_) throw ProtocolError("zmq transport: " + from + " began a message inside another");
  if ((flags & kChunkFirst) == 0 && !started_) throw ProtocolError("zmq transport: " + from + " sent a chunk of no message");
  if (flags & kChunkFirst) {
    if (n < 1 + kChunkLengthBytes) throw ProtocolError("zmq transport: malformed chunk from " + from);
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < kChunkLengthBytes; ++i) length |= static_cast<std::uint64_t>(in[1 + i]) << (8 * i);
    if (length > max_message_bytes_)  // before allocating anything for it
      throw ProtocolError("zmq transport: a message from " + from + " of " + std::to_string(length) + " bytes exceeds " +
                          std::to_string(max_message_bytes_) + " bytes");
    started_ = true;
    length_ = length;
    bytes_.clear();
    // Allocate once for what most messages are; a larger one grows as its bytes actually arrive.
    bytes_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(length, reserve_ahead_)));
    head += kChunkLengthBytes;
  }
  if (bytes_.size() + (n - head) > length_) throw ProtocolError("zmq transport: " + from + " sent more than its message's length");
  bytes_.insert(bytes_.end(), in + head, in + n);
  if (!(flags & kChunkLast)) return std::nullopt;
  if (bytes_.size() != length_) throw ProtocolError("zmq transport: " + from + " ended a message short of its length");
  started_ = false;
  return std::move(bytes_);
}

}  // namespace marill
