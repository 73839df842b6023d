//===- OrcLoader.cpp - loading CPU objects with LLVM's ORC JIT ------------===//
//
// See OrcLoader.h. ORC links lazily: adding an object only records which
// symbols it defines, and the object is linked (relocated, its undefined
// symbols resolved) the first time one of them is looked up. load() looks
// all of them up at once, so that every error surfaces there. Errors of the
// link itself do not come back through that lookup but through the
// ExecutionSession's error reporter (the lookup only says "failed to
// materialize"); we collect them per session and put them into the Status.
//
//===----------------------------------------------------------------------===//

#include "driver/OrcLoader.h"

#include "runtime/CpuBlas.h"

#include "llvm/ExecutionEngine/Orc/AbsoluteSymbols.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ObjectFileInterface.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>
#include <set>
#include <vector>

using namespace mlir::uoe;
namespace orc = llvm::orc;
namespace rt = ::uoe::rt;

namespace {

/// Registers the host target with LLVM once per process (LLJIT needs it to
/// describe the host).
void initializeNativeTarget() {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
}

/// Errors an ExecutionSession reports asynchronously (JITLink failures).
/// Shared by the session's reporter and the loader, hence the lock.
class SessionErrors {
public:
  void report(llvm::Error error) {
    std::lock_guard<std::mutex> lock(mutex_);
    llvm::handleAllErrors(
        std::move(error),
        [&](const orc::SymbolsNotFound &notFound) {
          symbolsNotFound_ = true;
          messages_.push_back(notFound.message());
        },
        [&](const llvm::ErrorInfoBase &other) {
          messages_.push_back(other.message());
        });
  }

  /// A Status for a failed link whose visible error is `error`: the reported
  /// root causes if there are any, else `error`'s own message.
  rt::Status toStatus(llvm::Error error) {
    bool notFound = error.isA<orc::SymbolsNotFound>();
    std::string fallback = llvm::toString(std::move(error));
    std::lock_guard<std::mutex> lock(mutex_);
    notFound |= symbolsNotFound_;
    std::string message;
    for (const std::string &m : messages_)
      message += (message.empty() ? "" : "; ") + m;
    if (message.empty())
      message = fallback;
    return rt::Status(notFound ? rt::StatusCode::NotFound
                               : rt::StatusCode::Internal,
                      "cannot link the object: " + message);
  }

private:
  std::mutex mutex_;
  bool symbolsNotFound_ = false;
  std::vector<std::string> messages_;
};

/// An object linked into its own LLJIT instance.
class OrcObject final : public rt::LoadedObject {
public:
  OrcObject(std::shared_ptr<SessionErrors> errors,
            std::unique_ptr<orc::LLJIT> jit,
            std::set<std::string, std::less<>> symbols)
      : errors_(std::move(errors)), jit_(std::move(jit)),
        symbols_(std::move(symbols)) {}

  rt::StatusOr<void *> lookup(std::string_view symbol) override {
    if (!symbols_.count(symbol))
      return rt::notFoundError(
          rt::strCat("the object defines no symbol '", symbol, "'"));
    llvm::Expected<orc::ExecutorAddr> address =
        jit_->lookup(llvm::StringRef(symbol.data(), symbol.size()));
    if (!address)
      return errors_->toStatus(address.takeError());
    return address->toPtr<void *>();
  }

private:
  // Declared first, destroyed last: the session reports into it while it
  // shuts down.
  std::shared_ptr<SessionErrors> errors_;
  std::unique_ptr<orc::LLJIT> jit_;
  std::set<std::string, std::less<>> symbols_;
};

} // namespace

cpu::OrcLoader::~OrcLoader() = default;

