#include "agent/cli/table.h"

#include <algorithm>

namespace vigie::cli {

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::addRow(std::vector<Cell> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

size_t displayWidth(const std::string& text) {
  // Continuation bytes (10xxxxxx) do not start a new character.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

std::string Table::render(bool color, size_t indent) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t column = 0; column < headers_.size(); ++column) {
    widths[column] = displayWidth(headers_[column]);
    for (const auto& row : rows_) {
      widths[column] = std::max(widths[column], displayWidth(row[column].text));
    }
  }
  std::string out;
  auto appendLine = [&](const auto& cellAt) {
    out.append(indent, ' ');
    for (size_t column = 0; column < headers_.size(); ++column) {
      const Cell cell = cellAt(column);
      out += styled(cell.text, cell.style, color);
      if (column + 1 < headers_.size()) {
        out.append(widths[column] - displayWidth(cell.text) + 2, ' ');
      }
    }
    // An empty last cell would leave the padding of the one before it.
    out.erase(out.find_last_not_of(' ') + 1);
    out += '\n';
  };
  appendLine([&](size_t column) { return Cell{headers_[column]}; });
  for (const auto& row : rows_) {
    appendLine([&](size_t column) { return row[column]; });
  }
  return out;
}

}  // namespace vigie::cli
