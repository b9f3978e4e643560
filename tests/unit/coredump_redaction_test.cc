// vigie-coredump: secrets in a crashed process's environment and arguments are redacted.
#include <doctest/doctest.h>

#include "agent/coredump/helper_config.h"
#include "agent/coredump/redaction.h"

namespace vigie::coredump {
namespace {

TEST_CASE("coredump redaction: environ values of secret-looking keys are redacted") {
  const HelperConfig defaults;
  std::vector<std::string> env = {"PATH=/bin",     "API_TOKEN=abc",   "db_password=hunter2",
                                  "MY_SECRET_X=1", "SSH_KEY_PATH=/k", "HOME=/root",
                                  "NOEQUALS",      "KEYBOARD=fr",     "token="};
  const size_t redacted = redactEnviron(env, defaults.redact_env);
  CHECK(env[0] == "PATH=/bin");
  CHECK(env[1] == "API_TOKEN=<redacted>");
  CHECK(env[2] == "db_password=<redacted>");  // matched without case
  CHECK(env[3] == "MY_SECRET_X=<redacted>");
  CHECK(env[4] == "SSH_KEY_PATH=<redacted>");
  CHECK(env[5] == "HOME=/root");
  CHECK(env[6] == "NOEQUALS");
  CHECK(env[7] == "KEYBOARD=<redacted>");  // *KEY* is a blunt pattern, on purpose
  CHECK(env[8] == "token=<redacted>");
  CHECK(redacted == 6);
}

TEST_CASE("coredump redaction: --password=x and --password x are redacted, argv[0] never") {
  const HelperConfig defaults;
  std::vector<std::string> args = {"--password=self", "--password=hunter2", "--TOKEN=abc",
                                   "--user=bob",      "--secret",           "s3",
                                   "--api-key",       "--verbose",          "--password"};
  const size_t redacted = redactArguments(args, defaults.redact_args);
  CHECK(args[0] == "--password=self");
  CHECK(args[1] == "--password=<redacted>");
  CHECK(args[2] == "--TOKEN=<redacted>");
  CHECK(args[3] == "--user=bob");
  CHECK(args[4] == "--secret");
  CHECK(args[5] == "<redacted>");
  CHECK(args[6] == "--api-key");
  CHECK(args[7] == "<redacted>");  // whatever follows a bare secret option
  CHECK(args[8] == "--password");  // nothing follows: nothing to redact
  CHECK(redacted == 4);
}

TEST_CASE("coredump redaction: configured patterns replace the defaults") {
  std::vector<std::string> env = {"API_TOKEN=abc", "PIN=1234"};
  CHECK(redactEnviron(env, {"PIN"}) == 1);
  CHECK(env[0] == "API_TOKEN=abc");
  CHECK(env[1] == "PIN=<redacted>");
  std::vector<std::string> args = {"prog", "-p", "pw", "--key=v"};
  CHECK(redactArguments(args, {"-p", "--key=*"}) == 2);
  CHECK(args == std::vector<std::string>{"prog", "-p", "<redacted>", "--key=<redacted>"});
}

}  // namespace
}  // namespace vigie::coredump
