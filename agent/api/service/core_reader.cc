#include "agent/api/service/core_reader.h"

#include <unistd.h>
#include <zstd.h>

#include <cerrno>

namespace vigie {
namespace {

constexpr size_t kInputBytes = size_t{128} * 1024;

}  // namespace

struct CoreReader::Decoder {
  Decoder() : stream(ZSTD_createDStream()) {}
  ~Decoder() { ZSTD_freeDStream(stream); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  ZSTD_DStream* stream;
};

CoreReader::CoreReader(UniqueFd fd, bool decompress) : fd_(std::move(fd)) {
  if (decompress) {
    decoder_ = std::make_unique<Decoder>();
    input_.resize(kInputBytes);
  }
}

CoreReader::~CoreReader() = default;

Result<std::string> CoreReader::next(size_t max) {
  if (decoder_) {
    return nextDecompressed(max);
  }
  std::string out(max, '\0');
  size_t filled = 0;
  while (filled < max) {
    const ssize_t n = ::read(fd_.get(), out.data() + filled, max - filled);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno("read the stored core");
    }
    if (n == 0) {
      break;
    }
    filled += static_cast<size_t>(n);
  }
  out.resize(filled);
  return out;
}

Result<bool> CoreReader::refill() {
  for (;;) {
    const ssize_t n = ::read(fd_.get(), input_.data(), input_.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::fromErrno("read the stored core");
    }
    input_pos_ = 0;
    input_size_ = static_cast<size_t>(n);
    eof_ = n == 0;
    return !eof_;
  }
}

Result<std::string> CoreReader::nextDecompressed(size_t max) {
  if (decoder_->stream == nullptr) {
    return Error{"cannot create a zstd decoder", ENOMEM};
  }
  std::string out(max, '\0');
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (output.pos < output.size) {
    if (input_pos_ == input_size_ && !eof_) {
      auto more = refill();
      if (!more) {
        return more.error();
      }
    }
    // Called with no input too: the decoder may hold output that did not fit last time.
    ZSTD_inBuffer input{input_.data(), input_size_, input_pos_};
    const size_t produced_before = output.pos;
    const size_t consumed_before = input.pos;
    const size_t rc = ZSTD_decompressStream(decoder_->stream, &output, &input);
    input_pos_ = input.pos;
    if (ZSTD_isError(rc) != 0) {
      return Error{std::string("the stored core is corrupt: ") + ZSTD_getErrorName(rc), EIO};
    }
    const bool progress = output.pos != produced_before || input.pos != consumed_before;
    if (progress) {
      frame_done_ = rc == 0;  // a call that did nothing says nothing about the frame.
    }
    if (eof_ && input_pos_ == input_size_ && !progress) {
      if (!frame_done_) {
        return Error{"the stored core is cut short (its zstd frame does not end)", EIO};
      }
      break;
    }
  }
  out.resize(output.pos);
  return out;
}

}  // namespace vigie
