# cmake/aarch64-linux-gnu.cmake — cross-build rcbench for aarch64 Linux with
# Debian's cross compilers and its arm64 multiarch -dev packages
# (tools/deps-arm64.sh installs both), and run its tests under qemu-aarch64.
#
# RCBENCH_ARM64_ATOMICS (lse or llsc; the presets arm64-lse and arm64-llsc
# set it) picks the atomics; the top-level CMakeLists.txt turns it into
# compiler flags, as for a native aarch64 build. Here it picks qemu's cpu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(triple aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${triple}-gcc)
set(CMAKE_CXX_COMPILER ${triple}-g++)
set(CMAKE_OBJDUMP ${triple}-objdump CACHE FILEPATH "")
set(CMAKE_OBJCOPY ${triple}-objcopy CACHE FILEPATH "")
set(CMAKE_AR ${triple}-ar CACHE FILEPATH "")

# Headers and libraries: Debian's multiarch arm64 paths; programs: the host's.
set(CMAKE_LIBRARY_ARCHITECTURE ${triple})
# /opt/rcbench/arm64: libjemalloc-dev:arm64 unpacked by tools/deps-arm64.sh
# (not installable beside the host's).
set(CMAKE_FIND_ROOT_PATH /usr/${triple} /usr/lib/${triple} /usr /opt/rcbench/arm64)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${triple}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} /)

# ctest runs every test binary through qemu. -L: the cross sysroot's loader
# and libc; LD_LIBRARY_PATH (qemu's -E) puts the sysroot's libc first, then
# the multiarch libraries (hwloc, ...): with the multiarch directory first,
# the loader took libc6:arm64's libc against the sysroot's loader and
# pthread_create hung forever (seen here: test_chain ran 4 minutes, 0.3 s
# with this order). A cpu
# model with LSE for the lse build, a plain v8.0 one for llsc, so each runs
# what it was built for.
if(NOT RCBENCH_ARM64_ATOMICS STREQUAL "llsc")
    set(qemu_cpu max)
else()
    set(qemu_cpu cortex-a53)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64;-cpu;${qemu_cpu};-L;/usr/${triple};-E;LD_LIBRARY_PATH=/usr/${triple}/lib:/usr/lib/${triple})
