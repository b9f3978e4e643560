#include "agent/coredump/kmsg.h"

#include <fcntl.h>
#include <unistd.h>

#include "agent/os/unique_fd.h"

namespace vigie::coredump {

void logToKmsg(const std::string& line) {
  UniqueFd fd(::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    return;
  }
  const std::string text = "<4>" + line + "\n";  // KERN_WARNING
  (void)!::write(fd.get(), text.data(), text.size());
}

}  // namespace vigie::coredump
