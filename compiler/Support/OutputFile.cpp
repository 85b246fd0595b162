//===- OutputFile.cpp - outputs that appear whole or not at all -----------===//

#include "attnc/Support/OutputFile.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace attnc;

Error OutputFile::writeError(std::error_code ec) {
  return createStringError(
      ec, formatv("cannot write '{0}': {1}", destination, ec.message()).str());
}

Expected<std::unique_ptr<OutputFile>> OutputFile::open(StringRef path,
                                                       bool binary) {
  std::unique_ptr<OutputFile> file(new OutputFile(path.str()));
  if (path == "-") {
    file->stream = &outs();
    return std::move(file);
  }
  sys::fs::file_status status;
  if (!sys::fs::status(path, status) && sys::fs::exists(status) &&
      status.type() != sys::fs::file_type::regular_file) {
    // A device or a pipe cannot be renamed over; write to it directly.
    std::error_code ec;
    file->ownStream = std::make_unique<raw_fd_ostream>(
        path, ec, binary ? sys::fs::OF_None : sys::fs::OF_Text);
    if (ec)
      return file->writeError(ec);
    file->stream = file->ownStream.get();
    return std::move(file);
  }
  Expected<sys::fs::TempFile> temporary = sys::fs::TempFile::create(
      path + ".tmp-%%%%%%", sys::fs::all_read | sys::fs::all_write,
      binary ? sys::fs::OF_None : sys::fs::OF_Text);
  if (!temporary)
    return file->writeError(errorToErrorCode(temporary.takeError()));
  file->temporary.emplace(std::move(*temporary));
  file->ownStream =
      std::make_unique<raw_fd_ostream>(file->temporary->FD, /*shouldClose=*/false);
  file->stream = file->ownStream.get();
  return std::move(file);
}

StringRef OutputFile::writePath() const {
  return temporary ? StringRef(temporary->TmpName) : StringRef(destination);
}

Error OutputFile::flush() {
  stream->flush();
  std::error_code ec = stream->error();
  if (!ec)
    return Error::success();
  // Cleared, or the stream's destructor would abort on it.
  stream->clear_error();
  return writeError(ec);
}

Error OutputFile::commit() {
  if (Error err = flush())
    return err;
  if (ownStream && !temporary) {
    // Written in place: closing is the last chance for a write to fail.
    ownStream->close();
    if (std::error_code ec = ownStream->error()) {
      ownStream->clear_error();
      return writeError(ec);
    }
  }
  committed = true;
  if (!temporary)
    return Error::success();
  ownStream.reset();
  Error kept = temporary->keep(destination);
  temporary.reset();
  if (kept)
    return writeError(errorToErrorCode(std::move(kept)));
  return Error::success();
}

OutputFile::~OutputFile() {
  if (committed || !stream)
    return;
  stream->clear_error();
  ownStream.reset();
  if (temporary)
    consumeError(temporary->discard());
}
