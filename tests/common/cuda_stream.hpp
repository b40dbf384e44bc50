#pragma once
// The stream the CUDA test programs run their work on.
#include <cuda_runtime_api.h>

namespace cuxplain::test {

/// A non-blocking stream: work that strayed onto the legacy default stream
/// would race with it instead of being ordered by accident. Waits for its
/// work before it is destroyed.
class TestStream {
 public:
  TestStream() { cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking); }
  ~TestStream() {
    if (stream_ != nullptr) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
  }
  TestStream(const TestStream&) = delete;
  TestStream& operator=(const TestStream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace cuxplain::test
