# CMake toolchain file: cross-compile qlite for 64-bit ARM Linux with Debian's
# gcc-aarch64-linux-gnu (or clang: -DQLITE_AARCH64_CC=clang), and run what it
# builds (tests, tools) under qemu-user. See README "## ARM64".
#
#   .ci/install-arm64-deps   # cross gcc, qemu-user, zlib, protobuf-c, cmocka :arm64
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=.ci/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2
#   QLITE_QEMU_CPU=cortex-a53 ctest --test-dir build-arm64   # or max (the default)
#
# Libraries come from Debian's multiarch arm64 packages (zlib1g-dev:arm64,
# libprotobuf-c-dev:arm64, libcmocka-dev:arm64 in /usr/lib/aarch64-linux-gnu);
# the C library to link with from the cross toolchain (/usr/aarch64-linux-gnu),
# the one to run with from libc6:arm64 (see .ci/qemu-aarch64).
# Test executables run through CMAKE_CROSSCOMPILING_EMULATOR, a small wrapper
# (.ci/qemu-aarch64) that reads the CPU model from QLITE_QEMU_CPU at test time,
# so one build runs on several emulated CPUs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(QLITE_AARCH64_CC "aarch64-linux-gnu-gcc" CACHE STRING "C compiler for aarch64 (gcc or clang)")
if(QLITE_AARCH64_CC MATCHES "clang")
  set(CMAKE_C_COMPILER ${QLITE_AARCH64_CC})
  set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
else()
  set(CMAKE_C_COMPILER ${QLITE_AARCH64_CC})
endif()
# No C++ cross compiler is installed: the C++ test (gemmlowp) is skipped.

# Headers and libraries: the target's own (multiarch) directories, never the
# build machine's x86-64 libraries; programs (flatc, python3) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_LIBRARY_PATH /usr/lib/aarch64-linux-gnu)

# pkg-config (cmocka) must read the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/qemu-aarch64")
