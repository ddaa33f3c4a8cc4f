// What a coordinator asks of a party server, and what the server answers (remote/coordinator.h,
// remote/party_server.h): one job per point, every party of the point given the same job.
//
// A job names its point the way the coordinator's own command does, so every party builds the
// point with the same code: a sweep point is the scenario's text (and its file name, for relative
// paths) with the point's index; a generation is `marill generate`'s point options. Each party builds
// its program from its own inputs only (runner/runner.h); the job carries no secret.
//
// The reply carries the party's report (actors/report.h); the client's output (the output's
// SHA-256, the generated tokens) only where its server was started to send it.
//
// Binary, little-endian, versioned; decoding checks every length against the bytes that are left
// before allocating, and throws ProtocolError on anything malformed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace marill {

enum class JobKind : std::uint8_t { sweep_point = 1, generation = 2, ship_keys = 3 };
const char* job_kind_name(JobKind k);

struct PartyJob {
  std::uint64_t id = 0;  // the coordinator's sequence number; the reply echoes it
  JobKind kind = JobKind::sweep_point;
  std::uint32_t timeout_ms = 120000;  // every wait of the run (a peer's message or connection)
  std::string calibration_json;       // phantom runs' compute model (sim/compute_model.h); "": the built-in one
  // sweep_point: {scenario file, its directory, its text, point index[, key set]}; generation: the
  // generate options; ship_keys: a sweep point's four, then the key set
  std::vector<std::string> args;
};

struct JobReply {
  std::uint64_t id = 0;
  bool has_report = false;         // false: the job was refused before the run (error says why)
  std::string error;               // the party's own failure text ("" when it ran)
  std::vector<std::uint8_t> report;  // report_to_binary
  std::string output_sha256;       // the client's, when sent
  std::vector<std::int32_t> tokens;  // the client's generated tokens, when sent
  double wall_s = 0;               // the program, after the parties met
};

// Far above any job or reply (a report is kilobytes); a larger message is dropped unread.
constexpr std::size_t kMaxControlMessageBytes = std::size_t{64} << 20;

std::vector<std::uint8_t> encode_job(const PartyJob& job);
PartyJob decode_job(const std::uint8_t* data, std::size_t size);
std::vector<std::uint8_t> encode_reply(const JobReply& reply);
JobReply decode_reply(const std::uint8_t* data, std::size_t size);

}  // namespace marill
