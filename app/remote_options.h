// What the commands that run points on party servers share (`marill run --hosts`, `marill generate
// --hosts`, `marill party --serve`): the coordinator from the command line, key files checked
// against the hosts file, and the generation job's handler.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/cli.h"
#include "remote/coordinator.h"
#include "remote/party_server.h"
#include "runner/generation.h"

namespace marill {

// A secret key file whose public key must be the one `hosts_file` lists for `who`.
CurveKeyPair read_listed_key(const std::string& key_file, const std::string& listed_public, const std::string& hosts_file, const std::string& who);

// --hosts FILE, --key FILE (default: the coordinator entry's secret_key_file), --timeout-ms, --point-timeout.
std::unique_ptr<Coordinator> coordinator_from(const Args& args);

// The text of --calibration FILE ("" without it): what the parties of phantom points read.
std::string calibration_text(const Args& args);

// app/cmd_generate.cpp: a generation on party servers (`args`: the generate options every party
// parses), and a party server's handler of generation jobs.
GenerationResult run_remote_generation(Coordinator& coordinator, const GenerationPoint& p, const GenerationInputs& in,
                                       const std::vector<std::string>& args, const std::string& calibration_json);
JobReply run_generation_job(const PartyJob& job, const RemoteParty& me);

}  // namespace marill
