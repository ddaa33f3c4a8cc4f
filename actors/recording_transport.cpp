#include "actors/recording_transport.h"

#include <cstring>
#include <stdexcept>

namespace marill {

std::vector<std::uint64_t> RecordedFrame::words() const {
  if (payload.size() % 8 != 0)
    throw std::invalid_argument("recorded frame: payload of " + std::to_string(payload.size()) +
                                " bytes is not a whole number of 64-bit words");
  std::vector<std::uint64_t> out(payload.size() / 8);
  if (!out.empty()) std::memcpy(out.data(), payload.data(), payload.size());  // ring words travel little-endian
  return out;
}

void FrameLog::record(RecordedFrame f) {
  std::lock_guard<std::mutex> lock(mu_);
  f.label = labels_[role_index(f.party)];
  if (f.well_formed) {
    const auto key = std::make_tuple(int{f.header.from}, int{f.header.to}, int{f.header.phase}, std::uint64_t{f.header.seq});
    if (f.direction == FrameDirection::sent) {
      sent_labels_[key] = f.label;
    } else if (auto it = sent_labels_.find(key); it != sent_labels_.end()) {
      f.label = it->second;  // the sender's op, whatever op the receiver was in when it arrived
    }
  }
  frames_.push_back(std::move(f));
}

void FrameLog::mark(Role party, std::string label) {
  std::lock_guard<std::mutex> lock(mu_);
  labels_[role_index(party)] = std::move(label);
}

std::vector<RecordedFrame> FrameLog::frames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return frames_;
}

std::vector<RecordedFrame> FrameLog::frames(Role party, FrameDirection direction, std::optional<Role> peer,
                                            const std::optional<std::string>& label) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RecordedFrame> out;
  for (const auto& f : frames_)
    if (f.party == party && f.direction == direction && (!peer || f.peer == peer) && (!label || f.label == *label))
      out.push_back(f);
  return out;
}

std::size_t FrameLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return frames_.size();
}

RecordingTransport::RecordingTransport(Transport& inner, Role me, std::shared_ptr<FrameLog> log)
    : inner_(inner), me_(me), log_(std::move(log)) {
  if (!log_) throw std::invalid_argument("recording transport: no log to record into");
}

void RecordingTransport::record(FrameDirection dir, std::optional<Role> peer, const std::vector<std::uint8_t>& bytes) {
  RecordedFrame f;
  f.party = me_;
  f.direction = dir;
  f.peer = peer;
  try {
    Frame fr = decode_frame(std::vector<std::uint8_t>(bytes));
    f.header = fr.header;
    f.payload = std::move(fr.payload);
    f.well_formed = true;
  } catch (const std::exception&) {
    f.payload = bytes;  // recorded as it came; the party's own decoding reports the error
  }
  log_->record(std::move(f));
}

void RecordingTransport::send(Role to, std::vector<std::uint8_t> bytes) {
  record(FrameDirection::sent, to, bytes);
  inner_.send(to, std::move(bytes));
}

std::optional<Incoming> RecordingTransport::receive(std::chrono::milliseconds timeout) {
  auto in = inner_.receive(timeout);
  if (in) record(FrameDirection::received, in->sender, in->bytes);
  return in;
}

}  // namespace marill
