// Correlation sources of the two-party engine (two_party.h): where an online party's dealt material
// comes from, and where the dealer's goes. The gates define the material once (protocols/fss/
// dealing.h); these classes only move it:
//   dealer stream  the dealer runs beside the parties and sends each gate's material as it meets it
//                  (offline bytes on the dealer's ledger);
//   key files      a separate dealer run wrote DIR/client.keys and DIR/server.keys beforehand
//                  (key_file.h); the online parties read them record by record;
//   size only      phantom runs without any dealer: shapes, no bytes (costs of the online phase).
// Masks come from a PRG the dealer shares with each party, so only FSS keys and the corrections of
// derived values travel; each derived value goes to the party that has received fewer of them so far
// (DerivedBalance), so both parties receive about the same material. A later OT/HE source (2pc) plugs in
// beside these.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "protocols/comm/comm.h"
#include "protocols/fss/dealing.h"
#include "protocols/mpc/correlation_options.h"
#include "protocols/mpc/key_file.h"

namespace marill {

// What the dealer sends one party, in order (party side).
class DealtInput {
 public:
  virtual ~DealtInput() = default;
  virtual RingTensor words(i64 count) = 0;  // the next block of correction words
  virtual Bytes keys(u64 n) = 0;             // the next block of key bytes
  virtual void finish() {}                   // the program ended: everything consumed?
};

// Where the dealer's material goes (dealer side); party 0 = client, 1 = server.
class DealtOutput {
 public:
  virtual ~DealtOutput() = default;
  virtual void words(int party, const RingTensor& t) = 0;
  virtual void keys(int party, const Bytes* b, u64 n) = 0;  // b null in phantom runs
  virtual void finish() {}
};

// Which party receives a derived value's correction words (the other draws its shares from its PRG
// with the dealer): the one that has received fewer words so far, the server on a tie. Dealer and
// parties call it with the same sizes in the same order, so they agree without a message.
class DerivedBalance {
 public:
  int receiver(i64 words);  // 0 client, 1 server

 private:
  u64 words_[2] = {0, 0};
};

// An online party's side of the dealing.
class PartyDealing final : public Dealing {
 public:
  PartyDealing(int party, const Key128& prg_key, bool phantom, std::unique_ptr<DealtInput> in);
  bool is_dealer() const override { return false; }
  int party() const override { return party_; }
  bool phantom() const override { return phantom_; }
  RingTensor mask(const Shape& shape) override;
  std::vector<RingTensor> derived(const std::vector<Shape>& shapes, const std::function<std::vector<RingTensor>()>& values) override;
  Bytes keys(u64 bytes_each, const std::function<std::pair<Bytes, Bytes>()>& generate) override;
  Prg& dealer_prg() override;
  void finish() { in_->finish(); }

 private:
  int party_;
  bool phantom_;
  Prg prg_;  // shared with the dealer
  std::unique_ptr<DealtInput> in_;
  DerivedBalance balance_;
};

// The dealer's side.
class DealerDealing final : public Dealing {
 public:
  struct Keys {
    Key128 client, server, own;
  };
  DealerDealing(const Keys& keys, bool phantom, std::unique_ptr<DealtOutput> out);
  bool is_dealer() const override { return true; }
  int party() const override { return -1; }
  bool phantom() const override { return phantom_; }
  RingTensor mask(const Shape& shape) override;
  std::vector<RingTensor> derived(const std::vector<Shape>& shapes, const std::function<std::vector<RingTensor>()>& values) override;
  Bytes keys(u64 bytes_each, const std::function<std::pair<Bytes, Bytes>()>& generate) override;
  Prg& dealer_prg() override { return own_; }
  void finish() { out_->finish(); }

 private:
  bool phantom_;
  Prg to_client_, to_server_, own_;
  std::unique_ptr<DealtOutput> out_;
  DerivedBalance balance_;
};

// The dealer's keys: from the OS, or derived from a seed (CorrelationOptions::dealer_seed).
DealerDealing::Keys dealer_keys(const std::optional<std::uint64_t>& seed);

// Throws std::invalid_argument unless r is client or server (the roles that hold shares).
void require_compute_party(Role r, const char* what);

// ---- the sources ----
// Dealer stream: the party receives from Role::dealer over its communicator.
std::unique_ptr<DealtInput> dealer_stream_input(Comm& comm);
std::unique_ptr<DealtOutput> dealer_stream_output(Comm& comm);
// Key files: the party reads its file; the dealer writes both (and books their payload bytes as its
// offline bytes on `ledger`, so a dealer run reports what a live dealer would send).
// The reader also gives the PRG key the dealer shares with this party (from the file's header).
std::unique_ptr<DealtInput> key_file_input(const std::string& dir, int party, Key128* prg_key);
std::unique_ptr<DealtOutput> key_file_output(const std::string& dir, std::uint64_t run_id, const DealerDealing::Keys& keys,
                                             Ledger& ledger);
// Size only: phantom material from nowhere (phantom runs only).
std::unique_ptr<DealtInput> size_only_input();

}  // namespace marill
