// Test helper: a Comm that forwards to another and keeps a copy of every payload it sends, so that a
// test can inspect a party's messages or replay them elsewhere (security and bad-message checks).
#pragma once

#include <cstdint>
#include <vector>

#include "protocols/comm/comm.h"

namespace marill::test {

class RecordingComm final : public Comm {
 public:
  explicit RecordingComm(Comm& inner) : inner_(inner) {}
  Role role() const override { return inner_.role(); }
  bool phantom() const override { return inner_.phantom(); }
  Ledger& ledger() override { return inner_.ledger(); }
  void send_bytes(Role to, const std::uint8_t* data, u64 n) override {
    if (data) sent.emplace_back(data, data + n);  // phantom sends carry no payload to keep
    inner_.send_bytes(to, data, n);
  }
  std::vector<std::uint8_t> recv_bytes(Role from, u64 n) override { return inner_.recv_bytes(from, n); }
  std::vector<std::vector<std::uint8_t>> sent;

 private:
  Comm& inner_;
};

}  // namespace marill::test
