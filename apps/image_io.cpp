#include "image_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

// The decoder is stb_image 2.30 (third_party/, public domain or MIT),
// compiled here, private to this file. Debian's libstb ships 2.27, whose
// decoders a fuzzer drove within a minute into a heap overflow (16-bit PNM
// converted to other channel counts), a JPEG Huffman table written past its
// end and signed overflows parsing PNM headers; stb 2.28 fixed those with
// many other "security errors".
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "third_party/stb_image.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#if CUXPLAIN_STB_IMPLEMENTATION
// Only the headers are installed: compile stb's writer here.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb_image_write.h>
// The resizer is compiled here, private to this file, with its asserts off:
// they check float sums of filter coefficients and abort on valid images
// (36 x 8447 to 28 x 28, a fuzzer found; nothings/stb#1449), and Debian's
// libstb keeps them on. Each sum is divided out right after its check; the
// fuzzers run this code under AddressSanitizer.
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STBIR_ASSERT(x) ((void)0)
#include <stb_image_resize.h>

namespace cuxplain::cli {

namespace {

void check_channels(int channels) {
  if (channels < 1 || channels > 4) {
    throw std::runtime_error("images convert to 1 to 4 channels, the model takes " +
                             std::to_string(channels));
  }
}

/// stb's reason; its header check gives "unknown image type" for any file
/// no decoder accepts, a zero width or height included.
std::runtime_error undecodable(const std::string& name) {
  const char* reason = stbi_failure_reason();
  std::string why = reason != nullptr && *reason != '\0' ? reason : "corrupt file";
  if (why == "unknown image type") {
    why += " (not a PNG, JPEG, BMP, GIF, TGA, PNM, PSD, HDR or PIC image, or a corrupt or "
           "empty one)";
  }
  return std::runtime_error("cannot read image '" + name + "': " + why);
}

/// The extent a header gives, checked before anything is decoded: stb's
/// resizer asserts on an empty image, and decoding a huge one takes
/// gigabytes (4 bytes a pixel and more while decoding).
void check_extent(const std::string& name, int width, int height, std::int64_t max_pixels) {
  if (width <= 0 || height <= 0) {
    throw std::runtime_error("image '" + name + "' is empty (" + std::to_string(width) + " x " +
                             std::to_string(height) + " pixels)");
  }
  const std::int64_t pixels = std::int64_t{width} * height;
  if (pixels > max_pixels) {
    throw std::runtime_error("image '" + name + "' has " + std::to_string(width) + " x " +
                             std::to_string(height) + " = " + std::to_string(pixels) +
                             " pixels, more than the " + std::to_string(max_pixels) +
                             " cuxplain reads");
  }
}

/// stb reads at most INT_MAX bytes from memory.
void check_size(const std::string& name, std::uintmax_t size) {
  if (size > static_cast<std::uintmax_t>(std::numeric_limits<int>::max())) {
    throw std::runtime_error("cannot read image '" + name + "': it is " + std::to_string(size) +
                             " bytes, more than the 2 GiB the decoder reads");
  }
}

}  // namespace

Image8 read_image_from_memory(const unsigned char* data, std::size_t size, int channels,
                              const std::string& name, std::int64_t max_pixels) {
  check_channels(channels);
  check_size(name, size);
  const int length = static_cast<int>(size);
  int width = 0, height = 0, file_channels = 0;
  if (stbi_info_from_memory(data, length, &width, &height, &file_channels) == 0) {
    throw undecodable(name);
  }
  check_extent(name, width, height, max_pixels);
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(data, length, &width, &height, &file_channels, channels),
      stbi_image_free);
  if (!pixels) throw undecodable(name);
  // Again for what was decoded: the pixel count below relies on it.
  check_extent(name, width, height, max_pixels);
  Image8 image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  const std::size_t count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                            static_cast<std::size_t>(channels);
  image.pixels.assign(pixels.get(), pixels.get() + count);
  return image;
}

Image8 read_image(const std::string& path, int channels, std::int64_t max_pixels) {
  check_channels(channels);
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error("cannot read image '" + path + "': it is a directory");
  }
  // The size first: stb reads at most 2 GiB from memory.
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (!error) check_size(path, size);
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw std::runtime_error("cannot read image '" + path + "': " +
                             (errno != 0 ? std::strerror(errno) : "cannot open it"));
  }
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + got);
    check_size(path, bytes.size());
  }
  if (std::ferror(file.get())) {
    throw std::runtime_error("cannot read image '" + path + "': " + std::strerror(errno));
  }
  // The header is checked (extent, pixel limit) before anything is decoded.
  return read_image_from_memory(bytes.data(), bytes.size(), channels, path, max_pixels);
}

std::vector<float> to_model_input(const Image8& image, std::int64_t c, std::int64_t h,
                                  std::int64_t w, double scale) {
  if (image.channels != c) {
    throw std::runtime_error("image has " + std::to_string(image.channels) +
                             " channels, the model takes " + std::to_string(c));
  }
  if (h < 1 || w < 1 || image.width < 1 || image.height < 1 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels) {
    throw std::runtime_error("to_model_input: a " + std::to_string(image.width) + " x " +
                             std::to_string(image.height) + " image of " +
                             std::to_string(image.pixels.size()) + " bytes cannot become a " +
                             std::to_string(h) + " x " + std::to_string(w) + " input");
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
