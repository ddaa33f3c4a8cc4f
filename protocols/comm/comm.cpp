#include "protocols/comm/comm.h"

#include <cstring>

namespace marill {

void Comm::send(Role to, const RingTensor& t) {
  u64 n = static_cast<u64>(t.numel()) * 8;
  if (t.is_phantom()) {
    send_bytes(to, nullptr, n);
  } else {
    send_bytes(to, reinterpret_cast<const std::uint8_t*>(t.data()), n);  // little-endian host
  }
}

RingTensor Comm::recv(Role from, const Shape& shape) {
  u64 n = static_cast<u64>(shape_numel(shape)) * 8;
  std::vector<std::uint8_t> bytes = recv_bytes(from, n);
  if (phantom()) return RingTensor::phantom(shape);
  RingTensor t(shape);
  if (n) std::memcpy(t.data(), bytes.data(), n);
  return t;
}

}  // namespace marill
