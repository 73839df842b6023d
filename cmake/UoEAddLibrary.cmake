#===- cmake/UoEAddLibrary.cmake - compiler library helper ------------------===#
#
# uoe_add_compiler_library(<name> SOURCES ... [DEPENDS ...] [MLIR_LIBS ...]
#                          [LIBS ...])
# builds a static library of the compiler that links MLIR/LLVM through
# Debian's shared libMLIR.so / libLLVM.so (never the static archives, whose
# global registrations would clash with the shared library's).
#
#===------------------------------------------------------------------------===#
function(uoe_add_compiler_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;MLIR_LIBS;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_compile_options(${name} PRIVATE -Wall -Wno-unused-parameter)
  mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS} MLIRIR MLIRSupport)
  target_link_libraries(${name} PUBLIC LLVM ${ARG_LIBS})
endfunction()