rt::StatusOr<std::unique_ptr<rt::LoadedObject>>
cpu::OrcLoader::load(std::string_view objectBytes,
                     const rt::SymbolMap &extraSymbols) {
  initializeNativeTarget();
  for (const auto &[name, address] : extraSymbols)
    if (!address)
      return rt::invalidArgumentError(
          rt::strCat("extra symbol '", name, "' has a null address"));

  std::unique_ptr<llvm::MemoryBuffer> buffer =
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(objectBytes.data(), objectBytes.size()),
          "uoe-object");
  // Refuse an object of another architecture before the JIT sees it.
  {
    auto file =
        llvm::object::ObjectFile::createObjectFile(buffer->getMemBufferRef());
    if (!file)
      return rt::invalidArgumentError("not a loadable object file: " +
                                      llvm::toString(file.takeError()));
    llvm::Triple host(llvm::sys::getProcessTriple());
    if ((*file)->getArch() != host.getArch())
      return rt::invalidArgumentError(
          rt::strCat("the object is for ",
                     llvm::Triple::getArchTypeName((*file)->getArch()).str(),
                     " but this process runs on ",
                     llvm::Triple::getArchTypeName(host.getArch()).str()));
  }

  // No platform: the objects have no initializers to run, and the process's
  // symbols are added to the object's own JITDylib below.
  llvm::Expected<std::unique_ptr<orc::LLJIT>> created =
      orc::LLJITBuilder()
          .setLinkProcessSymbolsByDefault(false)
          .setPlatformSetUp(orc::setUpInactivePlatform)
          .create();
  if (!created)
    return rt::internalError("cannot create the JIT: " +
                             llvm::toString(created.takeError()));
  std::unique_ptr<orc::LLJIT> jit = std::move(*created);
  orc::ExecutionSession &session = jit->getExecutionSession();
  auto errors = std::make_shared<SessionErrors>();
  session.setErrorReporter(
      [errors](llvm::Error error) { errors->report(std::move(error)); });
  orc::JITDylib &dylib = jit->getMainJITDylib();

  orc::SymbolMap absolute;
  for (const auto &[name, address] : extraSymbols)
    absolute[jit->mangleAndIntern(name)] = orc::ExecutorSymbolDef(
        orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported);
  if (!absolute.empty())
    if (llvm::Error error =
            dylib.define(orc::absoluteSymbols(std::move(absolute))))
      return rt::internalError("cannot define the runtime's symbols: " +
                               llvm::toString(std::move(error)));
  auto process = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit->getDataLayout().getGlobalPrefix());
  if (!process)
    return rt::internalError("cannot search the process's symbols: " +
                             llvm::toString(process.takeError()));
  dylib.addGenerator(std::move(*process));
  // OpenMP, whose library need not be global in the process.
  if (void *omp = ::uoe::rt::openMpLibraryHandle())
    dylib.addGenerator(std::make_unique<orc::DynamicLibrarySearchGenerator>(
        llvm::sys::DynamicLibrary(omp),
        jit->getDataLayout().getGlobalPrefix()));

  llvm::Expected<orc::MaterializationUnit::Interface> interface =
      orc::getObjectFileInterface(session, buffer->getMemBufferRef());
  if (!interface)
    return rt::invalidArgumentError("not a loadable object file: " +
                                    llvm::toString(interface.takeError()));
  if (llvm::Error error = jit->addObjectFile(dylib, std::move(buffer)))
    return rt::invalidArgumentError("cannot add the object: " +
                                    llvm::toString(std::move(error)));

  // Link now: look every defined symbol up.
  orc::SymbolLookupSet everything;
  std::set<std::string, std::less<>> defined;
  for (const auto &[name, flags] : interface->SymbolFlags) {
    everything.add(name);
    defined.insert((*name).str());
  }
  if (!everything.empty()) {
    auto linked =
        session.lookup(orc::makeJITDylibSearchOrder(
                           &dylib, orc::JITDylibLookupFlags::MatchAllSymbols),
                       std::move(everything));
    if (!linked)
      return errors->toStatus(linked.takeError());
  }
  return std::unique_ptr<rt::LoadedObject>(std::make_unique<OrcObject>(
      std::move(errors), std::move(jit), std::move(defined)));
}
