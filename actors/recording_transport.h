// A transport that records every frame its party sends and receives, for tests that check what a
// party sees (security tests: which bytes cross which link, whether masked openings look uniform,
// whether the dealer receives anything). It wraps any Transport and changes nothing it forwards.
//
// Every frame is copied into the log: meant for tests and small runs, not for benchmarks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "actors/frame.h"
#include "actors/transport.h"

namespace marill {

enum class FrameDirection : std::uint8_t { sent, received };

struct RecordedFrame {
  Role party = Role::client;   // whose transport recorded it
  FrameDirection direction = FrameDirection::sent;
  std::optional<Role> peer;    // sent: the addressee; received: the sender the transport saw
                               // (nullopt: not a session peer)
  bool well_formed = false;    // decode_frame accepted it; if not, header is default and the
                               // payload holds the raw bytes as they came
  FrameHeader header;
  std::vector<std::uint8_t> payload;  // empty for phantom frames (only the size travels)
  // The sending party's latest mark() when it sent the frame, on both ends: a receiver may pull a
  // frame off the transport while still in an earlier op, so its own mark would mislabel it.
  std::string label;

  // The payload as little-endian 64-bit ring words (the payload must be a whole number of words).
  std::vector<std::uint64_t> words() const;
};

// Thread-safe: the parties of a session record into one log from their own threads.
class FrameLog {
 public:
  void record(RecordedFrame f);
  // Labels the frames `party` records from now on (e.g. the op a test program is about to run),
  // so a test can pick out one op's frames. Call it from that party's own thread.
  void mark(Role party, std::string label);

  std::vector<RecordedFrame> frames() const;  // a snapshot, in recording order
  // The frames `party` recorded in `direction` (peer and label: any if not given).
  std::vector<RecordedFrame> frames(Role party, FrameDirection direction, std::optional<Role> peer = std::nullopt,
                                    const std::optional<std::string>& label = std::nullopt) const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<RecordedFrame> frames_;
  std::string labels_[kMaxRoles];
  std::map<std::tuple<int, int, int, std::uint64_t>, std::string> sent_labels_;  // (from, to, phase, seq) -> label
};

class RecordingTransport final : public Transport {
 public:
  RecordingTransport(Transport& inner, Role me, std::shared_ptr<FrameLog> log);
  void send(Role to, std::vector<std::uint8_t> bytes) override;
  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override;

 private:
  void record(FrameDirection dir, std::optional<Role> peer, const std::vector<std::uint8_t>& bytes);
  Transport& inner_;
  Role me_;
  std::shared_ptr<FrameLog> log_;
};

}  // namespace marill
