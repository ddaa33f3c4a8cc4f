// marill-train: the ML commands (datasets, pre-training, MARILL fine-tuning, evaluation, packages),
// the only executable that links LibTorch. `marill data|train|finetune|eval|export ...` runs it with
// the same arguments (app/main.cpp), so both spellings work.
#include <cstdio>
#include <exception>
#include <string>

#include "app/cli.h"
#include "app/commands.h"

namespace {

const char* kUsage =
    "usage: marill-train COMMAND ...   (also: marill COMMAND ...)\n"
    "  data                   build the datasets and tokenizer from Debian packages (docs/training.md)\n"
    "  train | finetune | eval | export   LibTorch MARILL training, evaluation, secure-inference packages\n"
    "  agreement              teacher-forced next-token agreement of secure inference with the float model\n"
    "Run 'marill-train COMMAND --help' for a command's options.\n";

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  // The command functions take argv[0] = the command's name.
  if (cmd == "data") return marill::cmd_data(argc - 1, argv + 1);
  if (cmd == "train") return marill::cmd_train(argc - 1, argv + 1);
  if (cmd == "finetune") return marill::cmd_finetune(argc - 1, argv + 1);
  if (cmd == "eval") return marill::cmd_eval(argc - 1, argv + 1);
  if (cmd == "export") return marill::cmd_export(argc - 1, argv + 1);
  if (cmd == "agreement") return marill::cmd_agreement(argc - 1, argv + 1);
  std::fprintf(stderr, "marill-train: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return marill::run_main(argc, argv, dispatch); }
