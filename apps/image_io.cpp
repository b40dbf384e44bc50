#include "image_io.hpp"

#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

#if CUXPLAIN_STB_IMPLEMENTATION
// Only the headers are installed: compile stb's implementations here.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#endif
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

namespace cuxplain::cli {

Image8 read_image(const std::string& path, int channels) {
  if (channels < 1 || channels > 4) {
    throw std::runtime_error("images convert to 1 to 4 channels, the model takes " +
                             std::to_string(channels));
  }
  int width = 0, height = 0, file_channels = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load(path.c_str(), &width, &height, &file_channels, channels), stbi_image_free);
  if (!pixels) {
    const char* reason = stbi_failure_reason();
    throw std::runtime_error("cannot read image '" + path + "': " +
                             (reason != nullptr ? reason : "unknown error"));
  }
  Image8 image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  const std::size_t count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                            static_cast<std::size_t>(channels);
  image.pixels.assign(pixels.get(), pixels.get() + count);
  return image;
}

std::vector<float> to_model_input(const Image8& image, std::int64_t c, std::int64_t h,
                                  std::int64_t w, double scale) {
  if (image.channels != c) {
    throw std::runtime_error("image has " + std::to_string(image.channels) +
                             " channels, the model takes " + std::to_string(c));
  }
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  std::vector<float> interleaved(pixels * static_cast<std::size_t>(c));
  for (std::size_t i = 0; i < interleaved.size(); ++i) {
    interleaved[i] = static_cast<float>(image.pixels[i] / scale);
  }
  if (image.height != h || image.width != w) {
    std::vector<float> resized(static_cast<std::size_t>(h * w * c));
    const int ok = stbir_resize_float_generic(
        interleaved.data(), image.width, image.height, 0, resized.data(), static_cast<int>(w),
        static_cast<int>(h), 0, static_cast<int>(c), STBIR_ALPHA_CHANNEL_NONE, 0,
        STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
    if (!ok) throw std::runtime_error("resizing the image failed");
    interleaved.swap(resized);
  }
  // H x W x C -> C x H x W.
  std::vector<float> nchw(interleaved.size());
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < w; ++x) {
      for (std::int64_t k = 0; k < c; ++k) {
        nchw[static_cast<std::size_t>((k * h + y) * w + x)] =
            interleaved[static_cast<std::size_t>((y * w + x) * c + k)];
      }
    }
  }
  return nchw;
}

std::vector<unsigned char> encode_png(const Image8& image) {
  // Encoded in memory: stbi_write_png's own fwrite and fclose results are
  // never checked, so the caller writes the bytes with checked calls.
  struct Sink {
    std::vector<unsigned char> bytes;
    bool out_of_memory = false;
  } sink;
  // No exception may cross stb's C frames: a failed append is recorded.
  const auto append = [](void* context, void* data, int size) {
    Sink& to = *static_cast<Sink*>(context);
    const auto* first = static_cast<const unsigned char*>(data);
    try {
      to.bytes.insert(to.bytes.end(), first, first + size);
    } catch (const std::bad_alloc&) {
      to.out_of_memory = true;
    }
  };
  if (stbi_write_png_to_func(append, &sink, image.width, image.height, image.channels,
                             image.pixels.data(), image.width * image.channels) == 0 ||
      sink.out_of_memory) {
    throw std::runtime_error("cannot encode a " + std::to_string(image.width) + " x " +
                             std::to_string(image.height) + " PNG: out of memory");
  }
  return std::move(sink.bytes);
}

}  // namespace cuxplain::cli
