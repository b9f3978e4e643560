#include "agent/coredump/compressor.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "agent/coredump/file_io.h"

namespace vigie::coredump {

CompressResult compressZstd(int in_fd, uint64_t length, int out_fd, int level,
                            std::chrono::steady_clock::time_point deadline) {
  CompressResult result;
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) {
    result.error = "zstd: out of memory";
    return result;
  }
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setPledgedSrcSize(cctx.get(), length);
  // No POSIX_FADV_DONTNEED behind the reader: the input is the helper's unnamed scratch file,
  // whose pages are still dirty. DONTNEED starts their writeback, which allocates blocks and
  // writes the whole raw core to disk for nothing, and the core.zst fsync that follows then
  // waits for all of it (ext4 data=ordered). The pages go without any I/O when the scratch
  // file is closed, right after this.
  (void)::posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  std::vector<char> in(ZSTD_CStreamInSize() * 8);
  std::vector<char> out(ZSTD_CStreamOutSize() * 8);
  uint64_t offset = 0;
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      return result;
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(in.size(), length - offset));
    ssize_t n = 0;
    if (want > 0) {
      n = ::pread(in_fd, in.data(), want, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        result.error = Error::fromErrno("read core").message;
        return result;
      }
      if (n == 0) {
        result.error = "read core: file ended early";
        return result;
      }
    }
    offset += static_cast<uint64_t>(n);
    result.bytes_in = offset;
    const bool last = offset == length;
    ZSTD_inBuffer input{in.data(), static_cast<size_t>(n), 0};
    bool finished = false;
    while (!finished) {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      const size_t remaining =
          ZSTD_compressStream2(cctx.get(), &output, &input, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(remaining)) {
        result.error = std::string("zstd: ") + ZSTD_getErrorName(remaining);
        return result;
      }
      if (auto status = writeAll(out_fd, std::string_view(out.data(), output.pos)); !status.ok()) {
        result.error = "write compressed core: " + status.error().message;
        return result;
      }
      result.bytes_out += output.pos;
      finished = last ? remaining == 0 : input.pos == input.size;
    }
    if (last) {
      return result;
    }
  }
}

}  // namespace vigie::coredump
