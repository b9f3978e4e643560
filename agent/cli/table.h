#pragma once

#include <string>
#include <vector>

#include "agent/cli/terminal.h"

namespace vigie::cli {

struct Cell {
  std::string text;
  Style style = Style::kPlain;
};

// Left-aligned columns, two spaces apart, widths taken from the plain text so that colours never
// shift a column. The last column is not padded: no trailing blanks.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  void addRow(std::vector<Cell> cells);
  size_t rowCount() const { return rows_.size(); }
  // Every line ends with '\n'. `indent` spaces before each line.
  std::string render(bool color, size_t indent = 0) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

// Columns a string takes on a terminal: one per UTF-8 code point (names and messages here hold
// no double-width characters).
size_t displayWidth(const std::string& text);

}  // namespace vigie::cli
