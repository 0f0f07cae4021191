# Profile-guided optimization of the analysis side (pt_format, pt_reader, pt_commands, `partrace`) in
# optimized GCC builds: a copy of the project is built with profiling into <build>/pgo/build,
# its `partrace` runs the reports of scripts/pgo-train.sh (generated runs of each layout and
# the bundled GPU samples), and this build compiles the analysis side with what that measured.
# The report takes fewer instructions (docs/PERFORMANCE.md); its output is the same.
# -DPT_PGO=OFF builds without it.
#
# The two builds' object files differ only in their directory, which -fprofile-prefix-path
# removes from the profile files' names, so each object of this build finds its twin's profile.
include(ExternalProject)
set(PT_PGO_DIR ${CMAKE_BINARY_DIR}/pgo)
set(pt_pgo_train_build ${PT_PGO_DIR}/build)
set(pt_pgo_data ${PT_PGO_DIR}/data)
# The nested build does not share make's job server: it gets the machine's cores itself.
cmake_host_system_information(RESULT pt_pgo_jobs QUERY NUMBER_OF_LOGICAL_CORES)

# What this build was configured with that the copy needs as well.
set(pt_pgo_args -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE} -DPT_PGO=OFF -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
                -DPT_LIBUNWIND_DIR=${PT_LIBUNWIND_DIR})
if(CUDA_HOME)
  list(APPEND pt_pgo_args -DCUDA_HOME=${CUDA_HOME})
endif()

ExternalProject_Add(pt_pgo_instrumented
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${pt_pgo_train_build}
  CMAKE_ARGS ${pt_pgo_args}
             "-DCMAKE_C_FLAGS=${CMAKE_C_FLAGS} -fprofile-generate -fprofile-update=single -fprofile-dir=${pt_pgo_data} -fprofile-prefix-path=${pt_pgo_train_build}"
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target partrace_cli gen_trace -j ${pt_pgo_jobs}
  BUILD_BYPRODUCTS ${pt_pgo_train_build}/partrace ${pt_pgo_train_build}/tools/gen_trace
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON)

# Trained again whenever the instrumented build changed; old counts are removed first.
add_custom_command(OUTPUT ${PT_PGO_DIR}/trained
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${pt_pgo_data}
  COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/pgo-train.sh ${pt_pgo_train_build} ${PT_PGO_DIR}/runs
          ${PROJECT_SOURCE_DIR}/samples
  COMMAND ${CMAKE_COMMAND} -E touch ${PT_PGO_DIR}/trained
  DEPENDS ${pt_pgo_train_build}/partrace ${pt_pgo_train_build}/tools/gen_trace
          ${PROJECT_SOURCE_DIR}/scripts/pgo-train.sh
  COMMENT "profile of the analysis side (scripts/pgo-train.sh)")
add_custom_target(pt_pgo_trained DEPENDS ${PT_PGO_DIR}/trained)
add_dependencies(pt_pgo_trained pt_pgo_instrumented)

foreach(t pt_format pt_reader pt_commands partrace_cli)
  add_dependencies(${t} pt_pgo_trained)
  # -fprofile-partial-training: code the training did not run stays optimized as usual.
  target_compile_options(${t} PRIVATE -fprofile-use -fprofile-dir=${pt_pgo_data}
                         -fprofile-prefix-path=${CMAKE_BINARY_DIR} -fprofile-partial-training
                         -Wno-missing-profile)
  get_target_property(srcs ${t} SOURCES)
  set_source_files_properties(${srcs} TARGET_DIRECTORY ${t} PROPERTIES OBJECT_DEPENDS ${PT_PGO_DIR}/trained)
endforeach()
# The link of `partrace` optimizes the whole program (LTO): with the same profile options.
target_link_options(partrace_cli PRIVATE -fprofile-use -fprofile-partial-training)
