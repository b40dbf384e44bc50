#pragma once
// Reading images into a model's input tensor and encoding PNGs (stb).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cuxplain::cli {

/// 8-bit image, channels interleaved (row-major H x W x C).
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<unsigned char> pixels;
};

/// The most pixels (width x height) an image may have: 2^26, e.g. 8192 x
/// 8192 (256 MB decoded as RGBA, 1 GB as the model's floats). Checked from
/// the file's header before anything is decoded.
constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 26;

/// Decodes an image file (PNG, JPEG, BMP, GIF, TGA, PNM, PSD, HDR) converted to
/// `channels` (1: luma, 2: luma + alpha, 3: RGB, 4: RGBA). 16-bit and HDR
/// files are reduced to 8 bits. Throws std::runtime_error naming the file and
/// the reason (stb's for undecodable files): unreadable, a directory, empty
/// (a zero width or height), more than `max_pixels` pixels.
Image8 read_image(const std::string& path, int channels,
                  std::int64_t max_pixels = kMaxImagePixels);

/// The same from the bytes of an image file held in memory; `name` names it
/// in errors. read_image reads the file and calls this.
Image8 read_image_from_memory(const unsigned char* data, std::size_t size, int channels,
                              const std::string& name, std::int64_t max_pixels = kMaxImagePixels);

/// Model input: the image as c x h x w floats (NCHW, one image), pixel / scale,
/// resized when the image is not h x w (stb_image_resize: bilinear when
/// enlarging, a triangle filter of the scale's support when shrinking,
/// edges clamped). image.channels must equal c; every extent >= 1.
std::vector<float> to_model_input(const Image8& image, std::int64_t c, std::int64_t h,
                                  std::int64_t w, double scale);

/// The image as an 8-bit PNG file's bytes; throws std::runtime_error when
/// stb cannot encode it (out of memory).
std::vector<unsigned char> encode_png(const Image8& image);

}  // namespace cuxplain::cli
