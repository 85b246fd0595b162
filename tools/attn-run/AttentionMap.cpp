//===- AttentionMap.cpp - draw softmax weights as a heatmap ---------------===//

#include "AttentionMap.h"

#include "attnc/Support/OutputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

using namespace llvm;
using namespace attnc;

namespace {

/// A 5x7 bitmap font for what the labels use: digits, '.', and the letters
/// of "head", "max", "query" and "key". Rows top-down, bit 4 leftmost.
struct Glyph {
  char c;
  std::array<uint8_t, 7> rows;
};
constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}},
    {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
    {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
    {'q', {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}},
    {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
};
constexpr int kPixel = 2;                // font pixels are 2x2 image pixels
constexpr int kAdvance = 6 * kPixel;     // glyph width plus one column of space
constexpr int kTextHeight = 7 * kPixel;
constexpr int kMaxPanel = 512;           // longest panel side, in pixels
constexpr int kGap = 8;

struct Rgb {
  uint8_t r, g, b;
};

class Canvas {
public:
  Canvas(int width, int height)
      : width(width), height(height), pixels(size_t(width) * height * 3, 255) {}

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= width || y >= height)
      return;
    uint8_t *p = &pixels[(size_t(y) * width + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void fill(int x, int y, int w, int h, Rgb c) {
    for (int yy = y; yy < y + h; ++yy)
      for (int xx = x; xx < x + w; ++xx)
        set(xx, yy, c);
  }
  void glyph(int x, int y, char c) {
    for (const Glyph &g : kFont) {
      if (g.c != c)
        continue;
      for (int row = 0; row < 7; ++row)
        for (int col = 0; col < 5; ++col)
          if (g.rows[row] & (0x10 >> col))
            fill(x + col * kPixel, y + row * kPixel, kPixel, kPixel, {0, 0, 0});
      return;
    }
  }
  void text(int x, int y, StringRef s) {
    for (char c : s)
      glyph(x, y, c), x += kAdvance;
  }
  /// One letter under the other, for the vertical axis name.
  void verticalText(int x, int y, StringRef s) {
    for (char c : s)
      glyph(x, y, c), y += kTextHeight + kPixel * 2;
  }

  int width, height;
  std::vector<uint8_t> pixels;
};

int textWidth(StringRef s) { return int(s.size()) * kAdvance - kPixel; }

/// White through light to dark blue ("Blues"), for t in [0, 1].
Rgb colorFor(double t) {
  static const Rgb stops[] = {
      {255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  int i = std::min(3, int(t));
  double f = t - i;
  auto mix = [&](uint8_t a, uint8_t b) { return uint8_t(a + (b - a) * f + 0.5); };
  return {mix(stops[i].r, stops[i + 1].r), mix(stops[i].g, stops[i + 1].g),
          mix(stops[i].b, stops[i + 1].b)};
}

/// The smallest of 1, 2, 5, 10, 20, 50, ... tokens whose ticks are at least
/// `minPixels` apart at `pixelsPerToken`.
int64_t tickStep(double pixelsPerToken, double minPixels) {
  for (int64_t scale = 1;; scale *= 10)
    for (int64_t m : {1, 2, 5})
      if (double(m * scale) * pixelsPerToken >= minPixels)
        return m * scale;
}

Error writeFile(StringRef path, const void *data, size_t size) {
  // Renamed into place when complete: a failed write leaves no partial file.
  Expected<std::unique_ptr<OutputFile>> out = OutputFile::open(path);
  if (!out)
    return out.takeError();
  (*out)->os().write(static_cast<const char *>(data), size);
  return (*out)->commit();
}

} // namespace

Error attnc::writeAttentionMapPng(const AttentionWeights &w, StringRef path) {
  // Long sequences are reduced to fit: each pixel then shows the largest
  // weight of the tokens it covers, so a sharp attention stays visible.
  int64_t longest = std::max(w.queries, w.keys);
  int64_t tokensPerPixel = (longest + kMaxPanel - 1) / kMaxPanel;
  int pixelsPerToken =
      tokensPerPixel > 1 ? 1 : int(std::clamp<int64_t>(kMaxPanel / longest, 1, 16));
  int panelW = int((w.keys + tokensPerPixel - 1) / tokensPerPixel) * pixelsPerToken;
  int panelH = int((w.queries + tokensPerPixel - 1) / tokensPerPixel) * pixelsPerToken;
  double scale = double(pixelsPerToken) / double(tokensPerPixel);
  int64_t xStep = tickStep(scale, 2.0 * textWidth(std::to_string(w.keys - 1)) + 8);
  int64_t yStep = tickStep(scale, 2.0 * kTextHeight);

  int left = kGap + kAdvance + kGap + textWidth(std::to_string(w.queries - 1)) + 6;
  int top = kGap + kTextHeight + kGap;
  int bottom = 6 + kTextHeight + kGap + kTextHeight + kGap;
  int cellW = left + panelW + kGap * 2, cellH = top + panelH + bottom;
  int columns = int(std::min<int64_t>(w.heads, 4));
  int rows = int((w.heads + columns - 1) / columns);
  Canvas canvas(cellW * columns, cellH * rows);

  for (int64_t h = 0; h < w.heads; ++h) {
    int x0 = int(h % columns) * cellW + left, y0 = int(h / columns) * cellH + top;
    const float *panel = w.data + h * w.queries * w.keys;
    float largest = 0;
    for (int64_t i = 0; i < w.queries * w.keys; ++i)
      largest = std::max(largest, panel[i]);
    for (int py = 0; py * tokensPerPixel < w.queries; ++py)
      for (int px = 0; px * tokensPerPixel < w.keys; ++px) {
        float v = 0;
        for (int64_t i = py * tokensPerPixel;
             i < std::min(w.queries, (py + 1) * tokensPerPixel); ++i)
          for (int64_t j = px * tokensPerPixel;
               j < std::min(w.keys, (px + 1) * tokensPerPixel); ++j)
            v = std::max(v, panel[i * w.keys + j]);
        canvas.fill(x0 + px * pixelsPerToken, y0 + py * pixelsPerToken,
                    pixelsPerToken, pixelsPerToken,
                    colorFor(largest > 0 ? v / largest : 0.0));
      }
    // A frame, then the title: "head 3 max 0.82".
    Rgb grey{128, 128, 128};
    canvas.fill(x0 - 1, y0 - 1, panelW + 2, 1, grey);
    canvas.fill(x0 - 1, y0 + panelH, panelW + 2, 1, grey);
    canvas.fill(x0 - 1, y0 - 1, 1, panelH + 2, grey);
    canvas.fill(x0 + panelW, y0 - 1, 1, panelH + 2, grey);
    canvas.text(x0, y0 - kGap - kTextHeight,
                "head " + std::to_string(h) + " max " +
                    formatv("{0:F2}", largest).str());
    // Key indices across the bottom, query indices down the left, each tick
    // at the middle of its token.
    for (int64_t j = 0; j < w.keys; j += xStep) {
      int x = x0 + int((j + 0.5) * scale);
      canvas.fill(x, y0 + panelH + 1, 1, 4, {0, 0, 0});
      std::string label = std::to_string(j);
      canvas.text(x - textWidth(label) / 2, y0 + panelH + 6, label);
    }
    canvas.text(x0 + panelW / 2 - textWidth("key") / 2,
                y0 + panelH + 6 + kTextHeight + kGap, "key");
    for (int64_t i = 0; i < w.queries; i += yStep) {
      int y = y0 + int((i + 0.5) * scale);
      canvas.fill(x0 - 5, y, 4, 1, {0, 0, 0});
      std::string label = std::to_string(i);
      canvas.text(x0 - 6 - textWidth(label), y - kTextHeight / 2, label);
    }
    canvas.verticalText(x0 - left + kGap,
                        y0 + panelH / 2 - 5 * (kTextHeight + 2 * kPixel) / 2,
                        "query");
  }

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = canvas.width;
  image.height = canvas.height;
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0,
                                 canvas.pixels.data(), 0, nullptr))
    return createStringError(inconvertibleErrorCode(),
                             "cannot encode '" + path + "': " + image.message);
  std::vector<uint8_t> encoded(size);
  if (!png_image_write_to_memory(&image, encoded.data(), &size, 0,
                                 canvas.pixels.data(), 0, nullptr))
    return createStringError(inconvertibleErrorCode(),
                             "cannot encode '" + path + "': " + image.message);
  return writeFile(path, encoded.data(), size);
}

Error attnc::writeAttentionMapCsv(const AttentionWeights &w, StringRef path) {
  std::string text = "head,query,key,weight\n";
  raw_string_ostream os(text);
  for (int64_t h = 0; h < w.heads; ++h)
    for (int64_t i = 0; i < w.queries; ++i)
      for (int64_t j = 0; j < w.keys; ++j)
        os << h << ',' << i << ',' << j << ','
           << format("%.9g", w.data[(h * w.queries + i) * w.keys + j]) << '\n';
  return writeFile(path, text.data(), text.size());
}
